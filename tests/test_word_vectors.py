"""The committed word-vector table (search/data/word-vectors.npz) and the script stage that builds it
(search/data/build_word_vectors.py table)."""

import re
from pathlib import Path

import numpy as np
import pytest

import search
from search.data.build_word_vectors import MODEL_SHA256, ModelMismatch
from search.data.build_word_vectors import table as build_table

TABLE = Path(search.__file__).parent / "data" / "word-vectors.npz"


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with np.load(TABLE) as data:
        words = np.array(data["words"].tobytes().decode("utf-8").split("\n"))
        return words, data["counts"], data["vectors"]


def cosine(table: tuple[np.ndarray, np.ndarray, np.ndarray], a: str, b: str) -> float:
    words, _, vectors = table
    index = {w: i for i, w in enumerate(words.tolist())}
    va, vb = vectors[index[a]].astype(np.float64), vectors[index[b]].astype(np.float64)
    return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))


def test_table_holds_one_int8_row_per_word_in_frequency_order(table):
    words, counts, vectors = table
    assert words.dtype.kind == "U" and counts.dtype == np.uint32 and vectors.dtype == np.int8
    assert words.ndim == counts.ndim == 1 and vectors.ndim == 2
    assert len(words) == len(counts) == vectors.shape[0] >= 50_000
    assert 16 <= vectors.shape[1] <= 384
    assert len(set(words.tolist())) == len(words)
    assert all(re.fullmatch(r"[a-z]{2,24}", w) for w in words.tolist())
    assert np.all(np.diff(counts.astype(np.int64)) <= 0)
    assert np.abs(vectors.astype(np.int16)).max() == 127  # one scale for the whole table
    assert np.all(np.abs(vectors.astype(np.int16)).sum(axis=1) > 0)


def test_table_holds_everyday_service_words(table):
    words = set(table[0].tolist())
    assert {"refund", "parcel", "password", "the"} <= words


def test_related_words_are_closer_than_unrelated_ones(table):
    assert cosine(table, "refund", "reimbursement") > cosine(table, "refund", "giraffe")
    assert cosine(table, "car", "automobile") > cosine(table, "car", "password")


def test_the_table_stage_is_reproducible_and_keeps_its_promises(tmp_path: Path) -> None:
    """`build_word_vectors table` on a raw cache: the same cache and options give the same bytes;
    the words stay in frequency order; rows are unit length before one int8 scale."""
    rng = np.random.default_rng(7)
    words = np.array([f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(300)])
    raw = rng.normal(size=(300, 24)).astype(np.float32)
    cache = tmp_path / "raw.npz"
    np.savez(cache, words=words, counts=np.arange(300, 0, -1, dtype=np.int64), vectors=raw, model_sha256=np.array(MODEL_SHA256))
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    for out in (first, second):
        build_table(cache, out, dims=8, center=True, normalize=True, drop_top=1, size=200)
    assert first.read_bytes() == second.read_bytes()
    with np.load(first) as data:
        assert data["words"].tobytes().decode("utf-8").split("\n") == words[:200].tolist()
        assert data["counts"].tolist() == list(range(300, 100, -1))
        vectors = data["vectors"]
    assert vectors.dtype == np.int8 and vectors.shape == (200, 8) and np.abs(vectors).max() == 127
    lengths = np.linalg.norm(vectors.astype(np.float64), axis=1)
    assert lengths.max() - lengths.min() < 0.02 * lengths.max() + 1  # one scale for every unit row
    np.savez(cache, words=words, counts=np.arange(300, 0, -1), vectors=raw, model_sha256=np.array("0" * 64))
    with pytest.raises(ModelMismatch):
        build_table(cache, tmp_path / "c.npz", dims=8, center=True, normalize=True, drop_top=1, size=200)
