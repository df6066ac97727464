"""Query semantics through the engine: tags, categories, stems, typos, synonyms, alternates."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.analysis import Thesaurus, base_form, load_thesaurus, name_like, parse_synonym_lines, terms, words
from search.index import SearchIndex
from search.query import QueryEngine
from search.related import RelatedWords, related_words

from .conftest import procedure_text

ALTERNATES = """
Use this when the promised delivery date has passed.

## Steps

1. Find the order and open the shipment tracking.
2. Open a carrier trace when there has been no scan for 5 business days.

## Alternate methods

### Reship at once without waiting for the trace
When the order total is under $75, create a no-charge replacement order shipped 2-day.

### Offer a courtesy credit
Offer a $10 courtesy e-gift card on top of any shipping refund.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> QueryEngine:
    root = tmp_path_factory.mktemp("kb")

    def write_procedure(rel: str, title: str, tags: list[str], body: str = "## Steps\n\n1. Do it.\n", **fields: object) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(procedure_text(title, tags, body, **fields), encoding="utf-8")

    write_procedure(
        "complaints/late-shipment.md",
        "Late shipment complaint",
        ["Complaint: Late Shipment", "Shipping"],
        ALTERNATES,
        keywords=["where is my order", "order overdue"],
        summary="An order has not arrived by its promised date.",
    )
    write_procedure(
        "complaints/lost-package.md",
        "Lost package",
        ["Complaint: Lost Package", "Shipping"],
        "## Steps\n\n1. Check the carrier scan that says delivered.\n2. File a carrier claim for the shipment.\n",
        summary="Tracking says delivered but the customer has nothing.",
    )
    write_procedure(
        "complaints/staff-conduct.md",
        "Complaint about a rep's conduct",
        ["Complaint: Staff Conduct"],
        "## Steps\n\n1. Apologise and write down what the customer says the rep did.\n",
    )
    write_procedure(
        "billing/refund.md",
        "Issue a refund",
        ["Request: Refund", "Billing"],
        "## Steps\n\n1. Refund to the original payment method.\n2. Refunds over $500 need a lead's approval.\n",
    )
    write_procedure(
        "billing/duplicate-charge.md",
        "Customer charged twice",
        ["Billing: Duplicate Charge", "Billing"],
        "## Steps\n\n1. Compare the two charges on the statement.\n",
    )
    write_procedure(
        "it/password-reset.md",
        "Reset an employee password",
        ["IT: Password Reset"],
        "## Steps\n\n1. Verify the employee's badge number and reset the password in the directory.\n",
    )
    write_procedure(
        "payroll/name-change.md",
        "Employee name change",
        ["HR: Name Change"],
        "## Steps\n\n1. TimeTrack shows Munoz instead of Muñoz until HR updates the record.\n",
    )
    index = SearchIndex(root, tmp_path_factory.mktemp("idx"))
    index.refresh()
    return QueryEngine(index, load_thesaurus())


def first(engine: QueryEngine, query: str) -> str | None:
    results = engine.search(query).results
    return results[0].path if results else None


@pytest.mark.parametrize("query", ["Complaint: Late Shipment", "complaint :late shipment", "  COMPLAINT:LATE   SHIPMENT "])
def test_exact_tag_in_any_case_and_spacing_ranks_its_procedure_first(engine: QueryEngine, query: str) -> None:
    response = engine.search(query)
    assert response.results[0].path == "complaints/late-shipment.md"
    assert response.results[0].matched[0] == "tag"
    assert response.tag == "complaint:late shipment"


@pytest.mark.parametrize("query", ["Complaint", "complaint:", "Complaint :"])
def test_bare_category_lists_all_its_procedures_first(engine: QueryEngine, query: str) -> None:
    paths = [r.path for r in engine.search(query).results]
    assert set(paths[:3]) == {"complaints/late-shipment.md", "complaints/lost-package.md", "complaints/staff-conduct.md"}


def test_bare_tag_also_counts_as_a_tag(engine: QueryEngine) -> None:
    paths = [r.path for r in engine.search("shipping").results]
    assert set(paths[:2]) == {"complaints/late-shipment.md", "complaints/lost-package.md"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("late shipment", "complaints/late-shipment.md"),
        ("shipmnt late", "complaints/late-shipment.md"),
        ("refnd", "billing/refund.md"),
        ("pasword reset", "it/password-reset.md"),
        ("refunded", "billing/refund.md"),
        ("where is my order", "complaints/late-shipment.md"),
        ("money back", "billing/refund.md"),
        ("double charged", "billing/duplicate-charge.md"),
        ("munoz", "payroll/name-change.md"),
        ("MUÑOZ", "payroll/name-change.md"),
        ("passw", "it/password-reset.md"),
    ],
)
def test_words_stems_typos_fragments_and_synonyms(engine: QueryEngine, query: str, expected: str) -> None:
    assert first(engine, query) == expected


def test_typo_correction_is_reported(engine: QueryEngine) -> None:
    assert engine.search("refnd").corrections == {"refnd": "refund"}


def test_real_english_word_is_not_corrected_into_a_procedure_word(engine: QueryEngine) -> None:
    # 'talk' is one edit away from 'task'-like words; it must not be treated as a typo.
    assert "talk" not in engine.search("talk").corrections


def test_english_word_is_completed_only_as_the_last_word(engine: QueryEngine) -> None:
    # 'car' still being typed may be 'carrier'; 'car' followed by more words is the vehicle.
    with engine.index.open() as reader:
        typing = engine.parse(reader, "car")
        finished = engine.parse(reader, "car broke")
        fragment = engine.parse(reader, "carri broke")
    assert "carrier" in {a.text for a in typing.concepts[0].alternatives if a.kind == "prefix"}
    assert [a.kind for a in finished.concepts[0].alternatives] == ["word"]
    # A fragment that is no English word is completed anywhere in the query.
    assert "carrier" in {a.text for a in fragment.concepts[0].alternatives if a.kind == "prefix"}


def test_english_word_the_collection_lacks_reaches_related_collection_words(engine: QueryEngine) -> None:
    # WordNet relates 'repay' to 'refund'; no procedure says 'repay' and no synonym rule knows it.
    with engine.index.open() as reader:
        lacking = engine.parse(reader, "repay")
        known = engine.parse(reader, "refund charges")
    related = [a for a in lacking.concepts[0].alternatives if a.kind == "related"]
    assert "refund" in {a.text for a in related}
    assert all(a.weight < 0.5 and reader_has(engine, a.terms[0]) for a in related)
    assert first(engine, "repay") == "billing/refund.md"
    # Words the procedures use are searched as typed, without related words.
    assert all(a.kind != "related" for c in known.concepts for a in c.alternatives)


def test_a_related_word_look_up_bisects_the_file_without_splitting_it(tmp_path: Path, monkeypatch) -> None:
    table = tmp_path / "related.txt"
    lines = ["# a comment", "# word<TAB>groups", "abandon\td1 abandonment|h1 discard", "abandoned\t=abandon", "abc\th1 alphabet"]
    lines += [f"word{n:03d}\th1 other{n:03d}" for n in range(200)] + ["zulu\th1 african"]
    table.write_text("\n".join(lines), encoding="utf-8")  # no newline after the last line
    monkeypatch.setattr(RelatedWords, "_all_lines", lambda self: pytest.fail("a look-up split the whole file"))
    related = RelatedWords(table)
    assert related.related("abandon") == related.related("abandoned") == ("abandonment", "discard")
    assert related.related("abc") == ("alphabet",) and related.related("zulu") == ("african",)
    assert all(related.related(f"word{n:03d}") == (f"other{n:03d}",) for n in range(200))
    assert [related.related(word) for word in ("", "#", "a", "ab", "abandons", "word", "word1000", "zulus", "~")] == [()] * 9
    shipped = related_words()
    assert shipped.related("gizmo")[:2] == ("doodad", "doohickey") and shipped.related("repay")


def reader_has(engine: QueryEngine, term: str) -> bool:
    with engine.index.open() as reader:
        return reader.has_term(term)


def test_alternate_method_match_is_named(engine: QueryEngine) -> None:
    result = engine.search("courtesy e-gift card").results[0]
    assert result.path == "complaints/late-shipment.md"
    assert "alternate method: Offer a courtesy credit" in result.matched
    assert "alternate method: Reship at once without waiting for the trace" not in result.matched


def test_no_results_offers_did_you_mean(engine: QueryEngine) -> None:
    response = engine.search("xqzvw carier")
    assert response.did_you_mean is None or "carrier" in response.did_you_mean
    nothing = engine.search("qqqqqqq")
    assert nothing.results == [] and nothing.total == 0


def test_did_you_mean_suggests_collection_words(engine: QueryEngine) -> None:
    response = engine.search("zzzzzz trakcing")
    if not response.results:  # the typo may already match; then no suggestion is needed
        assert response.did_you_mean == "zzzzzz tracking"


def test_tag_filter_restricts_results(engine: QueryEngine) -> None:
    paths = [r.path for r in engine.search("refund charges", tag="Billing").results]
    assert paths and all(p.startswith("billing/") for p in paths)


def test_limit_is_respected_and_total_counts_all(engine: QueryEngine) -> None:
    response = engine.search("Complaint", limit=1)
    assert len(response.results) == 1 and response.total >= 3


def test_search_many_answers_each_query_in_order(engine: QueryEngine) -> None:
    responses = engine.search_many(["refund", "", "lost package"])
    assert [r.query for r in responses] == ["refund", "", "lost package"]
    assert responses[1].results == []
    assert responses[2].results[0].path == "complaints/lost-package.md"


def test_user_synonyms_extend_the_builtin_list(write_procedure, tmp_path: Path) -> None:
    write_procedure("a.md", "Reset a voicemail PIN", ["IT: Voicemail"])
    write_procedure("b.md", "Book a meeting room", ["Facilities: Room Booking"])
    index = SearchIndex(write_procedure.root, tmp_path / "idx")
    index.refresh()
    extra = tmp_path / "synonyms.txt"
    extra.write_text("# team words\nmailbox code => voicemail pin\n", encoding="utf-8")
    without = QueryEngine(index, load_thesaurus()).search("mailbox code").results
    assert all(m.startswith("meaning: ") for r in without for m in r.matched)  # no word of the query is in either
    found = QueryEngine(index, load_thesaurus(extra)).search("mailbox code").results[0]
    assert found.path == "a.md" and found.matched[0] == "title"


def test_installed_tables_are_derived_once_per_machine_and_again_when_their_sources_change(tmp_path: Path, monkeypatch) -> None:
    from search import analysis

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    derived = []

    def derive() -> dict[str, int]:
        derived.append(1)
        return {"derivations": len(derived)}

    first = analysis.installed_table("probe", derive)
    second = analysis.installed_table("probe", derive)
    assert first == second == {"derivations": 1}
    assert second is not first  # free to modify
    # The code deriving a table is among its sources: this file's derive, analysis.py's own tables.
    assert analysis._installed_data_digest(__file__) != analysis._installed_data_digest(analysis.__file__)
    monkeypatch.setattr(analysis, "_installed_data_digest", lambda deriving_module: "changed")
    assert analysis.installed_table("probe", derive) == {"derivations": 2}
    assert [path.name for path in (tmp_path / "cache" / "service-kb" / "tables").iterdir()] == ["probe.changed.pickle"]
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert analysis.installed_table("probe", derive) == {"derivations": 3}  # cannot keep it: derived each time


def test_installed_tables_equal_what_they_are_derived_from(tmp_path: Path, monkeypatch) -> None:
    """Read from the machine's cache, the tables are what deriving them gives; an editor's
    synonyms added to the built-in thesaurus do not stay in it for the next caller."""
    from search import analysis

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for _ in range(2):  # derived and kept, then read back
        assert analysis.common_english_words() == analysis._common_english_words()
        assert analysis.english_term_rates() == analysis._english_term_rates()
        stems = analysis.english_word_stems()
        assert list(stems) == analysis._common_english_words()
        assert all(stems[word] == analysis.stem(word) for word in list(stems)[::97])
        table = related_words().table()
        assert table == related_words()._table()
        related = related_words()
        assert all(term == analysis.stem(word) and candidates == related.candidates(word) for word, term, candidates in table[::97])
    extra = tmp_path / "synonyms.txt"
    extra.write_text("mailbox code => voicemail pin\n", encoding="utf-8")
    builtin = analysis._parse_synonym_file(analysis.BUILTIN_SYNONYMS, Thesaurus()).rules
    assert (base_form("mailbox"), base_form("code")) in load_thesaurus(extra).rules
    assert load_thesaurus().rules == builtin


def test_analysis_folds_accents_case_and_numbers() -> None:
    assert words("Muñoz paid $1,000 on 2026-01-05") == ["munoz", "paid", "1000", "on", "2026", "01", "05"]
    assert terms("The refunds were REFUNDED") == ["refund", "refund"]


def test_base_form_keeps_customer_apart_from_customs() -> None:
    assert base_form("customer") != base_form("customs")
    assert base_form("charged") == base_form("charges") == base_form("charge")
    assert base_form("cancelled") == base_form("cancel")


def test_synonym_file_errors_name_the_line(tmp_path: Path) -> None:
    from search.analysis import SynonymFileError

    with pytest.raises(SynonymFileError, match=r"syn.txt:2: error"):
        parse_synonym_lines(["a, b", "lonely"], tmp_path / "syn.txt", Thesaurus())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("there's something on my Visa statement", [False, False, False, False, True, False]),
        ("UPS lost it again", [False, False, False, False]),  # the first word: no signal
        ("she used her Amex and her PayPal", [False, False, False, True, False, False, True]),
        ("Late Delivery Refund", [False, False, False]),  # Title Case: no signal
        ("LOST PACKAGE", [False, False]),
        ("café Müller's order", [False, True, False]),
    ],
)
def test_name_like_words(query: str, expected: list[bool]) -> None:
    assert name_like(query) == expected
    assert len(expected) == len(words(query))


def test_a_name_is_not_expanded_as_the_common_word_it_spells(engine: QueryEngine) -> None:
    # WordNet's verb 'visa' is 'approve', which the refund procedure uses ('approval').
    with engine.index.open() as reader:
        common = engine.parse(reader, "they want a visa for the refund")
        name = engine.parse(reader, "there is a charge on my Visa statement")
    visa = next(c for c in common.concepts if c.text == "visa")
    named = next(c for c in name.concepts if c.text == "visa")
    assert ("related", "approve") in [(a.kind, a.text) for a in visa.alternatives]
    assert [a.kind for a in named.alternatives] == ["word"]


def test_a_tag_subject_without_its_category_lists_that_tag_first(tmp_path: Path, write_procedure) -> None:
    """`order cancelled` is the subject of `Complaint: Order Cancelled`: a rep typing a tag's
    subject is naming the tag, even when another procedure says the words more often."""
    write_procedure(
        "orders/cancel-order.md",
        "Order cancelled by the customer: cancel an order",
        ["Request: Cancel Order", "Orders"],
        "## Steps\n\n1. An order cancelled before packing is refunded. Order cancelled after packing: return it.\n",
    )
    write_procedure("complaints/cancelled.md", "Customer upset that we stopped their purchase", ["Complaint: Order Cancelled"])
    index = SearchIndex(tmp_path / "kb", tmp_path / "index")
    index.refresh()
    engine = QueryEngine(index, load_thesaurus(None, cache_dir=index.dir))
    for query in ("order cancelled", "Order  Cancelled"):
        results = engine.search(query).results
        assert [r.path for r in results] == ["complaints/cancelled.md", "orders/cancel-order.md"]
        assert results[0].matched[0] == "tag"
    # The subject of a tag names it only whole: a part of it is an ordinary query.
    assert engine.search("cancelled").results[0].path == "orders/cancel-order.md"
