"""Which folders the engine writes in, and which files in them it may delete.

The index folder and the browser search data folder hold only what the engine writes there. A
folder becomes the engine's when the engine creates it, or finds it empty, and leaves its marker
file in it (`INDEX_MARKER`, `SEARCH_DATA_MARKER`). A folder without the marker that holds
anything else is refused, and so is a folder that is, contains or lies inside the procedures
folder or a folder the caller protects (the site). Even in its own folder, the engine deletes
only files whose names it gives its files (`FolderKind.owns`), never the folder itself.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

INDEX_NAME = "kb"  # Whoosh's index name: its files are _kb_N.toc, kb_SEGMENT.EXT, kb_WRITELOCK, kb.tmp/
INDEX_MARKER = ".service-kb-index"
SEARCH_DATA_MARKER = ".service-kb-search-data"
MARKER_FORMAT = 1


class IndexError_(RuntimeError):
    """An index problem that should reach the user as a message, not a traceback."""


class FolderRefused(IndexError_):
    """A folder the engine will not write in; the message names it and says why."""


class IndexWriteError(IndexError_):
    """The index folder could not be written (full disk, read-only folder); the message names it."""

    def __init__(self, folder: Path, cause: OSError) -> None:
        detail = str(cause) if cause.filename else f"{cause.strerror or cause}"
        super().__init__(f"cannot write the index in {folder}: {detail}")
        self.cause = cause


@dataclass(frozen=True)
class FolderKind:
    """One kind of folder the engine writes: its marker and the names of the files it makes there."""

    description: str
    marker: str
    own_names: re.Pattern[str]  # relative paths (with /) of the files it writes
    sign_of_old_folder: re.Pattern[str]  # a file that, with only own names beside it, marks a folder written before markers

    def owns(self, relative: str) -> bool:
        """Whether the engine names one of its files so (the marker and its temporary files included)."""
        return bool(self.own_names.fullmatch(relative)) or relative == self.marker


def _temporary(names: str) -> str:
    """The names of the temporary files the atomic writes of `names` leave when killed."""
    return rf"(?:[^/]*/)?\.(?:{names})\.\d+(?:\.tmp)?"


_INDEX_FILES = r"files\.json|stamp\.json|vocab\.json|english\.txt|english-rates\.pickle|meaning\.npz|thesaurus\.pickle|kb\.lock"
_WHOOSH_FILES = (  # as whoosh.index.TOC names them, its lock and its writer's temporary folder
    rf"_{INDEX_NAME}_\d+\.toc(?:\.[0-9.]+)?|{INDEX_NAME}_[0-9a-z]+\.[A-Za-z0-9_.]+|{INDEX_NAME}_WRITELOCK|{INDEX_NAME}\.tmp(?:/[^/]+)?"
)
INDEX_FOLDER = FolderKind(
    "index folder",
    INDEX_MARKER,
    re.compile(rf"{_INDEX_FILES}|{_WHOOSH_FILES}|{_temporary(_INDEX_FILES)}"),
    re.compile(rf"_{INDEX_NAME}_\d+\.toc"),
)
_SEARCH_DATA_TEMPORARY = _temporary(r"[^/]+\.json")
_SEARCH_DATA_FILES = r"manifest\.json|thesaurus\.json|vocab\.json|terms/\d{4}\.json|docs/\d{4}\.json|tags/\d{2}\.json|meaning/\d{4}\.json"
SEARCH_DATA_FOLDER = FolderKind(
    "search data folder",
    SEARCH_DATA_MARKER,
    re.compile(rf"{_SEARCH_DATA_FILES}|(?:terms|docs|tags|meaning)|{_SEARCH_DATA_TEMPORARY}"),
    re.compile(r"manifest\.json"),
)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_placement(folder: Path, kind: FolderKind, keep_clear_of: Sequence[tuple[str, Path]], may_be_inside: Sequence[Path] = ()) -> None:
    """Refuses a folder that is, contains or lies inside one of `keep_clear_of` ((description,
    folder) pairs, such as the procedures folder); lying inside one of `may_be_inside` is allowed."""
    here = _resolved(folder)
    for description, other in keep_clear_of:
        there = _resolved(other)
        if here == there:
            relation = "is"
        elif here.is_relative_to(there):
            if any(there == _resolved(allowed) for allowed in may_be_inside):
                continue
            relation = "is inside"
        elif there.is_relative_to(here):
            relation = "contains"
        else:
            continue
        raise FolderRefused(f"refusing to use '{folder}' as the {kind.description}: it {relation} {description} '{other}'")


def _entries(folder: Path) -> Iterator[str]:
    """Relative paths (with /) of everything under the folder, a folder before its contents."""
    for path in folder.rglob("*"):
        yield path.relative_to(folder).as_posix()


def claim_folder(folder: Path, kind: FolderKind) -> None:
    """Makes sure the folder is the engine's `kind` of folder before anything is written in it.

    A folder that does not exist is created; an empty one, or one holding only files of the
    engine's own names besides `kind.sign_of_old_folder` (written before the marker existed), is
    given the marker. One with the marker is the engine's. Anything else raises FolderRefused.
    OSErrors (a folder that cannot be created or written) pass through.
    """
    marker = folder / kind.marker
    if marker.is_file():
        return
    if folder.exists() and not folder.is_dir():
        raise FolderRefused(f"refusing to use '{folder}' as the {kind.description}: it is a file")
    if folder.is_dir():
        entries = []
        for entry in _entries(folder):  # stops at the first file of someone else's: the folder may be large
            if not kind.owns(entry):
                raise FolderRefused(
                    f"refusing to use '{folder}' as the {kind.description}: it holds files the engine did not write "
                    f"(such as '{entry}'); give an empty or new folder"
                )
            entries.append(entry)
        if kind.marker in entries:  # another process claimed it after the check above
            return
        if entries and not any(kind.sign_of_old_folder.fullmatch(entry) for entry in entries):
            raise FolderRefused(f"refusing to use '{folder}' as the {kind.description}: it has no {kind.marker} marker")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with open(marker, "x", encoding="utf-8") as handle:
            handle.write(
                f"service-kb {kind.description}, format {MARKER_FORMAT}\n"
                "Written by Service KB, which deletes only files it wrote here; keep nothing else in this folder.\n"
            )
    except FileExistsError:  # another process claimed it at the same time
        pass


@contextlib.contextmanager
def write_errors_named(folder: Path) -> Iterator[None]:
    """OSErrors of the index folder (full disk, read-only) raised as IndexWriteError, which
    names it; an error about another file (a procedure) passes through as it is."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None and not Path(os.path.abspath(exc.filename)).is_relative_to(os.path.abspath(folder)):
            raise
        raise IndexWriteError(folder, exc) from exc


def own_files(folder: Path, kind: FolderKind, keep: Callable[[str], bool] = lambda relative: False) -> list[Path]:
    """The files under the folder that carry the engine's names for `kind` (never the marker),
    except those `keep` names: what a rebuild or a clean-up may delete."""
    found = []
    for relative in _entries(folder):
        path = folder / relative
        if relative != kind.marker and kind.owns(relative) and not keep(relative) and not path.is_dir():
            found.append(path)
    return found


def delete_own_files(folder: Path, kind: FolderKind, keep: Callable[[str], bool] = lambda relative: False) -> None:
    """Deletes `own_files`, then the engine's own sub-folders they leave empty."""
    for path in own_files(folder, kind, keep):
        path.unlink(missing_ok=True)
    for relative in sorted(_entries(folder), reverse=True):
        path = folder / relative
        if kind.owns(relative) and path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):  # not empty
                path.rmdir()
