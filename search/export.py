"""Browser search data: what the Whoosh index computed, written as static, sharded JSON files.

The browser scores with the same numbers as `kb search` (the impacts stored in the index, the
same thesaurus, stop words and weights), so both fronts rank alike. Everything is split into
small files fetched on demand, so the first result needs only a few kilobytes:

- `manifest.json`: counts, the ranking parameters (search/ranking.py), stop words, shard
  counts and the case folding of tag queries (case_folding); read first.
- `thesaurus.json`: synonym rules keyed by space-joined base forms, without the expansions
  the collection cannot match (thesaurus_data).
- `terms/NNNN.json`: for each term, its postings as [docid delta, impact * 10**impact_digits,
  ...] (integers); a term's shard is `fnv1a32(term) % term_shards`. Keys with a space (no term
  has one) describe the shard's terms and the words whose stems fall in it but that the
  collection lacks, which is what a query asks next about such a word (search/query.py):
  " rates", each term's everyday-English rate (the background prior); " english", those
  words that are everyday English (3 letters or more, sorted); " related", for those words,
  the collection terms WordNet relates to them, already chosen as `kb search` would.
  " fields" and " alternates" say where the shard's terms are in each document, for the
  "Matched: ..." line (search/query.py's describe_match): [docid delta, bit mask of the
  manifest's `match_fields`, ...] and [docid delta, index of an alternate method, ...]; a
  document where a term is in neither has it only in the body.
- `tags/NN.json`: `tag:KEY` and `category:KEY` -> docids, sharded the same way.
- `docs/NNNN.json`: the display data of documents `N*doc_chunk .. (N+1)*doc_chunk - 1`
  (path, title, tags, summary, the titles of its alternate methods, and the URL when it is not
  the default one, default_url). Chunks are large because a request costs more than its bytes:
  the ten results of a query are spread over as many chunks as there are results.
- `vocab.json`: collection words and document frequencies (typos and fragments; loaded lazily).
- `meaning/NNNN.json`: each word of the word-vector table with its weight, its vector's squared
  length and its meaning postings, for the meaning signal (search/export_meaning.py); the manifest's `meaning` gives
  their shard count, or is null when the table is unavailable and there are none.

Document ids are dense and follow the procedures' paths in sorted order. Files whose content
did not change are not rewritten, so a static host or a browser cache keeps them.

The folder holds only these files and the marker `.service-kb-search-data` (search/storage.py):
a folder of other files is refused, and the files of an earlier export that this one did not
write are deleted only when their names are of the kinds above.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis import STOPWORDS, Thesaurus, casefold_exceptions, english_word_stems, installed_table, load_thesaurus, stem
from .export_meaning import write_meaning
from .index import IMPACT_DIGITS, IndexReader, RefreshReport, SearchIndex, WrittenContents, gc_paused
from .meaning import ProcedureVectors
from .model import FileCache
from .query import MATCH_FIELDS, choose_related
from .ranking import RANKING
from .related import related_words
from .shards import delta_encoded, fnv1a32
from .storage import SEARCH_DATA_FOLDER, check_placement, claim_folder, own_files

FORMAT = 9
# Impacts are written as integers (impact * 10**IMPACT_DIGITS): they parse faster than decimals,
# and the browser's division by the scale gives back exactly the double Python rounded to.
IMPACT_SCALE = 10**IMPACT_DIGITS
DOC_CHUNK = 256
TERMS_PER_SHARD = 24
TAG_SHARDS = 16


def installed_term_hashes() -> dict[str, int]:
    """fnv1a32 of the stems of the installed word lists (everyday English, related words), which
    every export puts in shards: hashing them byte by byte in Python took a tenth of a second of
    each. An installed table."""
    return installed_table("term-hashes", _hash_installed_terms)


def _hash_installed_terms() -> dict[str, int]:
    terms = {*english_word_stems().values(), *(term for _, term, _ in related_words().table())}
    return {term: fnv1a32(term) for term in sorted(terms)}


def term_shard_count(terms: int) -> int:
    """A power of two giving about TERMS_PER_SHARD terms a shard (16 to 4096 shards)."""
    count = 16
    while count < 4096 and count * TERMS_PER_SHARD < terms:
        count *= 2
    return count


@dataclass
class ExportReport:
    """What one export wrote: procedures and terms in the search data, files written anew or
    left as they were (same content), and the bytes of the files written."""

    documents: int = 0
    terms: int = 0
    files_written: int = 0
    files_unchanged: int = 0
    bytes: int = 0


class _Writer:
    """Writes JSON files under a folder claimed for the search data (search/storage.py),
    skipping those whose bytes are unchanged."""

    def __init__(self, root: Path) -> None:
        claim_folder(root, SEARCH_DATA_FOLDER)
        self.root = root
        self.report = ExportReport()
        self.written: dict[Path, bytes] = {}  # path -> digest of its content

    def write(self, relative: str, data: Any) -> None:
        path = self.root / relative
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.written[path] = hashlib.blake2b(payload, digest_size=16).digest()
        self.report.bytes += len(payload)
        try:
            if path.read_bytes() == payload:
                self.report.files_unchanged += 1
                return
        except OSError:
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        self.report.files_written += 1

    def remove_stale(self) -> None:
        """Deletes the files of an earlier export that this one did not write: only files with
        the names an export gives its files (`SEARCH_DATA_FOLDER`), nothing else in the folder."""
        for path in own_files(self.root, SEARCH_DATA_FOLDER):
            if path not in self.written:
                path.unlink(missing_ok=True)


def display_data(stored: dict[str, Any], urls: dict[str, str]) -> dict[str, Any]:
    """What a result shows of a procedure; the URL only when it is not default_url(path)."""
    path = stored["path"]
    data = {"path": path, "title": stored["title"], "tags": stored["tags"], "summary": stored["summary"]}
    data["alternates"] = [title for title, _ in stored["alternates"]]
    url = urls.get(path)
    if url is not None and url != default_url(path):
        data["url"] = url
    return data


def match_places(documents: Iterable[dict[str, Any]]) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """Where each term is in the documents (stored fields, in docid order), for describe_match:
    term -> [(docid, bit mask of the MATCH_FIELDS holding it)] and term -> [(docid, index of an
    alternate method holding it)]. Terms found only in the body are in neither."""
    fields: dict[str, dict[int, int]] = defaultdict(dict)
    alternates: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for doc, stored in enumerate(documents):
        for bit, name in enumerate(MATCH_FIELDS):
            for term in stored["fields"][name]:
                fields[term][doc] = fields[term].get(doc, 0) | 1 << bit
        for index, (_title, terms) in enumerate(stored["alternates"]):
            for term in terms:
                alternates[term].append((doc, index))
    return {term: list(masks.items()) for term, masks in fields.items()}, alternates


def thesaurus_data(thesaurus: Thesaurus, has_term: Callable[[str], bool]) -> dict[str, Any]:
    """The thesaurus as the browser needs it. An expansion to a word the collection lacks can
    match no procedure, so it is left out (most of a general thesaurus, and a request each for
    nothing); its rule still groups the query's words as a phrase. `rules`: the rules that match
    (those with expansions), keyed by space-joined base forms; `no_expansions`: the one-word keys
    of the others, which still make a word a thesaurus word (search/query.py's _concepts)."""
    rules: dict[str, list[Any]] = {}
    no_expansions: list[str] = []
    for key, expansions in thesaurus.rules.items():
        if expansions:
            rules[" ".join(key)] = [[list(e.terms), e.text] for e in expansions if all(map(has_term, e.terms))]
        elif len(key) == 1:
            no_expansions.append(key[0])
    return {"longest": thesaurus.longest, "rules": rules, "no_expansions": sorted(no_expansions)}


@gc_paused()
def write_search_data(
    index: SearchIndex,
    out_dir: Path,
    urls: dict[str, str] | None = None,
    synonyms: Path | None = None,
    contents: WrittenContents | None = None,
) -> ExportReport:
    """Writes the browser search data for an up-to-date index into out_dir.

    `urls` maps procedure paths (relative to the procedures folder) to page URLs relative to
    the site root; by default the MkDocs convention `area/name/` is used. `contents`: what a full
    refresh has just written (`SearchIndex.written`), read instead of the index itself.
    """
    urls = urls or {}
    check_search_data_placement(index, out_dir)
    writer = _Writer(out_dir)
    source: contextlib.AbstractContextManager[IndexReader | WrittenContents] = (
        contextlib.nullcontext(contents) if contents is not None else index.open()
    )
    with source as reader:
        stored = sorted(reader.documents(), key=lambda item: item[1]["path"])
        docid = {docnum: position for position, (docnum, _) in enumerate(stored)}
        for chunk_start in range(0, len(stored), DOC_CHUNK):
            writer.write(
                f"docs/{chunk_start // DOC_CHUNK:04d}.json",
                [display_data(fields, urls) for _, fields in stored[chunk_start : chunk_start + DOC_CHUNK]],
            )
        field_places, alternate_places = match_places(fields for _, fields in stored)

        postings_of: dict[str, list[int]] = {}
        for term, impacts in reader.all_impacts():
            postings_of[term] = delta_encoded(sorted((docid[d], round(impact * IMPACT_SCALE)) for d, impact in impacts.items()))
        shard_count = term_shard_count(len(postings_of))
        shards: dict[int, dict[str, Any]] = defaultdict(dict)

        hashes = installed_term_hashes()

        def shard_of(term: str) -> dict[str, Any]:
            hashed = hashes.get(term)
            return shards[(fnv1a32(term) if hashed is None else hashed) % shard_count]

        rates = index.english_rates()
        for term, flat in postings_of.items():
            shard = shard_of(term)
            shard[term] = flat
            if term in rates:
                shard.setdefault(" rates", {})[term] = rates[term]
            for key, places in ((" fields", field_places), (" alternates", alternate_places)):
                if term in places:
                    shard.setdefault(key, {})[term] = delta_encoded(places[term])
        # A word the collection lacks is found missing in the shard of its stem; what the query
        # needs next about it is put there too, so it costs no second request.
        has_term = postings_of.__contains__
        stems = english_word_stems()
        for word in sorted(index.english_words()):
            term = stems.get(word) or stem(word)
            if len(word) >= 3 and not has_term(term):
                shard_of(term).setdefault(" english", []).append(word)
        for word, term, candidates in related_words().table():
            if not has_term(term):
                found = choose_related(candidates, has_term)
                if found:
                    shard_of(term).setdefault(" related", {})[word] = [choice for choice, _ in found]
        for number in range(shard_count):
            writer.write(f"terms/{number:04d}.json", shards.get(number, {}))

        tag_shards: dict[int, dict[str, list[int]]] = defaultdict(dict)
        tag_letters: set[str] = set()
        for fieldname, prefix in (("tagkey", "tag:"), ("category", "category:"), ("subject", "subject:")):
            for key in reader.keyword_values(fieldname):
                tag_letters.update(key)
                ids = sorted(docid[d] for d in reader.documents_with(fieldname, key) if d in docid)
                tag_shards[fnv1a32(prefix + key) % TAG_SHARDS][prefix + key] = ids
        for number in range(TAG_SHARDS):
            writer.write(f"tags/{number:02d}.json", tag_shards.get(number, {}))
        documents = len(stored)
        # A full refresh's documents carry their vectors; otherwise the index keeps them.
        vectors = ProcedureVectors.of_documents(stored) if contents is not None else index.procedure_vectors()
        meaning = write_meaning(writer.write, vectors, {fields["path"]: position for position, (_, fields) in enumerate(stored)})

    vocabulary = index.vocabulary()
    writer.write("vocab.json", {"words": list(vocabulary), "df": list(vocabulary.values())})
    writer.write("thesaurus.json", thesaurus_data(load_thesaurus(synonyms, cache_dir=index.dir), has_term))

    manifest = {
        "format": FORMAT,
        "documents": documents,
        # Every weight, limit and rule parameter of the ranking; the browser repeats none of them.
        "ranking": RANKING.as_json(),
        "stopwords": sorted(STOPWORDS),
        "term_shards": shard_count,
        "tag_shards": TAG_SHARDS,
        "doc_chunk": DOC_CHUNK,
        "match_fields": MATCH_FIELDS,
        "case_folding": case_folding(tag_letters),
        "meaning": meaning,
    }
    # The version changes with any content, so browsers never mix files of two exports.
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(writer.written):
        digest.update(writer.written[path])
    manifest["version"] = digest.hexdigest()
    writer.write("manifest.json", manifest)
    writer.remove_stale()
    writer.report.documents, writer.report.terms = documents, len(postings_of)
    return writer.report


def refresh_and_export(
    procedures_root: Path,
    index_dir: Path | None,
    out_dir: Path,
    urls: dict[str, str] | None = None,
    synonyms: Path | None = None,
    cache: FileCache | None = None,
    protected: Sequence[Path] = (),
) -> tuple[RefreshReport, ExportReport]:
    """Brings the index up to date, then writes the browser search data: a site build's whole
    search job, self-contained so the MkDocs plugin can run it beside the page rendering.
    `cache`: the files the build has read already, so they are not parsed twice. `protected`:
    folders (the site) the index must keep clear of, which the search data may only lie inside.
    Raises search.storage.FolderRefused, naming the folder, before writing anything in a folder
    that is not the engine's to write."""
    index = SearchIndex(procedures_root, index_dir, protected)
    index.check_placement()
    check_search_data_placement(index, out_dir)
    refreshed = index.refresh(cache=cache)
    return refreshed, write_search_data(index, out_dir, urls, synonyms, index.written)


def check_placements(procedures_root: Path, index_dir: Path | None, out_dir: Path, protected: Sequence[Path] = ()) -> None:
    """The placement checks of `refresh_and_export`, run alone (the plugin runs them before the
    build renders anything). Raises search.storage.FolderRefused naming the folder."""
    index = SearchIndex(procedures_root, index_dir, protected)
    index.check_placement()
    check_search_data_placement(index, out_dir)


def check_search_data_placement(index: SearchIndex, out_dir: Path) -> None:
    """Refuses a search data folder that is, contains or lies in the procedures or the index
    folder, or is or contains a folder the index protects (lying inside one, the site, is its place)."""
    keep_clear_of = [
        ("the procedures folder", index.root),
        ("the index folder", index.dir),
        *(("the protected folder", folder) for folder in index.protected),
    ]
    check_placement(out_dir, SEARCH_DATA_FOLDER, keep_clear_of, may_be_inside=index.protected)


def case_folding(tag_letters: set[str]) -> dict[str, str]:
    """What the browser needs to fold a query's case as tag keys are folded (str.casefold): the
    characters whose folding is not their lower case (analysis.casefold_exceptions), of those that
    fold into letters of the collection's tag keys; no other can make a query match a tag."""
    return {character: folded for character, folded in casefold_exceptions().items() if tag_letters.issuperset(folded)}


def default_url(path: str) -> str:
    """MkDocs' directory URL of a page: `area/name.md` -> `area/name/`."""
    stem = path[: -len(".md")] if path.endswith(".md") else path
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"
