"""The on-disk index: the only module that talks to Whoosh.

Scoring is BM25F (Robertson & Zaragoza). Each field's term frequency is normalised by the field's
length and weighted, and the sum over fields is the *impact* of a term in a procedure. Impacts
are computed here, at index time, and stored as the Whoosh posting weights of one field, so a
query reads one posting list per term and applies only idf and saturation. After incremental
updates the field-length averages of older documents drift slightly; `kb index --full`
renormalises everything.

Layout of an index folder (outside the procedures folder, see `default_index_dir`):
- Whoosh segment and TOC files. Whoosh writes the TOC last, by rename, so a build that is killed
  half way leaves the previous generation answering.
- `files.json`: content hash, mtime and size of every indexed file, read when the stamp below
  says the folder changed. Written after each commit; if a kill lands between the two, the
  next refresh redoes those files, which is harmless because documents are keyed by path.
  It also keeps the running totals of field lengths behind the averages. Each document's
  words and field lengths are stored with it, so a refresh updates the vocabulary and the totals
  from the changed files alone. (A kill between commit and this write can leave the totals
  slightly off; the next `kb index --full` recounts them.)
- `stamp.json`: the index format and a digest of the folder listing (path, mtime, size) as of the
  last refresh, written last: a search compares it with a fresh listing and reads files.json only
  when they differ.
- `vocab.json`: surface words and their document frequency, for typo correction and fragments.
- `english.txt`: everyday English words, so that a real word absent from the procedures is not
  "corrected" into a procedure word; `english-rates.pickle`: their rates per stem, for the
  background prior of search/query.py.
- `kb.lock`: an fcntl lock that serialises writers; it dies with its process.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import functools
import gc
import hashlib
import heapq
import json
import os
import pickle
import shutil
import sys
import time
import types
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby, repeat, takewhile
from operator import itemgetter
from pathlib import Path
from typing import Any

from .analysis import common_english_words, content_words, english_term_rates, stem, user_cache_dir
from .model import FileCache, content_hash, list_procedure_files
from .ranking import RANKING


@contextlib.contextmanager
def _light_whoosh_imports() -> Iterator[None]:
    """Stand-ins for two imports Whoosh makes but a search never uses, while Whoosh loads.

    whoosh.compat imports urllib.request for a download helper nothing calls, and
    whoosh.reading imports the cached_property package (which imports asyncio) for one
    property: together a tenth of `kb search` at 10,000 procedures. Modules already imported,
    or imported later by anyone else, are the real ones.
    """
    stand_ins = {
        "urllib.request": types.ModuleType("urllib.request"),
        "cached_property": types.ModuleType("cached_property"),
    }
    stand_ins["urllib.request"].urlretrieve = None  # type: ignore[attr-defined]
    stand_ins["cached_property"].cached_property = functools.cached_property  # type: ignore[attr-defined]
    added = [name for name in stand_ins if name not in sys.modules]
    sys.modules.update({name: stand_ins[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            if sys.modules.get(name) is stand_ins[name]:
                del sys.modules[name]


with _light_whoosh_imports():
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher
    from whoosh.fields import ID, KEYWORD, STORED, FieldType, Schema
    from whoosh.formats import Existence
    from whoosh.matching.wrappers import FilterMatcher
    from whoosh.writing import CLEAR


FORMAT = 9
INDEX_NAME = "kb"
LOCK_WAIT_SECONDS = 120.0
IMPACT_DIGITS = RANKING.impact_digits
NOTIFY_MIN_DOCUMENTS = 200  # below this, writing is too quick to announce
IMPACT_FIELD = "text"
SEARCH_FIELDS = ("title", "tags", "keywords", "summary", "body", "alternates")


class ImpactField(FieldType):
    """A field of analysed terms whose posting weight is the impact (see `ImpactPostings`).

    Not "scorable": Whoosh keeps no field lengths for it, as the impacts are length-normalised.
    Its postings never pass through `add_document`; the codec's field writer writes them.
    """

    def __init__(self) -> None:
        super().__init__(format=Existence(), analyzer=None, scorable=False)


class ImpactPostings:
    """term -> (document numbers, impacts) of the documents a writer adds, in document order.

    Whoosh would take every posting one at a time through add_document, its sorting pool and
    its block writer: over half of an index build. Inverted here in one pass, they are written
    a block at a time (`_ImpactFieldWriter`), and the browser export of a full build reads
    them from here (`WrittenContents`).
    """

    def __init__(self) -> None:
        self.terms: defaultdict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))

    def add(self, docnum: int, impacts: Mapping[str, float]) -> None:
        terms = self.terms
        for term, impact in impacts.items():
            docnums, weights = terms[term]
            docnums.append(docnum)
            weights.append(impact)


class _ImpactFieldWriter(W3FieldWriter):
    """Writes the pool's postings as Whoosh does, then those of `ImpactPostings` a whole block
    at a time into Whoosh's own postings writer: the same bytes as adding each posting (checked
    on full and incremental builds) with whoosh-reloaded 2.7.5, which is pinned."""

    def __init__(self, codec: _Codec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._impacts = codec.impacts

    def add_postings(self, schema: Schema, lengths: Any, items: Iterator[tuple[Any, ...]]) -> None:
        terms = self._impacts.terms

        def other_fields() -> Iterator[tuple[Any, ...]]:
            # A merged segment's impacts come through the pool. Their document numbers follow
            # those of the added documents (Whoosh merges at commit), so appending keeps order.
            for item in items:
                if item[0] == IMPACT_FIELD:
                    docnums, weights = terms[item[1].decode("utf-8")]
                    docnums.append(item[2])
                    weights.append(item[3])
                else:
                    yield item

        super().add_postings(schema, lengths, other_fields())
        if not terms:
            return
        self.start_field(IMPACT_FIELD, schema[IMPACT_FIELD])
        postings = self._postwriter
        limit = postings._blocklimit
        for term in sorted(terms):
            docnums, weights = terms[term]
            self.start_term(term.encode("utf-8"))
            for start in range(0, len(docnums), limit):
                if start:  # the previous block was full: Whoosh writes it when the next posting comes
                    postings._write_block()
                block = weights[start : start + limit]
                top = max(block)
                postings._ids = array("I", docnums[start : start + limit])
                postings._weights = array("f", block)
                postings._maxweight = top if top > 0 else 0  # as add_posting keeps it
            self.finish_term()  # writes the last block
        self.finish_field()


class _Codec(W3Codec):
    """Whoosh's own format, without the per-posting field-length lookups nothing here reads, and
    with postings blocks left uncompressed: zlib was a tenth of an index build and of every read
    of the postings, for an index that is a cache on local disk. The impacts of the documents
    added are written from `impacts`."""

    length_stats = False

    def __init__(self, impacts: ImpactPostings | None = None) -> None:
        super().__init__(compression=0)
        self.impacts = impacts or ImpactPostings()

    def field_writer(self, storage: Any, segment: Any) -> _ImpactFieldWriter:
        return _ImpactFieldWriter(self, storage, segment)

    def __getstate__(self) -> dict[str, Any]:
        """The TOC pickles each segment with its codec; the impacts belong to one build only."""
        return {name: value for name, value in self.__dict__.items() if name != "impacts"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, impacts=ImpactPostings())


def _schema() -> Schema:
    return Schema(
        path=ID(stored=True, unique=True),
        **{IMPACT_FIELD: ImpactField()},
        tagkey=KEYWORD(scorable=False),
        category=KEYWORD(scorable=False),
        meta=STORED(),
    )


def encode_key(key: str) -> str:
    """Tag keys contain spaces; KEYWORD fields split on them."""
    return key.replace(" ", "_")


def decode_key(value: str) -> str:
    """A tag key back from its KEYWORD field value. Not exact for a key with a `_` of its own
    (it comes back with a space); `documents_with` encodes the value again, so lookups still match."""
    return value.replace("_", " ")


class IndexError_(RuntimeError):
    """An index problem that should reach the user as a message, not a traceback."""


class IndexBusy(IndexError_):
    pass


def default_index_dir(procedures_root: Path) -> Path:
    """A per-folder cache directory; `KB_INDEX_DIR` overrides it."""
    override = os.environ.get("KB_INDEX_DIR")
    if override:
        return Path(override).expanduser()
    base = user_cache_dir()
    resolved = procedures_root.resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=6).hexdigest()
    return base / f"{resolved.name or 'root'}-{digest}"


@dataclass
class Changes:
    """What differs between the procedures folder and the index."""

    changed: list[str] = field(default_factory=list)  # added or modified, relative paths
    deleted: list[str] = field(default_factory=list)
    # Saved again with the same content (new mtime, same hash): nothing to index, but the
    # recorded mtimes are out of date and every search would hash these files again.
    touched: dict[str, os.stat_result] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.changed or self.deleted)


@dataclass
class RefreshReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    full: bool = False


@dataclass
class AnalysedProcedure:
    """What the index keeps of a procedure: term counts per field, words, stored metadata."""

    path: str
    counts: dict[str, Counter[str]]
    words: list[str]  # surface words, for the typo vocabulary
    tag_keys: list[str]
    categories: list[str]
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
        }
        return cls(
            path=procedure.path,
            counts=counts,
            words=words,
            tag_keys=[tag.key for tag in procedure.tags],
            categories=sorted({tag.category_key for tag in procedure.tags}),
            meta=meta,
        )

    def impacts(self, averages: dict[str, float]) -> dict[str, float]:
        """BM25F's weighted, length-normalised term frequency of every term."""
        impact: Counter[str] = Counter()
        for name, counter in self.counts.items():
            length = sum(counter.values())
            if not length:
                continue
            b = RANKING.field_b[name]
            scale = RANKING.field_weights[name] / (1 - b + b * length / (averages.get(name) or 1.0))
            for term, count in counter.items():
                impact[term] += count * scale
        return {term: round(value, IMPACT_DIGITS) for term, value in impact.items()}

    def document(self) -> dict[str, Any]:
        """The fields Whoosh indexes and stores; the impacts go in through `ImpactPostings`."""
        return {
            "path": self.path,
            "tagkey": " ".join(encode_key(key) for key in self.tag_keys),
            "category": " ".join(encode_key(key) for key in self.categories),
            "meta": self.meta,
        }


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused, as a context or a decorator. Indexing and
    exporting allocate millions of small objects and almost no reference cycles, so every
    collection rescans a heap that only grows: a sixth of a 10,000-procedure build and export,
    for 8% more memory. Collections resume afterwards, nested uses included."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_json(path: Path, data: Any) -> None:
    _atomic_write_text(path, json.dumps(data, separators=(",", ":"), ensure_ascii=False))


def _listing_digest(files: Mapping[str, Any]) -> str:
    """A digest of path, mtime and size of every file: from a folder listing (`os.stat_result`s)
    or from files.json's [hash, mtime, size] entries, which give the same digest for the same files."""
    lines = []
    for rel in sorted(files):
        entry = files[rel]
        mtime, size = (entry.st_mtime_ns, entry.st_size) if isinstance(entry, os.stat_result) else (entry[1], entry[2])
        lines.append(f"{rel}\0{mtime}\0{size}\n")
    return hashlib.blake2b("".join(lines).encode(), digest_size=16).hexdigest()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class SearchIndex:
    """The index of one procedures folder."""

    def __init__(self, procedures_root: Path, index_dir: Path | None = None) -> None:
        self.root = procedures_root
        self.dir = index_dir or default_index_dir(procedures_root)
        self.files_path = self.dir / "files.json"
        self.stamp_path = self.dir / "stamp.json"
        self.vocab_path = self.dir / "vocab.json"
        self.english_path = self.dir / "english.txt"
        self.english_rates_path = self.dir / "english-rates.pickle"
        self._files: dict[str, list[Any]] | None = None
        self._vocab: dict[str, int] | None = None
        self._english: frozenset[str] | None = None
        self._english_rates: dict[str, float] | None = None
        self._sorted_words: list[str] | None = None
        # What the last refresh wrote when it wrote every document: the export of a freshly
        # built index reads it from memory instead of reading the index back.
        self.written: WrittenContents | None = None

    # ---- state -------------------------------------------------------------------------
    def _indexed_files(self, reload: bool = False) -> dict[str, list[Any]] | None:
        """path -> [hash, mtime_ns, size] of the indexed files, or None without a usable index."""
        if self._files is None or reload:
            data = _read_json(self.files_path)
            self._files = data["files"] if isinstance(data, dict) and data.get("format") == FORMAT else None
        return self._files

    def exists(self) -> bool:
        """Cheap: the stamp has this format and a Whoosh TOC is there (opening it is left to `open`)."""
        stamp = _read_json(self.stamp_path)
        return isinstance(stamp, dict) and stamp.get("format") == FORMAT and any(self.dir.glob(f"_{INDEX_NAME}_*.toc"))

    def changes(self, reload: bool = False) -> Changes:
        """Files added, modified or deleted since the last refresh; cheap when nothing changed.

        Every search asks, so the usual answer, "nothing", comes from comparing a digest of the
        folder listing with the one recorded at the last refresh, without reading files.json.
        """
        current = list_procedure_files(self.root)
        stamp = _read_json(self.stamp_path)
        if isinstance(stamp, dict) and stamp.get("format") == FORMAT and stamp.get("listing") == _listing_digest(current):
            return Changes()
        known = self._indexed_files(reload=reload) or {}
        result = Changes()
        for rel, stat in current.items():
            previous = known.get(rel)
            if previous is None:
                result.changed.append(rel)
            elif previous[1] != stat.st_mtime_ns or previous[2] != stat.st_size:
                try:
                    if content_hash((self.root / rel).read_bytes()) != previous[0]:
                        result.changed.append(rel)
                    else:
                        result.touched[rel] = stat
                except OSError:
                    result.changed.append(rel)
        result.deleted = sorted(set(known) - set(current))
        return result

    # ---- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _write_lock(self, wait: float, notify: Callable[[str], None] | None) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "kb.lock", "a+") as handle:
            deadline = time.monotonic() + wait
            told = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        message = f"another process has been updating the index in {self.dir} for over {wait:.0f} s; try again later"
                        raise IndexBusy(message) from None
                    if not told and notify:
                        notify(f"waiting for another process that is updating the index in {self.dir} ...")
                        told = True
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @gc_paused()
    def refresh(
        self,
        full: bool = False,
        progress: Callable[[int, int], None] | None = None,
        notify: Callable[[str], None] | None = None,
        lock_wait: float = LOCK_WAIT_SECONDS,
        cache: FileCache | None = None,
    ) -> RefreshReport:
        """Brings the index up to date with the folder: only changed files unless `full`.

        `progress(done, total)` follows the reading of files; `notify(message)` gets the waits
        and stages a user should hear about. `cache` holds files a caller has read already (the
        site build's validation); an entry is used while the file's mtime and size still match.
        """
        from .model import load_file

        started = time.perf_counter()
        self.written = None
        with self._write_lock(lock_wait, notify):
            state = _read_json(self.files_path)
            if not isinstance(state, dict) or state.get("format") != FORMAT or not whoosh_index.exists_in(str(self.dir), INDEX_NAME):
                self._create_empty()
                state, full = None, True
            previous: dict[str, list[Any]] = state["files"] if state else {}
            if full:
                todo = list(list_procedure_files(self.root))
                deleted = sorted(set(previous) - set(todo))
                files: dict[str, list[Any]] = {}
                vocab: Counter[str] = Counter()
                totals: Counter[str] = Counter()
                documents = 0
            else:
                self._files = previous
                changes = self.changes()
                todo, deleted = changes.changed, changes.deleted
                files = dict(previous)
                for rel, stat in changes.touched.items():
                    files[rel] = [files[rel][0], stat.st_mtime_ns, stat.st_size]
                vocab, totals, documents = Counter(self.vocabulary()), Counter(state["totals"]), state["documents"]
            report = RefreshReport(full=full, deleted=len(deleted))
            if not todo and not deleted and not full:
                if changes.touched or _read_json(self.stamp_path) is None:
                    self._write_state(files, documents, totals)
                report.unchanged = len(files)
                report.seconds = time.perf_counter() - started
                return report

            ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
            if not full:  # take the old versions' words and lengths out of the running totals
                with ix.searcher() as searcher:
                    for rel in [*todo, *deleted]:
                        old = searcher.document(path=rel)
                        if old:
                            vocab.subtract(old["meta"]["words"])
                            totals.subtract(old["meta"]["lengths"])
                            documents -= 1
            analysed: list[AnalysedProcedure] = []
            for count, rel in enumerate(todo, start=1):
                file_path = self.root / rel
                if rel in previous and not full:
                    report.updated += 1
                else:
                    report.added += 1
                try:
                    stat = file_path.stat()
                except OSError:  # gone since the listing
                    stat, procedure = None, None
                    files.pop(rel, None)
                if stat is not None:
                    entry = cache.get(rel) if cache is not None else None
                    if entry is not None and (entry[0], entry[1]) == (stat.st_mtime_ns, stat.st_size):
                        procedure = entry[2]
                    else:
                        procedure, _problems = load_file(file_path, self.root)
                    files[rel] = [procedure.content_hash if procedure else "", stat.st_mtime_ns, stat.st_size]
                if procedure is not None:  # an unreadable file is remembered but not searchable
                    item = AnalysedProcedure.of(procedure)
                    analysed.append(item)
                    vocab.update(item.words)
                    totals.update(item.meta["lengths"])
                    documents += 1
                if progress:
                    progress(count, len(todo))
            for rel in deleted:
                files.pop(rel, None)

            averages = {name: totals[name] / documents if documents else 1.0 for name in SEARCH_FIELDS}
            if notify and len(analysed) >= NOTIFY_MIN_DOCUMENTS:
                notify(f"writing the index ({len(analysed)} procedures) ...")
            impacts = ImpactPostings()
            writer = ix.writer(limitmb=256, compound=False, codec=_Codec(impacts))
            documents_written = [item.document() for item in analysed]
            try:
                if full:
                    writer.mergetype = CLEAR
                else:
                    for rel in set(deleted) | set(todo):
                        writer.delete_by_term("path", rel)
                for item, document in zip(analysed, documents_written, strict=True):
                    impacts.add(writer.docnum, item.impacts(averages))
                    writer.add_document(**document)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            if not self.english_path.exists():
                _atomic_write_text(self.english_path, "\n".join(common_english_words()))
            if not self.english_rates_path.exists():  # pickled: read by every search, twice as fast as JSON
                _atomic_write_bytes(self.english_rates_path, pickle.dumps(english_term_rates(), protocol=pickle.HIGHEST_PROTOCOL))
            vocabulary = {word: count for word, count in sorted(vocab.items()) if count > 0}
            _atomic_write_json(self.vocab_path, vocabulary)
            self._write_state(files, documents, totals)
            self.written = WrittenContents(documents_written, impacts) if full else None
            self._vocab, self._sorted_words = vocabulary, None
            report.unchanged = len(files) - report.added - report.updated
            report.seconds = time.perf_counter() - started
            return report

    def _write_state(self, files: dict[str, list[Any]], documents: int, totals: Counter[str]) -> None:
        state = {"format": FORMAT, "root": str(self.root.resolve()), "documents": documents, "totals": dict(totals), "files": files}
        _atomic_write_json(self.files_path, state)
        # Last: a stamp that matches the folder only once everything before it is written.
        _atomic_write_json(self.stamp_path, {"format": FORMAT, "listing": _listing_digest(files)})
        self._files = files

    def _create_empty(self) -> None:
        """A fresh index; whatever was in the folder (an older format, debris) is removed."""
        for child in self.dir.iterdir():
            if child.name == "kb.lock":
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        whoosh_index.create_in(str(self.dir), _schema(), indexname=INDEX_NAME)
        self._files = None

    # ---- reading -----------------------------------------------------------------------
    def vocabulary(self) -> dict[str, int]:
        """Surface words of the whole collection with their document frequency."""
        if self._vocab is None:
            self._vocab = _read_json(self.vocab_path) or {}
        return self._vocab

    def words_starting_with(self, prefix: str) -> list[str]:
        """Collection words that start with `prefix` (and are longer), by binary search."""
        if self._sorted_words is None:
            self._sorted_words = sorted(self.vocabulary())
        words = self._sorted_words
        start = bisect.bisect_right(words, prefix)
        end = bisect.bisect_left(words, prefix + "\uffff", start)
        return words[start:end]

    def english_words(self) -> frozenset[str]:
        if self._english is None:
            try:
                self._english = frozenset(self.english_path.read_text(encoding="utf-8").split())
            except OSError:
                self._english = frozenset()
        return self._english

    def english_rates(self) -> dict[str, float]:
        """Everyday-English frequency of each term (see analysis.english_term_rates)."""
        if self._english_rates is None:
            try:
                self._english_rates = pickle.loads(self.english_rates_path.read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError):
                self._english_rates = {}
        return self._english_rates

    def open(self) -> IndexReader:
        for attempt in range(3):
            try:
                ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
                return IndexReader(ix.reader(), self)
            except (OSError, whoosh_index.EmptyIndexError) as exc:
                # A writer may have replaced the files between reading the TOC and the segments.
                if attempt == 2:
                    raise IndexError_(f"cannot open the index in {self.dir}: {exc}; run 'kb index --full'") from exc
                time.sleep(0.05)
        raise AssertionError("unreachable")


def _posting_blocks(matcher: Any) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """(document numbers, weights) of a segment's posting list, a block at a time.

    Whoosh's matcher API costs three Python calls per posting; for its on-disk block format
    (whoosh-reloaded 2.7.5 is pinned) whole blocks are read at once, several times faster.
    """
    excluded: set[int] | frozenset[int] = frozenset()
    if isinstance(matcher, FilterMatcher) and matcher._exclude:  # a segment with deleted documents
        excluded, matcher = matcher._ids, matcher.child
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids, weights = matcher._ids, matcher._weights
            if excluded:
                kept = [i for i, docnum in enumerate(ids) if docnum not in excluded]
                ids, weights = [ids[i] for i in kept], [weights[i] for i in kept]
            yield ids, weights
            if matcher._lastblock:
                return
            matcher._goto(matcher._nextoffset)
        return
    ids, weights = [], []
    while matcher.is_active():
        if matcher.id() not in excluded:
            ids.append(matcher.id())
            weights.append(matcher.weight())
        matcher.next()
    yield ids, weights


class WrittenContents:
    """The documents a full refresh has just written, answering the browser export's questions
    as an IndexReader of that index would, from memory: in the same order, with the weights
    stored as Whoosh stores them (32-bit floats) and the keyword values as it decodes them."""

    def __init__(self, documents: list[dict[str, Any]], impacts: ImpactPostings) -> None:
        self._documents = documents  # in the order written: Whoosh's document numbers
        self._impacts = impacts
        self._keyword_docs: dict[str, dict[str, list[int]]] = {}

    def documents(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for docnum, document in enumerate(self._documents):
            yield docnum, {"path": document["path"], **document["meta"]}

    def all_impacts(self) -> Iterator[tuple[str, dict[int, float]]]:
        terms = self._impacts.terms
        for term in sorted(terms):
            docnums, weights = terms[term]
            yield term, dict(zip(docnums, map(round, array("f", weights), repeat(IMPACT_DIGITS)), strict=True))

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


class IndexReader:
    """Read access for one query batch: impacts, stored metadata, tag lookups."""

    def __init__(self, reader: Any, index: SearchIndex) -> None:
        # A Whoosh reader, not a searcher: `whoosh.searching` imports the query parser and its
        # English morphology tables, 40 ms that a search through impacts never uses.
        self._reader = reader
        self.index = index
        # An index without documents has one empty reader with no term dictionary: it has no leaves.
        self._leaves = [(leaf, offset) for leaf, offset in reader.leaf_readers() if leaf.doc_count_all()]
        self._impacts: dict[str, dict[int, float]] = {}  # read once per open reader

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._reader.close()

    @property
    def doc_count(self) -> int:
        return self._reader.doc_count()

    def has_term(self, term: str) -> bool:
        """Whether a live procedure has the term (Whoosh's lexicon also keeps terms of deleted
        documents until segments merge; the browser export does not)."""
        return bool(self.impacts(term))

    def impacts(self, term: str) -> dict[int, float]:
        """Document number -> impact of the term, for every live document containing it.

        Impacts are rounded as the browser export writes them, so both fronts score alike.
        """
        if term in self._impacts:
            return self._impacts[term]
        found: dict[int, float] = {}
        for leaf, offset in self._leaves:
            if (IMPACT_FIELD, term) in leaf:
                for ids, weights in _posting_blocks(leaf.postings(IMPACT_FIELD, term)):
                    if offset:
                        ids = [docnum + offset for docnum in ids]
                    found.update(zip(ids, map(round, weights, repeat(IMPACT_DIGITS)), strict=True))
        self._impacts[term] = found
        return found

    def documents_with(self, fieldname: str, value: str) -> list[int]:
        """Document numbers whose keyword field `tagkey` or `category` holds the value."""
        value = encode_key(value)
        if (fieldname, value) not in self._reader:
            return []
        return list(self._reader.postings(fieldname, value).all_ids())

    def all_impacts(self) -> Iterator[tuple[str, dict[int, float]]]:
        """Every term of the scored field with its impacts (live documents only), in term order.

        For the browser export: each segment's term dictionary is read in order and merged, which
        is several times faster than looking every term up.
        """
        streams = []
        for number, (leaf, _offset) in enumerate(self._leaves):
            entries = takewhile(lambda entry: entry[0][0] == IMPACT_FIELD, leaf._terms.items_from(IMPACT_FIELD, b""))
            streams.append(((tbytes, n, terminfo) for ((_field, tbytes), terminfo), n in zip(entries, repeat(number))))
        text_format = self._reader.schema[IMPACT_FIELD].format
        for tbytes, group in groupby(heapq.merge(*streams, key=itemgetter(0, 1)), key=itemgetter(0)):
            found: dict[int, float] = {}
            for _tbytes, number, terminfo in group:
                leaf, offset = self._leaves[number]
                matcher = leaf._terms._codec.postings_reader(leaf._terms._postfile, terminfo, text_format, term=(IMPACT_FIELD, tbytes))
                if leaf.has_deletions():
                    matcher = FilterMatcher(matcher, leaf.deleted_docs_set, exclude=True)
                for ids, weights in _posting_blocks(matcher):
                    found.update(zip((docnum + offset for docnum in ids), map(round, weights, repeat(IMPACT_DIGITS)), strict=True))
            if found:
                yield tbytes.decode("utf-8"), found

    def documents(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(document number, stored fields) of every live document."""
        for docnum in self._reader.all_doc_ids():
            yield docnum, self.stored(docnum)

    def keyword_values(self, fieldname: str) -> Iterator[str]:
        """The decoded values of the `tagkey` or `category` keyword field."""
        for value in self._reader.lexicon(fieldname):
            yield decode_key(value.decode("utf-8") if isinstance(value, bytes) else value)

    def stored(self, docnum: int) -> dict[str, Any]:
        fields = self._reader.stored_fields(docnum)
        return {"path": fields["path"], **fields["meta"]}
