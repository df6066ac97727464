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
from pathlib import Path
from typing import TextIO

from .settings import Flags, SettingError, Settings, find_project, read_mkdocs_config, resolve

PROG = "kb"
PROGRESS_MIN_FILES = 200  # smaller jobs finish before progress output would help


class UserError(Exception):
    """A problem the user can fix; printed as `kb: error: ...`, exit status 2."""


# ---- settings ------------------------------------------------------------------------------
def resolve_settings(args: argparse.Namespace) -> Settings:
    """The settings of `kb` (search/settings.py): its flags, the environment, and the project found
    from the current folder upwards (so kb works from any folder inside it), unless --procedures
    names the folder, in which case nothing beside mkdocs.yml is read."""
    project, config = (None, None) if args.procedures else find_project(Path.cwd())
    flags = Flags(args.procedures, args.index_dir, args.synonyms, getattr(args, "tags_file", None))
    try:
        docs_dir, options = read_mkdocs_config(config) if config is not None else (None, {})
        return resolve(project, options, os.environ, flags, docs_dir=docs_dir, relative_paths=True)
    except SettingError as exc:
        hint = "; give one with --procedures DIR" if exc.setting == "procedures" else ""
        raise UserError(f"{exc}{hint}") from None


def load_vocabulary(settings: Settings):
    """The tag vocabulary of the settings, or None when there is no tags.yml."""
    if settings.tags_file is None:
        return None
    from .vocabulary import load_vocabulary as load

    return load(settings.tags_file, settings.procedures)


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
    """The index of the procedures folder, refreshed first if files changed since it was built.

    When the refresh cannot write (full disk, read-only folder) but an index is there, the search
    answers from it after one warning on stderr; a folder the index may not use is an error
    (search/storage.py), before anything is written or announced.
    """
    from .index import SearchIndex
    from .storage import IndexWriteError

    index = SearchIndex(settings.procedures, settings.index_dir)
    changes = index.changes() if index.exists() else None
    try:
        if changes is not None and not changes and changes.touched:
            index.refresh()  # only records the new mtimes of files saved without a change
        elif changes is None or changes:
            index.claim_folder()
            what = (
                "Building the index"
                if changes is None
                else f"Updating the index ({len(changes.changed)} changed, {len(changes.deleted)} removed)"
            )
            if not quiet:
                print(f"{what} ...", file=sys.stderr, flush=True)
            index.refresh(progress=None if quiet else _progress_printer("  indexed"), notify=lambda m: print(m, file=sys.stderr))
    except IndexWriteError as exc:
        if changes is None:  # no index to answer from
            raise
        print(f"{PROG}: warning: {exc}; answering from the last index written, which may be out of date", file=sys.stderr)
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
    style = Style(sys.stdout)
    unknown = _unknown_tag(engine, args.tag) if args.tag and not response.results else None
    if unknown is not None:
        print(f"No procedure has the tag '{args.tag.strip()}'." + (f" Did you mean: {style.bold(unknown)}" if unknown else ""))
        return 0
    _print_response(response, settings, style)
    return 0


def _unknown_tag(engine, tag: str) -> str | None:
    """None when some procedure has the tag (or a tag of that category); else the nearest tag or
    category to suggest, or '' when none is close."""
    from .analysis import tag_key
    from .vocabulary import suggest

    key = tag_key(tag)
    labels: set[str] = set()
    with engine.index.open() as reader:
        if reader.documents_with("tagkey", key) or reader.documents_with("category", key):
            return None
        for _, stored in reader.documents():
            for label in stored.get("tags", []):
                labels.update((label, label.partition(":")[0].strip()))
    return suggest(tag, sorted(labels)) or ""


def _response_json(response) -> dict[str, object]:
    data: dict[str, object] = {"q": response.query, "results": [r.as_json() for r in response.results]}
    if response.did_you_mean:
        data["did_you_mean"] = response.did_you_mean
    return data


def _search_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One query per stdin line, one JSON line per query, answered from one open index."""
    from .scaffold import text_problem

    engine = query_engine(settings, quiet=True)
    lines = sys.stdin.buffer.read().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    queries: dict[int, str] = {}
    errors: dict[int, str] = {}
    for number, raw in enumerate(lines, start=1):
        try:
            query = raw.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            errors[number] = f"line {number} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); not searched"
            continue
        problem = text_problem(query)
        if problem:
            errors[number] = f"line {number} {problem}; not searched"
        else:
            queries[number] = query
    answers = dict(zip(queries, engine.search_many(list(queries.values()), limit=args.limit, tag=args.tag), strict=True))
    for number in range(1, len(lines) + 1):
        data = _response_json(answers[number]) if number in answers else {"line": number, "error": errors[number]}
        print(json.dumps(data, ensure_ascii=False))
    for message in errors.values():
        print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1 if errors else 0


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
        lines += _wrap_highlighted(snippet, result.matched_terms, style, width, indent)
    if result.matched:
        matched = textwrap.wrap("matched: " + ", ".join(result.matched), width - len(indent), break_long_words=False)
        lines += [indent + style.dim(line) for line in matched]
    lines.append(indent + style.dim(result.path))
    return "\n".join(lines) + "\n"


_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _snippet(path: Path, stems: set[str], width: int = 150) -> str:
    """The stretch of the procedure's text with the most matched words."""
    from .model import read_body

    if not stems:
        return ""
    main_text, alternates = read_body(path)
    lines = "\n".join([main_text, *(f"{a.title}: {a.text}" for a in alternates)]).split("\n")
    # Each line of plain text is a heading, a list item or a paragraph: end each like a sentence.
    text = " ".join(line if line[-1:] in ".:?!;," else f"{line}." for line in lines if line)
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


def _wrap_highlighted(text: str, stems: set[str], style: Style, width: int, indent: str) -> list[str]:
    """Text wrapped to the width like the summaries, its matched words highlighted: marks that
    take room (`[word]` without colour) are wrapped with the text, colour codes after wrapping."""
    room = width - len(indent)
    if style.enabled:
        return [indent + _highlight(line, stems, style) for line in textwrap.wrap(text, room, break_long_words=False)]
    return [indent + line for line in textwrap.wrap(_highlight(text, stems, style), room, break_long_words=False)]


def _highlight(text: str, stems: set[str], style: Style) -> str:
    return _WORD.sub(lambda m: style.mark(m.group()) if _is_match(m.group(), stems) else m.group(), text)


# ---- show ------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from .model import load_file

    root = settings.procedures
    candidate = Path(args.path)
    path = candidate if candidate.is_file() and not (root / candidate).is_file() else _procedure_at(root, args.path)
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


def _procedure_at(root: Path, given: str) -> Path:
    """The file a path names in the procedures folder: as given, without `.md`, or as the site's
    URL path (`fulfillment/lost-parcel/`, with a leading slash, a site prefix or the whole address)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(given).path if "://" in given else given).split("#")[0].split("?")[0]
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    exact = root / given
    if exact.is_file() or not parts or ".." in parts:
        return exact
    for start in range(len(parts)):  # a site served below a prefix: /kb/fulfillment/lost-parcel/
        rel = "/".join(parts[start:])
        for name in (rel, f"{rel}.md", f"{rel}/index.md", f"{rel}/README.md"):
            if (root / name).is_file():
                return root / name
    return exact


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
    vocabulary = load_vocabulary(settings)
    describe = vocabulary.description if vocabulary is not None else lambda category: ""
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
                "description": describe(labels[key]),
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
        description = describe(labels[key])
        print(f"{style.bold(labels[key])} {style.dim(f'({count})')}" + (f"  {style.dim(description)}" if description else ""))
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
    from .model import list_procedure_files, load_procedures

    listed = list_procedure_files(settings.procedures)
    only = _selected_files(args.files, settings.procedures, listed) if args.files else None
    loaded = load_procedures(settings.procedures, load_vocabulary(settings), only=only)
    errors, warnings = len(loaded.errors), len(loaded.warnings)
    failing = errors or (args.strict and warnings)
    if args.format == "json":
        print(json.dumps([p.as_json() for p in loaded.problems], ensure_ascii=False, indent=2))
        return 1 if failing else 0
    style = Style(sys.stdout)
    for problem in loaded.problems:
        if args.format == "github":
            file_path = _github_escape(Path(os.path.normpath(settings.procedures / problem.path)).as_posix(), ":,")
            print(f"::{problem.severity} file={file_path},line={problem.line}::{_github_escape(problem.message)}")
        else:
            paint = style.error if problem.severity == "error" else style.warning
            print(f"{problem.path}:{problem.line}: {paint(problem.severity)}: {problem.message}")
    checked = f"{len(only)} of {len(listed)}" if only is not None else f"{len(listed)}"
    summary = f"{checked} file(s) checked: {errors} error(s), {warnings} warning(s)"
    print(summary if not failing else style.error(summary), file=sys.stderr)
    return 1 if failing else 0


def _selected_files(paths: list[str], root: Path, listed: dict[str, object]) -> list[str]:
    """`kb check FILE...`: each file as a path relative to the procedures folder. A file may be
    given relative to the current folder (as git and pre-commit give them) or to the procedures folder."""
    selected = []
    base = root.resolve()
    for given in paths:
        candidate = Path(given)
        path = next((p for p in (candidate, root / candidate) if p.exists()), None)
        if path is None:
            raise UserError(f"'{given}' does not exist")
        try:
            rel = path.resolve().relative_to(base).as_posix()
        except ValueError:
            raise UserError(f"'{given}' is not in the procedures folder '{root}'") from None
        if rel not in listed:
            raise UserError(f"'{given}' is not a procedure file (a .md file, not hidden)")
        selected.append(rel)
    return list(dict.fromkeys(selected))


def _github_escape(text: str, also: str = "") -> str:
    """Workflow-command escaping: %, CR and LF always; ':' and ',' inside properties."""
    for char in "%\r\n" + also:
        text = text.replace(char, f"%{ord(char):02X}")
    return text


# ---- new -------------------------------------------------------------------------------------
def cmd_new(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as _dt

    from .model import load_procedures, slugify
    from .scaffold import NewProcedure, ScaffoldError, new_procedure_text, write_new_file

    interactive = sys.stdin.isatty()
    nothing_given = not (args.tags or args.title or args.area or args.owner)
    if not interactive and not (args.tags and args.title):
        missing = " and ".join(what for what, value in (("a tag", args.tags), ("--title", args.title)) if not value)
        args.subparser.error(f"give {missing} (prompts are only shown in a terminal)")
    loaded = load_procedures(settings.procedures)
    new = NewProcedure(loaded.procedures, load_vocabulary(settings))
    confirm = _confirm_category if interactive else None
    try:
        title = new.check_title(args.title) if args.title else _ask_until_valid("Title (as a rep would say it)", "", new.check_title)
        if args.tags:
            tags = new.check_tags(args.tags, confirm)
        else:
            label = 'Tags, separated by commas (e.g. "Complaint: Late Shipment, Shipping")'
            tags = _ask_until_valid(label, "", lambda line: new.check_tag_line(line, confirm))
        area = args.area if args.area is not None else new.usual_area(tags)
        area = _ask_until_valid("Folder (area)", area, new.check_area) if nothing_given else new.check_area(area)
    except ScaffoldError as exc:
        raise UserError(str(exc)) from None
    owner = args.owner if args.owner is not None else new.usual_owner(tags, area)
    if nothing_given:
        owner = _ask("Owner (the team that keeps it correct)", owner)
    owner = " ".join(owner.split())

    path = Path(os.path.relpath(settings.procedures / (f"{area}/{slugify(title)}.md" if area else f"{slugify(title)}.md")))
    for note in new.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    for warning in new.warnings(tags, owner):
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    try:
        write_new_file(path, new_procedure_text(title, tags, owner, _dt.date.today()))
    except FileExistsError:
        raise UserError(f"{path} already exists: edit that file, or choose another title") from None
    print(path.as_posix())
    if args.owner is None and not nothing_given:
        print(f"owner: {owner or '(none)'}; change it in the file, or give --owner", file=sys.stderr)
    print(f"Next: write the summary, keywords, context and steps, then run: kb check {path.as_posix()}", file=sys.stderr)
    return 0


def _confirm_category(given: str, known: str) -> bool:
    """Asks whether a category that is not in tags.yml is meant to be the known one it resembles."""
    answer = _ask(f"Category '{given}' is not in the tag vocabulary; use '{known}' instead? [Y/n]", "")
    return answer.strip().casefold() not in ("n", "no")


def _ask(label: str, default: str) -> str:
    from .scaffold import text_problem

    while True:
        try:
            answer = input(f"{label}" + (f" [{default}]" if default else "") + ": ")
        except EOFError:
            raise UserError("cancelled: no answer") from None
        except UnicodeDecodeError:
            answer = "\udcff"  # what the terminal sent is not UTF-8: asked again below
        problem = text_problem(answer)
        if problem is None:
            return answer.strip() or default
        print(f"{PROG}: the answer {problem}; type it again", file=sys.stderr)


def _ask_until_valid(label: str, default: str, check: Callable):
    from .scaffold import ScaffoldError

    while True:
        answer = _ask(label, default)  # end of input ends kb new
        try:
            return check(answer)
        except ScaffoldError as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)


# ---- review ----------------------------------------------------------------------------------
def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as _dt

    from .model import load_procedures
    from .review import DEFAULT_REVIEW_DAYS, by_owner, due_for_review

    if args.days is not None and args.days < 1:
        raise UserError("--days must be at least 1")
    days = args.days or settings.review_days or DEFAULT_REVIEW_DAYS
    procedures = load_procedures(settings.procedures).procedures
    items = due_for_review(procedures, days, load_vocabulary(settings), _dt.date.today())
    if args.owner:
        items = [item for item in items if item.owner.casefold() == args.owner.strip().casefold()]
    groups = by_owner(items)
    if args.json:
        data = {
            "today": _dt.date.today().isoformat(),
            "review_days": days,
            "procedures": len(procedures),
            "due": len(items),
            "owners": [{"owner": owner, "procedures": [item.as_json() for item in group]} for owner, group in groups],
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    style = Style(sys.stdout)
    for owner, group in groups:
        print(f"{style.bold(owner)} {style.dim(f'({len(group)})')}")
        for item in group:
            print(f"  {item.procedure.title}  {style.dim(item.describe())}")
            print(f"    {style.dim(item.procedure.path)}")
    print(f"{len(items)} of {len(procedures)} procedure(s) due for review (every {days} days unless tags.yml says otherwise)")
    return 0


# ---- eval ------------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .evaluate import JudgementError, compare_with_baseline, evaluate, load_judgements, make_baseline, read_baseline
    from .model import list_procedure_files

    write_to = args.write_baseline if isinstance(args.write_baseline, str) else args.baseline if args.write_baseline else None
    if args.write_baseline and not write_to:
        raise UserError("--write-baseline needs a file: --write-baseline FILE, or --baseline FILE --write-baseline")
    try:
        judgements = load_judgements(Path(args.queries))
        baseline = read_baseline(Path(args.baseline)) if args.baseline and not args.write_baseline else None
    except JudgementError as exc:
        raise UserError(str(exc)) from None
    listed = list_procedure_files(settings.procedures)
    for judged in judgements:
        for path in (judged["relevant"], *judged["also"]):
            if path not in listed:
                warning = f"{args.queries}: query {judged['q']!r}: no procedure '{path}' in {settings.procedures}"
                print(f"{PROG}: warning: {warning}", file=sys.stderr)
    result = evaluate(judgements, query_engine(settings, quiet=True))
    comparison = compare_with_baseline(baseline, result) if baseline is not None else None
    if args.json:
        print(json.dumps({**result, "baseline": comparison}, ensure_ascii=False, indent=2))
    else:
        _print_eval(result, comparison, args.baseline, Style(sys.stdout))
    if write_to:
        Path(write_to).write_text(json.dumps(make_baseline(args.queries, result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"baseline written to {write_to}", file=sys.stderr)
    return 1 if comparison and comparison["regressions"] else 0


def _print_eval(result: dict, comparison: dict | None, baseline: str | None, style: Style) -> None:
    def where(query: dict) -> str:
        return f"rank {query['rank']}" if query["rank"] else "not in the first 10"

    if result["misses"]:
        print(style.bold(f"Queries whose first result is wrong ({len(result['misses'])}):"))
        for miss in result["misses"]:
            got = ", ".join(miss["got"]) or "no results"
            print(f"  [{miss['kind']}] {miss['q']!r}: expected {miss['expected']} ({where(miss)}); first: {got}")
        print()
    print(f"{'kind':<12} {'n':>4} {'top-1':>7} {'MRR':>7} {'R@5':>7}")
    for kind, row in [*result["kinds"].items(), ("overall", result["overall"])]:
        print(f"{kind:<12} {row['n']:>4} {row['top1']:>7.3f} {row['mrr']:>7.3f} {row['recall5']:>7.3f}")
    if comparison is None:
        return
    print()
    for query in comparison["regressions"]:
        line = f"REGRESSION [{query['kind']}] {query['q']!r}: passed in {baseline}, now {where(query)} (expected {query['relevant']})"
        print(style.error(line))
    for query in comparison["new_failing"]:
        print(f"new query not passing [{query['kind']}] {query['q']!r}: {where(query)} (expected {query['relevant']})")
    for query in comparison["fixed"]:
        print(f"now passing [{query['kind']}] {query['q']!r}")
    regressions, fixed, new = (len(comparison[k]) for k in ("regressions", "fixed", "new_failing"))
    counts = f"{regressions} regression(s), {fixed} fixed, {new} new not passing"
    print(style.error(counts) if comparison["regressions"] else counts)


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
            "  kb show complaints/late-shipment.md\n  kb check\n"
            '  kb new "Complaint: Late Shipment" --title "Late shipment complaint"\n  kb review\n  kb eval tests/queries.jsonl'
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--procedures", metavar="DIR", help="folder of procedure files (default: docs_dir of ./mkdocs.yml, else ./procedures)"
    )
    parser.add_argument("--index-dir", metavar="DIR", help="where the index is kept (default: a cache folder; env KB_INDEX_DIR)")
    parser.add_argument("--synonyms", metavar="FILE", help="extra synonyms file (default: ./synonyms.txt if present; env KB_SYNONYMS)")
    parser.add_argument(
        "--tags-file",
        metavar="FILE",
        help="the tag vocabulary (default: tags_file of the kb plugin in ./mkdocs.yml, else ./tags.yml if present)",
    )
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
    check.add_argument("files", nargs="*", metavar="FILE", help="check only these procedure files (the cross-file checks still see all)")
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--format", choices=("text", "github", "json"), default="text", help="output format (github: workflow annotations)")
    check.set_defaults(handler=cmd_check)

    new = commands.add_parser(
        "new",
        help="write a new procedure from the template",
        description=(
            "Write a new procedure file with the front matter and the standard sections, in the folder where procedures "
            "of its first tag's category live (or --area), named after the title. Never overwrites. "
            "In a terminal, asks for what is not given."
        ),
    )
    new.add_argument("tags", nargs="*", metavar="TAG", help="its tags, such as 'Complaint: Late Shipment' (the first decides the folder)")
    new.add_argument("--title", help="the procedure's name as a rep would say it (also gives the file name)")
    new.add_argument("--area", help="the sub-folder to write it in (default: where procedures of the same category are)")
    new.add_argument("--owner", help="the team that keeps it correct (default: the usual owner of the category)")
    new.set_defaults(handler=cmd_new, subparser=new)

    review = commands.add_parser(
        "review",
        help="list procedures due for review, by owner",
        description="Procedures never reviewed, or reviewed longer ago than their review interval, grouped by owner.",
    )
    review.add_argument("--days", type=int, help="default review interval in days (default: review_days of the kb plugin, else 180)")
    review.add_argument("--owner", help="only this owner's procedures")
    review.add_argument("--json", action="store_true", help="print the list as JSON")
    review.set_defaults(handler=cmd_review)

    evaluate = commands.add_parser(
        "eval",
        help="score judged search queries",
        description=(
            "Run judged queries (JSON lines: q, relevant, also, kind) and print the misses and top-1, MRR and recall@5 per kind. "
            "With --baseline, exit 1 when a query that passed in the baseline (first result right) fails now."
        ),
    )
    evaluate.add_argument("queries", metavar="FILE", help="judged queries, such as tests/queries.jsonl")
    evaluate.add_argument("--baseline", metavar="BASELINE", help="a baseline written by --write-baseline")
    evaluate.add_argument(
        "--write-baseline", nargs="?", const=True, metavar="FILE", help="write the results as the baseline (to FILE, else to --baseline)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.set_defaults(handler=cmd_eval)

    index = commands.add_parser(
        "index", help="build or update the search index", description="Re-index changed, added and deleted files (all files with --full)."
    )
    index.add_argument("--full", action="store_true", help="rebuild from scratch")
    index.set_defaults(handler=cmd_index)
    return parser


def _argument_problem(argv: list[str]) -> str | None:
    """Why an argument cannot be used (bytes that are not UTF-8, control characters), as one line."""
    if all(argument.isprintable() for argument in argv):
        return None  # the usual case, without importing the engine
    from .scaffold import text_problem

    for argument in argv:
        problem = text_problem(argument)
        if problem:
            from .model import printable_name

            return f"argument '{printable_name(argument)}' {problem}: type it again without"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    problem = _argument_problem(argv)
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2
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
