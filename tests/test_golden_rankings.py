"""Golden rankings: the expected answers over a small checked-in collection, held to by both engines.

tests/golden/procedures/ is a tiny collection and tests/golden/queries.jsonl a list of queries
over it, each saying what it covers (words the collection lacks, synonym rules with and without
expansions, related words, names, typos, fragments, tags, bare categories, punctuation, Unicode).
tests/golden/rankings.json is the full answer to each, as the Python engine (`kb search`) gives
it: paths in order, scores rounded to 6 decimals, "Matched" descriptions, did-you-mean and
corrections. `kb search` must still give exactly these, and the browser engine (kb-engine.js
under Node) the same, scores within a millionth.

A change to the ranking (search/ranking.py, the query rules, the synonym or related-word lists)
changes them, deliberately: write them again and review the diff,

    .venv/bin/python -m pytest tests/test_golden_rankings.py --update-golden
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from search.analysis import load_thesaurus

from .conftest import ROOT
from .parity import NODE, BrowserEngine, build, differences, python_answers

GOLDEN = ROOT / "tests" / "golden"
RANKINGS = GOLDEN / "rankings.json"
LIMIT = 20  # more than the collection holds: every ranking is complete
SCORE_DECIMALS = 6


def golden_queries() -> list[str]:
    return [json.loads(line)["q"] for line in (GOLDEN / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def rounded(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for answer in answers:
        for result in answer["results"]:
            result["score"] = round(result["score"], SCORE_DECIMALS)
    return answers


def golden_text(answers: list[dict[str, Any]]) -> str:
    """The answers as JSON with one line per result, so that a ranking change reads as a diff."""

    def line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    entries = []
    for answer in answers:
        head = {key: value for key, value in answer.items() if key != "results"}
        results = ",\n".join(f"    {line(result)}" for result in answer["results"])
        entries.append(f'  {line(head)[:-1]}, "results": [' + (f"\n{results}\n  ]}}" if results else "]}"))
    return "[\n" + ",\n".join(entries) + "\n]\n"


@pytest.fixture(scope="module")
def golden_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    """The Python engine's answers to the golden queries, and the browser search data."""
    index, data = build(GOLDEN / "procedures", tmp_path_factory.mktemp("golden"))
    return rounded(python_answers(index, load_thesaurus(), golden_queries(), LIMIT)), data


def expected_rankings(request: pytest.FixtureRequest, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if request.config.getoption("--update-golden"):
        RANKINGS.write_text(golden_text(answers), encoding="utf-8")
    return json.loads(RANKINGS.read_text(encoding="utf-8"))


def test_python_engine_still_gives_the_golden_rankings(request: pytest.FixtureRequest, golden_data: tuple[list[dict], Path]) -> None:
    answers, _ = golden_data
    expected = expected_rankings(request, answers)
    assert [e["q"] for e in expected] == golden_queries(), "queries.jsonl changed: write the golden rankings again (--update-golden)"
    found = {e["q"]: d for e, a in zip(expected, answers, strict=True) if (d := differences(e, a, tolerance=0.0))}
    assert not found, found


@pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")
def test_browser_engine_gives_the_golden_rankings(request: pytest.FixtureRequest, golden_data: tuple[list[dict], Path]) -> None:
    answers, data = golden_data
    expected = expected_rankings(request, answers)
    with BrowserEngine() as browser:
        got = browser.answers(data, [e["q"] for e in expected], LIMIT)
    found = {e["q"]: d for e, a in zip(expected, got, strict=True) if (d := differences(e, a, tolerance=10.0**-SCORE_DECIMALS))}
    assert not found, found


def test_golden_rankings_cover_what_they_claim() -> None:
    """The golden answers are not empty or trivial: the cases they are there for still happen."""
    by_query = {a["q"]: a for a in json.loads(RANKINGS.read_text(encoding="utf-8"))}
    first = {q: [r["path"] for r in a["results"]][:1] for q, a in by_query.items()}
    # A synonym rule knows it: no related words (only the meaning signal may find procedures).
    assert all(m.startswith("meaning: ") for r in by_query["enrol"]["results"] for m in r["matched"])
    assert first["fridge"] == ["complaints/damaged-appliance.md"]  # related: refrigerator
    assert first["refnd"] == ["billing/refund-request.md"] and by_query["refnd"]["corrections"] == {"refnd": "refund"}
    assert first["Complaint: Late Delivery"] == ["complaints/late-delivery.md"]
    assert by_query["Complaint: Late Delivery"]["results"][1]["path"] == "complaints/damaged-appliance.md"  # its category next
    assert {r["path"] for r in by_query["Billing"]["results"][:2]} == {"billing/duplicate-charge.md", "billing/refund-request.md"}
    assert by_query["authntcatr zzqx"]["did_you_mean"] == "authenticator"
    # The meaning signal: procedures no word of the query is in, each saying which words brought it.
    laptop = by_query["my laptop won't turn on"]["results"]
    named = [r["matched"][0].removeprefix("meaning: ").split() for r in laptop if len(r["matched"]) == 1]
    assert len(laptop) >= 2 and len(named) == len(laptop) and all(set(n) <= {"my", "laptop", "wont", "turn", "on"} for n in named)
    cash = by_query["cash back for my purchase"]["results"]
    assert cash[0]["path"] == "billing/refund-request.md" and cash[0]["matched"][-1] == "meaning: cash purchase"
    assert any(r["matched"] == ["meaning: cash purchase"] for r in cash)
    assert not any("on" in n for n in named)  # a common word that added little is not named
    assert by_query["refnd kitchen"]["corrections"] == {"refnd": "refund"}
    refnd = by_query["refnd kitchen"]["results"]
    assert refnd[0]["path"] == "billing/refund-request.md" and "meaning: refnd" in refnd[0]["matched"]
