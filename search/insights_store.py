"""The search insights store: what one finished search in the site's search box reports, checked
against its schema, and where such reports are kept (a SQLite database, or JSON lines written by
any other collector).

A report (the JSON body the search box sends with `navigator.sendBeacon`) is an object with
exactly these keys: `query` (the text searched, required), `results` (how many procedures matched,
required), `first` (the first result's path, or null) and `opened` (the path of the result the rep
opened, or null). Nothing identifies who searched; the store adds only the time it was received.

Promises: `parse_report` accepts nothing else (an unknown key, a wrong type, control characters,
more than `MAX_REPORT_BYTES` bytes: a `ReportError`); `InsightsStore.add` is safe from many
threads at once and a report it returned from is committed; reading a database or a JSON-lines
file never creates or changes it, and a file that is neither is an `InsightsError` with a
one-line message.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MAX_REPORT_BYTES = 4096  # a beacon's body; a longer one is refused unread
MAX_TEXT = 500  # characters of a query or a path
REPORT_KEYS = frozenset({"query", "results", "first", "opened"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,          -- when it was received, UTC, ISO 8601
    query TEXT NOT NULL,
    results INTEGER NOT NULL,
    first TEXT,
    opened TEXT
)
"""


class InsightsError(ValueError):
    """A store or file of search reports that cannot be used; the message is one line for the user."""


class ReportError(InsightsError):
    """A search report that does not follow the schema; the message says what is wrong."""


@dataclass(frozen=True)
class SearchReport:
    """One finished search: its text, how many procedures matched, the first one's path, the one
    the rep opened (None: none), and `at`, when it was received (None: not known)."""

    query: str
    results: int
    first: str | None = None
    opened: str | None = None
    at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat().replace("+00:00", "Z") if self.at else None
        return data


def parse_report(body: bytes) -> SearchReport:
    """The report in a beacon's body (UTF-8 JSON), or a `ReportError` saying why it is not one."""
    if len(body) > MAX_REPORT_BYTES:
        raise ReportError(f"a search report is at most {MAX_REPORT_BYTES} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"not JSON: {exc}") from None
    return report_from_json(data)


def report_from_json(data: object, at: dt.datetime | None = None) -> SearchReport:
    """The report an already parsed JSON value holds (see the module docstring for the schema)."""
    if not isinstance(data, dict):
        raise ReportError("a search report is a JSON object")
    unknown = sorted(set(data) - REPORT_KEYS)
    if unknown:
        raise ReportError(f"unknown field(s): {', '.join(map(str, unknown))[:100]}")
    query = _text(data, "query", required=True)
    if query is None or not query.strip():
        raise ReportError("'query' must not be empty")
    results = data.get("results")
    if isinstance(results, bool) or not isinstance(results, int) or not 0 <= results <= 1_000_000:
        raise ReportError("'results' must be a whole number from 0")
    first, opened = _text(data, "first"), _text(data, "opened")
    if results == 0 and first is not None:
        raise ReportError("'first' must be null when there are no results")
    return SearchReport(" ".join(query.split()), results, first, opened, at)


def _text(data: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ReportError(f"'{key}' must be text of at most {MAX_TEXT} characters")
    if not value.replace("\t", " ").isprintable():
        raise ReportError(f"'{key}' contains a control character")
    return value


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class InsightsStore:
    """A SQLite database of search reports, open for adding (created if missing, WAL journal).

    One connection shared by the server's threads behind a lock: each `add` is one committed
    transaction before it returns.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(_SCHEMA)
            self._connection.commit()
        except sqlite3.Error as exc:
            raise InsightsError(f"cannot use '{path}' as an insights database: {exc}") from None
        self._lock = threading.Lock()

    def add(self, report: SearchReport) -> None:
        at = (report.at or utc_now()).isoformat().replace("+00:00", "Z")
        with self._lock, self._connection:
            self._connection.execute(
                "INSERT INTO searches (at, query, results, first, opened) VALUES (?, ?, ?, ?, ?)",
                (at, report.query, report.results, report.first, report.opened),
            )

    def count(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT count(*) FROM searches").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def read_reports(path: Path, since: dt.datetime | None = None) -> list[SearchReport]:
    """The reports in a database written by `InsightsStore` or in a JSON-lines file (`.jsonl`: one
    report a line, optionally with `at`, an ISO 8601 time), received at or after `since`.
    A report without a time is left out when `since` is given."""
    if not path.is_file():
        raise InsightsError(f"no insights file at '{path}'")
    reports = _read_jsonl(path) if path.suffix.lower() in (".jsonl", ".ndjson") else _read_database(path)
    return [r for r in reports if since is None or (r.at is not None and r.at >= since)]


def _read_database(path: Path) -> Iterator[SearchReport]:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT at, query, results, first, opened FROM searches ORDER BY id").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise InsightsError(f"'{path}' is not an insights database ({exc}); a JSON-lines file must end in .jsonl") from None
    for at, query, results, first, opened in rows:
        yield SearchReport(query, results, first, opened, parse_time(at))


def _read_jsonl(path: Path) -> Iterator[SearchReport]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InsightsError(f"'{path}' is not UTF-8 text: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            at = parse_time(data.pop("at")) if isinstance(data, dict) and data.get("at") is not None else None
            if isinstance(data, dict):
                data.pop("at", None)
            yield report_from_json(data, at)
        except (json.JSONDecodeError, ValueError) as exc:
            raise InsightsError(f"{path}:{number}: not a search report: {exc}") from None


def parse_time(text: object) -> dt.datetime:
    """An ISO 8601 date or time as an aware UTC time (a time without an offset is taken as UTC)."""
    if not isinstance(text, str):
        raise InsightsError(f"'at' must be an ISO 8601 time, not {text!r}")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InsightsError(f"'{text}' is not an ISO 8601 date or time (such as 2024-05-31)") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
