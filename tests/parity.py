"""Both search engines over one collection, and the differences between their full rankings.

`kb search`'s engine (search/query.py) answers in this process; the browser engine
(plugins/kb/assets/kb-engine.js) answers in one Node process (`BrowserEngine`, over
tests/js/parity_server.js) that serves many collections, a fresh engine for each. An answer is
{q, results: [{path, score, matched}], did_you_mean, corrections}, the same shape from both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from search.analysis import Thesaurus
from search.export import write_search_data
from search.index import SearchIndex
from search.query import QueryEngine, Response

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
SERVER = ROOT / "tests" / "js" / "parity_server.js"
# Both engines do the same floating-point operations in the same order; this only allows for
# Math.log and Math.exp differing from C's in the last bit.
SCORE_TOLERANCE = 1e-9


def build(procedures: Path, work: Path) -> tuple[SearchIndex, Path]:
    """Indexes `procedures` into work/idx and exports the browser search data to work/data."""
    index = SearchIndex(procedures, work / "idx")
    index.refresh()
    write_search_data(index, work / "data")
    return index, work / "data"


def as_answer(query: str, response: Response) -> dict[str, Any]:
    return {
        "q": query,
        "results": [{"path": r.path, "score": r.score, "matched": r.matched} for r in response.results],
        "did_you_mean": response.did_you_mean,
        "corrections": response.corrections,
    }


def python_answers(index: SearchIndex, thesaurus: Thesaurus, queries: list[str], limit: int) -> list[dict[str, Any]]:
    responses = QueryEngine(index, thesaurus).search_many(queries, limit=limit)
    return [as_answer(q, r) for q, r in zip(queries, responses, strict=True)]


class BrowserEngine:
    """One Node process answering with kb-engine.js; `answers` is a request over stdin/stdout."""

    def __init__(self) -> None:
        if NODE is None:
            raise RuntimeError("Node.js is needed to run the browser engine outside a browser")
        self.process = subprocess.Popen([NODE, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def answers(self, export_dir: Path, queries: list[str], limit: int) -> list[dict[str, Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"dir": str(export_dir), "queries": queries, "limit": limit}) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline() or '{"error": "the Node process ended"}')
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["answers"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)

    def __enter__(self) -> BrowserEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def differences(expected: dict[str, Any], got: dict[str, Any], tolerance: float = SCORE_TOLERANCE) -> list[str]:
    """How answer `got` differs from `expected`: paths and their order, scores (within
    `tolerance`), "Matched" descriptions, did-you-mean and corrections. Empty when they agree."""
    found = []
    expected_paths, got_paths = [r["path"] for r in expected["results"]], [r["path"] for r in got["results"]]
    if expected_paths != got_paths:
        found.append(f"paths {expected_paths} != {got_paths}")
    else:
        for a, b in zip(expected["results"], got["results"], strict=True):
            if abs(a["score"] - b["score"]) > tolerance * max(1.0, abs(a["score"])):
                found.append(f"score of {a['path']}: {a['score']!r} != {b['score']!r}")
            if "matched" in a and "matched" in b and a["matched"] != b["matched"]:
                found.append(f"matched of {a['path']}: {a['matched']} != {b['matched']}")
    for key in ("did_you_mean", "corrections"):
        if key in expected and expected.get(key) != got.get(key):
            found.append(f"{key}: {expected.get(key)!r} != {got.get(key)!r}")
    return found
