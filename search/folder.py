"""The procedures folder on disk: which files are procedures, and which file a path or a site
address names.

Promises: hidden entries are skipped, symlinked folders are never followed (each one is reported),
names that are not usable text are reported instead of listed, and paths are relative to the
procedures folder with `/`.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .procedure import Problem


@dataclass
class ProcedureListing:
    """What a walk of the procedures folder found: the procedure files, and the entries it passed
    over that an editor should hear about (symlinked folders, names that are not usable text)."""

    files: dict[str, os.stat_result] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)


def printable_name(name: str) -> str:
    """A file name as it can be shown and written to any output: bytes that are not UTF-8 appear
    as `\\xe9`, control characters as `\\x1b`."""
    if name.isprintable():  # the usual case, checked in C
        return name
    shown = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in shown)


def _name_problem(name: str) -> str | None:
    """Why a file or folder name cannot be a page of the knowledge base, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not UTF-8 text: rename it (search, the index and the site skip it)"
    if not name.isprintable() and any(unicodedata.category(ch) == "Cc" for ch in name):
        return "file name contains a control character: rename it (search, the index and the site skip it)"
    return None


def walk_procedures(root: Path) -> ProcedureListing:
    """Every `*.md` file under root, by path relative to root (with `/`), sorted; hidden entries skipped.

    Symlinked folders are not followed (a link such as `up -> ..` would otherwise repeat the whole
    folder without end); each one is reported. Symlinked files are read like files. Entries whose
    names are not UTF-8 text or hold control characters are left out and reported.
    """
    listing = ProcedureListing()
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_md_file = not is_dir and entry.name.endswith(".md") and entry.is_file()
                if not (is_dir or is_md_file or entry.is_symlink()):
                    continue
                shown = prefix + printable_name(entry.name)
                problem = _name_problem(entry.name)
                if problem is not None:
                    listing.skipped.append(Problem(shown + ("/" if is_dir else ""), 1, "error", problem))
                elif is_dir:
                    pending.append((f"{prefix}{entry.name}/", entry.path))
                elif is_md_file:
                    listing.files[prefix + entry.name] = entry.stat()
                elif entry.is_dir():
                    message = "symlinked folder is not followed: its procedures are not searched; move them into the procedures folder"
                    listing.skipped.append(Problem(shown, 1, "warning", message))
            except OSError:
                continue
    listing.files = dict(sorted(listing.files.items()))
    listing.skipped.sort(key=lambda p: p.path)
    return listing


def list_procedure_files(root: Path) -> dict[str, os.stat_result]:
    """Every usable `*.md` file under root, by path relative to root (with `/`), sorted (see `walk_procedures`)."""
    return walk_procedures(root).files


def relative_path(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


class SelectionError(ValueError):
    """A file named on the command line that is not a procedure of the folder; one line for the user."""


def procedure_at(root: Path, given: str) -> Path:
    """The file a path names in the procedures folder: as given, without `.md`, or as the site's
    URL path (`fulfillment/lost-parcel/`, with a leading slash, a site prefix or the whole address)."""
    from urllib.parse import unquote, urlsplit

    path = unquote(urlsplit(given).path if "://" in given else given).split("#")[0].split("?")[0]
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
    exact = root / given
    if exact.is_file() or not parts or ".." in parts:
        return exact
    for start in range(len(parts)):  # a site served below a prefix: /kb/fulfillment/lost-parcel/
        rel = "/".join(parts[start:])
        for name in (rel, f"{rel}.md", f"{rel}/index.md", f"{rel}/README.md"):
            if (root / name).is_file():
                return root / name
    return exact


def select_files(paths: list[str], root: Path, listed: dict[str, object]) -> list[str]:
    """Files named on the command line (`kb check FILE...`), each as a path relative to the procedures folder. A file may be
    given relative to the current folder (as git and pre-commit give them) or to the procedures folder."""
    selected = []
    base = root.resolve()
    for given in paths:
        candidate = Path(given)
        path = next((p for p in (candidate, root / candidate) if p.exists()), None)
        if path is None:
            raise SelectionError(f"'{given}' does not exist")
        try:
            rel = path.resolve().relative_to(base).as_posix()
        except ValueError:
            raise SelectionError(f"'{given}' is not in the procedures folder '{root}'") from None
        if rel not in listed:
            raise SelectionError(f"'{given}' is not a procedure file (a .md file, not hidden)")
        selected.append(rel)
    return list(dict.fromkeys(selected))


def link_to_a_containing_folder(folder: Path, above: frozenset[Path] = frozenset()) -> Path | None:
    """A link under `folder` to a folder that contains the link, or None. The engine's own walk
    follows no link to a folder (walk_procedures); a tool that follows them (MkDocs lists docs_dir
    that way) would go round such a link until the system refuses, so the site checks for one first."""
    real = folder.resolve()
    if real in above:
        return folder
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return None
    for entry in entries:
        try:
            is_folder = entry.is_dir()
        except OSError:
            continue
        found = link_to_a_containing_folder(Path(entry.path), above | {real}) if is_folder else None
        if found is not None:
            return found
    return None
