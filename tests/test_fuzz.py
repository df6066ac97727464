"""Every input is answered: generated odd queries through the engine never raise.

The default run tries 1,000 queries; `KB_FUZZ_EXAMPLES=10000 pytest tests/test_fuzz.py` is the
full acceptance run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import load_thesaurus
from search.index import SearchIndex
from search.query import QueryEngine

from .conftest import SAMPLE_PROCEDURES

EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "1000"))

SPECIAL = [
    "AND",
    "OR",
    "NOT",
    "and",
    "*",
    "~",
    "^",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    "'",
    ":",
    "::",
    "\\",
    "/",
    "-",
    "+",
    "!",
    "?",
    "Complaint:",
    ":Late",
    "Complaint: Late Shipment",
    "\u200b",
    "\ufeff",
    "\u0000",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "مرحبا",
    "שלום",
    "日本語",
    "🙂🔥",
    "e\u0301",
    "ﬁ",
    "ß",
    "İ",
    "%s",
    "{0}",
    "$(rm)",
    "<script>",
    "&amp;",
    "\t",
    "\n",
    "\r\n",
    "refnd",
    "shipmnt",
    "x" * 300,
]

odd_queries = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(SPECIAL), max_size=12).map(" ".join),
    st.lists(st.one_of(st.sampled_from(SPECIAL), st.text(alphabet=st.characters(codec="utf-8"), max_size=12)), max_size=20).map("".join),
    st.integers(min_value=1, max_value=10_000).map(lambda n: ("refund " * n)[:10_000]),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path_factory.mktemp("idx"))
    index.refresh()
    return QueryEngine(index, load_thesaurus())


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=odd_queries, limit=st.integers(min_value=1, max_value=50))
def test_odd_queries_are_answered(engine: QueryEngine, query: str, limit: int) -> None:
    response = engine.search(query, limit=limit)
    assert len(response.results) <= limit
    assert response.total >= len(response.results)
    for result in response.results:
        assert result.path.endswith(".md") and result.title


def test_ten_thousand_characters_are_answered(engine: QueryEngine) -> None:
    response = engine.search("late delivery " * 800)
    assert response.results


def test_command_line_answers_odd_queries() -> None:
    from .conftest import run_kb

    queries = ['"unclosed', "AND OR NOT", "* ~ ^ ( ) [ ]", "", ":", "x" * 10_000, "🙂 مرحبا", "\\", "complaint:"]
    done = run_kb("--procedures", str(SAMPLE_PROCEDURES), "search", "-", stdin="\n".join(queries) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stdout.splitlines()) == len(queries)
