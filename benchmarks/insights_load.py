"""Load test of `kb serve`: search reports arriving at a steady rate while pages are loaded.

    python benchmarks/insights_load.py                    # 200 reports a second for 30 s
    python benchmarks/insights_load.py --rate 50 --seconds 5
    python benchmarks/insights_load.py --site site        # an already built site (else the sample is built)

Loopback only and bounded (at most 500 reports a second, 120 seconds). It starts `kb serve` as a
separate process on 127.0.0.1 with a fresh database in a temporary folder, then sends reports on
an open-loop schedule (report i is due at i / rate seconds, whatever happened to the earlier
ones), each on its own connection as a browser's beacon would be, from a pool of threads, and
loads pages (the home page, a procedure page, the search data's manifest) in between, one after
another. At the end it reads the database back and reports:

- reports sent, answered 204, and stored (each report's query is numbered, so every one is
  found, or counted lost); lost records must be 0;
- page loads and failed page loads (anything but 200 with the whole body); must be 0;
- latency percentiles (p50, p95, p99, max) of reports and of page loads, and how late the
  schedule ran (a late schedule means the client, not the server, was the limit).

Exit status 1 when a record was lost or a page load failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from search.insights_store import read_reports  # noqa: E402

MAX_RATE = 500
MAX_SECONDS = 120
HOST = "127.0.0.1"
PAGES = ("/", "/complaints/late-delivery/", "/kb-search/manifest.json")


def build_sample_site(folder: Path) -> Path:
    """The sample procedures built with `insights_url: /insights` into `folder/site`."""
    config = folder / "mkdocs.yml"
    config.write_text(
        f"site_name: Load test\ndocs_dir: {ROOT / 'procedures'}\nsite_dir: {folder / 'site'}\ntheme:\n  name: material\n"
        f"plugins:\n  - kb:\n      index_dir: {folder / 'index'}\n      insights_url: /insights\n",
        encoding="utf-8",
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)], check=True, cwd=folder, env=env)
    return folder / "site"


def start_server(site: Path, db: Path) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--site", str(site), "--db", str(db), "--host", HOST, "--port", "0"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = server.stderr.readline()
    if f"http://{HOST}:" not in line:
        server.kill()
        raise SystemExit(f"kb serve did not start: {line}{server.stderr.read()}")
    return server, int(line.split(f"http://{HOST}:")[1].split("/")[0])


def send_report(port: int, number: int) -> tuple[int, float]:
    """Posts report `number`; (status, seconds), status 0 when the connection failed."""
    body = json.dumps({"query": f"load test {number}", "results": number % 4, "first": None if number % 4 == 0 else "a.md", "opened": None})
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("POST", "/insights", body=body.encode(), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError:
        return 0, time.perf_counter() - started
    finally:
        connection.close()


def load_pages(port: int, stop: threading.Event, results: list[tuple[bool, float]]) -> None:
    """Loads the pages one after another until `stop`; each (ok, seconds) is appended to `results`."""
    connection = None
    turn = 0
    while not stop.is_set():
        path = PAGES[turn % len(PAGES)]
        turn += 1
        started = time.perf_counter()
        try:
            connection = connection or http.client.HTTPConnection(HOST, port, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            length = response.getheader("Content-Length")
            ok = response.status == 200 and length is not None and int(length) == len(body) and len(body) > 0
        except (OSError, http.client.HTTPException):
            ok = False
            connection = None
        results.append((ok, time.perf_counter() - started))
        time.sleep(0.05)


def percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    return f"p50 {at(0.50):.1f} ms, p95 {at(0.95):.1f} ms, p99 {at(0.99):.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=200, help=f"reports a second (at most {MAX_RATE}; default 200)")
    parser.add_argument("--seconds", type=int, default=30, help=f"how long (at most {MAX_SECONDS}; default 30)")
    parser.add_argument("--workers", type=int, default=64, help="threads sending reports (default 64)")
    parser.add_argument("--site", type=Path, help="a built site to serve (default: the sample procedures, built here)")
    args = parser.parse_args()
    if not 1 <= args.rate <= MAX_RATE or not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--rate must be 1..{MAX_RATE} and --seconds 1..{MAX_SECONDS}")

    with tempfile.TemporaryDirectory(prefix="kb-insights-load-") as temporary:
        folder = Path(temporary)
        site = args.site or build_sample_site(folder)
        db = folder / "insights.sqlite3"
        server, port = start_server(site, db)
        try:
            total = args.rate * args.seconds
            page_results: list[tuple[bool, float]] = []
            stop = threading.Event()
            pages = threading.Thread(target=load_pages, args=(port, stop, page_results))
            pages.start()
            lateness: list[float] = []
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                start = time.perf_counter()
                futures = []
                for number in range(total):
                    due = start + number / args.rate
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    lateness.append(max(0.0, time.perf_counter() - due))
                    futures.append(pool.submit(send_report, port, number))
                answers = [future.result() for future in futures]
                elapsed = time.perf_counter() - start
            stop.set()
            pages.join()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        stored = {report.query for report in read_reports(db)}
        stored_rows = len(read_reports(db))

    accepted = sum(1 for status, _ in answers if status == 204)
    lost = sum(1 for number in range(total) if f"load test {number}" not in stored)
    failed_pages = sum(1 for ok, _ in page_results if not ok)
    print(f"reports: {total} sent in {elapsed:.1f} s ({total / elapsed:.0f}/s), {accepted} answered 204, {stored_rows} rows stored")
    print(f"lost records: {lost}")
    print(f"report latency: {percentiles([seconds for _, seconds in answers])}")
    print(f"page loads: {len(page_results)}, failed: {failed_pages}; latency: {percentiles([s for _, s in page_results])}")
    print(f"schedule lateness: median {statistics.median(lateness) * 1000:.1f} ms, max {max(lateness) * 1000:.1f} ms")
    return 1 if lost or failed_pages or stored_rows != total else 0


if __name__ == "__main__":
    sys.exit(main())
