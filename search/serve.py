"""`kb serve`: the built site over HTTP, and the collector of its search reports.

GET and HEAD serve the files of the site folder (no folder listings). `POST /insights` takes one
search report (search/insights_store.py) as JSON (Content-Type application/json or text/plain,
which is what `navigator.sendBeacon` sends for a text body) and answers 204 once it is committed
to the database; a report that is not one is refused with a 4xx and nothing is stored:
400 malformed or not JSON, 411 no Content-Length, 413 over 4 kB, 415 another content type.
Nothing about the sender (address, browser) is stored or logged.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable
from pathlib import Path

from .insights_store import MAX_REPORT_BYTES, InsightsStore, ReportError, parse_report

INSIGHTS_PATH = "/insights"
INSIGHTS_ATTRIBUTE = "data-kb-insights"  # on the search box of a site built with insights_url
ACCEPTED_TYPES = ("application/json", "text/plain")
REQUEST_TIMEOUT_S = 10  # a connection that sends nothing for this long is closed


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Files of the site folder, and `POST /insights` into the server's store."""

    server: SiteServer
    timeout = REQUEST_TIMEOUT_S
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # no access log: it would record who searched

    def list_directory(self, path: str | Path):  # type: ignore[override]
        self.send_error(404, "Not found")
        return None

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != INSIGHTS_PATH:
            self._answer(404, "not found")
            return
        content_type = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        length_header = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length_header is None:
            self._answer(411, "a Content-Length is required", close=True)
            return
        try:
            length = int(length_header)
        except ValueError:
            self._answer(400, "bad Content-Length", close=True)
            return
        if length < 0 or length > MAX_REPORT_BYTES:
            self._answer(413, f"a search report is at most {MAX_REPORT_BYTES} bytes", close=True)
            return
        body = self.rfile.read(length)
        if content_type not in ACCEPTED_TYPES:
            self._answer(415, "send JSON (application/json or text/plain)")
            return
        try:
            report = parse_report(body)
        except ReportError as exc:
            self._answer(400, str(exc))
            return
        self.server.store.add(report)
        self._answer(204, "")

    def _answer(self, status: int, message: str, close: bool = False) -> None:
        body = message.encode("utf-8")
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body:
            self.wfile.write(body)


class SiteServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server whose handler threads do not keep the process alive; `store`
    receives the reports (set before serving)."""

    daemon_threads = True
    request_queue_size = 128
    store: InsightsStore


def make_server(site: Path, host: str, port: int, store: InsightsStore | None = None) -> SiteServer:
    """The server of `site`, bound but not yet serving (port 0: a free port, in
    `server.server_address`); `store` (else set `server.store` before serving) takes the reports."""
    server = SiteServer((host, port), functools.partial(SiteHandler, directory=str(site)))
    if store is not None:
        server.store = store
    return server


def serve_in_thread(server: SiteServer) -> Callable[[], None]:
    """Serves in a background thread; returns the function that stops it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop


def site_collects_insights(site: Path) -> bool:
    """Whether the site's home page has a search box that sends its reports (built with insights_url)."""
    home = site / "index.html"
    try:
        return INSIGHTS_ATTRIBUTE in home.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
