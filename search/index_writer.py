"""Writing the index: one Whoosh commit per refresh, made by one process at a time.

A commit replaces the documents of the changed and deleted files (or, for a full refresh, every
document) through Whoosh's writer. Whoosh writes its table of contents last, by rename, so a
writer killed half way leaves the previous commit answering.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from whoosh.index import Index
from whoosh.writing import CLEAR

from .storage import INDEX_NAME, IndexError_

# Whoosh's posting pool: up to this size the postings of a commit are sorted in memory, beyond it
# in temporary runs that are merged (about 2 million postings, 10,000 procedures, fit).
WRITER_MEMORY_MB = 1024
LOCK_FILE = "kb.lock"


class IndexBusy(IndexError_):
    """Another process held the index's write lock for longer than a writer would wait."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused, as a context or a decorator. Indexing and
    exporting allocate millions of small objects and almost no reference cycles, so every
    collection rescans a heap that only grows. Collections resume afterwards, nested uses included."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def write_lock(folder: Path, wait: float, notify: Callable[[str], None] | None) -> Iterator[None]:
    """Holds the index folder's fcntl lock (`kb.lock`), which serialises writers and dies with its
    process; raises IndexBusy after `wait` seconds. `notify` hears once that the writer waits."""
    with open(folder / LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    message = f"another process has been updating the index in {folder} for over {wait:.0f} s; try again later"
                    raise IndexBusy(message) from None
                if not told and notify:
                    notify(f"waiting for another process that is updating the index in {folder} ...")
                    told = True
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def commit_documents(ix: Index, folder: Path, documents: Iterable[dict[str, Any]], replaced_paths: Sequence[str], full: bool) -> None:
    """One commit: the documents of `replaced_paths` deleted, `documents` added, in their order.

    With `full`, every document of the index is replaced and the commit leaves one segment,
    whose document numbers follow the order of `documents`. To be called under `write_lock`.
    """
    # Whoosh's own write lock is redundant under kb.lock, and a writer whose construction failed
    # (a full disk) keeps it until its process ends: each writer starts a fresh lock file.
    (folder / f"{INDEX_NAME}_WRITELOCK").unlink(missing_ok=True)
    writer = ix.writer(limitmb=WRITER_MEMORY_MB, compound=False)
    try:
        if not full:
            for path in replaced_paths:
                writer.delete_by_term("path", path)
        for document in documents:
            writer.add_document(**document)
        if full:
            writer.commit(mergetype=CLEAR)
        else:
            writer.commit()
    except BaseException:
        with contextlib.suppress(Exception):  # a writer that failed half way may fail to cancel too: the first error counts
            writer.cancel()
        raise
