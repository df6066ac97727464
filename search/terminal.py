"""The terminal face of the engine: ANSI styles (or plain text), a search result and a whole
procedure laid out for the terminal's width.

Promises: colour only on a terminal, and never with NO_COLOR or TERM=dumb; without colour, matched
words are shown as `[word]`; lines fit the terminal's width (at most 110 columns).
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .snippets import highlight, snippet

if TYPE_CHECKING:
    from .procedure import Procedure
    from .query import Result

MAX_WIDTH = 110
INDENT = "    "


class Style:
    """ANSI styling when writing to a terminal, plain text otherwise (or with NO_COLOR)."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self.width = min(shutil.get_terminal_size((100, 24)).columns, MAX_WIDTH)

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def accent(self, text: str) -> str:
        return self._wrap("1;36", text)

    def mark(self, text: str) -> str:
        return self._wrap("1;33", text) if self.enabled else f"[{text}]"

    def error(self, text: str) -> str:
        return self._wrap("1;31", text)

    def warning(self, text: str) -> str:
        return self._wrap("1;35", text)


def format_result(rank: int, result: Result, procedures_root: Path, style: Style) -> str:
    """One search result: rank, title and score, tags, summary, snippet, matched words, path."""
    width = style.width
    indent = INDENT
    lines = [f"{style.dim(f'{rank:>2}.')} {style.bold(result.title)}  {style.dim(f'score {result.score:.2f}')}"]
    if result.tags:
        lines.append(indent + "  ".join(style.accent(tag) for tag in result.tags))
    if result.summary:
        lines += textwrap.wrap(result.summary, width - len(indent), initial_indent=indent, subsequent_indent=indent)
    excerpt = snippet(procedures_root / result.path, result.matched_terms)
    if excerpt:
        lines += wrap_highlighted(excerpt, result.matched_terms, style, width, indent)
    if result.matched:
        matched = textwrap.wrap("matched: " + ", ".join(result.matched), width - len(indent), break_long_words=False)
        lines += [indent + style.dim(line) for line in matched]
    lines.append(indent + style.dim(result.path))
    return "\n".join(lines) + "\n"


def wrap_highlighted(text: str, stems: set[str], style: Style, width: int, indent: str) -> list[str]:
    """Text wrapped to the width like the summaries, its matched words highlighted: marks that
    take room (`[word]` without colour) are wrapped with the text, colour codes after wrapping."""
    room = width - len(indent)
    if style.enabled:
        return [indent + highlight(line, stems, style.mark) for line in textwrap.wrap(text, room, break_long_words=False)]
    return [indent + line for line in textwrap.wrap(highlight(text, stems, style.mark), room, break_long_words=False)]


def render_procedure(procedure: Procedure, style: Style) -> str:
    """A whole procedure as `kb show` prints it: title, tags, owner and review date, summary, body."""
    width = style.width
    out = [style.bold(procedure.title), style.dim("=" * min(len(procedure.title), width))]
    if procedure.tags:
        out.append("  ".join(style.accent(t.label) for t in procedure.tags))
    facts = [f"owner: {procedure.owner}" if procedure.owner else "", f"reviewed: {procedure.reviewed}" if procedure.reviewed else ""]
    if any(facts):
        out.append(style.dim("   ".join(f for f in facts if f)))
    if procedure.summary:
        out += ["", *textwrap.wrap(procedure.summary, width)]
    in_fence = False
    for line in procedure.body.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append("    " + style.dim(line))
        elif line.startswith("### "):
            out += ["", style.bold("▸ " + line[4:].strip())]
        elif line.startswith("## "):
            out += ["", style.accent(line[3:].strip().upper())]
        elif line.startswith("# "):
            out += ["", style.bold(line[2:].strip())]
        elif not line.strip():
            if out and out[-1] != "":
                out.append("")
        else:
            marker = re.match(r"^(\s*)(\d+[.)]|[-*+])\s+", line)
            lead = " " * (len(marker.group(0)) if marker else 0)
            clean = re.sub(r"(\*\*|__|`)", "", line.strip() if not marker else line)
            out += textwrap.wrap(clean, width, subsequent_indent=lead) or [""]
    out += ["", style.dim(procedure.path)]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text)


def eval_report(result: dict, comparison: dict | None, baseline: str | None, style: Style) -> list[str]:
    """The lines `kb eval` prints: the misses, the table per kind, and the comparison with a baseline."""

    def where(query: dict) -> str:
        return f"rank {query['rank']}" if query["rank"] else "not in the first 10"

    lines: list[str] = []
    if result["misses"]:
        lines.append(style.bold(f"Queries whose first result is wrong ({len(result['misses'])}):"))
        for miss in result["misses"]:
            got = ", ".join(miss["got"]) or "no results"
            lines.append(f"  [{miss['kind']}] {miss['q']!r}: expected {miss['expected']} ({where(miss)}); first: {got}")
        lines.append("")
    lines.append(f"{'kind':<12} {'n':>4} {'top-1':>7} {'MRR':>7} {'R@5':>7}")
    for kind, row in [*result["kinds"].items(), ("overall", result["overall"])]:
        lines.append(f"{kind:<12} {row['n']:>4} {row['top1']:>7.3f} {row['mrr']:>7.3f} {row['recall5']:>7.3f}")
    if comparison is None:
        return lines
    lines.append("")
    for query in comparison["regressions"]:
        line = f"REGRESSION [{query['kind']}] {query['q']!r}: passed in {baseline}, now {where(query)} (expected {query['relevant']})"
        lines.append(style.error(line))
    for query in comparison["new_failing"]:
        lines.append(f"new query not passing [{query['kind']}] {query['q']!r}: {where(query)} (expected {query['relevant']})")
    for query in comparison["fixed"]:
        lines.append(f"now passing [{query['kind']}] {query['q']!r}")
    regressions, fixed, new = (len(comparison[k]) for k in ("regressions", "fixed", "new_failing"))
    counts = f"{regressions} regression(s), {fixed} fixed, {new} new not passing"
    lines.append(style.error(counts) if comparison["regressions"] else counts)
    return lines


def github_escape(text: str, also: str = "") -> str:
    """Text for a GitHub Actions workflow command (`kb check --format github`): %, CR and LF
    escaped always, ':' and ',' also inside properties."""
    for char in "%\r\n" + also:
        text = text.replace(char, f"%{ord(char):02X}")
    return text
