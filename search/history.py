"""When each procedure last changed, and why: from the git history of the procedures folder (the
date and subject of the last commit that touched the file), else from the file's modification time.

One `git log --name-only` call reads the whole history of the folder, newest first, so the cost is
one process whatever the number of procedures. Outside a git checkout, or without git, every date
is the file's modification time and there is no subject. Nothing here raises on a missing git.
"""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .procedure import Procedure

COMMIT_MARK = "\x1e"  # starts each commit's header line in the log output
GIT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Change:
    """The last change of a procedure file: its time (the commit's, with its offset), the commit's
    subject ('' for a file git does not know), and whether it comes from git."""

    when: _dt.datetime
    subject: str = ""
    from_git: bool = False

    @property
    def date(self) -> _dt.date:
        return self.when.date()


def recently_updated(procedures: Iterable[Procedure], changes: dict[str, Change], limit: int) -> list[tuple[Procedure, Change]]:
    """The `limit` procedures changed last, newest first (then by title), with their change."""
    dated = [(procedure, changes[procedure.path]) for procedure in procedures if procedure.path in changes]
    dated.sort(key=lambda item: (-item[1].when.timestamp(), item[0].title.casefold(), item[0].path))
    return dated[:limit]


def last_changes(root: Path, paths: Iterable[str]) -> dict[str, Change]:
    """The last change of each of `paths` (relative to `root`, with `/`)."""
    wanted = set(paths)
    found = _git_changes(root, wanted)
    for path in wanted - set(found):
        try:
            mtime = os.stat(root / path).st_mtime
        except OSError:
            continue
        found[path] = Change(_dt.datetime.fromtimestamp(mtime, tz=_dt.UTC))
    return found


def _git_changes(root: Path, wanted: set[str]) -> dict[str, Change]:
    command = [
        "git",
        "-c",
        "core.quotePath=false",
        "log",
        "--no-renames",
        "--name-only",
        "--relative",
        f"--format={COMMIT_MARK}%cI%x09%s",
        "--",
        ".",
    ]
    try:
        done = subprocess.run(
            command, cwd=root, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if done.returncode != 0:
        return {}
    return parse_log(done.stdout, wanted)


def parse_log(log: str, wanted: set[str]) -> dict[str, Change]:
    """The newest commit of each wanted path in `git log --name-only` output (commits newest first,
    each a COMMIT_MARK line `ISO-8601 time<TAB>subject`, then the paths it touched)."""
    changes: dict[str, Change] = {}
    current: Change | None = None
    for line in log.split("\n"):
        if line.startswith(COMMIT_MARK):
            when, _, subject = line[1:].partition("\t")
            try:
                current = Change(_dt.datetime.fromisoformat(when), subject.strip(), from_git=True)
            except ValueError:
                current = None
        elif line and current is not None and line in wanted and line not in changes:
            changes[line] = current
    return changes
