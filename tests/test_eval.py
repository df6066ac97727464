"""`kb eval`: judged queries as content, scored by search/evaluate.py, compared with a baseline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.evaluate import JudgementError, compare_with_baseline, load_judgements, make_baseline, score

from .conftest import ROOT, procedure_text, run_kb

PROCEDURES = {
    "shipping/lost-parcel.md": procedure_text(
        "Lost parcel",
        ["Delivery: Lost Parcel"],
        body="## Steps\n\n1. Open a carrier trace for the parcel.\n",
        summary="The parcel never arrived.",
    ),
    "billing/duplicate-charge.md": procedure_text(
        "Duplicate charge", ["Billing: Duplicate Charge"], body="## Steps\n\n1. Refund the second charge in the ledger.\n"
    ),
    "it/password-reset.md": procedure_text("Password reset", ["IT: Password Reset"], body="## Steps\n\n1. Reset the password.\n"),
}
QUERIES = [
    {"q": "lost parcel", "relevant": "shipping/lost-parcel.md", "kind": "title"},
    {"q": "charged twice duplicate", "relevant": "billing/duplicate-charge.md", "kind": "paraphrase"},
    {"q": "IT: Password Reset", "relevant": "it/password-reset.md", "also": [], "kind": "tag-exact"},
    {"q": "password", "relevant": "billing/duplicate-charge.md", "kind": "paraphrase"},  # judged wrong on purpose: a miss
]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    for rel, text in PROCEDURES.items():
        path = tmp_path / "kb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    return tmp_path


def kb_eval(root: Path, *args: str):
    done = run_kb("--procedures", str(root / "kb"), "eval", str(root / "queries.jsonl"), *args, cwd=root)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def test_scoring_per_kind_and_misses() -> None:
    judgements = [{"q": "a", "relevant": "x.md", "also": ["y.md"], "kind": "k1"}, {"q": "b", "relevant": "x.md", "also": [], "kind": "k2"}]
    answers = [{"results": [{"path": "y.md"}]}, {"results": [{"path": "z.md"}, {"path": "w.md"}, {"path": "x.md"}]}]
    result = score(judgements, answers)
    assert result["kinds"]["k1"] == {"n": 1, "top1": 1.0, "mrr": 1.0, "recall5": 1.0}
    assert result["kinds"]["k2"]["mrr"] == pytest.approx(1 / 3)
    assert result["overall"]["top1"] == 0.5
    assert result["misses"] == [{"q": "b", "kind": "k2", "expected": "x.md", "got": ["z.md", "w.md", "x.md"], "rank": 3}]
    assert [q["rank"] for q in result["queries"]] == [1, 3]


def test_benchmark_script_uses_the_shared_scoring() -> None:
    text = (ROOT / "benchmarks" / "quality.py").read_text(encoding="utf-8")
    assert "from search.evaluate import" in text and "def score(" not in text


def test_kb_eval_reports_misses_and_metrics(kb: Path) -> None:
    done = kb_eval(kb)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Queries whose first result is wrong (1):" in out
    assert "[paraphrase] 'password': expected billing/duplicate-charge.md" in out
    assert "first: it/password-reset.md" in out
    assert any(line.split()[:2] == ["overall", "4"] for line in out.splitlines())
    assert any(line.split()[:3] == ["tag-exact", "1", "1.000"] for line in out.splitlines())
    data = json.loads(kb_eval(kb, "--json").stdout)
    assert data["overall"]["n"] == 4 and data["overall"]["top1"] == 0.75 and data["baseline"] is None


def test_baseline_round_trip_and_regression(kb: Path) -> None:
    baseline = kb / "baseline.json"
    done = kb_eval(kb, "--write-baseline", str(baseline))
    assert done.returncode == 0 and f"baseline written to {baseline}" in done.stderr
    written = json.loads(baseline.read_text(encoding="utf-8"))
    assert {p["q"] for p in written["passed"]} == {"lost parcel", "charged twice duplicate", "IT: Password Reset"}
    assert [p["q"] for p in written["failed"]] == ["password"]

    same = kb_eval(kb, "--baseline", str(baseline))
    assert same.returncode == 0 and "0 regression(s)" in same.stdout

    # A change to a procedure makes a query that passed fail: exit 1, with the query named.
    (kb / "kb" / "shipping" / "lost-parcel.md").write_text(
        procedure_text("Carrier trace", ["Delivery: Trace"], body="## Steps\n\n1. Open a trace.\n"), encoding="utf-8"
    )
    (kb / "kb" / "shipping" / "other.md").write_text(procedure_text("Lost parcel claim", ["Delivery: Claim"]), encoding="utf-8")
    worse = kb_eval(kb, "--baseline", str(baseline))
    assert worse.returncode == 1
    assert "REGRESSION [title] 'lost parcel': passed in" in worse.stdout and "1 regression(s)" in worse.stdout


def test_new_queries_are_reported_but_do_not_fail(kb: Path) -> None:
    baseline = kb / "baseline.json"
    kb_eval(kb, "--write-baseline", str(baseline))
    with open(kb / "queries.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"q": "ledger", "relevant": "it/password-reset.md", "kind": "body"}) + "\n")
    done = kb_eval(kb, "--baseline", str(baseline))
    assert done.returncode == 0
    assert "new query not passing [body] 'ledger'" in done.stdout


def test_write_baseline_to_the_baseline_path(kb: Path) -> None:
    done = kb_eval(kb, "--baseline", str(kb / "b.json"), "--write-baseline")
    assert done.returncode == 0 and (kb / "b.json").is_file()
    lonely = kb_eval(kb, "--write-baseline")
    assert lonely.returncode == 2 and "--write-baseline needs a file" in lonely.stderr


MALFORMED_QUERY_FILES = {
    "not-json": ('{"q": "a", "relevant": "x.md"}\n{"q": broken}\n', "queries.jsonl:2: not valid JSON"),
    "not-an-object": ('["lost parcel", "x.md"]\n', "queries.jsonl:1: each line must be a JSON object"),
    "no-q": ('{"relevant": "x.md"}\n', "queries.jsonl:1: 'q' (the query) must be non-empty text"),
    "no-relevant": ('{"q": "lost"}\n', "queries.jsonl:1: 'relevant' must be the path"),
    "also-not-list": ('{"q": "lost", "relevant": "x.md", "also": "y.md"}\n', "queries.jsonl:1: 'also' must be a list of paths"),
    "kind-not-text": ('{"q": "lost", "relevant": "x.md", "kind": 3}\n', "queries.jsonl:1: 'kind' must be text"),
    "empty": ("\n\n", "no judged queries"),
}


@pytest.mark.parametrize(("text", "message"), list(MALFORMED_QUERY_FILES.values()), ids=list(MALFORMED_QUERY_FILES))
def test_malformed_query_file_is_a_clear_error(kb: Path, text: str, message: str) -> None:
    (kb / "queries.jsonl").write_text(text, encoding="utf-8")
    done = kb_eval(kb)
    assert done.returncode == 2
    assert message in done.stderr
    with pytest.raises(JudgementError):
        load_judgements(kb / "queries.jsonl")


def test_every_malformed_line_is_reported_at_once(kb: Path) -> None:
    (kb / "queries.jsonl").write_text('{"q": 1}\n{"q": "ok", "relevant": "x.md"}\nnope\n', encoding="utf-8")
    done = kb_eval(kb)
    assert done.returncode == 2 and "queries.jsonl:1:" in done.stderr and "queries.jsonl:3:" in done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "the baseline is not valid JSON"), ('{"version": 1}', "not a kb eval baseline"), ("[]", "not a kb eval baseline")],
)
def test_malformed_baseline_is_a_clear_error(kb: Path, text: str, message: str) -> None:
    (kb / "baseline.json").write_text(text, encoding="utf-8")
    done = kb_eval(kb, "--baseline", str(kb / "baseline.json"))
    assert done.returncode == 2 and message in done.stderr


def test_missing_files_are_clear_errors(kb: Path) -> None:
    done = run_kb("--procedures", str(kb / "kb"), "eval", str(kb / "nope.jsonl"), cwd=kb)
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr
    done = kb_eval(kb, "--baseline", str(kb / "nope.json"))
    assert done.returncode == 2 and "cannot read the baseline" in done.stderr


def test_judged_path_that_does_not_exist_is_warned_about(kb: Path) -> None:
    (kb / "queries.jsonl").write_text(json.dumps({"q": "lost parcel", "relevant": "shipping/lost-parcle.md"}) + "\n", encoding="utf-8")
    done = kb_eval(kb)
    assert done.returncode == 0
    assert "warning:" in done.stderr and "no procedure 'shipping/lost-parcle.md'" in done.stderr


def test_compare_with_baseline() -> None:
    result = {
        "queries": [
            {"q": "a", "relevant": "x", "rank": 2},
            {"q": "b", "relevant": "y", "rank": 1},
            {"q": "c", "relevant": "z", "rank": None},
        ]
    }
    baseline = {"passed": [{"q": "a", "relevant": "x"}], "failed": [{"q": "b", "relevant": "y", "rank": 3}]}
    comparison = compare_with_baseline(baseline, result)
    assert [q["q"] for q in comparison["regressions"]] == ["a"]
    assert [q["q"] for q in comparison["fixed"]] == ["b"]
    assert [q["q"] for q in comparison["new_failing"]] == ["c"]
    assert make_baseline("f", {**result, "overall": {"n": 3}, "kinds": {}})["passed"] == [{"q": "b", "relevant": "y"}]


def test_sample_queries_hold_their_baseline() -> None:
    """The PR check: no judged query of tests/queries.jsonl that passed in tests/quality-baseline.json fails now."""
    done = run_kb("eval", "tests/queries.jsonl", "--baseline", "tests/quality-baseline.json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 regression(s)" in done.stdout
