"""`kb`: the terminal front of the knowledge base. It parses arguments (search/cli_parser.py),
asks the engine, and prints: results and procedures through search/terminal.py, problems as
`path:line: severity: message`, JSON where asked. Bad input is one line on stderr and exit 2,
never a traceback.

Engine modules are imported inside the commands that need them, so `kb search` does not load
YAML, Markdown or the checks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .cli_insights import cmd_insights, cmd_serve
from .cli_parser import PROG, build_parser
from .searching import query_engine, response_json, settings_vocabulary, unknown_tag
from .settings import Flags, SettingError, Settings, find_project, read_mkdocs_config, resolve
from .terminal import Style, eval_report, format_result, github_escape, render_procedure

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


def _query_engine(settings: Settings, quiet: bool = False):
    """The engine over an up-to-date index; unless quiet, a build or update is announced on stderr."""

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    def warn(message: str) -> None:
        print(f"{PROG}: warning: {message}", file=sys.stderr)

    def announce(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if quiet:
        return query_engine(settings, say, warn)
    return query_engine(settings, say, warn, announce, _progress_printer("  indexed"))


# ---- search ----------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if args.query == ["-"]:
        return _search_batch(args, settings)
    query = " ".join(args.query)
    engine = _query_engine(settings, quiet=args.json)
    response = engine.search(query, limit=args.limit, tag=args.tag)
    if args.json:
        print(json.dumps(response_json(response), ensure_ascii=False))
        return 0
    style = Style(sys.stdout)
    unknown = unknown_tag(engine, args.tag) if args.tag and not response.results else None
    if unknown is not None:
        print(f"No procedure has the tag '{args.tag.strip()}'." + (f" Did you mean: {style.bold(unknown)}" if unknown else ""))
        return 0
    _print_response(response, settings, style)
    return 0


def _search_batch(args: argparse.Namespace, settings: Settings) -> int:
    """One query per stdin line, one JSON line per query, answered from one open index."""
    from .scaffold import text_problem

    engine = _query_engine(settings, quiet=True)
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
        data = response_json(answers[number]) if number in answers else {"line": number, "error": errors[number]}
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
        print(format_result(rank, result, settings.procedures, style), file=out)
    shown = len(response.results)
    if response.total > shown:
        print(style.dim(f"{shown} of {response.total} results; --limit N shows more"), file=out)


# ---- show ------------------------------------------------------------------------------------
def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    from .folder import procedure_at
    from .parsing import load_file

    root = settings.procedures
    candidate = Path(args.path)
    path = candidate if candidate.is_file() and not (root / candidate).is_file() else procedure_at(root, args.path)
    if not path.is_file():
        hint = ""
        if args.path.strip():
            response = _query_engine(settings, quiet=True).search(Path(args.path).stem.replace("-", " "), limit=3)
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
    if args.format == "terminal":
        print(render_procedure(procedure, Style(sys.stdout)))
        return 0
    from .show_formats import procedure_markdown, procedure_text

    if args.format == "text":
        print(procedure_text(procedure))
    else:
        print(procedure_markdown(procedure), end="")
    return 0


# ---- tags ------------------------------------------------------------------------------------
def cmd_tags(args: argparse.Namespace, settings: Settings) -> int:
    from .catalog import tag_tree
    from .model import load_procedures

    loaded = load_procedures(settings.procedures)
    tree = tag_tree(loaded.procedures, settings_vocabulary(settings))
    if args.json:
        print(json.dumps(tree, ensure_ascii=False, indent=2))
        return 0
    style = Style(sys.stdout)
    for category in tree:
        description = f"  {style.dim(category['description'])}" if category["description"] else ""
        count = f"({category['count']})"
        print(f"{style.bold(category['category'])} {style.dim(count)}{description}")
        for subject in category["subjects"]:
            count = f"({subject['count']})"
            print(f"  {subject['subject']} {style.dim(count)}")
        if category["procedures"]:
            print(style.dim(f"  (tagged '{category['category']}' alone: {len(category['procedures'])})"))
    if loaded.errors:
        print(style.dim(f"\n{len(loaded.errors)} error(s) in the procedures; run 'kb check'"), file=sys.stderr)
    return 0


# ---- check -----------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from .folder import SelectionError, list_procedure_files, select_files
    from .model import load_procedures

    listed = list_procedure_files(settings.procedures)
    try:
        only = select_files(args.files, settings.procedures, listed) if args.files else None
    except SelectionError as exc:
        raise UserError(str(exc)) from None
    loaded = load_procedures(settings.procedures, settings_vocabulary(settings), only=only)
    errors, warnings = len(loaded.errors), len(loaded.warnings)
    failing = errors or (args.strict and warnings)
    if args.format == "json":
        print(json.dumps([p.as_json() for p in loaded.problems], ensure_ascii=False, indent=2))
        return 1 if failing else 0
    style = Style(sys.stdout)
    for problem in loaded.problems:
        if args.format == "github":
            file_path = github_escape(Path(os.path.normpath(settings.procedures / problem.path)).as_posix(), ":,")
            print(f"::{problem.severity} file={file_path},line={problem.line}::{github_escape(problem.message)}")
        else:
            paint = style.error if problem.severity == "error" else style.warning
            print(f"{problem.path}:{problem.line}: {paint(problem.severity)}: {problem.message}")
    checked = f"{len(only)} of {len(listed)}" if only is not None else f"{len(listed)}"
    summary = f"{checked} file(s) checked: {errors} error(s), {warnings} warning(s)"
    print(summary if not failing else style.error(summary), file=sys.stderr)
    return 1 if failing else 0


# ---- new -------------------------------------------------------------------------------------
def cmd_new(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as _dt

    from .model import load_procedures
    from .procedure import slugify
    from .scaffold import NewProcedure, ScaffoldError, new_procedure_text, write_new_file

    interactive = sys.stdin.isatty()
    nothing_given = not (args.tags or args.title or args.area or args.owner)
    if not interactive and not (args.tags and args.title):
        missing = " and ".join(what for what, value in (("a tag", args.tags), ("--title", args.title)) if not value)
        args.subparser.error(f"give {missing} (prompts are only shown in a terminal)")
    loaded = load_procedures(settings.procedures)
    new = NewProcedure(loaded.procedures, settings_vocabulary(settings))
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


# ---- import ----------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from .cli_import import ImportFailure, ReadError, run_import

    try:
        return run_import(args, settings, settings_vocabulary(settings), _ask if sys.stdin.isatty() and not args.map else None)
    except (ImportFailure, ReadError) as exc:
        raise UserError(f"{exc}; nothing was written") from None


# ---- review ----------------------------------------------------------------------------------
def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as _dt

    from .model import load_procedures
    from .review import DEFAULT_REVIEW_DAYS, by_owner, due_for_review

    if args.days is not None and args.days < 1:
        raise UserError("--days must be at least 1")
    days = args.days or settings.review_days or DEFAULT_REVIEW_DAYS
    procedures = load_procedures(settings.procedures).procedures
    items = due_for_review(procedures, days, settings_vocabulary(settings), _dt.date.today())
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
    from .folder import list_procedure_files

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
    result = evaluate(judgements, _query_engine(settings, quiet=True))
    comparison = compare_with_baseline(baseline, result) if baseline is not None else None
    if args.json:
        print(json.dumps({**result, "baseline": comparison}, ensure_ascii=False, indent=2))
    else:
        print("\n".join(eval_report(result, comparison, args.baseline, Style(sys.stdout))))
    if write_to:
        Path(write_to).write_text(json.dumps(make_baseline(args.queries, result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"baseline written to {write_to}", file=sys.stderr)
    return 1 if comparison and comparison["regressions"] else 0


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
COMMANDS: dict[str, Callable[[argparse.Namespace, Settings | None], int]] = {
    "search": cmd_search,
    "show": cmd_show,
    "tags": cmd_tags,
    "check": cmd_check,
    "new": cmd_new,
    "import": cmd_import,
    "review": cmd_review,
    "eval": cmd_eval,
    "index": cmd_index,
    "serve": cmd_serve,
    "insights": cmd_insights,
}
NEEDS_NO_PROCEDURES = {"serve"}  # serves a built site: no procedures folder is read
PROCEDURES_OPTIONAL = {"insights"}  # without them, the report names no best procedure (args.settings_problem says why)


def _command_settings(args: argparse.Namespace) -> Settings | None:
    if args.command in NEEDS_NO_PROCEDURES:
        return None
    try:
        return resolve_settings(args)
    except UserError as exc:
        if args.command not in PROCEDURES_OPTIONAL or args.procedures:
            raise
        args.settings_problem = str(exc)
        return None


def _argument_problem(argv: list[str]) -> str | None:
    """Why an argument cannot be used (bytes that are not UTF-8, control characters), as one line."""
    if all(argument.isprintable() for argument in argv):
        return None  # the usual case, without importing the engine
    from .scaffold import text_problem

    for argument in argv:
        problem = text_problem(argument)
        if problem:
            from .folder import printable_name

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
    try:
        return COMMANDS[args.command](args, _command_settings(args))
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
        from .insights_store import InsightsError

        if os.environ.get("KB_DEBUG"):
            raise
        if isinstance(exc, SynonymFileError | IndexError_ | InsightsError | OSError):
            print(f"{PROG}: error: {exc}", file=sys.stderr)
            return 2
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set KB_DEBUG=1 for details)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
