"""What the engine derives from one commit of the index, kept beside it and tied to it.

`files.json` (the indexed files, the document count, the field-length totals) and `vocab.json`
(the word list) each name the commit they describe (`commit_token`: the Whoosh generation and a
digest of its TOC, which Whoosh replaces by rename at each commit). One that names another commit
(a kill between the commit and its write, a full disk) is ignored, and the state is computed
again from the documents of the index, which store all it is made of. So no kill at any point
leaves the word list, the file list or the totals disagreeing with the index that answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .storage import INDEX_NAME

FILES_JSON = "files.json"
VOCAB_JSON = "vocab.json"
_TOC = re.compile(rf"_{INDEX_NAME}_(\d+)\.toc")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replaces the file whole: a reader sees the old content or the new, never a part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def read_json(path: Path) -> Any:
    """The file's JSON, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def commit_token(folder: Path) -> str | None:
    """Names the index's latest commit, or None when the folder has no index."""
    for _attempt in range(3):  # a writer may replace the TOC between the listing and the read
        try:
            tocs = [(int(found.group(1)), name) for name in os.listdir(folder) if (found := _TOC.fullmatch(name))]
        except OSError:
            return None
        if not tocs:
            return None
        generation, name = max(tocs)
        try:
            data = (folder / name).read_bytes()
        except OSError:
            continue
        return f"{generation}-{hashlib.blake2b(data, digest_size=8).hexdigest()}"
    return None


@dataclass
class IndexState:
    """What the engine keeps of one commit besides the index: the indexed files (path ->
    [content hash, mtime_ns, size]; a file that could not be read has an empty hash and no
    document), the document count, the running totals of field lengths and the word counts."""

    commit: str
    files: dict[str, list[Any]]
    documents: int
    totals: Counter[str]
    vocabulary: Counter[str]

    @classmethod
    def of_documents(cls, commit: str, stored: Iterable[dict[str, Any]], index_format: int) -> IndexState | None:
        """From the stored fields of every document of the commit (their `source`, `words` and
        `lengths`); None when a document was written in another format."""
        state = cls(commit, {}, 0, Counter(), Counter())
        for fields in stored:
            source = fields.get("source")
            if not isinstance(source, list) or len(source) != 4 or source[0] != index_format:
                return None
            state.files[fields["path"]] = source[1:]
            state.documents += 1
            state.totals.update(fields["lengths"])
            state.vocabulary.update(fields["words"])
        return state

    def words(self) -> dict[str, int]:
        """The word list: the words of live documents with their document frequency, sorted."""
        return {word: count for word, count in sorted(self.vocabulary.items()) if count > 0}

    def save(self, folder: Path, root: Path, index_format: int) -> None:
        """Writes vocab.json and files.json, each naming the commit."""
        atomic_write_json(folder / VOCAB_JSON, {"format": index_format, "commit": self.commit, "words": self.words()})
        state = {
            "format": index_format,
            "commit": self.commit,
            "root": str(root.resolve()),
            "documents": self.documents,
            "totals": dict(self.totals),
            "files": self.files,
        }
        atomic_write_json(folder / FILES_JSON, state)

    @classmethod
    def load(cls, folder: Path, commit: str, index_format: int) -> IndexState | None:
        """The saved state of the commit, or None when a file is missing or names another commit."""
        saved = read_json(folder / FILES_JSON)
        words = read_words(folder, commit, index_format)
        if words is None or not _describes(saved, commit, index_format):
            return None
        return cls(commit, saved["files"], saved["documents"], Counter(saved["totals"]), Counter(words))


def read_words(folder: Path, commit: str, index_format: int) -> dict[str, int] | None:
    """The saved word list of the commit, or None."""
    saved = read_json(folder / VOCAB_JSON)
    return saved["words"] if _describes(saved, commit, index_format) else None


def _describes(saved: Any, commit: str, index_format: int) -> bool:
    return isinstance(saved, dict) and saved.get("format") == index_format and saved.get("commit") == commit
