"""Judged search queries: read them, score the answers, compare with a baseline.

Shared by `kb eval` and `benchmarks/quality.py`. A judged query file has one JSON object per line:

    {"q": "parcel never showed up", "relevant": "fulfillment/lost-parcel.md", "also": [], "kind": "paraphrase"}

`q` is what a rep types, `relevant` the procedure (path in the procedures folder) that should come
first, `also` other acceptable first results, `kind` a label to group the metrics by. A query
passes when its first result is `relevant` or one of `also`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

RESULTS_LIMIT = 10  # MRR@10
BASELINE_VERSION = 1


class JudgementError(ValueError):
    """A judged query file or baseline that cannot be used; the message names the file and line."""


def load_judgements(path: Path) -> list[dict]:
    """The judged queries of a JSON-lines file; every malformed line is reported at once."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise JudgementError(f"cannot read {path}: {reason}") from None
    judgements, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        problem = judgement_problem(item)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        judgements.append({"q": item["q"], "relevant": item["relevant"], "also": item.get("also") or [], "kind": item.get("kind") or "all"})
    if problems:
        raise JudgementError("\n".join(problems))
    if not judgements:
        raise JudgementError(f"{path}: no judged queries (one JSON object per line with q and relevant)")
    return judgements


def judgement_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return 'each line must be a JSON object such as {"q": "words", "relevant": "area/file.md"}'
    if not isinstance(item.get("q"), str) or not item["q"].strip():
        return "'q' (the query) must be non-empty text"
    if not isinstance(item.get("relevant"), str) or not item["relevant"].strip():
        return "'relevant' must be the path of the procedure that should come first, such as 'complaints/late-delivery.md'"
    also = item.get("also")
    if also is not None and not (isinstance(also, list) and all(isinstance(p, str) for p in also)):
        return "'also' must be a list of paths"
    if item.get("kind") is not None and not isinstance(item["kind"], str):
        return "'kind' must be text"
    return None


def answer(judgements: list[dict], engine: Any) -> list[dict]:
    """The engine's answers, as `kb search -` prints them (only the paths matter here)."""
    responses = engine.search_many([j["q"] for j in judgements], limit=RESULTS_LIMIT)
    return [{"results": [{"path": result.path} for result in response.results]} for response in responses]


def score(judgements: list[dict], answers: list[dict]) -> dict:
    """top-1, MRR@10 and recall@5 per kind and overall; the misses (first result wrong); and each
    query's rank (None when not in the first 10)."""
    per_kind: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    misses, queries = [], []
    for judged, answer_ in zip(judgements, answers, strict=True):
        acceptable = {judged["relevant"], *judged.get("also", [])}
        paths = [r["path"] for r in answer_["results"]][:RESULTS_LIMIT]
        rank = next((i for i, p in enumerate(paths, start=1) if p in acceptable), None)
        top1 = 1.0 if rank == 1 else 0.0
        per_kind[judged.get("kind", "all")].append((top1, 1.0 / rank if rank else 0.0, 1.0 if rank and rank <= 5 else 0.0))
        queries.append({"q": judged["q"], "relevant": judged["relevant"], "kind": judged.get("kind"), "rank": rank})
        if rank != 1:
            misses.append({"q": judged["q"], "kind": judged.get("kind"), "expected": judged["relevant"], "got": paths[:3], "rank": rank})

    def mean(rows: list[tuple[float, float, float]], i: int) -> float:
        return sum(r[i] for r in rows) / len(rows) if rows else 0.0

    everything = [row for rows in per_kind.values() for row in rows]
    kinds = {
        kind: {"n": len(rows), "top1": mean(rows, 0), "mrr": mean(rows, 1), "recall5": mean(rows, 2)}
        for kind, rows in sorted(per_kind.items())
    }
    overall = {"n": len(everything), "top1": mean(everything, 0), "mrr": mean(everything, 1), "recall5": mean(everything, 2)}
    return {"kinds": kinds, "overall": overall, "misses": misses, "queries": queries}


def evaluate(judgements: list[dict], engine: Any) -> dict:
    return score(judgements, answer(judgements, engine))


# ---- baseline --------------------------------------------------------------------------------
def _key(query: dict) -> tuple[str, str]:
    return query["q"], query["relevant"]


def make_baseline(source: str, result: dict) -> dict:
    """What a baseline keeps: which queries pass (first result right) and the metrics, for review."""

    def rounded(row: dict) -> dict:
        return {name: round(value, 4) for name, value in row.items()}

    return {
        "version": BASELINE_VERSION,
        "queries_file": source,
        "overall": rounded(result["overall"]),
        "kinds": {kind: rounded(row) for kind, row in result["kinds"].items()},
        "passed": [{"q": q["q"], "relevant": q["relevant"]} for q in result["queries"] if q["rank"] == 1],
        "failed": [{"q": q["q"], "relevant": q["relevant"], "rank": q["rank"]} for q in result["queries"] if q["rank"] != 1],
    }


def read_baseline(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise JudgementError(f"cannot read the baseline {path}: {reason}") from None
    except json.JSONDecodeError as exc:
        message = f"{path}:{exc.lineno}: the baseline is not valid JSON ({exc.msg}); write it again with --write-baseline"
        raise JudgementError(message) from None
    passed = data.get("passed") if isinstance(data, dict) else None
    if not isinstance(passed, list) or not all(isinstance(p, dict) and isinstance(p.get("q"), str) for p in passed):
        raise JudgementError(f"{path}: not a kb eval baseline (no 'passed' list); write one with --write-baseline")
    return data


def compare_with_baseline(baseline: dict, result: dict) -> dict:
    """Regressions (passed in the baseline, fail now), queries fixed since, and new queries
    (not in the baseline) that do not pass."""
    passed_before = {_key(p) for p in baseline["passed"] if isinstance(p.get("relevant"), str)}
    known = passed_before | {_key(p) for p in baseline.get("failed", []) if isinstance(p, dict) and "q" in p and "relevant" in p}
    regressions, fixed, new_failing = [], [], []
    for query in result["queries"]:
        key = _key(query)
        if key in passed_before and query["rank"] != 1:
            regressions.append(query)
        elif key in known and key not in passed_before and query["rank"] == 1:
            fixed.append(query)
        elif key not in known and query["rank"] != 1:
            new_failing.append(query)
    return {"regressions": regressions, "fixed": fixed, "new_failing": new_failing}
