"""The procedures of a knowledge base as the site, the index and `kb` load them: every file of the
folder read and checked, then the checks across files, in one `LoadResult`.

Promises: loading never raises on bad content; one broken file never hides the others. This is
also the one import for the procedure model and its readers: the names of search/procedure.py,
search/folder.py and search/parsing.py that other code uses are available here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .checks import cross_file_problems
from .folder import ProcedureListing, list_procedure_files, printable_name, relative_path, walk_procedures
from .parsing import load_file, parse_procedure, read_body, read_procedure_file
from .procedure import (
    NEW_CONTEXT_LINE,
    NEW_STEP_LINE,
    AlternateMethod,
    FileCache,
    LoadResult,
    Problem,
    Procedure,
    Tag,
    content_hash,
    markdown_to_text,
    slugify,
    tag_problem,
)
from .vocabulary import Vocabulary

__all__ = [
    "NEW_CONTEXT_LINE",
    "NEW_STEP_LINE",
    "AlternateMethod",
    "FileCache",
    "LoadResult",
    "Problem",
    "Procedure",
    "ProcedureListing",
    "Tag",
    "content_hash",
    "cross_file_problems",
    "list_procedure_files",
    "load_file",
    "load_procedures",
    "markdown_to_text",
    "parse_procedure",
    "printable_name",
    "read_body",
    "relative_path",
    "slugify",
    "tag_problem",
    "walk_procedures",
]


def load_procedures(
    root: Path, vocabulary: Vocabulary | None = None, only: Iterable[str] | None = None, cache: FileCache | None = None
) -> LoadResult:
    """Loads and checks every procedure under root, then the checks that span files; with a
    vocabulary (tags.yml, see `search.vocabulary`), its problems and the checks against it.

    `only` (paths relative to root) keeps the problems of those files, and the cross-file findings
    that concern them; every file is still read, so the cross-file checks see the whole folder.
    `cache`, kept by a long-running caller (`mkdocs serve`), spares re-reading unchanged files.
    """
    procedures: list[Procedure] = []
    problems: list[Problem] = []
    current: FileCache = {}
    folder = str(root)  # joined as text with os.path.join: no Path object per file
    listing = walk_procedures(root)
    problems.extend(listing.skipped)
    for rel, stat in listing.files.items():
        entry = cache.get(rel) if cache is not None else None
        if entry is None or entry[0] != stat.st_mtime_ns or entry[1] != stat.st_size:
            entry = (stat.st_mtime_ns, stat.st_size, *read_procedure_file(os.path.join(folder, rel), rel))
        current[rel] = entry
        problems.extend(entry[3])
        if entry[2] is not None:
            procedures.append(entry[2])
    if cache is not None:
        cache.clear()
        cache.update(current)
    problems.extend(cross_file_problems(procedures, vocabulary))
    if only is not None:
        selected = set(only)
        own = vocabulary.path if vocabulary is not None else None
        problems = [p for p in problems if p.path in selected or p.path == own or not selected.isdisjoint(p.related)]
    problems.sort(key=lambda p: (p.path, p.line, p.severity, p.message))
    return LoadResult(procedures, problems)
