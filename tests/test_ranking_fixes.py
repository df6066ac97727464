"""Ranking rules for fragments, exact tag queries and did-you-mean, on the sample procedures and small collections."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis import load_thesaurus, stem
from search.index import SearchIndex
from search.query import Alternative, Concept, ConceptScorer, QueryEngine

from .conftest import SAMPLE_PROCEDURES, procedure_text


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path_factory.mktemp("sample-index"))
    index.refresh()
    return QueryEngine(index, load_thesaurus())


def build_engine(root: Path, procedures: dict[str, tuple[str, list[str], str]]) -> QueryEngine:
    for rel, (title, tags, body) in procedures.items():
        (root / "kb" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "kb" / rel).write_text(procedure_text(title, tags, body), encoding="utf-8")
    index = SearchIndex(root / "kb", root / "index")
    index.refresh()
    return QueryEngine(index, load_thesaurus())


def paths(engine: QueryEngine, query: str, limit: int = 10) -> list[str]:
    return [r.path for r in engine.search(query, limit=limit).results]


# ---- 1. a fragment whose stem is a collection term is still a fragment ----------------------


def test_readme_fragment_example_ranks_late_delivery_first(sample_engine: QueryEngine) -> None:
    """README: `late deliv` finds the late delivery procedure (its title and tag complete `deliv`)."""
    assert paths(sample_engine, "late deliv")[:2] == ["complaints/late-delivery.md", "fulfillment/lost-parcel.md"]


def test_last_word_is_completed_even_when_its_stem_is_a_collection_term(sample_engine: QueryEngine) -> None:
    """`deliv` is not a collection word, but it is the stem of `delivered`; it still completes to `delivery`."""
    assert stem("deliv") == stem("delivered")
    with sample_engine.index.open() as reader:
        concept = sample_engine.parse(reader, "late deliv").concepts[-1]
    completions = {a.text for a in concept.alternatives if a.kind == "prefix"}
    assert "delivery" in completions


def test_a_complete_last_word_is_not_completed(sample_engine: QueryEngine) -> None:
    """A word the procedures contain is taken as typed, even as the last word."""
    with sample_engine.index.open() as reader:
        concept = sample_engine.parse(reader, "late delivery").concepts[-1]
    assert [a.kind for a in concept.alternatives if a.kind == "prefix"] == []


def test_fragment_whose_stem_is_a_term_completes_to_the_title_word(tmp_path: Path) -> None:
    """In general: the procedure whose title and tag complete the fragment beats one that only has
    the word sharing the fragment's stem, however often."""
    body_heavy = "## Steps\n\n1. The parcel was delivered. Delivered parcels are delivered to the porch; check delivered scans.\n"
    engine = build_engine(
        tmp_path,
        {
            "a/payment-reminder.md": ("Payment reminder", ["Billing: Payment Reminder"], "## Steps\n\n1. Send the reminder.\n"),
            "a/parcel-scan.md": ("Parcel scan check", ["Shipping: Scan Check"], body_heavy),
            "a/delivery-window.md": ("Delivery window", ["Shipping: Delivery Window"], "## Steps\n\n1. Offer a window.\n"),
            "a/unrelated.md": ("Password reset", ["Account: Password Reset"], "## Steps\n\n1. Reset it.\n"),
        },
    )
    assert paths(engine, "window deliv")[0] == "a/delivery-window.md"
    assert paths(engine, "deliv")[0] == "a/delivery-window.md"


def test_a_document_counts_a_words_best_reading_not_the_sum_of_its_readings(tmp_path: Path) -> None:
    """Completions (and corrections) of one typed word are competing readings of it: a document
    that has several of them scores as with its best one, not higher."""
    body = "## Steps\n\n1. Check the delivery and the delivered scan.\n"
    engine = build_engine(
        tmp_path,
        {
            "a/one.md": ("First", ["Area: One"], body),
            "a/two.md": ("Second", ["Area: Two"], body + "2. Check the delivery date.\n"),
            "a/other.md": ("Other", ["Area: Three"], "## Steps\n\n1. Nothing here.\n"),
        },
    )
    delivery = Alternative((stem("delivery"),), 0.75, "prefix", "delivery", reading=True)
    delivered = Alternative((stem("delivered"),), 0.75, "prefix", "delivered", reading=True)
    with engine.index.open() as reader:
        both = ConceptScorer(reader, [Concept("deliv", [delivery, delivered])]).scores()
        alone = [ConceptScorer(reader, [Concept("deliv", [alternative])]).scores() for alternative in (delivery, delivered)]
    assert both and set(both) == set(alone[0]) == set(alone[1])
    for docnum, score in both.items():
        assert score == pytest.approx(max(found[docnum] for found in alone))


# ---- 2. an exact tag query lists the rest of its category next ------------------------------


def test_exact_tag_query_lists_its_category_next(sample_engine: QueryEngine) -> None:
    with sample_engine.index.open() as reader:
        complaints = {reader.stored(d)["path"] for d in reader.documents_with("category", "complaint")}
    assert len(complaints) > 2
    found = paths(sample_engine, "Complaint: Late Delivery", limit=30)
    assert found[0] == "complaints/late-delivery.md"
    assert set(found[1 : len(complaints)]) == complaints - {"complaints/late-delivery.md"}


def test_exact_tag_query_in_a_small_collection(tmp_path: Path) -> None:
    """The other procedures of the tag's category come before procedures that only share words."""
    engine = build_engine(
        tmp_path,
        {
            "c/late.md": ("Late delivery", ["Complaint: Late Delivery"], "## Steps\n\n1. Apologise.\n"),
            "c/rude.md": ("Rude staff", ["Complaint: Staff Conduct"], "## Steps\n\n1. Listen.\n"),
            "d/window.md": ("Late delivery window", ["Shipping: Late Delivery"], "## Steps\n\n1. Offer a late delivery window.\n"),
            "x/other.md": ("Password reset", ["Account: Password Reset"], "## Steps\n\n1. Reset.\n"),
        },
    )
    assert paths(engine, "complaint: late delivery") == ["c/late.md", "c/rude.md", "d/window.md"]


# ---- 3. did-you-mean suggests close corrections only ----------------------------------------


def did_you_mean(engine: QueryEngine, query: str) -> str | None:
    with engine.index.open() as reader:
        return engine.did_you_mean(engine.parse(reader, query))


def test_far_fetched_query_gets_no_suggestion(sample_engine: QueryEngine) -> None:
    response = sample_engine.search("asdf qwerty zzzz")
    assert response.results == []
    assert response.did_you_mean is None


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("refnd", "refund"),
        ("shipmnt", "shipment"),
        ("pasword", "password"),
        ("warrentee", "warranty"),
        ("athorisaton zzqx", "authorization"),
    ],
)
def test_real_typos_still_get_suggestions(sample_engine: QueryEngine, typed: str, suggested: str) -> None:
    assert did_you_mean(sample_engine, typed) == suggested


def test_short_word_two_edits_away_is_not_suggested(sample_engine: QueryEngine) -> None:
    """`asdf` is two edits from `add`: too many for a four-letter word."""
    assert "add" in sample_engine.index.vocabulary()
    assert did_you_mean(sample_engine, "asdf") is None
