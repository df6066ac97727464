"""`kb serve` and `kb insights`: the commands of search insights. Like search/cli.py, they parse
what was given, ask the engine modules (search/serve.py, search/insights_store.py,
search/insights.py) and print; a problem the user can fix is an `InsightsError` (one line, exit 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from .insights_store import InsightsError, InsightsStore, parse_time, read_reports
from .settings import SettingError, Settings, find_project, site_and_database


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    project, config = find_project(Path.cwd())
    try:
        return site_and_database(project, config, getattr(args, "site", None), args.db)
    except SettingError as exc:
        raise InsightsError(str(exc)) from None


def cmd_serve(args: argparse.Namespace, settings: Settings | None) -> int:
    """Serves the site and stores its search reports until interrupted (Ctrl-C: exit 0)."""
    from .serve import INSIGHTS_PATH, make_server, site_collects_insights

    if not 0 <= args.port <= 65535:
        raise InsightsError(f"--port must be from 0 to 65535, not {args.port}")
    site, db = _paths(args)
    if not (site / "index.html").is_file():
        raise InsightsError(f"no built site in '{site}' (no index.html): run 'mkdocs build' first, or give --site DIR")
    try:
        server = make_server(site, args.host, args.port)
    except OSError as exc:
        raise InsightsError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    try:
        server.store = store = InsightsStore(db)
    except InsightsError:
        server.server_close()
        raise
    host, port = server.server_address[:2]
    print(f"Serving {site} at http://{host}:{port}/ (Ctrl-C stops)", file=sys.stderr)
    print(f"Search reports to POST {INSIGHTS_PATH} are stored in {db}; read them with: kb insights --db {db}", file=sys.stderr)
    if not site_collects_insights(site):
        print(
            f"kb: note: this site was built without insights_url, so its searches are not reported; "
            f"add 'insights_url: {INSIGHTS_PATH}' to the kb plugin's options in mkdocs.yml and run 'mkdocs build'",
            file=sys.stderr,
        )
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
    return 0


def cmd_insights(args: argparse.Namespace, settings: Settings | None) -> int:
    """Prints the insights report (Markdown, or JSON with --json) of the database or JSON-lines file."""
    from .insights import best_procedure, build_report, report_markdown

    if args.source and args.db:
        raise InsightsError("give either --db FILE or a FILE.jsonl, not both")
    source = Path(args.source) if args.source else _paths(args)[1]
    since = _since(args.since) if args.since else None
    reports = read_reports(source, since)
    best = _best_procedure_finder(settings, best_procedure) if settings is not None else None
    report = build_report(reports, best)
    if settings is None and report.misses:
        print(f"kb: note: {args.settings_problem}; the report names no best procedure for the misses", file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        print(report_markdown(report), end="")
    return 0


def _since(text: str) -> dt.datetime:
    try:
        return parse_time(text)
    except InsightsError:
        raise InsightsError(f"--since '{text}' is not a date (YYYY-MM-DD) or an ISO 8601 time") from None


def _best_procedure_finder(settings: Settings, best_procedure: Callable) -> Callable:
    """Asks the engine (the index opened once, quietly, on the first miss) for each missed wording."""
    from .searching import query_engine

    engine = []

    def best(query: str):
        if not engine:
            engine.append(query_engine(settings, lambda message: None, lambda message: print(f"kb: warning: {message}", file=sys.stderr)))
        return best_procedure(engine[0], query)

    return best
