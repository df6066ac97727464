"""The index of one procedures folder: keeping it in step with the files, and opening it.

A refresh analyses the changed procedure files (search/index_document.py), computes their BM25F
impacts from the collection's average field lengths, and commits them through Whoosh's writer
(search/index_writer.py) into the schema of search/index_fields.py; searches and the browser
export read it through search/index_reader.py. After incremental updates the field-length
averages of older documents drift slightly; `kb index --full` renormalises everything.

Layout of an index folder (outside the procedures folder, see `default_index_dir`). The folder
holds only what the engine writes, and the engine deletes only files of its own names there
(search/storage.py); `.service-kb-index` marks it as the engine's.
- Whoosh segment and TOC files. Whoosh writes the TOC last, by rename, so a build that is killed
  half way leaves the previous commit answering.
- `files.json`: content hash, mtime and size of every indexed file, the document count and the
  running totals of field lengths behind the averages; `vocab.json`: surface words and their
  document frequency, for typo correction and fragments. Both name the commit they describe and
  are ignored when it is not the current one: the state is then computed again from the
  documents, which store their words, field lengths and file facts (search/index_state.py). So
  a kill between a commit and these writes, or a full disk, never leaves them disagreeing with
  the index. A refresh updates them from the changed files alone.
- `stamp.json`: the index format, the commit and a digest of the folder listing (path, mtime,
  size) as of the last refresh, written last: a search compares it with a fresh listing and
  reads files.json only when they differ.
- `english.txt`: everyday English words, so that a real word absent from the procedures is not
  "corrected" into a procedure word; `english-rates.pickle`: their rates per stem, for the
  background prior of search/query.py. Written before the first commit.
- `thesaurus.pickle`: the parsed synonyms (search/analysis.py's load_thesaurus).
- `kb.lock`: an fcntl lock that serialises writers; it dies with its process.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from .analysis import common_english_words, english_term_rates, user_cache_dir
from .index_document import AnalysedProcedure
from .index_fields import IMPACT_DIGITS, IMPACT_FIELD, index_schema
from .index_reader import IndexReader, WrittenContents
from .index_state import FILES_JSON, VOCAB_JSON, IndexState, atomic_write_bytes, atomic_write_json, commit_token, read_json, read_words
from .index_writer import IndexBusy, commit_documents, gc_paused, write_lock
from .meaning import ProcedureVectors, load_vectors, save_vectors
from .model import FileCache, content_hash, list_procedure_files
from .ranking import RANKING
from .storage import INDEX_FOLDER, INDEX_NAME, IndexError_, check_placement, claim_folder, delete_own_files, write_errors_named

__all__ = [
    "IMPACT_DIGITS",
    "IMPACT_FIELD",
    "AnalysedProcedure",
    "Changes",
    "IndexBusy",
    "IndexError_",
    "IndexReader",
    "RefreshReport",
    "SearchIndex",
    "WrittenContents",
    "default_index_dir",
    "gc_paused",
]

FORMAT = 14
LOCK_WAIT_SECONDS = 120.0
NOTIFY_MIN_DOCUMENTS = 200  # below this, writing is too quick to announce
# What opening an index that cannot be used raises: damaged files, or the table of contents of an
# older format naming classes that no longer exist. A refresh then starts a fresh index.
UNREADABLE_INDEX = (
    OSError,
    whoosh_index.EmptyIndexError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    ImportError,
    pickle.UnpicklingError,
)
SEARCH_FIELDS = ("title", "tags", "keywords", "summary", "body", "alternates")


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
    """What one refresh did: files added, updated, deleted and left alone, its time, and whether
    it rebuilt the whole index."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    full: bool = False


def _listing_digest(files: Mapping[str, Any]) -> str:
    """A digest of path, mtime and size of every file: from a folder listing (`os.stat_result`s)
    or from files.json's [hash, mtime, size] entries, which give the same digest for the same files."""
    lines = []
    for rel in sorted(files):
        entry = files[rel]
        mtime, size = (entry.st_mtime_ns, entry.st_size) if isinstance(entry, os.stat_result) else (entry[1], entry[2])
        lines.append(f"{rel}\0{mtime}\0{size}\n")
    return hashlib.blake2b("".join(lines).encode(), digest_size=16).hexdigest()


class SearchIndex:
    """The index of one procedures folder.

    The folder holds only what the engine writes (search/storage.py): the index is never
    written in, around or above the procedures folder or a `protected` folder (the site).
    """

    def __init__(self, procedures_root: Path, index_dir: Path | None = None, protected: Sequence[Path] = ()) -> None:
        self.root = procedures_root
        self.dir = index_dir or default_index_dir(procedures_root)
        self.protected = tuple(protected)
        self.files_path = self.dir / FILES_JSON
        self.stamp_path = self.dir / "stamp.json"
        self.vocab_path = self.dir / VOCAB_JSON
        self.english_path = self.dir / "english.txt"
        self.english_rates_path = self.dir / "english-rates.pickle"
        self._commit: str | None = None
        self._state: IndexState | None = None
        self._vocab: dict[str, int] | None = None
        self._english: frozenset[str] | None = None
        self._english_rates: dict[str, float] | None = None
        self._sorted_words: list[str] | None = None
        self._vectors: ProcedureVectors | None = None
        self.vectors_path = self.dir / "meaning.npz"
        # What the last refresh wrote when it wrote every document: the export of a freshly
        # built index reads it from memory instead of reading the index back.
        self.written: WrittenContents | None = None

    # ---- state -------------------------------------------------------------------------
    def _current_commit(self, reload: bool = False) -> str | None:
        """The token of the index's latest commit (search/index_state.py), None without an index."""
        if self._commit is None or reload:
            self._commit = commit_token(self.dir)
        return self._commit

    def _indexed_state(self, reload: bool = False) -> IndexState | None:
        """The files, totals and words of the current commit, or None without a usable index.

        Read from files.json and vocab.json when they describe this commit, else computed
        from the index's documents (after a kill or a failed write between commit and save).
        """
        if self._state is None or reload:
            commit = self._current_commit(reload)
            state = IndexState.load(self.dir, commit, FORMAT) if commit else None
            if state is None and commit:
                state = self._state_from_index(commit)
            self._state = state
        return self._state

    def _state_from_index(self, commit: str) -> IndexState | None:
        try:
            ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
            with ix.reader() as reader:
                stored = (fields["meta"] | {"path": fields["path"]} for _, fields in reader.iter_docs())
                return IndexState.of_documents(commit, stored, FORMAT)
        except UNREADABLE_INDEX:
            return None

    def exists(self) -> bool:
        """Cheap: the stamp has this format and a Whoosh TOC is there (opening it is left to `open`)."""
        stamp = read_json(self.stamp_path)
        return isinstance(stamp, dict) and stamp.get("format") == FORMAT and any(self.dir.glob(f"_{INDEX_NAME}_*.toc"))

    def _stamp(self, files: Mapping[str, Any]) -> dict[str, Any]:
        """What stamp.json says when the folder listing is `files` and the index is the current commit."""
        return {"format": FORMAT, "commit": self._current_commit(), "listing": _listing_digest(files)}

    def changes(self, reload: bool = False) -> Changes:
        """Files added, modified or deleted since the last refresh; cheap when nothing changed.

        Every search asks, so the usual answer, "nothing", comes from comparing a digest of the
        folder listing with the one recorded at the last refresh (for the current commit),
        without reading files.json.
        """
        current = list_procedure_files(self.root)
        if read_json(self.stamp_path) == self._stamp(current):
            return Changes()
        state = self._indexed_state(reload=reload)
        known = state.files if state else {}
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
        Raises FolderRefused for a folder that is not the engine's to write (search/storage.py)
        and IndexWriteError, naming the folder, when it cannot be written; the last commit then
        still answers searches.
        """
        started = time.perf_counter()
        self.written = None
        with write_errors_named(self.dir):
            self.claim_folder()
            with write_lock(self.dir, lock_wait, notify):
                return self._refresh_locked(full, progress, notify, cache, started)

    def check_placement(self) -> None:
        """Raises FolderRefused when the index folder is, contains or lies inside the procedures
        folder or a protected one (search/storage.py). Writes nothing."""
        keep_clear_of = [("the procedures folder", self.root), *(("the protected folder", folder) for folder in self.protected)]
        check_placement(self.dir, INDEX_FOLDER, keep_clear_of)

    def claim_folder(self) -> None:
        """Makes sure the index folder may be written and is the engine's (search/storage.py),
        creating it with its marker if need be; raises FolderRefused or IndexWriteError."""
        self.check_placement()
        with write_errors_named(self.dir):
            claim_folder(self.dir, INDEX_FOLDER)

    def _refresh_locked(
        self,
        full: bool,
        progress: Callable[[int, int], None] | None,
        notify: Callable[[str], None] | None,
        cache: FileCache | None,
        started: float,
    ) -> RefreshReport:
        from .model import load_file

        state = self._indexed_state(reload=True)
        if state is None:
            self._create_empty()
            full = True
        self._write_word_lists()
        previous: dict[str, list[Any]] = state.files if state else {}
        if full:
            todo = list(list_procedure_files(self.root))
            deleted = sorted(set(previous) - set(todo))
            files: dict[str, list[Any]] = {}
            vocab: Counter[str] = Counter()
            totals: Counter[str] = Counter()
            documents = 0
        else:
            assert state is not None
            changes = self.changes()
            todo, deleted = changes.changed, changes.deleted
            files = dict(previous)
            for rel, stat in changes.touched.items():
                files[rel] = [files[rel][0], stat.st_mtime_ns, stat.st_size]
            vocab, totals, documents = Counter(state.vocabulary), Counter(state.totals), state.documents
        report = RefreshReport(full=full, deleted=len(deleted))
        if not todo and not deleted and not full:
            assert state is not None
            if changes.touched:
                self._save(IndexState(state.commit, files, documents, totals, vocab))
            elif read_json(self.stamp_path) != self._stamp(files):
                atomic_write_json(self.stamp_path, self._stamp(files))
            report.unchanged = len(files)
            report.seconds = time.perf_counter() - started
            return report

        ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
        before = None if full or state is None else load_vectors(self.vectors_path, state.commit)
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
            # An unreadable file, a draft and an archived procedure are remembered but not searchable.
            if procedure is not None and procedure.published:
                item = AnalysedProcedure.of(procedure)
                item.meta["source"] = [FORMAT, *files[rel]]  # what files.json says of it, to rebuild files.json from the index
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
        written = [item.document(item.impacts(averages, RANKING.field_weights, RANKING.field_b)) for item in analysed]
        commit_documents(ix, self.dir, written, sorted(set(deleted) | set(todo)), full)
        commit = self._current_commit(reload=True)
        if commit is None:
            raise IndexError_(f"the index in {self.dir} has no table of contents after writing it")
        self.written = WrittenContents(written) if full else None
        self._save(IndexState(commit, files, documents, totals, vocab))
        self._save_procedure_vectors(commit, before, [*todo, *deleted], analysed)
        report.unchanged = len(files) - report.added - report.updated
        report.seconds = time.perf_counter() - started
        return report

    def _save(self, state: IndexState) -> None:
        """Keeps the state of the current commit: in memory first (so this process answers right
        even if the writes below fail), then in vocab.json and files.json, then the stamp."""
        self._state, self._vocab, self._sorted_words = state, state.words(), None
        state.save(self.dir, self.root, FORMAT)
        # Last: a stamp that matches the folder only once everything before it is written.
        atomic_write_json(self.stamp_path, self._stamp(state.files))

    def _save_procedure_vectors(
        self, commit: str, before: ProcedureVectors | None, changed: Sequence[str], analysed: list[AnalysedProcedure]
    ) -> None:
        """The meaning vectors of the commit's documents, kept in meaning.npz (search/meaning.py):
        those `before` the commit with the `changed` files' rows replaced by the `analysed`
        ones, or, without them, the vectors of every document."""
        if before is not None:
            self._vectors = before.updated(changed, {item.path: item.meta["meaning"] for item in analysed})
        elif self.written is not None:
            self._vectors = ProcedureVectors.of_documents(self.written.documents())
        else:
            self._vectors = self._vectors_of_documents()
        if self._vectors is not None:
            save_vectors(self.vectors_path, commit, self._vectors)

    def _write_word_lists(self) -> None:
        """The everyday-English words and rates, written before any commit so that a search
        never finds an index without them."""
        if not self.english_path.exists():
            atomic_write_bytes(self.english_path, "\n".join(common_english_words()).encode("utf-8"))
        if not self.english_rates_path.exists():  # pickled: read by every search, twice as fast as JSON
            atomic_write_bytes(self.english_rates_path, pickle.dumps(english_term_rates(), protocol=pickle.HIGHEST_PROTOCOL))

    def _create_empty(self) -> None:
        """A fresh index. The folder's files of the engine's own names (an older format, the
        derived files of another commit, debris of a killed writer) are deleted first; nothing else is."""
        delete_own_files(self.dir, INDEX_FOLDER, keep=lambda relative: relative == "kb.lock")
        whoosh_index.create_in(str(self.dir), index_schema(), indexname=INDEX_NAME)
        self._commit = self._state = self._vocab = self._sorted_words = self._vectors = None
        self._english = self._english_rates = None

    # ---- reading -----------------------------------------------------------------------
    def vocabulary(self) -> dict[str, int]:
        """Surface words of the whole collection with their document frequency."""
        if self._vocab is None:
            commit = self._current_commit()
            words = read_words(self.dir, commit, FORMAT) if commit else None
            if words is None:
                state = self._indexed_state()
                words = state.words() if state else {}
            self._vocab = words
        return self._vocab

    def procedure_vectors(self) -> ProcedureVectors | None:
        """The meaning vectors of the current commit's documents; None without the word-vector
        table. Read from meaning.npz when it names this commit, else from the documents."""
        if self._vectors is None:
            commit = self._current_commit()
            self._vectors = load_vectors(self.vectors_path, commit) if commit else None
            if self._vectors is None and commit:
                self._vectors = self._vectors_of_documents()
        return self._vectors

    def _vectors_of_documents(self) -> ProcedureVectors | None:
        """The meaning vectors read back from every document of the index (its stored fields)."""
        with self.open() as reader:
            return ProcedureVectors.of_documents(reader.documents())

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
                return IndexReader(ix.reader())
            except (OSError, whoosh_index.EmptyIndexError) as exc:
                # A writer may have replaced the files between reading the TOC and the segments.
                if attempt == 2:
                    raise IndexError_(f"cannot open the index in {self.dir}: {exc}; run 'kb index --full'") from exc
                time.sleep(0.05)
        raise AssertionError("unreachable")
