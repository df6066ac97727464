"""`kb`: the terminal front of the knowledge base.

Imports are kept lazy: `kb search` must start fast, so YAML, Markdown and the validation code
are loaded only by the commands (or the index refreshes) that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

PROG = "kb"
PROGRESS_MIN_FILES = 200  # smaller jobs finish before progress output would help


class UserError(Exception):
    """A problem the user can fix; printed as `kb: error: ...`, exit status 2."""


# ---- settings ------------------------------------------------------------------------------
@dataclass
class Settings:
    procedures: Path
    index_dir: Path | None
    synonyms: Path | None


def _mkdocs_settings(config_path: Path) -> dict[str, object]:
    """docs_dir and the kb plugin's options from mkdocs.yml, without importing MkDocs."""
    import yaml

    class Lenient(yaml.SafeLoader):
        pass

    # mkdocs.yml may carry tags such as !!python/name or !ENV; their values do not matter here.
    Lenient.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        data = yaml.load(config_path.read_text(encoding="utf-8"), Loader=Lenient) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read {config_path}: {exc}") from exc
    if not isinstance(data, dict):
        return {}
    found: dict[str, object] = {}
    if isinstance(data.get("docs_dir"), str):
        found["docs_dir"] = data["docs_dir"]
    for plugin in data.get("plugins") or []:
        if isinstance(plugin, dict) and isinstance(plugin.get("kb"), dict):
            found.update({f"kb.{k}": v for k, v in plugin["kb"].items()})
    return found


def resolve_settings(args: argparse.Namespace) -> Settings:
    """--procedures, else docs_dir of ./mkdocs.yml, else ./procedures; likewise index and synonyms."""
    config = Path("mkdocs.yml")
    options = _mkdocs_settings(config) if config.is_file() and not args.procedures else {}
    procedures = Path(args.procedures or options.get("docs_dir") or "procedures")
    if not procedures.is_dir():
        raise UserError(f"procedures folder '{procedures}' does not exist; give one with --procedures DIR")
    index_dir = args.index_dir or options.get("kb.index_dir")
    synonyms = args.synonyms or os.environ.get("KB_SYNONYMS") or options.get("kb.synonyms")
    if synonyms is None and Path("synonyms.txt").is_file() and not args.procedures:
        synonyms = "synonyms.txt"
    if synonyms is not None and not Path(str(synonyms)).is_file():
        raise UserError(f"synonyms file '{synonyms}' does not exist")
    return Settings(procedures, Path(str(index_dir)) if index_dir else None, Path(str(synonyms)) if synonyms else None)


# ---- terminal style ------------------------------------------------------------------------
class Style:
    """ANSI styling when writing to a terminal, plain text otherwise (or with NO_COLOR)."""

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self.width = min(shutil.get_terminal_size((100, 24)).columns, 110)

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


def _progress_printer(label: str) -> Callable[[int, int], None]:
    """Progress on stderr: a live counter on a terminal, a line every 10% otherwise."""
    live = sys.stderr.isatty()
    last = [-1]

    def report(done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if live:
            end = "\n" if done == total else ""
            print(f"\r{label} {done}/{total}", end=end, file=sys.stderr, flush=True)
        else:
            step = done * 10 // max(total, 1)
            if step != last[0] and (step > last[0] or done == total):
                last[0] = step
                print(f"{label} {done}/{total}", file=sys.stderr, flush=True)

    return report


# ---- engine access ---------------------------------------------------------------------------
def open_index(settings: Settings, quiet: bool = False):
    """The index of the procedures folder, refreshed first if files changed since it was built."""
    from .index import SearchIndex

    index = SearchIndex(settings.procedures, settings.index_dir)
    changes = index.changes() if index.exists() else None
    if changes is None or changes:
        what = (
            "Building the index"
            if changes is None
            else f"Updating the index ({len(changes.changed)} changed, {len(changes.deleted)} removed)"
        )
        if not quiet:
            print(f"{what} ...", file=sys.stderr, flush=True)
        index.refresh(progress=None if quiet else _progress_printer("  indexed"), notify=lambda m: print(m, file=sys.stderr))
    return index


def query_engine(settings: Settings, quiet: bool = False):
    from .analysis import load_thesaurus
    from .query import QueryEngine

    index = open_index(settings, quiet)
    return QueryEngine(index, load_thesaurus(settings.synonyms, cache_dir=index.dir))


# ---- search ----------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if args.query == ["-"]:
        return _search_batch(args, settings)
    query = " ".join(args.query)
    engine = query_engine(settings, quiet=args.json)
    response = engine.search(query, limit=args.limit, tag=args.tag)
    if args.json:
        print(json.dumps(_response_json(response), ensure_ascii=False))
        return 0
    _print_response(response, settings, Style(sys.stdout))
    return 0


def _response_json(response) -> dict[str, object]:
    data: dict[str, object] = {"q": response.query, "results": [r.as_json() for r in response.results]}
    if response.did_you_mean:
        data["did_you_mean"] = response.did_you_mean
    return data


def _search_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One query per stdin line, one JSON line per query, answered from one open index."""
    engine = query_engine(settings, quiet=True)
    queries = [line.rstrip("\n") for line in sys.stdin]
    for response in engine.search_many(queries, limit=args.limit, tag=args.tag):
        print(json.dumps(_response_json(response), ensure_ascii=False))
    return 0


def _print_response(response, settings: Settings, style: Style) -> None:
    out = sys.stdout
    if not response.results:
        print("No results" + (f" for '{response.query.strip()}'." if response.query.strip() else "."), file=out)
        if response.did_you_mean:
            print(f"Did you mean: {style.bold(response.did_you_mean)}", file=out)
        return
    if response.corrections:
        fixed = ", ".join(f"{wrong} → {right}" for wrong, right in response.corrections.items())
        print(style.dim(f"(also searched for: {fixed})"), file=out)
    for rank, result in enumerate(response.results, start=1):
        print(_format_result(rank, result, settings, style), file=out)
    shown = len(response.results)
    if response.total > shown:
        print(style.dim(f"{shown} of {response.total} results; --limit N shows more"), file=out)


def _format_result(rank: int, result, settings: Settings, style: Style) -> str:
    width = style.width
    indent = "    "
    lines = [f"{style.dim(f'{rank:>2}.')} {style.bold(result.title)}  {style.dim(f'score {result.score:.2f}')}"]
    if result.tags:
        lines.append(indent + "  ".join(style.accent(tag) for tag in result.tags))
    if result.summary:
        lines += textwrap.wrap(result.summary, width - len(indent), initial_indent=indent, subsequent_indent=indent)
    snippet = _snippet(settings.procedures / result.path, result.matched_terms)
    if snippet:
        lines.append(indent + _highlight(snippet, result.matched_terms, style))
    if result.matched:
        lines.append(indent + style.dim("matched: " + ", ".join(result.matched)))
    lines.append(indent + style.dim(result.path))
    return "\n".join(lines) + "\n"


_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _snippet(path: Path, stems: set[str], width: int = 150) -> str:
    """The stretch of the procedure's text with the most matched words."""
    from .model import read_body

    if not stems:
        return ""
    main_text, alternates = read_body(path)
    text = " ".join([main_text, *(f"{a.title}: {a.text}" for a in alternates)]).replace("\n", " ")
    hits = [m.start() for m in _WORD.finditer(text) if _is_match(m.group(), stems)]
    if not hits:
        return ""
    best_start, best_count = hits[0], 0
    for i, start in enumerate(hits):
        count = sum(1 for h in hits[i:] if h - start < width - 20)
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, text.rfind(" ", 0, max(0, best_start - 30)) + 1)
    end = text.find(" ", min(len(text), begin + width))
    end = len(text) if end == -1 else end
    return ("…" if begin > 0 else "") + text[begin:end].strip() + ("…" if end < len(text) else "")


def _is_match(word: str, stems: set[str]) -> bool:
    """Whether a word of the text stems to a matched term; stems share their first letters with
    their words, so most words are ruled out without running the stemmer."""
    from .analysis import fold, stem

    folded = fold(word)
    return folded[:2] in {s[:2] for s in stems} and stem(folded) in stems


def _highlight(text: str, stems: set[str], style: Style) -> str:
    return _WORD.sub(lambda m: style.mark(m.group()) if _is_match(m.group(), stems) else m.group(), text)


# ---- show ------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from .model import load_file

    root = settings.procedures
    candidate = Path(args.path)
    path = candidate if candidate.is_file() and not (root / candidate).is_file() else root / args.path
    if not path.is_file():
        hint = ""
        if args.path.strip():
            response = query_engine(settings, quiet=True).search(Path(args.path).stem.replace("-", " "), limit=3)
            if response.results:
                hint = "\nDid you mean:\n" + "\n".join(f"  {r.path}  ({r.title})" for r in response.results)
        raise UserError(f"no procedure at '{args.path}' in {root}{hint}")
    try:
        procedure, problems = load_file(path.resolve(), root.resolve())
    except ValueError:  # outside the procedures folder
        procedure, problems = load_file(path.resolve(), path.resolve().parent)
    if procedure is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    style = Style(sys.stdout)
    print(_render_procedure(procedure, style))
    return 0


def _render_procedure(procedure, style: Style) -> str:
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


# ---- tags ------------------------------------------------------------------------------------
def cmd_tags(args: argparse.Namespace, settings: Settings) -> int:
    from .model import load_procedures

    loaded = load_procedures(settings.procedures)
    tree: dict[str, dict[str, list[str]]] = {}
    labels: dict[str, str] = {}
    for procedure in loaded.procedures:
        for tag in procedure.tags:
            labels.setdefault(tag.category_key, tag.category)
            tree.setdefault(tag.category_key, {}).setdefault(tag.subject, []).append(procedure.path)
    if args.json:
        data = [
            {
                "category": labels[key],
                "count": len({p for paths in subjects.values() for p in paths}),
                "subjects": [
                    {"subject": s, "tag": f"{labels[key]}: {s}", "count": len(p), "procedures": sorted(p)}
                    for s, p in sorted(subjects.items())
                    if s
                ],
                "procedures": sorted(subjects.get("", [])),
            }
            for key, subjects in sorted(tree.items())
        ]
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    style = Style(sys.stdout)
    for key, subjects in sorted(tree.items()):
        count = len({p for paths in subjects.values() for p in paths})
        print(f"{style.bold(labels[key])} {style.dim(f'({count})')}")
        for subject, paths in sorted(subjects.items()):
            if subject:
                print(f"  {subject} {style.dim(f'({len(paths)})')}")
        if "" in subjects:
            print(style.dim(f"  (tagged '{labels[key]}' alone: {len(subjects[''])})"))
    if loaded.errors:
        print(style.dim(f"\n{len(loaded.errors)} error(s) in the procedures; run 'kb check'"), file=sys.stderr)
    return 0


# ---- check -----------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from .model import find_procedure_files, load_procedures

    loaded = load_procedures(settings.procedures)
    errors, warnings = len(loaded.errors), len(loaded.warnings)
    failing = errors or (args.strict and warnings)
    if args.format == "json":
        print(json.dumps([p.__dict__ for p in loaded.problems], ensure_ascii=False, indent=2))
        return 1 if failing else 0
    style = Style(sys.stdout)
    for problem in loaded.problems:
        if args.format == "github":
            file_path = _github_escape((settings.procedures / problem.path).as_posix(), ":,")
            print(f"::{problem.severity} file={file_path},line={problem.line}::{_github_escape(problem.message)}")
        else:
            paint = style.error if problem.severity == "error" else style.warning
            print(f"{problem.path}:{problem.line}: {paint(problem.severity)}: {problem.message}")
    files = len(find_procedure_files(settings.procedures))
    summary = f"{files} file(s) checked: {errors} error(s), {warnings} warning(s)"
    print(summary if not failing else style.error(summary), file=sys.stderr)
    return 1 if failing else 0


def _github_escape(text: str, also: str = "") -> str:
    """Workflow-command escaping: %, CR and LF always; ':' and ',' inside properties."""
    for char in "%\r\n" + also:
        text = text.replace(char, f"%{ord(char):02X}")
    return text


# ---- index -----------------------------------------------------------------------------------
def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .index import SearchIndex

    index = SearchIndex(settings.procedures, settings.index_dir)
    report = index.refresh(full=args.full, progress=_progress_printer("indexed"), notify=lambda m: print(m, file=sys.stderr))
    kind = "full build" if report.full else "update"
    print(
        f"Index {kind} in {report.seconds:.2f} s: {report.added} added, {report.updated} updated, "
        f"{report.deleted} removed, {report.unchanged} unchanged ({index.dir})"
    )
    return 0


# ---- entry point -----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Search and maintain the procedure knowledge base.",
        epilog=(
            "Examples:\n  kb search late shipment\n  kb search 'Complaint: Late Shipment' --limit 3\n"
            "  kb show complaints/late-shipment.md\n  kb check"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--procedures", metavar="DIR", help="folder of procedure files (default: docs_dir of ./mkdocs.yml, else ./procedures)"
    )
    parser.add_argument("--index-dir", metavar="DIR", help="where the index is kept (default: a cache folder; env KB_INDEX_DIR)")
    parser.add_argument("--synonyms", metavar="FILE", help="extra synonyms file (default: ./synonyms.txt if present; env KB_SYNONYMS)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    search = commands.add_parser(
        "search",
        help="search procedures",
        description="Search procedures. Use '-' to read one query per line from stdin and write JSON lines.",
    )
    search.add_argument("query", nargs="+", help="words, a tag such as 'Complaint: Late Shipment', or '-' for batch mode")
    search.add_argument("--tag", help="only procedures with this tag (or category)")
    search.add_argument("--limit", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print results as JSON")
    search.set_defaults(handler=cmd_search)

    show = commands.add_parser("show", help="print one procedure", description="Print one procedure, by its path in the procedures folder.")
    show.add_argument("path", help="e.g. complaints/late-shipment.md")
    show.set_defaults(handler=cmd_show)

    tags = commands.add_parser("tags", help="list tags by category with counts")
    tags.add_argument("--json", action="store_true", help="print the tag tree as JSON")
    tags.set_defaults(handler=cmd_tags)

    check = commands.add_parser(
        "check",
        help="validate every procedure file",
        description="Report every problem as path:line: severity: message. Exit status 1 when there are errors.",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--format", choices=("text", "github", "json"), default="text", help="output format (github: workflow annotations)")
    check.set_defaults(handler=cmd_check)

    index = commands.add_parser(
        "index", help="build or update the search index", description="Re-index changed, added and deleted files (all files with --full)."
    )
    index.add_argument("--full", action="store_true", help="rebuild from scratch")
    index.set_defaults(handler=cmd_index)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "limit", 1) < 1:
        parser.error("--limit must be at least 1")
    try:
        settings = resolve_settings(args)
        return args.handler(args, settings)
    except UserError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except Exception as exc:  # last resort: a message, never a traceback (KB_DEBUG=1 shows it)
        from .analysis import SynonymFileError
        from .index import IndexError_

        if os.environ.get("KB_DEBUG"):
            raise
        if isinstance(exc, SynonymFileError | IndexError_ | OSError):
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set KB_DEBUG=1 for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
