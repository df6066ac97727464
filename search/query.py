"""Query semantics shared by every front: tags first, then concept-by-concept BM25F scoring.

A query becomes a list of *concepts*: each content word, or a phrase the thesaurus knows. A
concept can be satisfied by any of its alternatives (the word itself, its synonyms, its typo
corrections, completions of a fragment, or, for an English word the procedures never use, the
collection words WordNet relates to it), each with a weight below 1 when it is not the word
typed. Each concept is scored like one BM25F term over all its alternatives.
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .analysis import (
    Thesaurus,
    base_form,
    edit_limit,
    is_stopword,
    name_like,
    stem,
    suggestion_limit,
    tag_key,
    words,
)
from .index import IndexReader, SearchIndex
from .meaning import Meaning, fused, meaning_query, meanings, table_problem
from .ranking import RANKING
from .related import Candidates, related_words

# The parameters (weights, limits, the background prior's constants) are search/ranking.py's.
# The short fields a result's "Matched: ..." line names, in its order (then "body", then alternate methods).
MATCH_FIELDS = ("title", "tags", "keywords", "summary")


@dataclass(frozen=True)
class Alternative:
    """One way a concept can be found in a procedure: its terms (all required) and their weight.

    `reading` marks the competing readings of one word the collection lacks (the word itself, its
    typo corrections, the words it may be the start of): the rep meant one of them, so a procedure
    counts only its best reading, not their sum (ConceptScorer).
    """

    terms: tuple[str, ...]
    weight: float
    kind: str  # "word", "synonym", "typo", "prefix", "related"
    text: str
    reading: bool = False


@dataclass
class Concept:
    text: str
    alternatives: list[Alternative]
    background: float = 0.0  # chance that a document of everyday English contains the word


@dataclass
class ParsedQuery:
    text: str
    tag_key: str | None = None  # a whole tag the query names
    category_key: str | None = None  # a category the query names
    subject_key: str | None = None  # a tag subject the query names, without its category
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

    def __init__(self, index: SearchIndex, thesaurus: Thesaurus, meaning_off: Callable[[str], None] | None = None) -> None:
        """`meaning_off` hears, once, why the meaning signal is off when a query first needed it
        and the word-vector table could not be loaded."""
        self.index = index
        self.thesaurus = thesaurus
        self.meaning_off = meaning_off

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
        if key and ":" not in key:  # a bare category, or a tag's subject without its category
            if reader.documents_with("category", key):
                parsed.category_key = key
            if reader.documents_with("subject", key):
                parsed.subject_key = key
        parsed.concepts = self._concepts(reader, words(text)[: RANKING.query_words], name_like(text)[: RANKING.query_words], parsed)
        return parsed

    def _repairs(self, word: str, last: bool) -> list[Alternative]:
        """Typo corrections and completions for a word the collection does not contain.

        Real English words are left alone ('talk' is not a typo of 'task'), and are completed
        only as the last word, the one still being typed: 'red' in the middle of a sentence is
        the colour, not the start of 'redeem'. Candidates are ordered by distance, then
        document frequency, then spelling, so every front picks the same.
        """
        vocabulary = self.index.vocabulary()
        repairs: list[Alternative] = []
        english = len(word) >= RANKING.fragment_min_length and word in self.index.english_words()
        limit = edit_limit(word)
        if limit and not english:
            closest = nearest_words(word, vocabulary, limit)
            if closest:
                best = closest[0][1]
                for candidate, distance in [c for c in closest if c[1] == best][: RANKING.typo_candidates]:
                    repairs.append(Alternative((stem(candidate),), RANKING.typo_weight(distance), "typo", candidate, reading=True))
        if len(word) >= RANKING.fragment_min_length and (last or not english):
            repairs.extend(self._completions(word))
        return repairs

    def _completions(self, word: str) -> list[Alternative]:
        """The collection words `word` may be the start of, commonest first (at most RANKING.prefix_candidates)."""
        vocabulary = self.index.vocabulary()
        completions = sorted(self.index.words_starting_with(word), key=lambda w: (-vocabulary[w], w))
        return [Alternative((stem(c),), RANKING.prefix_weight, "prefix", c, reading=True) for c in completions[: RANKING.prefix_candidates]]

    def _fragment_completions(self, word: str, own_term: str) -> list[Alternative]:
        """Completions of a last word that is not a collection word although its stem is a term.

        `deliv` is no word of the procedures, but it is the stem of `delivered`; as the last
        word it is a fragment still being typed, as likely to become `delivery`. It is one when
        it completes to a word of another stem than its own; a complete word such as `refunds`
        (the procedures only say `refund`) has no such completion and stays a plain word.
        """
        if len(word) < RANKING.fragment_min_length or word in self.index.vocabulary():
            return []
        completions = self._completions(word)
        return completions if any(c.terms != (own_term,) for c in completions) else []

    def _concepts(self, reader: IndexReader, query_words: list[str], names: list[bool], parsed: ParsedQuery) -> list[Concept]:
        stems = [stem(w) for w in query_words]
        bases = [base_form(w) for w in query_words]
        repairs: dict[int, list[Alternative]] = {}
        own_weight = [1.0] * len(query_words)
        # A word a synonym rule knows (even one whose rule has no expansion) keeps its curated
        # meaning: it is neither repaired nor read as its related words.
        rule_words = [(base,) in self.thesaurus.rules for base in bases]
        for position, word in enumerate(query_words):
            last = position == len(query_words) - 1
            if is_stopword(word) or rule_words[position]:
                continue
            if reader.has_term(stems[position]):
                fragment = self._fragment_completions(word, stems[position]) if last else []
                if fragment:
                    # Its own stem is only one of the words it may become: no stronger than the others.
                    repairs[position], own_weight[position] = fragment, RANKING.prefix_weight
                continue
            found = self._repairs(word, last=last)
            if found:
                repairs[position] = found
                typo = next((alt for alt in found if alt.kind == "typo"), None)
                if typo:
                    parsed.corrections[word] = typo.text
                    # The best correction stands in for the word in phrases and synonyms.
                    bases[position], stems[position] = base_form(typo.text), typo.terms[0]
                    own_weight[position] = typo.weight
        concepts: list[Concept] = []
        position = 0
        while position < len(query_words):
            length, expansions = self.thesaurus.match(bases, position)
            span = range(position, position + max(length, 1))
            content = [i for i in span if not is_stopword(query_words[i])]
            alternatives: list[Alternative] = []
            own_terms = tuple(stems[i] for i in content)
            if own_terms:
                weight = min((own_weight[i] for i in content), default=1.0)
                # A word with repairs is one reading among them (Alternative.reading).
                reading = len(span) == 1 and position in repairs
                alternatives.append(Alternative(own_terms, weight, "word", " ".join(query_words[i] for i in content), reading))
            alternatives.extend(Alternative(e.terms, RANKING.synonym_weight, "synonym", e.text) for e in expansions)
            if len(span) == 1:
                alternatives.extend(r for r in repairs.get(position, []) if r.terms != own_terms)
                word = query_words[position]
                # Words the thesaurus knows keep its curated expansions only, and a name (`Visa`)
                # is not the common word it spells (`visa` -> `approve`).
                if (
                    not length
                    and not rule_words[position]
                    and own_terms
                    and word not in parsed.corrections
                    and not names[position]
                    and not reader.has_term(own_terms[0])
                ):
                    known = {a.terms for a in alternatives}
                    for term, text in related_candidates(word, reader.has_term):
                        if (term,) not in known:
                            alternatives.append(Alternative((term,), RANKING.related_weight, "related", text))
            if alternatives and (own_terms or length):
                background = 0.0
                if not length and len(own_terms) == 1 and reader.has_term(own_terms[0]):
                    background = background_chance(self.index.english_rates().get(own_terms[0], 0.0))
                concepts.append(Concept(" ".join(query_words[i] for i in span), alternatives, background))
            position += len(span)
        return concepts

    # ---- scoring -------------------------------------------------------------------------
    def _search(self, reader: IndexReader, query: str, limit: int, tag: str | None) -> Response:
        parsed = self.parse(reader, query)
        scorer = ConceptScorer(reader, parsed.concepts)
        scored = scorer.scores()
        carried = self._add_meaning(reader, parsed, scored, scorer.uncovered)
        tiers: dict[int, int] = {}
        # A query naming a category lists its procedures first; one naming a whole tag lists the
        # procedures with that tag, then the rest of the tag's category.
        category = parsed.category_key or (parsed.tag_key.partition(":")[0] if parsed.tag_key and ":" in parsed.tag_key else None)
        if category:
            tiers.update(dict.fromkeys(reader.documents_with("category", category), RANKING.tier_category))
        # A tag's subject without its category (`late shipment`) names the tag as well.
        if parsed.subject_key:
            tiers.update(dict.fromkeys(reader.documents_with("subject", parsed.subject_key), RANKING.tier_exact_tag))
        if parsed.tag_key:
            tiers.update(dict.fromkeys(reader.documents_with("tagkey", parsed.tag_key), RANKING.tier_exact_tag))
        candidates = set(scored) | set(tiers)
        if tag:
            allowed = set(reader.documents_with("tagkey", tag_key(tag))) | set(reader.documents_with("category", tag_key(tag)))
            candidates &= allowed

        def rank(docnum: int) -> tuple[int, int]:
            # Scores compare at RANKING.score_decimals decimals, rounded as JavaScript's Math.round does.
            return -tiers.get(docnum, RANKING.tier_text), -math.floor(scored.get(docnum, 0.0) * 10**RANKING.score_decimals + 0.5)

        # Equal ranks are ordered by path, as in the browser: the head is the documents that
        # rank at least as well as the `limit`-th (selected, not sorted); only they need stored fields.
        ranks = {docnum: rank(docnum) for docnum in candidates}
        cut = heapq.nsmallest(limit, ranks.values())[-1:]
        head = {d: reader.stored(d) for d, r in ranks.items() if cut and r <= cut[0]}
        results = []
        for docnum in sorted(head, key=lambda d: (*ranks[d], head[d]["path"]))[:limit]:
            stored = head[docnum]
            terms_here = scorer.matched_terms(docnum)
            results.append(
                Result(
                    path=stored["path"],
                    title=stored["title"],
                    tags=stored["tags"],
                    summary=stored["summary"],
                    score=scored.get(docnum, 0.0),
                    matched=describe_match(stored, terms_here, tiers.get(docnum) == RANKING.tier_exact_tag) + carried.get(docnum, []),
                    matched_terms=terms_here,
                )
            )
        response = Response(query=query, results=results, total=len(candidates), corrections=parsed.corrections)
        response.tag = parsed.tag_key
        response.category = parsed.category_key
        if not candidates:
            response.did_you_mean = self.did_you_mean(parsed)
        return response

    def _add_meaning(self, reader: IndexReader, parsed: ParsedQuery, scored: dict[int, float], uncovered: float) -> dict[int, list[str]]:
        """Adds the meaning signal to the lexical scores (search/meaning.py's `fused`); returns,
        for the procedures that meaning carried (it gave them more than their own words did),
        their "meaning: ..." line."""
        if uncovered <= 0:
            return {}
        vectors = self.index.procedure_vectors()
        if vectors is None:
            problem = table_problem()
            if problem and self.meaning_off is not None:
                tell, self.meaning_off = self.meaning_off, None  # once
                tell(problem)
            return {}
        query = meaning_query(words(parsed.text)[: RANKING.query_words], parsed.corrections)
        if query is None:
            return {}
        strongest = max(scored.values(), default=0.0)
        carried: dict[int, list[str]] = {}
        # The query's words in one product, a word typed twice once.
        postings = dict(vectors.postings_of_rows(list(dict.fromkeys(query.rows))))
        found: dict[int, Meaning] = meanings(query, postings.__getitem__)  # by position in vectors.paths
        for position in sorted(found):
            if found[position].closeness <= RANKING.meaning_threshold:
                continue  # `fused` would leave the score as it is
            docnum = reader.docnum_of(vectors.paths[position])
            if docnum is None:
                continue
            lexical = scored.get(docnum, 0.0)
            score = fused(lexical, found[position].closeness, strongest, uncovered)
            if score > lexical:
                scored[docnum] = score
                if score - lexical > lexical:
                    carried[docnum] = ["meaning: " + " ".join(found[position].words(query))]
        return carried

    def did_you_mean(self, parsed: ParsedQuery) -> str | None:
        """A nearby query made of collection words, for a query that found nothing.

        Each word is replaced by its nearest collection word within analysis.suggestion_limit
        (a third of its letters at most); a word with nothing that close is left out, and no
        suggestion is better than a far-fetched one.
        """
        vocabulary = self.index.vocabulary()
        suggestion, changed = [], False
        for word in words(parsed.text)[: RANKING.query_words]:
            if word in vocabulary or is_stopword(word):
                suggestion.append(word)
                continue
            closest = nearest_words(word, vocabulary, suggestion_limit(word))
            if closest:  # a word with nothing near it is left out of the suggestion
                suggestion.append(closest[0][0])
                changed = True
        return " ".join(suggestion) if changed else None


def background_chance(rate: float) -> float:
    """The chance that a document of RANKING.background_doc_words everyday English words has a word of this rate."""
    return 1 - math.exp(-RANKING.background_doc_words * rate) if rate > 0 else 0.0


def related_candidates(word: str, has_term: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(term, word) pairs of collection words WordNet relates to `word`, best first.

    Synonyms, derived forms and hypernyms of the word's two commonest senses (`fridge` ->
    `appliance`, `erase` -> `delete`), in the data file's order (commonest sense first), at most
    RANKING.related_words, one per stem. The file lists only real English words, so a word the collection
    lacks is either read as a typo (not English) or expanded here, never both. The browser gets
    these lists precomputed (search/export.py).
    """
    return choose_related(related_words().candidates(word), has_term)


def choose_related(candidates: Candidates, has_term: Callable[[str], bool]) -> list[tuple[str, str]]:
    """The first RANKING.related_words of a word's candidates (RelatedWords.candidates) that the collection has."""
    return list(itertools.islice((pair for pair in candidates if has_term(pair[0])), RANKING.related_words))


def nearest_words(word: str, vocabulary: dict[str, int], limit: int) -> list[tuple[str, int]]:
    """Collection words within `limit` edits (transpositions count as one), nearest and commonest first."""
    if not vocabulary or limit < 1:
        return []
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    found = extract(word, list(vocabulary), scorer=OSA.distance, score_cutoff=limit, limit=None)
    return sorted(((w, int(d)) for w, d, _ in found), key=lambda c: (c[1], -vocabulary[c[0]], c[0]))


class ConceptScorer:
    """Scores procedures against a query's concepts.

    A concept is scored as one pseudo-term: the weighted impacts of its alternatives are summed
    and one idf is taken over the procedures that contain any of them. Otherwise a rare synonym
    would outweigh the common word the rep actually typed. The readings of one word the
    collection lacks (Alternative.reading) are not summed: a procedure adds only the best of them,
    after the other alternatives, so that one that has `delivered`, `delivers` and `delivery`
    does not outscore one that has the word the rep is typing.
    """

    def __init__(self, reader: IndexReader, concepts: list[Concept]) -> None:
        self.reader = reader
        self.concepts = concepts
        self.impacts = reader.impacts  # the reader reads each term once
        # The share of the concepts that no procedure contains (set by `scores`): how much of
        # the query the procedures' own words leave to the meaning signal.
        self.uncovered = 0.0

    def scores(self) -> dict[int, float]:
        k1 = RANKING.k1
        totals: dict[int, float] = {}
        missing = 0
        for concept in self.concepts:
            concept_tf: dict[int, float] = {}
            best_reading: dict[int, float] = {}
            found_directly = False  # by the word, a synonym, a correction or a completion
            for alternative in concept.alternatives:
                weight = alternative.weight
                per_term = [self.impacts(t) for t in alternative.terms]
                if len(per_term) == 1:
                    found = {docnum: weight * impact for docnum, impact in per_term[0].items()}
                else:
                    # Every word of a multi-word alternative must be present; the rarest one counts.
                    common = set(per_term[0]).intersection(*per_term[1:])
                    found = {docnum: weight * min(p[docnum] for p in per_term) for docnum in common}
                found_directly = found_directly or (bool(found) and alternative.kind != "related")
                into = best_reading if alternative.reading else concept_tf
                combine = max if alternative.reading else operator.add
                get = into.get
                into.update({docnum: combine(get(docnum, 0.0), value) for docnum, value in found.items()})
            get = concept_tf.get
            concept_tf.update({docnum: get(docnum, 0.0) + value for docnum, value in best_reading.items()})
            missing += not found_directly
            if not concept_tf:
                continue
            # The background prior (search/ranking.py's background_prior) only ever raises a word's document count.
            expected = self.reader.doc_count * concept.background
            prior = RANKING.background_prior
            documents = max(len(concept_tf), (len(concept_tf) + prior * expected) / (1 + prior))
            idf = math.log(1 + (self.reader.doc_count - documents + 0.5) / (documents + 0.5))
            get = totals.get
            totals.update({docnum: get(docnum, 0.0) + idf * tf * (k1 + 1) / (k1 + tf) for docnum, tf in concept_tf.items()})
        self.uncovered = missing / len(self.concepts) if self.concepts else 0.0
        return totals

    def matched_terms(self, docnum: int) -> set[str]:
        """The terms of the alternatives that matched this procedure (for highlighting)."""
        found: set[str] = set()
        for concept in self.concepts:
            for alternative in concept.alternatives:
                if all(docnum in self.impacts(t) for t in alternative.terms):
                    found.update(alternative.terms)
        return found


def describe_match(stored: dict[str, Any], matched_terms: set[str], exact_tag: bool) -> list[str]:
    """Where a result matched, in the words shown to reps: fields, then the alternate methods."""
    described = ["tag"] if exact_tag else []
    unexplained = set(matched_terms)
    for name in MATCH_FIELDS:
        found = matched_terms.intersection(stored["fields"][name])
        if found:
            described.append(name)
            unexplained -= found
    alternates = []
    for title, alternate_terms in stored["alternates"]:
        found = matched_terms.intersection(alternate_terms)
        if found:
            alternates.append(f"alternate method: {title}")
            unexplained -= found
    if unexplained:
        described.append("body")
    return described + alternates
