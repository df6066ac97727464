"""The meaning shards of the browser search data (search/export_meaning.py).

Each word of the word-vector table is in the shard its hash names, with the table's weight, its
vector's squared length (decoded alike by Python and kb-meaning.js) and exactly the meaning
postings `kb search` uses (ProcedureVectors.postings), in the export's docids. Without the table
the manifest says `"meaning": null`, no meaning file is left, and the browser answers as `kb
search` does then: lexically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import search.meaning
from search.analysis import load_thesaurus
from search.export import fnv1a32, write_search_data
from search.export_meaning import WORDS_PER_SHARD, meaning_shard_count
from search.index import SearchIndex
from search.storage import SEARCH_DATA_FOLDER

from .conftest import ROOT, SAMPLE_PROCEDURES
from .parity import NODE, BrowserEngine, differences, python_answers
from .test_browser_parity import node


@pytest.fixture(scope="module")
def sample_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchIndex, Path]:
    work = tmp_path_factory.mktemp("meaning-export")
    index = SearchIndex(SAMPLE_PROCEDURES, work / "idx")
    index.refresh()
    write_search_data(index, work / "data", contents=index.written)
    return index, work / "data"


def read(data: Path, name: str) -> Any:
    return json.loads((data / name).read_text(encoding="utf-8"))


def all_entries(data: Path) -> dict[int, dict[str, list]]:
    """Shard number -> its entries."""
    return {int(path.stem): read(data, f"meaning/{path.name}") for path in sorted((data / "meaning").glob("*.json"))}


def undelta(flat: list[int]) -> list[tuple[int, int]]:
    pairs, doc = [], 0
    for delta, value in zip(flat[::2], flat[1::2], strict=True):
        doc += delta
        pairs.append((doc, value))
    return pairs


def test_every_word_of_the_table_is_in_the_shard_its_hash_names(sample_export: tuple[SearchIndex, Path]) -> None:
    _, data = sample_export
    table = search.meaning.word_vectors()
    assert table is not None
    known = {word for word, row in table.rows.items() if table.weights[row] > 0}
    manifest = read(data, "manifest.json")
    shards = manifest["meaning"]["shards"]
    assert manifest["meaning"] == {"shards": shards}
    assert shards == meaning_shard_count(len(known)) and shards & (shards - 1) == 0
    assert WORDS_PER_SHARD / 2 < len(known) / shards <= WORDS_PER_SHARD
    entries = all_entries(data)
    assert sorted(entries) == list(range(shards))
    placed = [(number, word) for number, shard in entries.items() for word in shard]
    assert sorted(word for _, word in placed) == sorted(known)
    assert all(fnv1a32(word) % shards == number for number, word in placed)
    assert all(SEARCH_DATA_FOLDER.owns(f"meaning/{number:04d}.json") for number in entries)


def test_an_entry_holds_the_tables_weight_and_length_and_the_postings_kb_search_uses(sample_export: tuple[SearchIndex, Path]) -> None:
    index, data = sample_export
    table = search.meaning.word_vectors()
    vectors = index.procedure_vectors()
    assert table is not None and vectors is not None
    exported = [d["path"] for name in sorted((data / "docs").iterdir()) for d in read(data, f"docs/{name.name}")]
    docid = {path: position for position, path in enumerate(exported)}
    merged = {word: entry for shard in all_entries(data).values() for word, entry in shard.items()}
    sample = [word for word, row in table.rows.items() if row % 11 == 0] + ["refund", "parcel", "password", "broken", "laptop"]
    with_postings = 0
    for word in sample:
        row = table.rows[word]
        weight, squared, flat = merged[word]
        assert weight == int(table.weights[row])
        assert squared == int((table.vectors[row].astype(np.int64) ** 2).sum())
        postings = dict(vectors.postings_of_rows([row]))[row]
        assert undelta(flat) == [(docid[vectors.paths[position]], product) for position, product in postings]
        with_postings += bool(flat)
    assert with_postings > len(sample) // 10


@pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")
def test_the_browser_decodes_entries_as_python_reads_them(sample_export: tuple[SearchIndex, Path]) -> None:
    _, data = sample_export
    table = search.meaning.word_vectors()
    assert table is not None
    merged = {word: entry for shard in all_entries(data).values() for word, entry in shard.items()}
    words = ["refund", "laptop", "the", *[word for word, row in table.rows.items() if row % 997 == 0]]
    script = (
        "const {decodeEntry} = require(process.argv[1]); const entries = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const plain = (e) => ({weight: e.weight, squared: e.squared,"
        " docs: Array.from(e.docs), products: Array.from(e.products)});"
        "process.stdout.write(JSON.stringify(entries.map((e) => plain(decodeEntry(e)))) + '\\n');"
    )
    got = node(["-e", script, str(ROOT / "plugins" / "kb" / "assets" / "kb-meaning.js")], json.dumps([merged[w] for w in words]))[0]
    for word, decoded in zip(words, got, strict=True):
        weight, squared, flat = merged[word]
        assert decoded["weight"] == weight and decoded["squared"] == squared
        assert list(zip(decoded["docs"], decoded["products"], strict=True)) == undelta(flat)


def no_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the word-vector table unreadable, as a missing numpy or a removed file would."""
    monkeypatch.setattr(search.meaning, "_load_table", lambda: (None, "cannot read the word-vector table: removed"))


def test_without_the_table_the_export_has_no_meaning_and_removes_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "idx")
    index.refresh()
    write_search_data(index, tmp_path / "data")
    assert read(tmp_path / "data", "manifest.json")["meaning"] is not None and any((tmp_path / "data" / "meaning").iterdir())
    no_table(monkeypatch)
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "idx")
    write_search_data(index, tmp_path / "data")
    assert read(tmp_path / "data", "manifest.json")["meaning"] is None
    assert not list((tmp_path / "data" / "meaning").iterdir())
    assert (tmp_path / "data" / "terms").is_dir() and any((tmp_path / "data" / "terms").iterdir())


@pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")
def test_without_the_table_the_browser_answers_lexically_as_kb_search_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    queries = ["telly remote", "wifi dropping constantly", "jumper wrong colour", "refnd kitchen", "refund", "parcel never showed up"]
    with_table = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "with" / "idx")
    with_table.refresh()
    meaning_answers = python_answers(with_table, load_thesaurus(), queries, 20)
    no_table(monkeypatch)
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "without" / "idx")
    index.refresh()
    write_search_data(index, tmp_path / "without" / "data")
    assert read(tmp_path / "without" / "data", "manifest.json")["meaning"] is None
    expected = python_answers(index, load_thesaurus(), queries, 20)
    with BrowserEngine() as browser:
        got = browser.answers(tmp_path / "without" / "data", queries, 20)
    found = {q: d for q, a, b in zip(queries, expected, got, strict=True) if (d := differences(a, b))}
    assert not found, found
    assert not any(m.startswith("meaning: ") for answer in got for r in answer["results"] for m in r["matched"])
    # These queries are ones the meaning signal changes when the table is there.
    assert sum(differences(a, b) != [] for a, b in zip(meaning_answers, expected, strict=True)) >= 3
