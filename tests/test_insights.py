"""Search insights: the report schema, the SQLite store, the report, `kb serve`'s collector and
`kb insights` through the command line."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.insights import Suggestion, build_report, md, report_markdown, wording_key
from search.insights_store import InsightsError, InsightsStore, ReportError, SearchReport, parse_report, read_reports
from search.serve import make_server, serve_in_thread

from .conftest import ROOT, ctrl_c_stops_it, run_kb

REPORT = {"query": "parcel stolen", "results": 0, "first": None, "opened": None}


# ---- the schema ------------------------------------------------------------------------------
def test_a_report_is_read_from_its_json() -> None:
    report = parse_report(json.dumps({"query": "  late   parcel ", "results": 3, "first": "a.md", "opened": "b.md"}).encode())
    assert (report.query, report.results, report.first, report.opened) == ("late parcel", 3, "a.md", "b.md")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"query": "x"}',
        json.dumps({**REPORT, "user": "alice"}).encode(),
        json.dumps({**REPORT, "results": -1}).encode(),
        json.dumps({**REPORT, "results": True}).encode(),
        json.dumps({**REPORT, "query": "   "}).encode(),
        json.dumps({**REPORT, "query": "a\x00b"}).encode(),
        json.dumps({**REPORT, "first": "a.md"}).encode(),
        json.dumps({**REPORT, "opened": 3}).encode(),
        json.dumps({**REPORT, "query": "x" * 501}).encode(),
        json.dumps({**REPORT, "query": "x" * 4100}).encode(),
    ],
)
def test_anything_but_a_report_is_refused(body: bytes) -> None:
    with pytest.raises(ReportError):
        parse_report(body)


# ---- the store -------------------------------------------------------------------------------
def test_the_store_keeps_reports_with_the_time_received_and_reads_them_back(tmp_path: Path) -> None:
    store = InsightsStore(tmp_path / "i.sqlite3")
    store.add(SearchReport("late parcel", 2, "a.md", None, dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)))
    store.add(SearchReport("refund", 1, "b.md", "b.md"))
    store.close()
    reports = read_reports(tmp_path / "i.sqlite3")
    assert [(r.query, r.results, r.first, r.opened) for r in reports] == [("late parcel", 2, "a.md", None), ("refund", 1, "b.md", "b.md")]
    assert reports[0].at == dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC) and reports[1].at is not None
    assert [r.query for r in read_reports(tmp_path / "i.sqlite3", dt.datetime(2024, 6, 1, tzinfo=dt.UTC))] == ["refund"]
    journal = sqlite3.connect(tmp_path / "i.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_reports_from_json_lines_and_what_is_not_a_report_file(tmp_path: Path) -> None:
    lines = tmp_path / "reports.jsonl"
    lines.write_text(json.dumps({**REPORT, "at": "2024-05-02"}) + "\n\n" + json.dumps(REPORT) + "\n", encoding="utf-8")
    assert [r.at for r in read_reports(lines)] == [dt.datetime(2024, 5, 2, tzinfo=dt.UTC), None]
    assert len(read_reports(lines, dt.datetime(2024, 5, 1, tzinfo=dt.UTC))) == 1  # the undated one is left out
    lines.write_text('{"query": "x", "results": 0}\n{"query": 1}\n', encoding="utf-8")
    with pytest.raises(InsightsError, match=r"reports.jsonl:2: not a search report"):
        read_reports(lines)
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InsightsError, match="not an insights database"):
        read_reports(tmp_path / "notes.txt")
    with pytest.raises(InsightsError, match="no insights file"):
        read_reports(tmp_path / "missing.sqlite3")


# ---- the report ------------------------------------------------------------------------------
def test_similar_wordings_are_one_group() -> None:
    assert wording_key("Parcels stolen!") == wording_key("the stolen parcel") == wording_key("STOLEN PARCEL")
    assert wording_key("stolen parcel") != wording_key("stolen card")
    assert wording_key("the") == "the"  # nothing but stop words: the folded text


def _reports(*rows: tuple[str, int, str | None, str | None]) -> list[SearchReport]:
    return [SearchReport(q, n, first, opened) for q, n, first, opened in rows]


def test_the_report_groups_misses_counts_frequent_searches_and_lists_unopened_results() -> None:
    reports = _reports(
        ("parcel stolen", 0, None, None),
        ("Stolen parcels", 0, None, None),
        ("parcel stolen", 0, None, None),
        ("zqxw", 0, None, None),
        ("late delivery", 4, "late.md", "late.md"),
        ("refund", 2, "refund.md", None),
        ("refunds", 2, "refund.md", None),
    )
    asked: list[str] = []

    def best(query: str) -> Suggestion | None:
        asked.append(query)
        return Suggestion("lost-parcel.md", "Lost parcel", "parcel stole") if "parcel" in query else None

    report = build_report(reports, best)
    assert [(g.label, g.searches, g.variants) for g in report.misses] == [("parcel stolen", 3, ["stolen parcels"]), ("zqxw", 1, [])]
    assert asked == ["parcel stolen", "zqxw"]
    assert [(g.label, g.searches) for g in report.frequent][:2] == [("parcel stolen", 3), ("refund", 2)]
    assert [g.label for g in report.unopened] == ["refund"]
    text = report_markdown(report)
    assert "| 3 | parcel stolen (also: stolen parcels) | Lost parcel: `lost-parcel.md` (as parcel stole) | add these words" in text
    assert "| 1 | zqxw | none | a procedure may be missing |" in text
    assert "| 2 | refund (also: refunds) | `refund.md` |" in text
    data = report.as_json()
    assert data["found_nothing"][0]["best_procedure"] == {"path": "lost-parcel.md", "title": "Lost parcel", "via": "parcel stole"}
    assert data["searches"] == 7 and data["different"] == 4


def test_the_report_escapes_what_searchers_typed() -> None:
    text = report_markdown(build_report(_reports(("[click](http://x) | <img src=x> `code`", 0, None, None)), lambda query: None))
    assert "| 1 | \\[click\\]\\(http://x\\) \\| \\<img src=x\\> \\`code\\` | none |" in text
    assert re.search(r"(?<!\\)[<\[`]", text.split("found nothing")[1].split("|")[3]) is None
    assert md("a|b") == "a\\|b"


def test_the_report_of_nothing_says_so() -> None:
    text = report_markdown(build_report([]))
    assert "0 search(es)" in text and "Every search found something." in text and "No searches." in text


# ---- the collector ---------------------------------------------------------------------------
@pytest.fixture
def collector(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>home</p>", encoding="utf-8")
    (site / "folder").mkdir()
    store = InsightsStore(tmp_path / "i.sqlite3")
    server = make_server(site, "127.0.0.1", 0, store)
    stop = serve_in_thread(server)
    yield server.server_address[1], tmp_path / "i.sqlite3"
    stop()
    store.close()


def _post(port: int, body: bytes, content_type: str = "application/json", path: str = "/insights") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_collector_stores_a_report_and_serves_the_site(collector: tuple[int, Path]) -> None:
    port, db = collector
    assert _post(port, json.dumps(REPORT).encode()) == 204
    assert _post(port, json.dumps({**REPORT, "query": "as text"}).encode(), "text/plain;charset=UTF-8") == 204
    assert [r.query for r in read_reports(db)] == ["parcel stolen", "as text"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"<p>home</p>"
    connection.request("GET", "/folder/")
    assert connection.getresponse().status == 404  # no folder listings
    connection.close()


@pytest.mark.parametrize(
    ("body", "content_type", "path", "status"),
    [
        (b"{not json", "application/json", "/insights", 400),
        (b"\x00\x01\x02binary", "application/json", "/insights", 400),
        (json.dumps({**REPORT, "ip": "10.0.0.1"}).encode(), "application/json", "/insights", 400),
        (json.dumps({**REPORT, "query": "x" * 4200}).encode(), "application/json", "/insights", 413),
        (json.dumps(REPORT).encode(), "application/x-www-form-urlencoded", "/insights", 415),
        (json.dumps(REPORT).encode(), "application/json", "/elsewhere", 404),
    ],
)
def test_the_collector_refuses_what_is_not_a_report_and_stores_nothing(
    collector: tuple[int, Path], body: bytes, content_type: str, path: str, status: int
) -> None:
    port, db = collector
    assert _post(port, body, content_type, path) == status
    assert read_reports(db) == []
    assert _post(port, json.dumps(REPORT).encode()) == 204  # and it still takes the next report


def test_the_collector_needs_a_length(collector: tuple[int, Path]) -> None:
    port, db = collector
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/insights")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    connection.send(b"5\r\nhello\r\n0\r\n\r\n")
    assert connection.getresponse().status == 411
    connection.close()
    assert read_reports(db) == []


# ---- through the command line ----------------------------------------------------------------
def test_kb_insights_reports_from_a_json_lines_file_with_the_engine_best_procedure(tmp_path: Path) -> None:
    lines = tmp_path / "reports.jsonl"
    rows = [
        {"query": "parcl stolen", "results": 0, "at": "2024-05-02T10:00:00Z"},
        {"query": "Parcl stolen", "results": 0, "at": "2024-05-03T10:00:00Z"},
        {"query": "refund", "results": 4, "first": "billing/refund-request.md", "at": "2024-04-01T10:00:00Z"},
    ]
    lines.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    done = run_kb("insights", str(lines))
    assert done.returncode == 0, done.stderr
    assert "| 2 | parcl stolen | " in done.stdout and "`fulfillment/lost-parcel.md`" in done.stdout
    done = run_kb("insights", str(lines), "--since", "2024-05-01", "--json")
    data = json.loads(done.stdout)
    assert data["searches"] == 2 and data["found_nothing"][0]["best_procedure"]["path"] == "fulfillment/lost-parcel.md"
    assert data["results_not_opened"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insights", "--since", "last week", "x.jsonl"], "--since 'last week' is not a date"),
        (["insights", "--db", "nowhere.sqlite3"], "no insights file at 'nowhere.sqlite3'"),
        (["insights", "--db", "a.sqlite3", "b.jsonl"], "either --db FILE or a FILE.jsonl"),
        (["serve", "--site", "nowhere"], "no built site in 'nowhere'"),
        (["serve", "--site", ".", "--port", "70000"], "--port must be from 0 to 65535"),
    ],
)
def test_kb_insights_and_serve_say_what_is_wrong_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_kb(*args, cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_kb_serve_stores_what_it_receives_and_kb_insights_reads_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>home without insights</p>", encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--site", str(site), "--port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_stops_it,
    )
    try:
        first_line = server.stderr.readline()
        port = int(first_line.split("http://127.0.0.1:")[1].split("/")[0])
        notes = server.stderr.readline() + server.stderr.readline()
        # The database is named relative to the working directory, wherever the clone lies.
        database = os.path.relpath(tmp_path.resolve() / "insights.sqlite3", ROOT)
        assert database in notes and "built without insights_url" in notes
        assert _post(port, json.dumps({"query": "gift wrap", "results": 0}).encode()) == 204
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    done = run_kb("insights", "--db", str(tmp_path / "insights.sqlite3"))
    assert done.returncode == 0, done.stderr
    assert "| 1 | gift wrap |" in done.stdout


def test_kb_insights_finds_the_database_beside_the_site_of_mkdocs_yml(tmp_path: Path) -> None:
    (tmp_path / "procedures").mkdir()
    (tmp_path / "mkdocs.yml").write_text("site_name: T\ndocs_dir: procedures\nsite_dir: public/site\n", encoding="utf-8")
    (tmp_path / "public").mkdir()
    store = InsightsStore(tmp_path / "public" / "insights.sqlite3")
    store.add(SearchReport("late", 1, "a.md", None))
    store.close()
    done = run_kb("insights", "--json", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["searches"] == 1


def test_kb_serve_on_a_port_in_use_says_so_and_creates_no_database(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>home</p>", encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_kb("serve", "--site", str(site), "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and "cannot listen on 127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [site]
