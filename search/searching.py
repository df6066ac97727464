"""Searching a procedures folder as `kb` does: the index opened and brought up to date first, the
query engine over it with the settings' synonyms, and the questions `kb` asks of it besides a
search (is there such a tag; the tag vocabulary of the settings).

Promises: the index is refreshed only when files changed since it was built; when it cannot be
written but an index is there, searches answer from it and the caller is told once; a folder the
index may not use is an error before anything is written or announced (search/storage.py).
Heavy modules (Whoosh, YAML) are imported only when a function needs them, so `kb` starts fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .index import SearchIndex
    from .query import QueryEngine, Response
    from .vocabulary import Vocabulary

Progress = Callable[[int, int], None]
Say = Callable[[str], None]

MEANING_OFF_WARNING = "meaning-based ranking is off ({problem}); searching by the procedures' own words only"
STALE_INDEX_WARNING = "{problem}; answering from the last index written, which may be out of date"


def open_index(settings: Settings, notify: Say, warn: Say, announce: Say | None = None, progress: Progress | None = None) -> SearchIndex:
    """The index of the procedures folder, refreshed first if files changed since it was built.

    `notify` hears the index's own notes, `warn` that it answers from an index it could not update;
    `announce` hears that a build or update starts (with what changed), `progress` how far it got.
    Leave `announce` and `progress` out for a quiet refresh.
    """
    from .index import SearchIndex
    from .storage import IndexWriteError

    index = SearchIndex(settings.procedures, settings.index_dir)
    changes = index.changes() if index.exists() else None
    try:
        if changes is not None and not changes and changes.touched:
            index.refresh()  # only records the new mtimes of files saved without a change
        elif changes is None or changes:
            index.claim_folder()
            if announce is not None:
                counts = f"{len(changes.changed)} changed, {len(changes.deleted)} removed" if changes is not None else ""
                announce(f"Updating the index ({counts}) ..." if counts else "Building the index ...")
            index.refresh(progress=progress, notify=notify)
    except IndexWriteError as exc:
        if changes is None:  # no index to answer from
            raise
        warn(STALE_INDEX_WARNING.format(problem=exc))
    return index


def query_engine(settings: Settings, notify: Say, warn: Say, announce: Say | None = None, progress: Progress | None = None) -> QueryEngine:
    """A query engine over the up-to-date index (see `open_index`), with the settings' synonyms.

    It asks numpy's BLAS (OpenBLAS) for one thread, unless OPENBLAS_NUM_THREADS says otherwise:
    a search multiplies a dozen word vectors by the procedures' vectors (search/meaning.py), which
    one thread does at once, while the extra threads OpenBLAS starts when numpy is imported wait
    for work on the other CPUs and slow the search down when those CPUs are busy. Only a numpy
    imported after this call hears it.
    """
    from .analysis import load_thesaurus
    from .meaning import table_problem
    from .query import QueryEngine

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    index = open_index(settings, notify, warn, announce, progress)
    problem = table_problem(load=False)

    def meaning_off(problem: str) -> None:
        warn(MEANING_OFF_WARNING.format(problem=problem))

    if problem:  # said now; a table that is there but unreadable is said when a query first needs it
        meaning_off(problem)
    return QueryEngine(index, load_thesaurus(settings.synonyms, cache_dir=index.dir), None if problem else meaning_off)


def unknown_tag(engine: QueryEngine, tag: str) -> str | None:
    """None when some procedure has the tag (or a tag of that category); else the nearest tag or
    category to suggest, or '' when none is close."""
    from .analysis import tag_key
    from .vocabulary import suggest

    key = tag_key(tag)
    labels: set[str] = set()
    with engine.index.open() as reader:
        if reader.documents_with("tagkey", key) or reader.documents_with("category", key):
            return None
        for _, stored in reader.documents():
            for label in stored.get("tags", []):
                labels.update((label, label.partition(":")[0].strip()))
    return suggest(tag, sorted(labels)) or ""


def response_json(response: Response) -> dict[str, Any]:
    """A search's answer as `kb search --json` writes it."""
    data: dict[str, Any] = {"q": response.query, "results": [r.as_json() for r in response.results]}
    if response.did_you_mean:
        data["did_you_mean"] = response.did_you_mean
    return data


def settings_vocabulary(settings: Settings) -> Vocabulary | None:
    """The tag vocabulary the settings name, or None when there is none."""
    if settings.tags_file is None:
        return None
    from .vocabulary import load_vocabulary

    return load_vocabulary(settings.tags_file, settings.procedures)
