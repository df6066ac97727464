"""The command line of `kb`: every command, its arguments and options, and their help text.

Promises: the usage and help `kb --help` and `kb COMMAND --help` print; `args.command` names the
command (search/cli.py runs it). Nothing here reads files or imports the engine.
"""

from __future__ import annotations

import argparse

PROG = "kb"


def at_least_one(text: str) -> int:
    """argparse type of a count: a whole number of 1 or more, else the command's usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_knowledge_base_options(parser: argparse.ArgumentParser, default: object) -> None:
    """The options that say which knowledge base a command works on. `kb` takes them before the
    command; each command takes them after its name too, with `default` argparse.SUPPRESS there so
    that a value given before the command is kept when none is given after it."""
    group = parser.add_argument_group("knowledge base options")
    group.add_argument(
        "--procedures",
        metavar="DIR",
        default=default,
        help="folder of procedure files (default: docs_dir of ./mkdocs.yml, else ./procedures)",
    )
    group.add_argument(
        "--index-dir", metavar="DIR", default=default, help="where the index is kept (default: a cache folder; env KB_INDEX_DIR)"
    )
    group.add_argument(
        "--synonyms", metavar="FILE", default=default, help="extra synonyms file (default: ./synonyms.txt if present; env KB_SYNONYMS)"
    )
    group.add_argument(
        "--tags-file",
        metavar="FILE",
        default=default,
        help="the tag vocabulary (default: tags_file of the kb plugin in ./mkdocs.yml, else ./tags.yml if present)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Search and maintain the procedure knowledge base.",
        epilog=(
            "Examples:\n  kb search late shipment\n  kb search 'Complaint: Late Shipment' --limit 3\n"
            "  kb show complaints/late-shipment.md\n  kb check\n"
            '  kb new "Complaint: Late Shipment" --title "Late shipment complaint"\n  kb review\n  kb eval tests/queries.jsonl'
            "\n  kb serve\n  kb insights --since 2024-05-01"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_knowledge_base_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    search = commands.add_parser(
        "search",
        help="search procedures",
        description="Search procedures. Use '-' to read one query per line from stdin and write JSON lines.",
    )
    search.add_argument("query", nargs="+", help="words, a tag such as 'Complaint: Late Shipment', or '-' for batch mode")
    # `--tags` is the plural a rep types for `--tag`; without it argparse would read it as an
    # abbreviation of `--tags-file`.
    search.add_argument("--tag", "--tags", metavar="TAG", help="only procedures with this tag (or category)")
    search.add_argument("--limit", type=at_least_one, default=10, help="number of results (default 10)")
    search.add_argument("--json", action="store_true", help="print results as JSON")

    show = commands.add_parser("show", help="print one procedure", description="Print one procedure, by its path in the procedures folder.")
    show.add_argument("path", help="e.g. complaints/late-shipment.md")
    show.add_argument(
        "--format",
        choices=("terminal", "text", "markdown"),
        default="terminal",
        help="terminal: laid out for reading here (default); text: plain text with link addresses, for e-mails; "
        "markdown: Markdown with the title and facts on top, for tickets",
    )

    tags = commands.add_parser("tags", help="list tags by category with counts")
    tags.add_argument("--json", action="store_true", help="print the tag tree as JSON")

    check = commands.add_parser(
        "check",
        help="validate every procedure file",
        description="Report every problem as path:line: severity: message. Exit status 1 when there are errors.",
    )
    check.add_argument("files", nargs="*", metavar="FILE", help="check only these procedure files (the cross-file checks still see all)")
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--format", choices=("text", "github", "json"), default="text", help="output format (github: workflow annotations)")

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
    new.set_defaults(subparser=new)

    importing = commands.add_parser(
        "import",
        help="write procedures from Excel, CSV or Word files",
        description=(
            "Write one procedure file per row title (.xlsx, .csv) or per document (.docx), with the rules of 'kb new': a folder per "
            "area (a sheet's name, the area column or --area), names from titles, never overwriting. Rows sharing a title become "
            "one procedure with alternate methods. Everything is checked before anything is written; skipped rows are listed. "
            "In a terminal without --map, asks which column holds each field."
        ),
    )
    importing.add_argument("files", nargs="+", metavar="FILE", help=".xlsx, .csv or .docx files")
    importing.add_argument(
        "--map",
        metavar="FIELD=COLUMN,...",
        help="which column holds each field (title, tags, keywords, summary, steps, alternates, owner, area), "
        "by header or letter, e.g. 'title=Procedure,tags=Keywords,steps=How to handle'",
    )
    importing.add_argument("--area", help="the sub-folder for every imported procedure (default: the area column, else the sheet's name)")
    importing.add_argument("--owner", help="the owner of procedures whose row names none (default: the usual owner of the category)")
    importing.add_argument(
        "--tag",
        "--tags",
        action="append",
        default=[],
        metavar="TAG",
        help="the tag of procedures whose row names none (repeatable)",
    )
    importing.add_argument("--dry-run", action="store_true", help="show what would be written, write nothing")
    importing.set_defaults(subparser=importing)

    review = commands.add_parser(
        "review",
        help="list procedures due for review, by owner",
        description="Procedures never reviewed, or reviewed longer ago than their review interval, grouped by owner.",
    )
    review.add_argument("--days", type=int, help="default review interval in days (default: review_days of the kb plugin, else 180)")
    review.add_argument("--owner", help="only this owner's procedures")
    review.add_argument("--json", action="store_true", help="print the list as JSON")

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

    index = commands.add_parser(
        "index", help="build or update the search index", description="Re-index changed, added and deleted files (all files with --full)."
    )
    index.add_argument("--full", action="store_true", help="rebuild from scratch")

    serve = commands.add_parser(
        "serve",
        help="serve the built site and collect its search reports",
        description=(
            "Serve the built site and store the search reports its search box sends to POST /insights in a SQLite database. "
            "The site sends them when built with the kb plugin option 'insights_url: /insights'."
        ),
    )
    serve.add_argument("--site", metavar="DIR", help="the built site (default: site_dir of ./mkdocs.yml, else ./site)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)")
    serve.add_argument("--db", metavar="FILE", help="the insights database (default: insights.sqlite3 beside the site folder)")

    insights = commands.add_parser(
        "insights",
        help="report what reps searched: misses, frequent searches, results not opened",
        description=(
            "A Markdown report of the searches made in the site: those that found nothing (grouped by similar wording, with the "
            "procedure the engine ranks best for each), the most frequent, and those whose results nobody opened."
        ),
    )
    insights.add_argument(
        "source", nargs="?", metavar="FILE.jsonl", help="search reports as JSON lines, from another collector (instead of --db)"
    )
    insights.add_argument("--db", metavar="FILE", help="the database kb serve writes (default: insights.sqlite3 beside the site folder)")
    insights.add_argument("--since", metavar="DATE", help="only searches from this date (YYYY-MM-DD, UTC) or time on")
    insights.add_argument("--json", action="store_true", help="print the report as JSON")
    # Every command also takes them after its name (`kb search --procedures DIR late`), after its own.
    for command in commands.choices.values():
        add_knowledge_base_options(command, default=argparse.SUPPRESS)
    return parser
