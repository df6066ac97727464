"""The ranking definition: every weight, limit and rule parameter both search engines obey.

`kb search` (search/query.py, search/analysis.py, search/index.py) reads them from `RANKING`;
the browser engine (plugins/kb/assets/kb-engine.js) reads the same values from the `ranking`
object search/export.py writes into the browser's `manifest.json` (`RANKING.as_json()`), and
repeats none of them. A change here changes both engines' rankings at once; the golden
rankings (tests/golden/) then have to be written again, deliberately.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any


def _frozen(values: dict[str, float]) -> MappingProxyType[str, float]:
    return MappingProxyType(values)


@dataclass(frozen=True)
class RankingParameters:
    """What decides a ranking, apart from the text analysis itself (folding, stems, stop words)."""

    # BM25F, applied at index time (search/index.py): each field's weight and its length
    # normalisation b. Title and tags name the situation; keywords are the reps' own words for
    # it; the body and the alternate methods describe it at length. Short fields normalise their
    # length less.
    field_weights: MappingProxyType[str, float] = field(
        default_factory=lambda: _frozen({"title": 3.0, "tags": 3.0, "keywords": 2.2, "summary": 1.5, "body": 1.0, "alternates": 0.9})
    )
    field_b: MappingProxyType[str, float] = field(
        default_factory=lambda: _frozen({"title": 0.3, "tags": 0.3, "keywords": 0.5, "summary": 0.5, "body": 0.75, "alternates": 0.75})
    )
    # Impacts are stored rounded to this many decimals, the same in the index and the export.
    impact_digits: int = 4
    # BM25 saturation, applied per concept at query time.
    k1: float = 1.2
    # The weight of an alternative that is not the word typed.
    synonym_weight: float = 0.8
    # By edit distance ("1", "2": JSON keys are strings).
    typo_weights: MappingProxyType[str, float] = field(default_factory=lambda: _frozen({"1": 0.85, "2": 0.65}))
    prefix_weight: float = 0.75
    # Related words (search/data/related.txt, from WordNet): weaker evidence than any other kind.
    related_weight: float = 0.4
    # How many of each kind of alternative a word may have, and how many words a query reads.
    query_words: int = 48
    typo_candidates: int = 3
    prefix_candidates: int = 5
    related_words: int = 3
    # Typo correction: words shorter than typo_min_length are never corrected; from
    # two_typos_min_length letters on, two edits are allowed, else one.
    typo_min_length: int = 4
    two_typos_min_length: int = 7
    # A word shorter than this is neither completed as a fragment nor looked up as English.
    fragment_min_length: int = 3
    # "Did you mean" may go up to len(word) // suggestion_divisor edits (at least the typo limit).
    suggestion_divisor: int = 3
    # Background prior on a plain word's document frequency (search/query.py's ConceptScorer).
    # In a small collection an everyday word ('left', 'still') can sit in one procedure by chance
    # and get a large idf. A plain word's document count is taken as at least its mix with what
    # everyday English predicts: (df + prior * N * p) / (1 + prior), p = 1 - exp(-doc_words *
    # rate of the word in English), the chance that a document of that many words contains it.
    # Words the thesaurus knows are the domain's own and keep their collection idf.
    background_prior: float = 1.0
    background_doc_words: int = 200
    # Scores compare at this many decimals (then paths break ties).
    score_decimals: int = 6
    # The meaning signal (search/meaning.py). Word weights are SIF's a / (a + p(word)), a =
    # meaning_smoothing, p the word's share of everyday English, as integers of
    # meaning_weight_scale; procedure vectors are unit vectors times meaning_scale.
    meaning_smoothing: float = 1e-3
    meaning_weight_scale: int = 100
    meaning_scale: int = 1000
    # A word's meaning postings: the procedures at this cosine with it or more, at most this many.
    meaning_word_floor: float = 0.1
    meaning_postings: int = 100
    # Fusion (search/meaning.py's fused): meaning counts above meaning_threshold, times this weight.
    meaning_threshold: float = 0.1
    meaning_weight: float = 32.0
    # A procedure none of the query's words found is listed on meaning alone only above this
    # closeness: vague or nonsense wording then lists the procedures it is clearly close to, not
    # every one it brushes against.
    meaning_admission: float = 0.15
    # The query words a "meaning: ..." line names at most.
    meaning_words_shown: int = 3
    # ... and only the words whose share of the closeness is at least 1/meaning_word_share of the
    # largest word's share.
    meaning_word_share: int = 3
    # Result tiers, best first: procedures with the exact tag a query names (or the tag whose
    # subject it names), then those of the category it names, then the rest by score.
    tier_exact_tag: int = 2
    tier_category: int = 1
    tier_text: int = 0

    def typo_weight(self, distance: int) -> float:
        return self.typo_weights[str(distance)]

    def as_json(self) -> dict[str, Any]:
        """Every parameter, as written into the browser's manifest.json."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return {name: dict(value) if isinstance(value, MappingProxyType) else value for name, value in values.items()}


RANKING = RankingParameters()
