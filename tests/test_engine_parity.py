"""The browser engine ranks exactly as `kb search`: named regressions and a differential test.

The differential test generates small collections (titles, tags, keywords, summaries, bodies and
alternate methods drawn from collection words, everyday English, the built-in synonym list,
WordNet-related words, names, Unicode and punctuation) with a batch of queries each (words the
collection lacks, synonym words with and without expansions, related words, typos, fragments,
tags, bare categories, names, punctuation, Unicode), answers every query with both engines
(search/query.py in this process; kb-engine.js in one Node process for the whole test, a fresh
engine per collection) and allows no difference in the full rankings: paths, order, scores,
"Matched" descriptions, did-you-mean and corrections. Rankings include the meaning signal
(search/meaning.py, kb-meaning.js): a query word the collection lacks brings it in, and the test
requires that it carried results in a share of the answers. The run is derandomized, so CI sees
the same cases every time; it prints how many it compared.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from search.analysis import BUILTIN_SYNONYMS, RELATED_WORDS, Thesaurus, base_form, load_thesaurus, words
from search.related import related_words

from .parity import NODE, BrowserEngine, build, differences, python_answers

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")

LIMIT = 50  # more than any generated collection holds: the full ranking is compared


def write_collection(root: Path, procedures: dict[str, dict]) -> Path:
    """procedures: relative path -> {title, tags, body, and any other front-matter field}. The
    front matter is JSON (valid YAML) with Unicode written as is."""
    for rel, fields in procedures.items():
        fields = dict(fields)
        body = fields.pop("body", "## Steps\n\n1. Do it.\n")
        front = "\n".join(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items())
        path = root / "kb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"---\n{front}\n---\n\n{body}", encoding="utf-8")
    (root / "kb").mkdir(parents=True, exist_ok=True)
    return root / "kb"


def assert_same(tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus, procedures: Path, queries: list[str]) -> list[dict]:
    index, data = build(procedures, tmp_path)
    expected = python_answers(index, thesaurus, queries, LIMIT)
    got = node_engine.answers(data, queries, LIMIT)
    found = {q: d for q, a, b in zip(queries, expected, got, strict=True) if (d := differences(a, b))}
    assert not found, found
    return expected


# ---- named regressions -----------------------------------------------------------------------


def test_a_word_a_synonym_rule_knows_gets_no_related_words_in_either_engine(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus
) -> None:
    """`enrol` is in the built-in rule `enrol, enroll`, which has no expansion the collection can
    match; the collection lacks it but has `recruit` and `enter`, which WordNet relates to it.
    README: only a word that "no synonym rule knows" is searched as related words, so neither
    engine finds anything for it by words (kb search found both procedures; the browser, none).
    The meaning signal may still find procedures close in meaning, and says so."""
    assert (base_form("enrol"),) in thesaurus.rules
    assert {"recruit", "enter"} <= set(related_words().related("enrol"))
    procedures = write_collection(
        tmp_path,
        {
            "hr/recruit.md": {"title": "Recruit a new agent", "tags": ["HR: Hiring"], "summary": "How to recruit staff."},
            "payroll/enter.md": {"title": "Enter a timecard", "tags": ["Payroll: Timecards"], "summary": "Enter hours worked."},
        },
    )
    answers = assert_same(tmp_path, node_engine, thesaurus, procedures, ["enrol", "enroll", "enrolled", "enrol staff"])
    by_words = [[m for r in a["results"] for m in r["matched"] if not m.startswith("meaning: ")] for a in answers[:3]]
    assert by_words == [[], [], []]
    results = answers[3]["results"]
    assert results[0]["path"] == "hr/recruit.md" and results[0]["matched"][0] == "summary"
    assert all(m.startswith("meaning: ") for r in results[1:] for m in r["matched"])


def test_tag_queries_are_case_folded_alike_in_both_engines(tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus) -> None:
    """Tag matching ignores case as str.casefold does: `ß` is `ss`, the ligature `ﬁ` is `fi`. The
    browser lower-cased only, so `HR : ﬁle requests` was no exact tag there (found by the
    differential test below)."""
    procedures = write_collection(
        tmp_path,
        {
            "hr/files.md": {"title": "Personnel records", "tags": ["HR: File Requests"]},
            "facilities/parking.md": {"title": "Parking permit", "tags": ["Facilities: Strasse Parking"]},
            "facilities/badge.md": {"title": "Badge", "tags": ["Facilities: Badges"]},
        },
    )
    queries = ["HR : ﬁle requests", "facilities: straße parking", "FACILITIES: STRASSE PARKING", "ＨＲ: file requests"]
    answers = assert_same(tmp_path, node_engine, thesaurus, procedures, queries)
    assert [a["results"][0]["matched"][:1] for a in answers[:3]] == [["tag"], ["tag"], ["tag"]]


def test_a_mistyped_everyday_word_counts_less_on_a_fresh_engine_too(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus
) -> None:
    """`bauk` is read as `back`, an everyday word whose document count gets the background prior.
    The browser applied the prior only when an earlier query had loaded the postings of `back`,
    so the first query of a page scored differently from the same query later."""
    others = {f"orders/order-{n}.md": {"title": f"Order question {n}", "tags": ["Orders: Questions"]} for n in range(10)}
    send_back = {"title": "Send an item back", "tags": ["Returns: Send Back"]}
    procedures = write_collection(tmp_path, {"returns/send-back.md": send_back, **others})
    answers = assert_same(tmp_path, node_engine, thesaurus, procedures, ["bauk", "back", "bauk"])
    assert answers[0]["corrections"] == {"bauk": "back"} and answers[0]["results"] == answers[2]["results"]


def test_a_tag_subject_without_its_category_names_the_tag_in_both_engines(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus
) -> None:
    """`order cancelled` names the tag `Complaint: Order Cancelled`, in any case and spacing,
    however often another procedure says the words."""
    procedures = write_collection(
        tmp_path,
        {
            "orders/cancel.md": {
                "title": "Order cancelled by the customer",
                "tags": ["Request: Cancel Order"],
                "body": "## Steps\n\n1. An order cancelled before packing is refunded.\n",
            },
            "complaints/cancelled.md": {"title": "Customer upset that we stopped their purchase", "tags": ["Complaint: Order Cancelled"]},
        },
    )
    answers = assert_same(tmp_path, node_engine, thesaurus, procedures, ["order cancelled", "ORDER  cancelled", "cancelled"])
    assert [r["path"] for r in answers[0]["results"]] == ["complaints/cancelled.md", "orders/cancel.md"]
    assert answers[1]["results"] == answers[0]["results"]
    assert answers[2]["results"][0]["path"] == "orders/cancel.md"


def test_multi_word_expansions_count_only_documents_with_every_word_in_both_engines(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus
) -> None:
    """A synonym expansion of several words (`says delivered` -> `delivered not received`) counts
    a document only when it has all of them, by the smallest of their impacts. The browser walks
    the postings of the other words alongside the first word's, so the collection spreads each
    word over its own set of documents: any two or three of them together, alone or not at all,
    in an order the paths interleave, the first word's list longer than another's in one
    expansion and shorter in the next."""
    every = {"delivered": 2, "not": 3, "received": 5, "lost": 4, "package": 7, "missing": 11, "estimated": 9}
    has = {n: {word for word, step in every.items() if n % step == 0} for n in range(60)}
    procedures = {
        f"orders/p{n:02d}.md": {"title": f"Order case {n}", "tags": ["Orders: Cases"], "summary": " ".join(sorted(has[n])) or "nothing"}
        for n in range(60)
    }
    queries = ["never arrived", "says delivered", "lost package", "estimated delivery", "package never arrived"]
    answers = assert_same(tmp_path, node_engine, thesaurus, write_collection(tmp_path, procedures), queries)
    # The collection has neither `never` nor `arrived`: only the rule's expansions find documents,
    # `lost package`, `missing` and `not delivered`.
    expected = {n for n, words in has.items() if {"lost", "package"} <= words or "missing" in words or {"not", "delivered"} <= words}
    assert {r["path"] for r in answers[0]["results"]} == {f"orders/p{n:02d}.md" for n in expected}
    assert any(words & {"not", "delivered"} and n not in expected for n, words in has.items())  # some have only one of them


def test_a_collection_without_readable_procedures_is_exported_and_answers_nothing(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus
) -> None:
    """The export of an empty index used to fail on Whoosh's empty reader."""
    procedures = write_collection(tmp_path, {})
    answers = assert_same(tmp_path, node_engine, thesaurus, procedures, ["refund", "Complaint", "refnd", ""])
    assert all(not a["results"] for a in answers)


# ---- the differential test -------------------------------------------------------------------

# Collections (KB_PARITY_EXAMPLES=400 for a longer run); each gets QUERIES_PER_COLLECTION queries.
DEFAULT_EXAMPLES = 60
EXAMPLES = int(os.environ.get("KB_PARITY_EXAMPLES", str(DEFAULT_EXAMPLES)))
QUERIES_PER_COLLECTION = 40
MINIMUM_CASES = 2000

COLLECTION_WORDS = """
refund delivery delivered deliveries shipment parcel package password reset account locked charge charged
duplicate invoice warranty return exchange damaged item order cancel address customer timecard payroll
overtime badge parking recruit enter leave benefits enrollment headset outage promo code backorder
""".split()
ENGLISH_WORDS = """
still left kitchen blue running quickly house morning table broken happy water found never back down
out up off not late early fridge erase talk red green yesterday
""".split()
NAMES = ["Visa", "PayPal", "UPS", "Amex", "FedEx", "Muñoz", "O'Brien", "Zürich", "McDonald"]
UNICODE = ["café", "straße", "naïve", "日本語", "ﬁle", "e\u0301clair", "İstanbul", "Ωmega", "🙂", "Æther", "\u200bzero"]
PUNCTUATION = [":", "::", "'", "-", "1,000", "“quoted”", "(x)", "a/b", "AND", "OR", "NOT", "*", "…", "#1", "$5", "it's", "customer's"]
CATEGORIES = ["Complaint", "Billing", "HR", "IT", "Orders", "Café Ops"]


def _synonym_words() -> tuple[list[str], list[str]]:
    """Words and phrases of the built-in synonym list: (those whose rule has expansions, those whose
    rule has none, such as `enrol` in `enrol, enroll`), a fixed sample of each."""
    rules = load_thesaurus().rules
    members = set()
    for raw in BUILTIN_SYNONYMS.read_text(encoding="utf-8").splitlines():
        members.update(m.strip() for m in raw.split("#", 1)[0].replace("=>", ",").split(",") if m.strip())
    keyed = {member: rules.get(tuple(base_form(w) for w in words(member))) for member in sorted(members)}
    with_expansions = [member for member, found in keyed.items() if found]
    without = [member for member, found in keyed.items() if found == []]
    chooser = random.Random(7)
    return chooser.sample(with_expansions, 60), chooser.sample(without, min(30, len(without)))


def _related_entries() -> list[tuple[str, list[str]]]:
    """(word, the words WordNet relates to it) for a fixed sample of search/data/related.txt."""
    lines = RELATED_WORDS.read_text(encoding="utf-8").splitlines()
    heads = [line.split("\t", 1)[0] for line in lines if line and not line.startswith("#")]
    chooser = random.Random(11)
    entries = [(head, list(related_words().related(head))[:4]) for head in chooser.sample(heads, 200)]
    return [(head, found) for head, found in entries if found and head.isalpha()][:60]


SYNONYM_WORDS, NO_EXPANSION_WORDS = _synonym_words()
RELATED = _related_entries()
RELATED_HEADS = [head for head, _ in RELATED]
RELATED_TARGETS = sorted({word for _, found in RELATED for word in found})
# What the sampled synonym words expand to, so a collection sometimes has their expansions.
SYNONYM_TARGETS = sorted({e.text for w in SYNONYM_WORDS for e in load_thesaurus().rules[tuple(base_form(x) for x in words(w))]})

vocabulary_word = st.one_of(
    st.sampled_from(COLLECTION_WORDS),
    st.sampled_from(COLLECTION_WORDS),
    st.sampled_from(ENGLISH_WORDS),
    st.sampled_from(SYNONYM_WORDS),
    st.sampled_from(NO_EXPANSION_WORDS),
    st.sampled_from(SYNONYM_TARGETS),
    st.sampled_from(RELATED_TARGETS),
    st.sampled_from(RELATED_TARGETS),
    st.sampled_from(NAMES),
    st.sampled_from(UNICODE),
    st.sampled_from(PUNCTUATION),
)


def text(min_words: int, max_words: int) -> st.SearchStrategy[str]:
    return st.lists(vocabulary_word, min_size=min_words, max_size=max_words).map(" ".join)


tag = st.builds(lambda category, subject: f"{category}: {subject}" if subject else category, st.sampled_from(CATEGORIES), text(0, 2))


def body_text(steps: str, alternates: list[tuple[str, str]]) -> str:
    """A procedure body: one step, then the alternate methods (title, text), if any."""
    methods = "".join(f"\n### {title}\n{method}\n" for title, method in alternates)
    return f"## Steps\n\n1. {steps}\n" + (f"\n## Alternate methods\n{methods}" if alternates else "")


procedure = st.fixed_dictionaries(
    {
        "title": text(1, 5),
        "tags": st.lists(tag, min_size=1, max_size=2, unique_by=str.casefold),
        "keywords": st.lists(text(1, 3), max_size=3),
        "summary": text(0, 8),
        "body": st.builds(body_text, text(0, 20), st.lists(st.tuples(text(1, 3), text(1, 10)), max_size=2)),
        # Drafts and archived procedures are in neither engine's results.
        "status": st.sampled_from(["published", "published", "published", "published", "draft", "archived"]),
    }
)


def typo(word: str, kind: int, at: int, letter: str) -> str:
    """`word` with one edit: a letter dropped, doubled, swapped with the next or replaced."""
    if len(word) < 2:
        return word + letter
    at %= len(word) - 1
    return [
        word[:at] + word[at + 1 :],
        word[: at + 1] + word[at:],
        word[:at] + word[at + 1] + word[at] + word[at + 2 :],
        word[:at] + letter + word[at + 1 :],
    ][kind % 4]


@st.composite
def query_part(draw: st.DrawFn, collection: list[str], tags: list[str]) -> str:
    kind = draw(st.integers(0, 13))
    if kind <= 2 or kind == 13:  # a collection word, as typed or mistyped or half typed
        word = draw(st.sampled_from(collection))
        if kind == 1:
            word = typo(word, draw(st.integers(0, 3)), draw(st.integers(0, 30)), draw(st.sampled_from("aeioustrn")))
            if draw(st.booleans()):
                word = typo(word, draw(st.integers(0, 3)), draw(st.integers(0, 30)), draw(st.sampled_from("aeioustrn")))
        elif kind == 2:
            word = word[: draw(st.integers(2, max(2, len(word) - 1)))]
        return word
    if kind == 3:
        return draw(st.sampled_from(ENGLISH_WORDS))
    if kind == 4:
        return draw(st.sampled_from(SYNONYM_WORDS))
    if kind == 5:
        return draw(st.sampled_from(NO_EXPANSION_WORDS))
    if kind == 6:
        return draw(st.sampled_from(RELATED_HEADS))
    if kind == 7:
        return draw(st.sampled_from(NAMES))
    if kind == 8:
        return draw(st.sampled_from(UNICODE))
    if kind == 9:
        return draw(st.sampled_from(PUNCTUATION))
    if kind == 10:  # a tag, or its subject alone, in any case and spacing
        label = draw(st.sampled_from(tags))
        category, colon, subject = label.partition(":")
        spaced = f"{category}{draw(st.sampled_from(['', ' ']))}{colon}{draw(st.sampled_from(['', ' ', '  ']))}{subject.strip()}"
        named = draw(st.sampled_from([spaced, subject.strip() or spaced]))
        return draw(st.sampled_from([named, named.lower(), named.upper()]))
    if kind == 11:  # a bare category
        return draw(st.sampled_from(tags)).partition(":")[0] + draw(st.sampled_from(["", ":", " :"]))
    return draw(st.sampled_from(COLLECTION_WORDS))  # a word the collection may lack


@st.composite
def collection_and_queries(draw: st.DrawFn) -> tuple[list[dict], list[str]]:
    procedures = draw(st.lists(procedure, min_size=1, max_size=6))
    texts = [p["title"] + " " + p["summary"] + " " + " ".join(p["keywords"]) + " " + p["body"] for p in procedures]
    collection = sorted({w for t in texts for w in t.split() if w.isalpha()}) or ["refund"]
    tags = sorted({t for p in procedures for t in p["tags"]})
    queries = []
    for _ in range(QUERIES_PER_COLLECTION):
        parts = draw(st.lists(query_part(collection, tags), min_size=1, max_size=4))
        shape = draw(st.integers(0, 5))
        query = " ".join(parts)
        if shape == 0:
            query = query.capitalize()
        elif shape == 1:  # names are capitalised words after the first in a lower-case query
            query = " ".join(p if i == 0 else p[:1].upper() + p[1:] for i, p in enumerate(parts))
        elif shape == 2:
            query = query.upper()
        queries.append(query)
    return procedures, queries


def test_engines_rank_generated_collections_identically(node_engine: BrowserEngine, thesaurus: Thesaurus) -> None:
    compared: list[int] = []
    carried: list[int] = []  # per collection, the answers with a result the meaning signal carried
    started = time.perf_counter()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("KB_PARITY_SHRINK") else []),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(collection_and_queries())
    def check(case: tuple[list[dict], list[str]]) -> None:
        procedures, queries = case
        with tempfile.TemporaryDirectory(prefix="kb-parity-") as folder:
            root = Path(folder)
            files = {f"{p['tags'][0].partition(':')[0].strip().lower().replace(' ', '-')}/p{n}.md": p for n, p in enumerate(procedures)}
            answers = assert_same(root, node_engine, thesaurus, write_collection(root, files), queries)
        compared.append(len(queries))
        carried.append(sum(any(m.startswith("meaning: ") for r in a["results"] for m in r["matched"]) for a in answers))

    check()
    cases = sum(compared)
    seconds = time.perf_counter() - started
    print(f"\n{cases} generated queries over {len(compared)} collections ranked identically in {seconds:.1f} s")
    print(f"{sum(carried)} of them had a result the meaning signal carried")
    assert cases >= MINIMUM_CASES * min(1.0, EXAMPLES / DEFAULT_EXAMPLES)
    assert sum(carried) >= cases // 20  # the meaning signal is exercised, not only lexical ranking
