"""The meaning signal: how close a query's words are in meaning to a procedure, in integers.

A static table of English word vectors (search/data/word-vectors.npz, distilled from the
sentence-embedding model all-MiniLM-L6-v2 by search/data/build_word_vectors.py) gives each word a
direction. A procedure's *meaning vector* is the unit sum of the unit vectors of its parts (title,
tags, keywords, summary, body, each alternate method), each part the sum of its words' vectors
weighted by how rare the word is in everyday English (SIF: a / (a + p(word))), scaled to integers
(RANKING.meaning_scale). A query's vector is the same weighted sum over its words.

A procedure's *closeness* to a query is the weighted mean of the cosines of the query's words
with the procedure's vector, which decomposes over the words: each word's *meaning postings* are
its dot products with the procedures' vectors, kept for the procedures at or above
RANKING.meaning_word_floor in cosine, at most RANKING.meaning_postings of them. The closeness is
the sum of a procedure's postings, times each word's weight, divided by the sum over the query's
words of weight times vector length (and by meaning_scale). The sums are of integers and the
lengths square roots of integers, so `kb search` and the browser, which reads the same weights,
squared lengths and postings from the exported search data, compute the same number. (It is the
cosine with the query's weighted sum of word vectors up to a factor that depends on the query
alone, so it orders procedures as that cosine does; unlike the cosine, it needs no word vector in
the browser.)

When the table cannot be read (numpy missing, a file removed by a packager), `table_problem()`
says why; procedures then have no meaning vector and search is lexical only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import words
from .ranking import RANKING

if TYPE_CHECKING:
    import numpy as np

TABLE_PATH = Path(__file__).parent / "data" / "word-vectors.npz"


class WordVectors:
    """The word-vector table: each word's int8 vector and its integer weight, a row per word."""

    def __init__(self, text: str, counts: Any, vectors: Any) -> None:
        """`text` holds the words, one a line, in the order of the rows of `counts` and `vectors`."""
        import numpy as np

        self.lines = f"\n{text}\n"  # each word between two newlines
        self.vectors = np.asarray(vectors)  # int8, widened only where products are taken
        rates = np.asarray(counts, dtype=np.float64) / float(np.sum(counts))
        smoothing = RANKING.meaning_smoothing
        # Integer weights, so that the browser needs no float arithmetic to combine postings.
        self.weights = np.floor(RANKING.meaning_weight_scale * smoothing / (smoothing + rates) + 0.5).astype(np.int64)

    @cached_property
    def words(self) -> list[str]:
        """The words, row by row."""
        return self.lines[1:-1].split("\n")

    @cached_property
    def rows(self) -> dict[str, int]:
        """Each word's row, for looking up the words of whole procedures (index, export). Built on
        first use: a search finds its few words with `row` instead."""
        return dict(zip(self.words, range(len(self.words)), strict=True))

    def squared_lengths(self, rows: Sequence[int]) -> np.ndarray:
        """The squared length of each of these rows' vectors (int64)."""
        import numpy as np

        found = self.vectors[list(rows)].astype(np.int64)
        return (found * found).sum(axis=-1)

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def row(self, word: str) -> int | None:
        """The word's row, or None when the table lacks it (or its weight is 0). Found in `lines`
        as the number of words before it, which for a query's few words is quicker than building
        `rows`."""
        at = self.lines.find(f"\n{word}\n") if word and "\n" not in word else -1
        return self._weighted(self.lines.count("\n", 0, at) if at >= 0 else None)

    def _weighted(self, row: int | None) -> int | None:
        return row if row is not None and self.weights[row] > 0 else None

    def text_vector(self, text: str) -> np.ndarray:
        """The weighted sum of the vectors of the text's words (int64)."""
        import numpy as np

        rows = [row for row in map(self._weighted, map(self.rows.get, words(text))) if row is not None]
        if not rows:
            return np.zeros(self.dimensions, dtype=np.int64)
        return self.weights[rows] @ self.vectors[rows]


@lru_cache(maxsize=1)
def _load_table() -> tuple[WordVectors | None, str | None]:
    try:
        import numpy as np
    except ImportError:
        return None, "numpy is not installed"
    import zipfile

    if TABLE_PATH.is_file() and not zipfile.is_zipfile(TABLE_PATH):
        return None, f"{TABLE_PATH} is not a word-vector table (an .npz file)"
    try:
        with np.load(TABLE_PATH) as data:
            return WordVectors(data["words"].tobytes().decode("utf-8"), data["counts"], data["vectors"]), None
    except (OSError, KeyError, ValueError, UnicodeDecodeError) as exc:
        return None, f"cannot read the word-vector table {TABLE_PATH}: {exc}"


def word_vectors() -> WordVectors | None:
    """The table, or None when it cannot be read (see `table_problem`)."""
    return _load_table()[0]


def table_problem(load: bool = True) -> str | None:
    """Why meaning-based ranking is off, or None when it is on. With `load=False`, only what can
    be told without loading the table (and numpy): whether numpy is installed and the file there,
    so that a search that needs no meaning does not pay for loading them."""
    if load or _load_table.cache_info().currsize:
        return _load_table()[1]
    import importlib.util

    if importlib.util.find_spec("numpy") is None:
        return "numpy is not installed"
    return None if TABLE_PATH.is_file() else f"the word-vector table {TABLE_PATH} is missing"


def procedure_vector(parts: Iterable[str]) -> list[int] | None:
    """The meaning vector of a procedure made of these texts, as integers (unit length times
    RANKING.meaning_scale); None without a table or without a word the table knows."""
    import numpy as np

    table = word_vectors()
    if table is None:
        return None
    total = np.zeros(table.dimensions, dtype=np.float64)
    for text in parts:
        vector = table.text_vector(text).astype(np.float64)
        length = float(np.linalg.norm(vector))
        if length:
            total += vector / length
    length = float(np.linalg.norm(total))
    if not length:
        return None
    return [int(value) for value in np.rint(total / length * RANKING.meaning_scale)]


class ProcedureVectors:
    """The meaning vectors of an index's procedures, one row per procedure, in path order.

    Keyed by path, not by the index's document numbers, so that an update replaces the rows of
    the files it changed without reading the other documents back."""

    def __init__(self, paths: Sequence[str], vectors: Any, dimensions: int) -> None:
        import numpy as np

        self.paths = list(paths)
        self.matrix = np.asarray(vectors, dtype=np.int64).reshape(len(self.paths), dimensions)

    @classmethod
    def of_documents(cls, documents: Iterable[tuple[int, dict[str, Any]]]) -> ProcedureVectors | None:
        """From (docnum, stored fields) pairs; None without a table."""
        return cls.of_paths({stored["path"]: stored.get("meaning") for _, stored in documents})

    @classmethod
    def of_paths(cls, vectors: Mapping[str, list[int] | None]) -> ProcedureVectors | None:
        """From path -> meaning vector (None for a procedure without one); None without a table."""
        table = word_vectors()
        if table is None:
            return None
        found = sorted((path, vector) for path, vector in vectors.items() if vector and len(vector) == table.dimensions)
        return cls([path for path, _ in found], [vector for _, vector in found], table.dimensions)

    def updated(self, removed: Iterable[str], added: Mapping[str, list[int] | None]) -> ProcedureVectors | None:
        """These vectors without the procedures `removed`, with those `added` (path -> vector)."""
        gone = set(removed) | set(added)
        kept = {path: row.tolist() for path, row in zip(self.paths, self.matrix, strict=True) if path not in gone}
        return ProcedureVectors.of_paths({**kept, **added})

    def postings_of_rows(self, rows: Sequence[int], chunk: int = 512) -> Iterator[tuple[int, list[tuple[int, int]]]]:
        """(row, its meaning postings) for each of the table's word `rows`, in order, computed a
        chunk of words at a time. A word's meaning postings are (position in `paths`, dot product)
        for the procedures whose cosine with the word is at least RANKING.meaning_word_floor, the
        RANKING.meaning_postings largest products (equal ones: the first path first), in path order."""
        import numpy as np

        table = word_vectors()
        if table is None or not self.paths:
            yield from ((row, []) for row in rows)
            return
        # Integers multiply fastest as floats. Every partial sum of a product is at most |word
        # vector| * |procedure vector| in size (Cauchy-Schwarz): about 200 * 1,000, far below 2**24,
        # so float32 holds each exactly.
        matrix = self.matrix.astype(np.float32).T
        for start in range(0, len(rows), chunk):
            block = list(rows[start : start + chunk])
            products = (table.vectors[block].astype(np.float32) @ matrix).astype(np.float64)
            floors = RANKING.meaning_word_floor * np.sqrt(table.squared_lengths(block)) * RANKING.meaning_scale
            for row, found, floor in zip(block, products, floors, strict=True):
                keep = np.nonzero(found >= floor)[0]  # ascending positions
                if len(keep) > RANKING.meaning_postings:
                    keep = np.sort(keep[np.argsort(-found[keep], kind="stable")[: RANKING.meaning_postings]])
                yield row, [(int(i), int(found[i])) for i in keep]


def save_vectors(path: Path, commit: str, vectors: ProcedureVectors) -> None:
    """Writes the vectors beside the index, naming the commit they describe."""
    import io

    import numpy as np

    from .index_state import atomic_write_bytes

    buffer = io.BytesIO()
    paths = np.frombuffer("\n".join(vectors.paths).encode("utf-8"), dtype=np.uint8)
    np.savez(buffer, commit=np.array(commit), paths=paths, matrix=vectors.matrix.astype(np.int16))
    atomic_write_bytes(path, buffer.getvalue())


def load_vectors(path: Path, commit: str) -> ProcedureVectors | None:
    """The vectors saved for this commit, or None when the file is missing, unreadable or
    describes another commit (or there is no table)."""
    table = word_vectors()
    if table is None:
        return None
    import numpy as np

    try:
        with np.load(path) as data:
            if str(data["commit"]) != commit or data["matrix"].shape[1:] != (table.dimensions,):
                return None
            text = data["paths"].tobytes().decode("utf-8")
            return ProcedureVectors(text.split("\n") if text else [], data["matrix"], table.dimensions)
    except (OSError, KeyError, ValueError, UnicodeDecodeError):
        return None


@dataclass
class MeaningQuery:
    """The words of a query the table knows: what they were typed as, their rows and weights,
    and the sum of weight times vector length over them (the closeness's denominator)."""

    typed: list[str]
    rows: list[int]
    weights: list[int]
    length: float


def meaning_query(query_words: Sequence[str], corrections: dict[str, str]) -> MeaningQuery | None:
    """The query's meaning: each word the table knows (or its typo correction), in order; None
    when no word is known or there is no table."""
    table = word_vectors()
    if table is None:
        return None
    typed, rows = [], []
    for word in query_words:
        row = table.row(word)
        if row is None and word in corrections:
            row = table.row(corrections[word])
        if row is not None:
            typed.append(word)
            rows.append(row)
    if not rows:
        return None
    weights = [int(table.weights[row]) for row in rows]
    # The weighted sum of the words' lengths: meaning is the weighted mean of the words' cosines.
    length = sum(weight * math.sqrt(int(squared)) for weight, squared in zip(weights, table.squared_lengths(rows), strict=True))
    return MeaningQuery(typed, rows, weights, length) if length else None


@dataclass
class Meaning:
    """A procedure's meaning for a query: its closeness, and each query word's share of it."""

    closeness: float
    shares: list[int]  # per MeaningQuery word: weight * dot product (0 when not in its postings)

    def words(self, query: MeaningQuery) -> list[str]:
        """The query words that brought the procedure closest, in query order: what a
        "meaning: ..." line names.

        At most RANKING.meaning_words_shown words, each at most once, and only those whose share
        is at least 1/RANKING.meaning_word_share of the largest: a common word that added little
        ("is", "my") is not named just because the query had few words.
        """
        best = sorted(range(len(self.shares)), key=lambda position: (-self.shares[position], position))
        largest = self.shares[best[0]] if best else 0
        named: dict[str, int] = {}
        for position in best:
            share = self.shares[position]
            if len(named) == RANKING.meaning_words_shown or share <= 0 or share * RANKING.meaning_word_share < largest:
                break
            named.setdefault(query.typed[position], position)
        return sorted(named, key=named.__getitem__)


def meanings(query: MeaningQuery, postings_of: Any) -> dict[int, Meaning]:
    """Each procedure in some word's postings -> its Meaning. `postings_of(row)` gives the
    postings of a table row (ProcedureVectors.postings, or the browser's files)."""
    shares: dict[int, list[int]] = {}
    for position, (row, weight) in enumerate(zip(query.rows, query.weights, strict=True)):
        for docnum, product in postings_of(row):
            shares.setdefault(docnum, [0] * len(query.rows))[position] += weight * product
    scale = query.length * RANKING.meaning_scale
    return {docnum: Meaning(sum(parts) / scale, parts) for docnum, parts in shares.items()}


def fused(lexical: float, meaning: float, strongest: float, uncovered: float) -> float:
    """A procedure's score from its lexical (BM25F) score and its meaning closeness, given the
    query's strongest lexical score and the share of its concepts no procedure contains.

    Meaning counts only above RANKING.meaning_threshold, in proportion to the strongest lexical
    score (so the two stay comparable whatever the query) and to the share of the query the
    procedures' own words do not cover: a query whose every word is found keeps its lexical
    ranking. A procedure with no lexical score is admitted on meaning alone only above
    RANKING.meaning_admission. The browser computes the same expression, in the same order.
    """
    if meaning <= RANKING.meaning_threshold or uncovered <= 0:
        return lexical
    if lexical <= 0 and meaning <= RANKING.meaning_admission:
        return lexical
    return lexical + RANKING.meaning_weight * max(strongest, 1.0) * (meaning - RANKING.meaning_threshold) * uncovered
