"""Search insights in real headless Chromium: a search made in the page reaches `kb serve`'s
store and shows up in `kb insights`; with the collector down the search works the same."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.insights_store import SearchReport, read_reports

from .conftest import ROOT, ctrl_c_stops_it, run_kb
from .test_browser import CHROMIUM, browser, page, result_titles, screenshot, serve  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def build_with_insights(tmp: Path, insights_url: str) -> Path:
    """The sample procedures built with the kb plugin's insights_url set."""
    config = tmp / "mkdocs.yml"
    config.write_text(
        f"site_name: Test KB\ndocs_dir: {ROOT / 'procedures'}\nsite_dir: {tmp / 'site'}\ntheme:\n  name: material\n"
        f"plugins:\n  - kb:\n      index_dir: {tmp / 'index'}\n      insights_url: {insights_url}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config)], capture_output=True, text=True, cwd=tmp, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return tmp / "site"


@pytest.fixture(scope="module")
def kb_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`kb serve` of a site built with `insights_url: /insights`: its URL and its database."""
    tmp = tmp_path_factory.mktemp("insights")
    site = build_with_insights(tmp, "/insights")
    db = tmp / "insights.sqlite3"
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--site", str(site), "--port", "0", "--db", str(db)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_stops_it,
    )
    first_line = server.stderr.readline()
    port = int(first_line.split("http://127.0.0.1:")[1].split("/")[0])
    yield f"http://127.0.0.1:{port}/", db
    server.send_signal(signal.SIGINT)
    server.wait(timeout=30)


def wait_for_reports(db: Path, count: int) -> list[SearchReport]:
    """The reports in the database once there are `count` of them (beacons are sent in the background)."""
    deadline = time.monotonic() + 20
    while True:
        reports = read_reports(db) if db.exists() else []
        if len(reports) >= count or time.monotonic() > deadline:
            return reports
        time.sleep(0.1)


def test_a_search_in_the_page_reaches_kb_serve_and_kb_insights(page, kb_serve: tuple[str, Path]) -> None:  # noqa: F811
    url, db = kb_serve
    page.goto(url)
    page.keyboard.press("/")
    page.keyboard.type("customer says the parcel never showed up")
    first = result_titles(page)[0]
    screenshot(page, "insights-search-served-by-kb-serve")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # opens the first result: the search is finished, with what was opened
    assert page.locator("h1").first.text_content() == first
    page.keyboard.press("/")
    page.keyboard.type("zqxwv blorpt")
    page.wait_for_function("document.querySelector('[data-kb-meta]').textContent.indexOf('No results') === 0")
    page.keyboard.press("Escape")  # closing the search finishes it
    reports = wait_for_reports(db, 2)
    assert [(r.query, r.results > 0, r.opened is not None) for r in reports] == [
        ("customer says the parcel never showed up", True, True),
        ("zqxwv blorpt", False, False),
    ]
    assert reports[0].opened == reports[0].first  # the first result was the one opened
    assert reports[1].first is None and reports[1].results == 0
    done = run_kb("insights", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["searches"] == 2
    assert [g["wording"] for g in data["found_nothing"]] == ["zqxwv blorpt"]
    assert {g["wording"] for g in data["most_frequent"]} == {"customer says the parcel never showed up", "zqxwv blorpt"}


def test_typing_on_refines_one_search_and_a_new_search_finishes_the_last(page, kb_serve: tuple[str, Path]) -> None:  # noqa: F811
    url, db = kb_serve
    before = len(read_reports(db)) if db.exists() else 0
    page.goto(url)
    page.keyboard.press("/")
    page.keyboard.type("refund", delay=30)
    result_titles(page)
    page.keyboard.press("Control+a")
    page.keyboard.type("gift card balance")
    page.wait_for_function("document.querySelectorAll('[data-kb-results] li').length > 0")
    page.wait_for_timeout(300)
    page.goto("about:blank")  # leaving the page finishes the last search
    reports = wait_for_reports(db, before + 2)[before:]
    assert [r.query for r in reports] == ["refund", "gift card balance"]
    assert all(r.opened is None and r.results > 0 for r in reports)


def test_with_the_collector_down_the_search_works_the_same(page, tmp_path: Path, serve) -> None:  # noqa: F811
    url = serve(build_with_insights(tmp_path, "http://127.0.0.1:9/insights"))  # nothing listens on port 9
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.keyboard.press("/")
    page.keyboard.type("customer says the parcel never showed up")
    first = result_titles(page)[0]
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").first.text_content() == first
    assert errors == []
