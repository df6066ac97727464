"""The build's second process: refreshes the index, writes the browser search data and the tag
pages while MkDocs renders the pages in the first.

A module of its own so that the new interpreter imports only this, the engine and the page shell:
not MkDocs' configuration and page classes, Jinja or the plugin, which the engine does not need
(its imports took 0.26 s of CPU, now 0.10 s: small sites wait for the process at the end of
their build).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from .shell import PageShell

# The tasks, sent as (kind, args).
SEARCH_TASK = "search"
TAG_PAGES_TASK = "tag pages"
# Added to the process's niceness: the page rendering, the build's critical path, goes first,
# while the job still gets a tenth of a core that something else keeps busy.
NICENESS = 10


def main(work: Any, results: Any) -> None:
    """The process, at a lower priority (at the same one as the build, it slowed the page
    rendering of 1,000 procedures on two cores by about 0.3 s): its tasks, then an immediate exit
    once the reports are flushed. The build waits for the process to end, and the interpreter's
    usual teardown (freeing the index writer's and the tables' objects) would add to the build."""
    if hasattr(os, "nice"):  # not on Windows
        with contextlib.suppress(OSError):
            os.nice(NICENESS)
    run_tasks(work, results)
    results.close()
    results.join_thread()
    os._exit(0)


def run_tasks(work: Any, results: Any) -> None:
    """Takes (kind, args) tasks until None; for each, its report, or the error message, goes back
    through the queue. The engine is imported first, while the build checks the procedures (so
    the build's own process does not load Whoosh); an error importing it is the search task's."""
    engine: Any = None
    try:
        import search.export as engine
    except Exception as exc:
        import_error = exc
    while (task := work.get()) is not None:
        kind, args = task
        try:
            if kind == SEARCH_TASK:
                if engine is None:
                    raise import_error
                started = time.perf_counter()
                refreshed, exported = engine.refresh_and_export(*args)
                # As dicts: unpickling the report classes would import the engine into the build's process.
                results.put((kind, (dataclasses.asdict(refreshed), dataclasses.asdict(exported), time.perf_counter() - started)))
            else:
                results.put((kind, write_tag_pages(*args)))
        except Exception as exc:  # reported by on_post_build as a build error
            results.put(f"{type(exc).__name__}: {exc}")


def write_tag_pages(shell: PageShell, contents: list[tuple[str, str, str, str]]) -> int:
    """The tag pages, (destination, title, HTML content, slug) filled into the theme's rendering of the placeholder page."""
    for dest, title, content, slug in contents:
        path = Path(dest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shell.fill(title, content, slug), encoding="utf-8")
    return len(contents)
