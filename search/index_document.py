"""What the index keeps of one procedure: its analysed terms per field, its surface words, its
tags and the metadata a result shows, and the Whoosh document made of them.

Scoring is BM25F (Robertson & Zaragoza): each field's term frequency is normalised by the
field's length and weighted, and the sum over fields is the *impact* of a term in a procedure,
stored as the term's posting weight (search/index_fields.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .analysis import content_words, stem
from .index_fields import IMPACT_DIGITS, IMPACT_FIELD, encode_key
from .meaning import procedure_vector


@dataclass
class AnalysedProcedure:
    """What the index keeps of a procedure: term counts per field, words, stored metadata."""

    path: str
    counts: dict[str, Counter[str]]
    words: list[str]  # surface words, for the typo vocabulary
    tag_keys: list[str]
    categories: list[str]
    subjects: list[str]
    meta: dict[str, Any]

    @classmethod
    def of(cls, procedure: Any) -> AnalysedProcedure:
        texts = {
            "title": procedure.title,
            "tags": " ".join(tag.label.replace(":", " ") for tag in procedure.tags),
            "keywords": " ; ".join(procedure.keywords),
            "summary": procedure.summary,
            "body": procedure.main_text,
        }
        # Each text is tokenised once: the words feed the vocabulary, their stems the counts.
        field_words = {name: list(content_words(text)) for name, text in texts.items()}
        alternate_words = [list(content_words(f"{alt.title} {alt.text}")) for alt in procedure.alternates]
        field_words["alternates"] = [w for found in alternate_words for w in found]
        counts = {name: Counter(map(stem, found)) for name, found in field_words.items()}
        words = sorted({w for found in field_words.values() for w in found})
        meta = {
            "words": words,
            "lengths": {name: sum(counter.values()) for name, counter in counts.items()},
            "title": procedure.title,
            "tags": [tag.label for tag in procedure.tags],
            "summary": procedure.summary,
            # Which short fields hold which terms, to say where a result matched.
            "fields": {name: sorted(counts[name]) for name in ("title", "tags", "keywords", "summary")},
            "alternates": [
                [alt.title, sorted(set(map(stem, found)))] for alt, found in zip(procedure.alternates, alternate_words, strict=True)
            ],
            # Its meaning vector (search/meaning.py), None without the word-vector table.
            "meaning": procedure_vector([*texts.values(), *(f"{alt.title} {alt.text}" for alt in procedure.alternates)]),
        }
        return cls(
            path=procedure.path,
            counts=counts,
            words=words,
            tag_keys=[tag.key for tag in procedure.tags],
            categories=sorted({tag.category_key for tag in procedure.tags}),
            subjects=sorted({tag.subject_key for tag in procedure.tags if tag.subject_key}),
            meta=meta,
        )

    def impacts(self, averages: Mapping[str, float], weights: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
        """BM25F's weighted, length-normalised term frequency of every term, given each field's
        average length in the collection, its weight and its length normalisation `b`."""
        impact: Counter[str] = Counter()
        for name, counter in self.counts.items():
            length = sum(counter.values())
            if not length:
                continue
            scale = weights[name] / (1 - b[name] + b[name] * length / (averages.get(name) or 1.0))
            for term, count in counter.items():
                impact[term] += count * scale
        return {term: round(value, IMPACT_DIGITS) for term, value in impact.items()}

    def document(self, impacts: Mapping[str, float]) -> dict[str, Any]:
        """The fields Whoosh indexes and stores (search/index_fields.py), with the given impacts."""
        return {
            "path": self.path,
            IMPACT_FIELD: impacts,
            "tagkey": " ".join(encode_key(key) for key in self.tag_keys),
            "category": " ".join(encode_key(key) for key in self.categories),
            "subject": " ".join(encode_key(key) for key in self.subjects),
            "meta": self.meta,
        }
