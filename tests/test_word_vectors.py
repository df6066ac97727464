"""The committed word-vector table (search/data/word-vectors.npz, built by search/data/build_word_vectors.py)."""

import re
from pathlib import Path

import numpy as np
import pytest

import search

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
