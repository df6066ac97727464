"""The meaning part of the browser search data (search/meaning.py): `meaning/NNNN.json`.

The browser computes a procedure's meaning for a query as `kb search` does (search/meaning.py's
`meaning_query`, `meanings` and `fused`), from what these files hold about each query word.
Every word of the word-vector table with a weight above 0 is in shard `fnv1a32(word) %
shards` as

    word: [weight, squared length, postings]

`weight` is the word's integer weight; `squared length` the squared length of its vector (an
integer: the browser takes its square root for the closeness's denominator); `postings` its
meaning postings (ProcedureVectors.postings_of_rows) as [docid delta, dot product, ...] in the export's
dense docids. Every word is there, those without postings too, since they count in a query's
denominator.
`shards` is a power of two giving about WORDS_PER_SHARD words a shard; the manifest's
`meaning` says {"shards": shards}, or is null when the table
cannot be read (no meaning files then, and the browser ranks lexically, as `kb search` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from .meaning import ProcedureVectors, WordVectors, word_vectors
from .shards import delta_encoded, fnv1a32

WORDS_PER_SHARD = 16


def meaning_shard_count(words: int) -> int:
    """The smallest power of two giving at most WORDS_PER_SHARD words a shard."""
    count = 1
    while count * WORDS_PER_SHARD < words:
        count *= 2
    return count


@lru_cache(maxsize=1)
def _table_entries(table: WordVectors) -> tuple[tuple[str, int, int, int, int], ...]:
    """(word, row, weight, squared length, shard hash) of each word of weight above 0, by row:
    what every export writes of the table, whatever the collection."""
    rows = [row for row in range(len(table.words)) if table.weights[row] > 0]
    squared = table.squared_lengths(rows)
    return tuple(
        (table.words[row], row, int(table.weights[row]), int(length), fnv1a32(table.words[row]))
        for row, length in zip(rows, squared, strict=True)
    )


def write_meaning(write: Callable[[str, Any], None], vectors: ProcedureVectors | None, docid: Mapping[str, int]) -> dict[str, int] | None:
    """Writes the meaning shards with `write(relative path, data)`; `vectors` are the
    procedures' meaning vectors, `docid` maps their paths to the export's docids. Returns the
    manifest's `meaning`, or None (and writes nothing) when the word-vector table or the vectors
    are unavailable."""
    table = word_vectors()
    if table is None or vectors is None:
        return None
    entries = _table_entries(table)
    count = meaning_shard_count(len(entries))
    shards: list[dict[str, list[Any]]] = [{} for _ in range(count)]
    postings = vectors.postings_of_rows([row for _, row, _, _, _ in entries])
    for (word, _, weight, squared, hashed), (_, found) in zip(entries, postings, strict=True):
        flat = delta_encoded(sorted((docid[vectors.paths[position]], product) for position, product in found))
        shards[hashed % count][word] = [weight, squared, flat]
    for number, shard in enumerate(shards):
        write(f"meaning/{number:04d}.json", shard)
    return {"shards": count}
