"""Reading the index: the impacts of a term, the stored fields of a document, tag lookups.

`IndexReader` answers from a Whoosh reader; `WrittenContents` answers the same questions, in the
same order and with the same numbers, from what a full refresh has just written, so that the
browser export of a fresh build need not read the index back. Both hold live documents only:
Whoosh's segment readers skip deleted documents in their posting lists.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.reading import IndexReader as WhooshReader

from .index_fields import IMPACT_DIGITS, IMPACT_FIELD, decode_key, encode_key


def live_impacts(reader: WhooshReader, term: str) -> dict[int, float]:
    """Document number -> impact of the term, for every live document containing it, rounded
    as the browser export writes impacts (so both fronts score alike)."""
    found: dict[int, float] = {}
    for leaf, offset in reader.leaf_readers():
        if (IMPACT_FIELD, term) not in leaf:
            continue
        postings = leaf.postings(IMPACT_FIELD, term)  # without the leaf's deleted documents
        is_active, docnum, weight, advance = postings.is_active, postings.id, postings.weight, postings.next
        while is_active():
            found[docnum() + offset] = round(weight(), IMPACT_DIGITS)
            advance()
    return found


class IndexReader:
    """Read access for one query batch: impacts, stored metadata, tag lookups."""

    def __init__(self, reader: WhooshReader) -> None:
        # A Whoosh reader, not a searcher: `whoosh.searching` imports the query parser and its
        # English morphology tables, which a search through impacts never uses.
        self._whoosh = reader
        self._impacts: dict[str, dict[int, float]] = {}  # read once per open reader

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._whoosh.close()

    @property
    def doc_count(self) -> int:
        return self._whoosh.doc_count()

    def has_term(self, term: str) -> bool:
        """Whether a live procedure has the term (Whoosh's lexicon also keeps terms of deleted
        documents until segments merge; the browser export does not)."""
        return bool(self.impacts(term))

    def impacts(self, term: str) -> dict[int, float]:
        """Document number -> impact of the term, for every live document containing it."""
        if term not in self._impacts:
            self._impacts[term] = live_impacts(self._whoosh, term)
        return self._impacts[term]

    def documents_with(self, fieldname: str, value: str) -> list[int]:
        """Document numbers whose keyword field `tagkey`, `category` or `subject` holds the value."""
        value = encode_key(value)
        if (fieldname, value) not in self._whoosh:
            return []
        return list(self._whoosh.postings(fieldname, value).all_ids())

    def all_impacts(self) -> Iterator[tuple[str, dict[int, float]]]:
        """Every term of the scored field with its impacts (live documents only), in term order."""
        for tbytes in self._whoosh.lexicon(IMPACT_FIELD):
            term = tbytes.decode("utf-8")
            found = live_impacts(self._whoosh, term)
            if found:
                yield term, found

    def documents(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(document number, stored fields) of every live document."""
        for docnum in self._whoosh.all_doc_ids():
            yield docnum, self.stored(docnum)

    def keyword_values(self, fieldname: str) -> Iterator[str]:
        """The decoded values of the `tagkey`, `category` or `subject` keyword field."""
        for value in self._whoosh.lexicon(fieldname):
            yield decode_key(value.decode("utf-8") if isinstance(value, bytes) else value)

    def docnum_of(self, path: str) -> int | None:
        """The document number of the live procedure at `path`, or None."""
        if ("path", path) not in self._whoosh:
            return None
        postings = self._whoosh.postings("path", path)  # without deleted documents
        return postings.id() if postings.is_active() else None

    def stored(self, docnum: int) -> dict[str, Any]:
        fields = self._whoosh.stored_fields(docnum)
        return {"path": fields["path"], **fields["meta"]}


class WrittenContents:
    """The documents a full refresh has just written, answering the browser export's questions
    as an IndexReader of that index would, from memory: in the same order, with the weights as
    Whoosh stores them (32-bit floats) and the keyword values as it decodes them."""

    def __init__(self, documents: Sequence[dict[str, Any]]) -> None:
        self._documents = documents  # in the order written: Whoosh's document numbers
        self._keyword_docs: dict[str, dict[str, list[int]]] = {}

    def documents(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for docnum, document in enumerate(self._documents):
            yield docnum, {"path": document["path"], **document["meta"]}

    def all_impacts(self) -> Iterator[tuple[str, dict[int, float]]]:
        by_term: dict[str, tuple[list[int], list[float]]] = {}
        for docnum, document in enumerate(self._documents):
            for term, impact in document[IMPACT_FIELD].items():
                docnums, weights = by_term.setdefault(term, ([], []))
                docnums.append(docnum)
                weights.append(impact)
        for term in sorted(by_term):
            docnums, weights = by_term[term]
            yield term, {docnum: round(weight, IMPACT_DIGITS) for docnum, weight in zip(docnums, array("f", weights), strict=True)}

    def _keywords(self, fieldname: str) -> dict[str, list[int]]:
        """Encoded value -> document numbers, of the keyword field `tagkey` or `category`."""
        if fieldname not in self._keyword_docs:
            found: dict[str, list[int]] = {}
            for docnum, document in enumerate(self._documents):
                for value in dict.fromkeys(document[fieldname].split()):
                    found.setdefault(value, []).append(docnum)
            self._keyword_docs[fieldname] = found
        return self._keyword_docs[fieldname]

    def keyword_values(self, fieldname: str) -> Iterator[str]:
        for value in sorted(self._keywords(fieldname)):
            yield decode_key(value)

    def documents_with(self, fieldname: str, value: str) -> list[int]:
        return self._keywords(fieldname).get(encode_key(value), [])
