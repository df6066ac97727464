"""The on-disk index: the only module that talks to Whoosh.

Layout of an index folder (outside the procedures folder, see `default_index_dir`):
- Whoosh segment and TOC files. Whoosh writes the TOC last, by rename, so a build that is killed
  half way leaves the previous generation answering.
- `state.json`: for every indexed file its content hash, mtime and size, so refreshes only
  touch changed files. Written after each commit; if a kill lands between the two, the next
  refresh redoes those files, which is harmless because documents are keyed by path.
- `vocab.json`: surface words and document frequencies, for typo correction and prefixes.
- `english.txt`: everyday English words, so that a real word absent from the procedures is not
  "corrected" into a procedure word.
- `kb.lock`: an fcntl lock that serialises writers; it dies with its process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.writing import CLEAR

from .analysis import common_english_words, content_words, terms

FORMAT = 3
INDEX_NAME = "kb"
SEARCH_FIELDS = ("title", "tags", "keywords", "summary", "body", "alternates")
LOCK_WAIT_SECONDS = 120.0


def _schema() -> Schema:
    pre_analysed = {name: TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False) for name in SEARCH_FIELDS}
    return Schema(
        path=ID(stored=True, unique=True),
        tagkey=KEYWORD(scorable=False),
        category=KEYWORD(scorable=False),
        words=KEYWORD(scorable=False),
        meta=STORED(),
        **pre_analysed,
    )


def encode_key(key: str) -> str:
    """Tag keys contain spaces; KEYWORD fields split on them."""
    return key.replace(" ", "_")


class IndexError_(RuntimeError):
    """An index problem that should reach the user as a message, not a traceback."""


class IndexBusy(IndexError_):
    pass


def default_index_dir(procedures_root: Path) -> Path:
    """A per-folder cache directory; `KB_INDEX_DIR` overrides it."""
    override = os.environ.get("KB_INDEX_DIR")
    if override:
        return Path(override).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "service-kb"
    resolved = procedures_root.resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=6).hexdigest()
    return base / f"{resolved.name or 'root'}-{digest}"


@dataclass
class FileState:
    hash: str
    mtime_ns: int
    size: int


@dataclass
class Changes:
    """What differs between the procedures folder and the index."""

    changed: list[str] = field(default_factory=list)  # added or modified, relative paths
    deleted: list[str] = field(default_factory=list)
    current: dict[str, os.stat_result] = field(default_factory=dict)

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


def document_fields(procedure: Any) -> dict[str, Any]:
    """The Whoosh document for one `Procedure`."""
    alternates_text = " ".join(f"{alt.title} {alt.text}" for alt in procedure.alternates)
    text_fields = {
        "title": procedure.title,
        "tags": " ".join(tag.label.replace(":", " ") for tag in procedure.tags),
        "keywords": " ; ".join(procedure.keywords),
        "summary": procedure.summary,
        "body": procedure.main_text,
        "alternates": alternates_text,
    }
    vocabulary = set()
    for text in text_fields.values():
        vocabulary.update(content_words(text))
    return {
        "path": procedure.path,
        "tagkey": " ".join(encode_key(tag.key) for tag in procedure.tags),
        "category": " ".join(sorted({encode_key(tag.category_key) for tag in procedure.tags})),
        "words": " ".join(sorted(vocabulary)),
        "meta": {
            "title": procedure.title,
            "tags": [tag.label for tag in procedure.tags],
            "summary": procedure.summary,
            "alternates": [[alt.title, alt.text] for alt in procedure.alternates],
        },
        **{name: " ".join(terms(text)) for name, text in text_fields.items()},
    }


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _atomic_write_json(path: Path, data: Any) -> None:
    _atomic_write_text(path, json.dumps(data, separators=(",", ":")))


class SearchIndex:
    """The index of one procedures folder."""

    def __init__(self, procedures_root: Path, index_dir: Path | None = None) -> None:
        self.root = procedures_root
        self.dir = index_dir or default_index_dir(procedures_root)
        self.state_path = self.dir / "state.json"
        self.vocab_path = self.dir / "vocab.json"
        self.english_path = self.dir / "english.txt"
        self._vocab: dict[str, int] | None = None
        self._english: frozenset[str] | None = None

    # ---- state -------------------------------------------------------------------------
    def _read_state(self) -> dict[str, FileState] | None:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if data.get("format") != FORMAT:
            return None
        return {path: FileState(*entry) for path, entry in data["files"].items()}

    def exists(self) -> bool:
        return self._read_state() is not None and whoosh_index.exists_in(str(self.dir), INDEX_NAME)

    def changes(self) -> Changes:
        """Files added, modified or deleted since the last refresh; cheap when nothing changed."""
        from .model import content_hash, find_procedure_files, relative_path

        known = self._read_state() or {}
        result = Changes()
        for path in find_procedure_files(self.root):
            rel = relative_path(path, self.root)
            try:
                stat = path.stat()
            except OSError:
                continue
            result.current[rel] = stat
            previous = known.get(rel)
            if previous is None:
                result.changed.append(rel)
            elif previous.mtime_ns != stat.st_mtime_ns or previous.size != stat.st_size:
                try:
                    if content_hash(path.read_bytes()) != previous.hash:
                        result.changed.append(rel)
                except OSError:
                    result.changed.append(rel)
        result.deleted = sorted(set(known) - set(result.current))
        return result

    # ---- writing -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _write_lock(self, wait: float, on_wait: Callable[[str], None] | None) -> Iterator[None]:
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
                        raise IndexBusy(
                            f"another process has been updating the index in {self.dir} for over {wait:.0f} s; try again later"
                        ) from None
                    if not told and on_wait:
                        on_wait(f"waiting for another process that is updating the index in {self.dir} ...")
                        told = True
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def refresh(
        self,
        full: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        lock_wait: float = LOCK_WAIT_SECONDS,
    ) -> RefreshReport:
        """Brings the index up to date with the folder: only changed files unless `full`."""
        from .model import load_file

        started = time.perf_counter()
        with self._write_lock(lock_wait, on_wait):
            state = self._read_state()
            if state is None or not whoosh_index.exists_in(str(self.dir), INDEX_NAME):
                self._create_empty()
                full, state = True, {}
            elif full:
                state = {}
            changes = self.changes() if not full else None
            if full:
                from .model import find_procedure_files, relative_path

                todo = [relative_path(p, self.root) for p in find_procedure_files(self.root)]
                deleted: list[str] = []
            else:
                todo, deleted = changes.changed, changes.deleted
            report = RefreshReport(full=full, deleted=len(deleted))
            ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
            writer = ix.writer(limitmb=256)
            try:
                if full:
                    writer.mergetype = CLEAR
                for path in deleted:
                    writer.delete_by_term("path", path)
                    state.pop(path, None)
                for count, rel in enumerate(todo, start=1):
                    file_path = self.root / rel
                    procedure, _problems = load_file(file_path, self.root)
                    if procedure is None:  # unreadable: remove any old version, remember its hash
                        writer.delete_by_term("path", rel)
                    elif full:
                        writer.add_document(**document_fields(procedure))
                    else:
                        writer.update_document(**document_fields(procedure))
                    if rel in state:
                        report.updated += 1
                    else:
                        report.added += 1
                    try:
                        stat = file_path.stat()
                        state[rel] = FileState(procedure.content_hash if procedure else "", stat.st_mtime_ns, stat.st_size)
                    except OSError:
                        state.pop(rel, None)
                    if progress:
                        progress(count, len(todo))
                if todo or deleted or full:
                    writer.commit()
                else:
                    writer.cancel()
            except BaseException:
                writer.cancel()
                raise
            if not self.english_path.exists():
                _atomic_write_text(self.english_path, "\n".join(common_english_words()))
            if todo or deleted or full:
                self._write_vocab(ix)
                _atomic_write_json(
                    self.state_path,
                    {
                        "format": FORMAT,
                        "root": str(self.root.resolve()),
                        "files": {p: [s.hash, s.mtime_ns, s.size] for p, s in state.items()},
                    },
                )
            report.unchanged = len(state) - report.added - report.updated
            report.seconds = time.perf_counter() - started
            return report

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

    def _write_vocab(self, ix: Any) -> None:
        with ix.reader() as reader:
            vocab = {word.decode() if isinstance(word, bytes) else word: info.doc_frequency() for word, info in reader.iter_field("words")}
        _atomic_write_json(self.vocab_path, vocab)
        self._vocab = vocab

    # ---- reading -----------------------------------------------------------------------
    def vocabulary(self) -> dict[str, int]:
        """Surface words of the whole collection with their document frequency."""
        if self._vocab is None:
            try:
                self._vocab = json.loads(self.vocab_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._vocab = {}
        return self._vocab

    def english_words(self) -> frozenset[str]:
        if self._english is None:
            try:
                self._english = frozenset(self.english_path.read_text(encoding="utf-8").split())
            except OSError:
                self._english = frozenset()
        return self._english

    def open(self) -> IndexReader:
        for attempt in range(3):
            try:
                ix = whoosh_index.open_dir(str(self.dir), indexname=INDEX_NAME)
                return IndexReader(ix.searcher(), self)
            except (OSError, whoosh_index.EmptyIndexError) as exc:
                # A writer may have replaced the files between reading the TOC and the segments.
                if attempt == 2:
                    raise IndexError_(f"cannot open the index in {self.dir}: {exc}; run 'kb index --full'") from exc
                time.sleep(0.05)
        raise AssertionError("unreachable")


class IndexReader:
    """Read access for one query: postings scored by BM25F, stored metadata, tag lookups."""

    def __init__(self, searcher: Any, index: SearchIndex) -> None:
        self._searcher = searcher
        self.index = index

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._searcher.close()

    @property
    def doc_count(self) -> int:
        return self._searcher.doc_count()

    def has_term(self, fieldname: str, term: str) -> bool:
        return (fieldname, term) in self._searcher.reader()

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return self._searcher.doc_frequency(fieldname, term)

    def postings(self, fieldname: str, term: str) -> list[tuple[int, float, int]]:
        """(document number, term frequency, field length) for every live document with the term."""
        if not self.has_term(fieldname, term):
            return []
        reader = self._searcher.reader()
        matcher = reader.postings(fieldname, term)
        length = reader.doc_field_length
        found = []
        while matcher.is_active():
            docnum = matcher.id()
            found.append((docnum, matcher.weight(), length(docnum, fieldname, 1)))
            matcher.next()
        return found

    def average_length(self, fieldname: str) -> float:
        return self._searcher.avg_field_length(fieldname, 1.0) or 1.0

    def documents_with(self, fieldname: str, value: str) -> list[int]:
        """Document numbers whose keyword field `tagkey` or `category` holds the value."""
        value = encode_key(value)
        if not self.has_term(fieldname, value):
            return []
        return list(self._searcher.postings(fieldname, value).all_ids())

    def all_documents(self) -> Iterator[int]:
        return self._searcher.reader().all_doc_ids()

    def stored(self, docnum: int) -> dict[str, Any]:
        fields = self._searcher.stored_fields(docnum)
        return {"path": fields["path"], **fields["meta"]}

    def keyword_values(self, fieldname: str) -> list[str]:
        return [(v.decode() if isinstance(v, bytes) else v).replace("_", " ") for v in self._searcher.reader().field_terms(fieldname)]
