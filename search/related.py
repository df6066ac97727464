"""Related words: the word associations derived from WordNet (search/data/related.txt).

A query word that no procedure contains and no synonym rule knows may stand for a related word
the collection has (search/query.py); the browser export writes the same table
(search/export.py), so both engines choose the same related words.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .analysis import RELATED_WORDS, installed_table, is_stopword, stem, stem_all


class RelatedWords:
    """Word associations derived from WordNet (search/data/related.txt), read lazily.

    The file is sorted by word, so a look-up is a binary search over its text: nothing is
    parsed up front, and a look-up compares only the lines it lands on. `related(word)` gives
    the related words in the file's order: commonest sense first, then synonyms, derived forms,
    hypernyms.
    """

    def __init__(self, path: Path = RELATED_WORDS) -> None:
        self.path = path
        self._text: str | None = None

    def _read(self) -> str:
        if self._text is None:
            try:
                self._text = self.path.read_text(encoding="utf-8")
            except OSError:
                self._text = ""
        return self._text

    def _all_lines(self) -> list[str]:
        return [line for line in self._read().splitlines() if line and not line.startswith("#")]

    def _line_starting(self, key: str) -> str | None:
        """The line that starts with `key`, found by bisecting the text between line starts:
        every line before `low` sorts before `key`, none from `high` on does. The comments
        (`#`) sort before every word."""
        text = self._read()
        low, high = 0, len(text)
        while low < high:
            start = max(text.rfind("\n", low, (low + high) // 2) + 1, low)  # the line holding the middle
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            if text[start:end] < key:
                low = end + 1
            else:
                high = start
        end = text.find("\n", low)
        line = text[low : len(text) if end < 0 else end]
        return line if line.startswith(key) else None

    def table(self) -> list[tuple[str, str, Candidates]]:
        """(word, its stem, its `candidates`) for every word of the file, for the browser
        export. An installed table when it is the shipped file."""
        if self.path == RELATED_WORDS:
            return installed_table("related", self._table)
        return self._table()

    def _table(self) -> list[tuple[str, str, Candidates]]:
        entries = dict(line.split("\t", 1) for line in self._all_lines())
        related = [_related_in(entries.get(value[1:], "") if value.startswith("=") else value) for value in entries.values()]
        return [(word, term, _candidates(term, words)) for word, term, words in zip(entries, stem_all(list(entries)), related, strict=True)]

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per process
    def candidates(self, word: str) -> Candidates:
        """(stem, word) of the related words that can stand in for `word`, in the file's order:
        no stop words, none with the word's own stem, one word per stem (the first). Which of them
        a collection has is left to the caller (search/query.py's choose_related)."""
        return _candidates(stem(word), self.related(word))

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per process
    def related(self, word: str) -> tuple[str, ...]:
        key = word + "\t"
        line = self._line_starting(key)
        if line is None:
            return ()
        entries = line[len(key) :]
        if entries.startswith("="):  # an inflected form listed under its base form
            return self.related(entries[1:])
        return _related_in(entries)


# (stem, word) pairs: related words already stemmed and filtered (RelatedWords.candidates).
Candidates = tuple[tuple[str, str], ...]


def _candidates(term: str, related: Iterable[str]) -> Candidates:
    seen = {term}
    found = []
    for word in related:
        candidate = stem(word)
        if candidate not in seen and not is_stopword(word):
            seen.add(candidate)
            found.append((candidate, word))
    return tuple(found)


def _related_in(entries: str) -> tuple[str, ...]:
    # Groups `<relation><sense> word word ...`, separated by `|`; the mark is not needed here.
    return tuple(w for group in entries.split("|") for w in group.split()[1:])


@lru_cache(maxsize=1)
def related_words() -> RelatedWords:
    return RelatedWords()
