"""How the browser search data is sharded and encoded: the shard hash and the delta-encoded
posting lists, shared by search/export.py and search/export_meaning.py (and repeated in
kb-engine.js, which reads them)."""

from __future__ import annotations


def fnv1a32(text: str) -> int:
    """The shard hash, implemented identically in kb-engine.js."""
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def delta_encoded(pairs: list[tuple[int, int]]) -> list[int]:
    """(docid, value) pairs in docid order as one flat list [docid - previous docid, value, ...]."""
    flat: list[int] = []
    previous = 0
    for doc, value in pairs:
        flat += [doc - previous, value]
        previous = doc
    return flat
