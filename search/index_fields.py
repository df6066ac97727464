"""The Whoosh schema of the index: which fields a procedure's document has and how each is indexed.

- `path` (ID, stored, unique): the procedure file relative to the procedures folder.
- `text` (`ImpactField`): every analysed term of the procedure, with the term's BM25F impact
  (search/index_document.py) as its Whoosh posting weight. A query reads one posting list per
  term and applies only idf and saturation.
- `tagkey`, `category`, `subject` (KEYWORD): the procedure's tag keys, tag categories and tag
  subjects, for tag filters and for queries that name a tag, a category or a tag's subject.
- `meta` (STORED): what a result shows and what the index state is rebuilt from
  (search/index_state.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from whoosh.fields import ID, KEYWORD, STORED, FieldType, Schema
from whoosh.formats import Existence

from .ranking import RANKING

IMPACT_FIELD = "text"
# Decimal digits kept of an impact: when it is computed, and when it is read back from Whoosh,
# which stores posting weights as 32-bit floats. The browser export writes the same digits.
IMPACT_DIGITS = RANKING.impact_digits


class ImpactField(FieldType):
    """A field indexed from a ready term -> impact mapping, not from text: each term is one
    posting whose weight is the impact, already length-normalised. It is "scorable" only so that
    Whoosh keeps its lengths in a column: Whoosh's writer looks a field length up for every
    posting, and without that column every lookup asks the file system whether it exists."""

    def __init__(self) -> None:
        super().__init__(format=Existence(), analyzer=None, scorable=True)

    def index(self, value: Mapping[str, float], **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        """(term bytes, frequency, weight, encoded value) of every term, as Whoosh's writer takes them."""
        return ((term.encode("utf-8"), 1, impact, b"") for term, impact in value.items())


def index_schema() -> Schema:
    return Schema(
        path=ID(stored=True, unique=True),
        **{IMPACT_FIELD: ImpactField()},
        tagkey=KEYWORD(scorable=False),
        category=KEYWORD(scorable=False),
        subject=KEYWORD(scorable=False),
        meta=STORED(),
    )


def encode_key(key: str) -> str:
    """Tag keys contain spaces; KEYWORD fields split on them."""
    return key.replace(" ", "_")


def decode_key(value: str) -> str:
    """A tag key back from its KEYWORD field value. Not exact for a key with a `_` of its own
    (it comes back with a space); `documents_with` encodes the value again, so lookups still match."""
    return value.replace("_", " ")
