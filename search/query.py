"""Query semantics shared by every front: tags first, then concept-by-concept BM25F scoring.

A query becomes a list of *concepts*: each content word, or a phrase the thesaurus knows. A
concept can be satisfied by any of its alternatives (the word itself, its synonyms, its typo
corrections, or completions of a fragment), each with a weight below 1 when it is not the word
typed. A procedure scores the best alternative of each concept, and the total is scaled by the
share of concepts it satisfies, so one that answers the whole question beats one that repeats a
single word often.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from .analysis import Thesaurus, edit_limit, is_stopword, stem, terms, words
from .index import SEARCH_FIELDS, IndexReader, SearchIndex
from .model import tag_key

FIELD_WEIGHTS = {"title": 3.0, "tags": 3.0, "keywords": 2.2, "summary": 1.5, "body": 1.0, "alternates": 0.9}
SYNONYM_WEIGHT = 0.6
TYPO_WEIGHTS = {1: 0.85, 2: 0.65}
PREFIX_WEIGHT = 0.75
MAX_QUERY_WORDS = 48
MAX_TYPO_CANDIDATES = 3
MAX_PREFIX_CANDIDATES = 5
COVERAGE_FLOOR = 0.25  # a procedure matching few of the concepts keeps this share of its score
TIER_EXACT_TAG, TIER_CATEGORY, TIER_TEXT = 2, 1, 0


@dataclass(frozen=True)
class Alternative:
    terms: tuple[str, ...]
    weight: float
    kind: str  # "word", "synonym", "typo", "prefix"
    text: str


@dataclass
class Concept:
    text: str
    alternatives: list[Alternative]


@dataclass
class ParsedQuery:
    text: str
    tag_key: str | None = None  # a whole tag the query names
    category_key: str | None = None  # a category the query names
    concepts: list[Concept] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    path: str
    title: str
    tags: list[str]
    summary: str
    score: float
    matched: list[str]
    alternates: list[list[str]] = field(repr=False, default_factory=list)
    matched_terms: set[str] = field(repr=False, default_factory=set)

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "tags": self.tags, "score": round(self.score, 4), "matched": self.matched}


@dataclass
class Response:
    query: str
    results: list[Result]
    total: int
    did_you_mean: str | None = None
    corrections: dict[str, str] = field(default_factory=dict)
    tag: str | None = None
    category: str | None = None


class QueryEngine:
    """Answers queries against one index. Cheap to create; open per query batch."""

    def __init__(self, index: SearchIndex, thesaurus: Thesaurus) -> None:
        self.index = index
        self.thesaurus = thesaurus

    def search(self, query: str, limit: int = 10, tag: str | None = None) -> Response:
        with self.index.open() as reader:
            return self._search(reader, query, limit, tag)

    def search_many(self, queries: list[str], limit: int = 10, tag: str | None = None) -> list[Response]:
        with self.index.open() as reader:
            return [self._search(reader, q, limit, tag) for q in queries]

    # ---- parsing -------------------------------------------------------------------------
    def parse(self, reader: IndexReader, query: str) -> ParsedQuery:
        text = " ".join(query.split())
        parsed = ParsedQuery(text=text)
        key = tag_key(text.strip(":").strip()) if text.strip(": ") else ""
        if key and reader.documents_with("tagkey", key):
            parsed.tag_key = key
        if key and ":" not in key and reader.documents_with("category", key):
            parsed.category_key = key
        parsed.concepts = self._concepts(reader, words(text)[:MAX_QUERY_WORDS], parsed)
        return parsed

    def _known(self, reader: IndexReader, term: str) -> bool:
        return any(reader.has_term(name, term) for name in SEARCH_FIELDS)

    def _repairs(self, reader: IndexReader, word: str) -> list[Alternative]:
        """Typo corrections and completions for a word the collection does not contain."""
        vocabulary = self.index.vocabulary()
        repairs: list[Alternative] = []
        limit = edit_limit(word)
        if limit:
            found = extract(word, list(vocabulary), scorer=OSA.distance, score_cutoff=limit, limit=50)
            if found:
                best = min(distance for _, distance, _ in found)
                closest = sorted((c for c in found if c[1] == best), key=lambda c: -vocabulary[c[0]])
                for candidate, distance, _ in closest[:MAX_TYPO_CANDIDATES]:
                    repairs.append(Alternative((stem(candidate),), TYPO_WEIGHTS[distance], "typo", candidate))
        if len(word) >= 3:
            completions = sorted((w for w in vocabulary if w.startswith(word) and w != word), key=lambda w: -vocabulary[w])
            for candidate in completions[:MAX_PREFIX_CANDIDATES]:
                repairs.append(Alternative((stem(candidate),), PREFIX_WEIGHT, "prefix", candidate))
        return repairs

    def _concepts(self, reader: IndexReader, query_words: list[str], parsed: ParsedQuery) -> list[Concept]:
        stems = [stem(w) for w in query_words]
        repairs: dict[int, list[Alternative]] = {}
        for position, word in enumerate(query_words):
            if is_stopword(word) or self._known(reader, stems[position]) or (stems[position],) in self.thesaurus.rules:
                continue
            found = self._repairs(reader, word)
            if found:
                repairs[position] = found
                typo = next((alt for alt in found if alt.kind == "typo"), None)
                if typo:
                    parsed.corrections[word] = typo.text
                    stems[position] = typo.terms[0]  # so a corrected word still meets its synonyms
        concepts: list[Concept] = []
        position = 0
        while position < len(stems):
            length, expansions = self.thesaurus.match(stems, position)
            span = range(position, position + max(length, 1))
            content = [i for i in span if not is_stopword(query_words[i])]
            alternatives: list[Alternative] = []
            own_terms = tuple(stems[i] for i in content)
            if own_terms:
                alternatives.append(Alternative(own_terms, 1.0, "word", " ".join(query_words[i] for i in content)))
            for expansion in expansions:
                alternatives.append(Alternative(expansion.terms, SYNONYM_WEIGHT, "synonym", expansion.text))
            if len(span) == 1:
                alternatives.extend(repairs.get(position, []))
            if alternatives and (own_terms or length):
                concepts.append(Concept(" ".join(query_words[i] for i in span), alternatives))
            position += len(span)
        return concepts

    # ---- scoring -------------------------------------------------------------------------
    def _search(self, reader: IndexReader, query: str, limit: int, tag: str | None) -> Response:
        parsed = self.parse(reader, query)
        term_cache: dict[str, dict[int, tuple[float, frozenset[str]]]] = {}

        def term_scores(term: str) -> dict[int, tuple[float, frozenset[str]]]:
            if term not in term_cache:
                scores: dict[int, float] = defaultdict(float)
                fields: dict[int, set[str]] = defaultdict(set)
                for name in SEARCH_FIELDS:
                    for docnum, score in reader.scored_postings(name, term):
                        scores[docnum] += FIELD_WEIGHTS[name] * score
                        fields[docnum].add(name)
                term_cache[term] = {d: (s, frozenset(fields[d])) for d, s in scores.items()}
            return term_cache[term]

        totals: dict[int, float] = defaultdict(float)
        satisfied: dict[int, int] = defaultdict(int)
        matched_fields: dict[int, set[str]] = defaultdict(set)
        matched_terms: dict[int, set[str]] = defaultdict(set)
        for concept in parsed.concepts:
            best: dict[int, tuple[float, Alternative]] = {}
            for alternative in concept.alternatives:
                per_term = [term_scores(t) for t in alternative.terms]
                docs = set().union(*per_term)
                for docnum in docs:
                    score = alternative.weight * sum(p[docnum][0] for p in per_term if docnum in p) / len(per_term)
                    if score > best.get(docnum, (0.0, None))[0]:
                        best[docnum] = (score, alternative)
            for docnum, (score, alternative) in best.items():
                totals[docnum] += score
                satisfied[docnum] += 1
                for term in alternative.terms:
                    entry = term_scores(term).get(docnum)
                    if entry:
                        matched_fields[docnum].update(entry[1])
                        matched_terms[docnum].add(term)
        concept_count = max(len(parsed.concepts), 1)
        scored = {
            docnum: total * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * (satisfied[docnum] / concept_count) ** 2)
            for docnum, total in totals.items()
        }
        tiers: dict[int, int] = {}
        if parsed.category_key:
            tiers.update(dict.fromkeys(reader.documents_with("category", parsed.category_key), TIER_CATEGORY))
        if parsed.tag_key:
            tiers.update(dict.fromkeys(reader.documents_with("tagkey", parsed.tag_key), TIER_EXACT_TAG))
        candidates = set(scored) | set(tiers)
        if tag:
            allowed = set(reader.documents_with("tagkey", tag_key(tag))) | set(reader.documents_with("category", tag_key(tag)))
            candidates &= allowed
        ordered = sorted(candidates, key=lambda d: (-tiers.get(d, TIER_TEXT), -scored.get(d, 0.0), reader.stored(d)["title"]))
        results = []
        for docnum in ordered[: max(limit, 0)]:
            stored = reader.stored(docnum)
            result = Result(
                path=stored["path"],
                title=stored["title"],
                tags=stored["tags"],
                summary=stored["summary"],
                score=scored.get(docnum, 0.0),
                matched=[],
                alternates=stored["alternates"],
                matched_terms=matched_terms.get(docnum, set()),
            )
            result.matched = describe_match(result, matched_fields.get(docnum, set()), docnum in tiers and tiers[docnum] == TIER_EXACT_TAG)
            results.append(result)
        response = Response(query=query, results=results, total=len(candidates), corrections=parsed.corrections)
        response.tag = parsed.tag_key
        response.category = parsed.category_key
        if not candidates:
            response.did_you_mean = self.did_you_mean(parsed)
        return response

    def did_you_mean(self, parsed: ParsedQuery) -> str | None:
        """A nearby query made of collection words, for a query that found nothing."""
        vocabulary = self.index.vocabulary()
        if not vocabulary:
            return None
        suggestion, changed = [], False
        for word in words(parsed.text)[:MAX_QUERY_WORDS]:
            if word in vocabulary or is_stopword(word):
                suggestion.append(word)
                continue
            found = extract(word, list(vocabulary), scorer=OSA.distance, score_cutoff=max(2, len(word) // 3), limit=5)
            if found:
                best = min(found, key=lambda c: (c[1], -vocabulary[c[0]]))
                suggestion.append(best[0])
                changed = True
        return " ".join(suggestion) if changed else None


def describe_match(result: Result, fields: set[str], exact_tag: bool) -> list[str]:
    """Where a result matched, in the words shown to reps: fields, then the alternate methods."""
    described = ["tag"] if exact_tag else []
    described += [name for name in SEARCH_FIELDS if name in fields and name != "alternates"]
    if "alternates" in fields:
        for title, text in result.alternates:
            if result.matched_terms & set(terms(f"{title} {text}")):
                described.append(f"alternate method: {title}")
    return described

