"""The meaning signal (search/meaning.py): vectors, postings, the query's closeness, the fusion, and
what `kb search` does with it and without the word-vector table."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os

import numpy as np
import pytest

from search import meaning
from search.cli import main as kb_main
from search.index import SearchIndex
from search.meaning import (
    Meaning,
    ProcedureVectors,
    fused,
    load_vectors,
    meaning_query,
    meanings,
    procedure_vector,
    save_vectors,
    word_vectors,
)
from search.ranking import RANKING

from .conftest import procedure_text

PROCEDURES = {
    "shipping/lost-parcel.md": procedure_text(
        "Lost parcel",
        ["Delivery: Lost Parcel"],
        body="## Steps\n\n1. Open the carrier trace.\n2. Reship the package or refund it.\n",
        summary="The package never arrived.",
    ),
    "billing/payment-plan.md": procedure_text(
        "Payment plan",
        ["Billing: Installments"],
        body="## Steps\n\n1. Split the balance into monthly installments.\n",
        summary="The customer wants to pay the balance over several months.",
    ),
    "it/password-reset.md": procedure_text(
        "Password reset",
        ["IT: Password"],
        body="## Steps\n\n1. Reset the password in the identity portal.\n",
        summary="An employee cannot sign in.",
    ),
}


def write_procedures(root, procedures=PROCEDURES) -> None:
    for rel, text in procedures.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def unit_cosine(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_the_table_knows_everyday_words_and_gives_rarer_words_more_weight() -> None:
    table = word_vectors()
    assert table is not None
    assert table.row("parcel") is not None and table.row("zzzqx") is None
    assert table.weights[table.row("parcel")] > table.weights[table.row("the")]


def test_a_word_is_found_in_the_tables_text_without_building_its_word_index() -> None:
    # "the" has most of the counts, so its weight is 0 and it counts as unknown.
    table = meaning.WordVectors("the\nparcel\nrefund\nparcels", [100_000, 3, 2, 1], np.ones((4, 2), dtype=np.int8))
    probes = ["the", "parcel", "refund", "parcels", "parce", "arcel", "", "parcel\nrefund", "zzzqx"]
    assert [table.row(word) for word in probes] == [None, 1, 2, 3, None, None, None, None, None]
    assert "rows" not in vars(table)  # looked up without the dict of every word
    assert table.rows == {"the": 0, "parcel": 1, "refund": 2, "parcels": 3} and table.words == list(table.rows)
    shipped = word_vectors()
    for word in [*shipped.words[::97], shipped.words[-1]]:
        row = shipped.rows[word]
        assert shipped.row(word) == (row if shipped.weights[row] > 0 else None)


def test_a_procedure_vector_is_a_unit_vector_in_integers() -> None:
    vector = procedure_vector(["Lost parcel", "The package never arrived."])
    assert vector is not None and all(isinstance(value, int) for value in vector)
    assert math.isclose(math.hypot(*vector), RANKING.meaning_scale, rel_tol=0.01)
    assert procedure_vector(["zzzqx qqxxz"]) is None


def test_texts_about_the_same_thing_are_closer_than_unrelated_ones() -> None:
    parcel = procedure_vector(["my package never came"])
    same, other = procedure_vector(["the parcel did not arrive"]), procedure_vector(["reset a password"])
    assert unit_cosine(parcel, same) > unit_cosine(parcel, other)


def test_postings_keep_the_closest_procedures_above_the_floor_in_path_order(monkeypatch: pytest.MonkeyPatch) -> None:
    table = word_vectors()
    texts = ["lost parcel", "package delivery", "password reset", "monthly installments", "carrier trace", "refund"]
    vectors = ProcedureVectors.of_paths({f"p{i}.md": procedure_vector([t]) for i, t in enumerate(texts)})
    assert vectors.paths == [f"p{i}.md" for i in range(len(texts))]
    row = table.row("parcel")
    products = [int(np.dot(table.vectors[row], v)) for v in vectors.matrix]
    floor = RANKING.meaning_word_floor * math.sqrt(int(table.squared_lengths([row])[0])) * RANKING.meaning_scale
    expected = [(i, p) for i, p in enumerate(products) if p >= floor]
    assert dict(vectors.postings_of_rows([row]))[row] == expected and expected
    monkeypatch.setattr(meaning, "RANKING", dataclasses.replace(RANKING, meaning_postings=2))
    top_two = sorted(sorted(expected, key=lambda pair: (-pair[1], pair[0]))[:2])
    assert dict(vectors.postings_of_rows([row]))[row] == top_two
    assert dict(vectors.postings_of_rows([row, table.row("password")]))[row] == top_two


def test_closeness_is_the_weighted_mean_of_the_words_cosines_with_the_procedure() -> None:
    table = word_vectors()
    docs = [procedure_vector(["lost parcel never arrived"]), procedure_vector(["reset the password"])]
    vectors = ProcedureVectors(["a.md", "b.md"], docs, table.dimensions)
    query = meaning_query(["my", "parcel", "never", "came"], {})
    assert query is not None and query.typed == ["my", "parcel", "never", "came"]
    found = meanings(query, dict(vectors.postings_of_rows(query.rows)).__getitem__)
    assert found[0].closeness > found.get(1, Meaning(-1.0, [])).closeness
    weights = [int(table.weights[r]) for r in query.rows]
    for docnum, doc in enumerate(docs):
        # Each word counts its cosine with the procedure where it is at the floor or closer.
        cosines = [unit_cosine(table.vectors[r], doc) for r in query.rows]
        kept = [c if c >= RANKING.meaning_word_floor else 0.0 for c in cosines]
        lengths = [np.linalg.norm(table.vectors[r].astype(float)) for r in query.rows]
        mean = sum(w * n * c for w, n, c in zip(weights, lengths, kept, strict=True)) / sum(
            w * n for w, n in zip(weights, lengths, strict=True)
        )
        closeness = found[docnum].closeness if docnum in found else 0.0
        assert math.isclose(closeness, mean * np.linalg.norm(doc) / RANKING.meaning_scale, rel_tol=1e-9, abs_tol=1e-12)


def test_a_word_the_table_lacks_counts_by_its_typo_correction() -> None:
    assert meaning_query(["parcl"], {}) is None
    corrected = meaning_query(["parcl"], {"parcl": "parcel"})
    assert corrected is not None and corrected.typed == ["parcl"] and corrected.rows == [word_vectors().row("parcel")]


def test_meaning_words_name_the_closest_query_words_in_query_order() -> None:
    query = meaning_query(["customer", "parcel", "never", "came", "today"], {})
    found = Meaning(0.5, [5, 0, 30, 20, 10])
    assert found.words(query) == ["never", "came", "today"]


def test_meaning_words_leave_out_words_that_added_little_and_name_a_word_once() -> None:
    query = meaning_query(["is", "it", "safe", "to", "go", "oil", "and", "oil"], {})
    assert query is not None and query.typed == ["is", "it", "safe", "to", "go", "oil", "and", "oil"]
    # "safe" brought most; "go" a third of it or more; "is" and "it" less than that.
    assert Meaning(0.5, [5, 9, 90, 0, 30, 0, 0, 0]).words(query) == ["safe", "go"]
    # A word typed twice is named once, and does not take the place of another.
    assert Meaning(0.5, [0, 0, 40, 0, 35, 60, 0, 60]).words(query) == ["safe", "go", "oil"]
    assert Meaning(0.5, [0] * 8).words(query) == []


def test_fusion_leaves_a_fully_covered_query_and_weak_meanings_alone() -> None:
    assert fused(3.0, 0.9, 5.0, 0.0) == 3.0
    assert fused(3.0, RANKING.meaning_threshold, 5.0, 1.0) == 3.0
    assert fused(3.0, 0.6, 5.0, 0.5) > fused(3.0, 0.5, 5.0, 0.5) > 3.0
    assert fused(3.0, 0.6, 5.0, 1.0) > fused(3.0, 0.6, 5.0, 0.5)


def test_meaning_alone_admits_only_clearly_close_procedures() -> None:
    between = (RANKING.meaning_threshold + RANKING.meaning_admission) / 2
    assert fused(0.0, between, 5.0, 1.0) == 0.0  # not listed on a faint likeness alone
    assert fused(0.5, between, 5.0, 1.0) > 0.5  # one its words found is still raised
    assert fused(0.0, RANKING.meaning_admission + 0.01, 5.0, 1.0) > 0.0


def test_the_index_keeps_the_vectors_of_its_commit_and_rebuilds_stale_ones(tmp_path) -> None:
    root = tmp_path / "kb"
    write_procedures(root)
    index = SearchIndex(root, tmp_path / "index")
    index.refresh()
    first = index.procedure_vectors()
    assert first is not None and first.paths == sorted(PROCEDURES)
    save_vectors(index.vectors_path, "another-commit", first)  # as if a kill came after the next commit
    fresh = SearchIndex(root, tmp_path / "index")
    assert load_vectors(fresh.vectors_path, fresh._current_commit()) is None
    again = fresh.procedure_vectors()
    assert again.paths == first.paths and again.matrix.tolist() == first.matrix.tolist()


def test_an_update_replaces_only_the_changed_procedures_vectors_and_equals_a_rebuild(tmp_path, monkeypatch) -> None:
    root = tmp_path / "kb"
    write_procedures(root)
    index = SearchIndex(root, tmp_path / "index")
    index.refresh()
    (root / "it/password-reset.md").unlink()
    (root / "billing/payment-plan.md").write_text(procedure_text("Payment plan", ["Billing: Installments"], body="Pay monthly."))
    (root / "shipping/damaged.md").write_text(procedure_text("Damaged item", ["Delivery: Damaged"], body="The lamp is cracked."))
    read_back = []
    monkeypatch.setattr(ProcedureVectors, "of_documents", classmethod(lambda cls, docs: read_back.append(1)))
    index.refresh()
    assert not read_back  # the other documents were not read back
    updated = index.procedure_vectors()
    monkeypatch.undo()
    rebuilt = SearchIndex(root, tmp_path / "full")
    rebuilt.refresh(full=True)
    expected = ["billing/payment-plan.md", "shipping/damaged.md", "shipping/lost-parcel.md"]
    assert updated.paths == rebuilt.procedure_vectors().paths == expected
    assert updated.matrix.tolist() == rebuilt.procedure_vectors().matrix.tolist()


def knowledge_base(tmp_path) -> list[str]:
    """Writes the procedures under tmp_path; returns the options that point kb at them and at an
    index folder beside them (not built yet)."""
    root = tmp_path / "kb"
    write_procedures(root)
    return ["--procedures", str(root), "--index-dir", str(tmp_path / "index")]


def run(argv, capsys) -> tuple[int, str, str]:
    code = kb_main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_says_when_meaning_carried_a_result(tmp_path, capsys) -> None:
    base = knowledge_base(tmp_path)
    code, out, err = run([*base, "search", "--json", "she wants to settle it in chunks each month"], capsys)
    assert code == 0, err
    results = json.loads(out)["results"]
    assert results[0]["path"] == "billing/payment-plan.md"
    assert any(entry.startswith("meaning: ") for entry in results[0]["matched"])
    assert "meaning-based ranking is off" not in err


def indexed(tmp_path, capsys) -> list[str]:
    """Writes the procedures and builds their index; returns the options that point kb at them."""
    base = knowledge_base(tmp_path)
    assert run([*base, "index"], capsys)[0] == 0
    return base


def record_postings_passes(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """From now on, the rows of each ProcedureVectors.postings_of_rows call, a list per call."""
    passes: list[list[int]] = []
    postings_of_rows = ProcedureVectors.postings_of_rows

    def counted(self, rows, chunk=512):
        passes.append(list(rows))
        return postings_of_rows(self, rows, chunk)

    monkeypatch.setattr(ProcedureVectors, "postings_of_rows", counted)
    return passes


def test_a_search_takes_its_words_products_with_the_procedures_in_one_pass(tmp_path, capsys, monkeypatch) -> None:
    base = indexed(tmp_path, capsys)
    passes = record_postings_passes(monkeypatch)
    code, out, err = run([*base, "search", "--json", "she wants to settle it in chunks each month"], capsys)
    assert code == 0, err
    assert json.loads(out)["results"][0]["path"] == "billing/payment-plan.md"
    assert len(passes) == 1 and len(passes[0]) > 1


def test_a_word_typed_twice_has_its_products_taken_once(tmp_path, capsys, monkeypatch) -> None:
    base = indexed(tmp_path, capsys)
    once = json.loads(run([*base, "search", "--json", "she wants to settle it in chunks each month"], capsys)[1])["results"]
    passes = record_postings_passes(monkeypatch)
    code, out, err = run([*base, "search", "--json", "she wants to settle settle it in chunks each month"], capsys)
    assert code == 0, err
    twice = json.loads(out)["results"]
    assert len(passes) == 1 and len(passes[0]) == len(set(passes[0]))
    assert twice[0]["path"] == once[0]["path"] == "billing/payment-plan.md"


def test_a_search_asks_numpy_for_one_blas_thread_unless_the_user_chose(tmp_path, capsys, monkeypatch) -> None:
    base = knowledge_base(tmp_path)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "recorded")  # so that the test leaves the variable as it found it
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert run([*base, "search", "--json", "lost parcel"], capsys)[0] == 0
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert run([*base, "search", "--json", "lost parcel"], capsys)[0] == 0
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


def test_without_the_table_search_is_lexical_and_says_so_once(tmp_path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meaning, "TABLE_PATH", tmp_path / "missing.npz")
    meaning._load_table.cache_clear()
    try:
        base = knowledge_base(tmp_path)
        code, out, err = run([*base, "search", "--json", "lost parcel"], capsys)
        assert code == 0, err
        assert json.loads(out)["results"][0]["path"] == "shipping/lost-parcel.md"
        assert err.count("meaning-based ranking is off") == 1 and "missing.npz" in err
        code, out, _err = run([*base, "search", "--json", "she wants to settle it in chunks each month"], capsys)
        assert code == 0
        assert not any(e.startswith("meaning") for r in json.loads(out)["results"] for e in r["matched"])
    finally:
        meaning._load_table.cache_clear()


def test_an_unreadable_table_is_reported_once_when_a_query_first_needs_meaning(tmp_path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a table")
    monkeypatch.setattr(meaning, "TABLE_PATH", broken)
    meaning._load_table.cache_clear()
    try:
        base = knowledge_base(tmp_path)
        queries = b"lost parcel\nshe wants to settle it in chunks each month\nzebra giraffe\n"
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(queries)))
        code, out, err = run([*base, "search", "-"], capsys)
        assert code == 0, err
        assert [json.loads(line)["results"] != [] for line in out.splitlines()][:1] == [True]
        assert err.count("meaning-based ranking is off") == 1 and "broken.npz is not a word-vector table" in err
    finally:
        meaning._load_table.cache_clear()
