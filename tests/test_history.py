"""What changed: each procedure's last change from one `git log` (date and commit subject), else
the file's modification time, and the site's "Recently updated" page."""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from search.history import COMMIT_MARK, last_changes, parse_log

from .conftest import procedure_text
from .test_plugin import mkdocs, read, write_site

GIT = shutil.which("git")


def git(root: Path, *args: str, when: str = "2026-01-01T10:00:00+00:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    env.update(GIT_AUTHOR_NAME="Editor", GIT_AUTHOR_EMAIL="e@example.com", GIT_COMMITTER_NAME="Editor", GIT_COMMITTER_EMAIL="e@example.com")
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_the_newest_commit_of_each_path_wins() -> None:
    log = (
        f"{COMMIT_MARK}2026-03-02T09:00:00+01:00\tFix the refund steps\n\nbilling/refund.md\n"
        f"{COMMIT_MARK}2026-01-05T09:00:00+00:00\tFirst procedures\n\nbilling/refund.md\nhr/leave.md\nother.txt\n"
    )
    changes = parse_log(log, {"billing/refund.md", "hr/leave.md"})
    assert changes["billing/refund.md"].subject == "Fix the refund steps"
    assert changes["billing/refund.md"].date == _dt.date(2026, 3, 2)
    assert changes["hr/leave.md"].subject == "First procedures"
    assert "other.txt" not in changes


def test_outside_a_git_checkout_the_files_time_is_used(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x", encoding="utf-8")
    stamp = _dt.datetime(2025, 6, 1, 12, 0, tzinfo=_dt.UTC).timestamp()
    os.utime(tmp_path / "a.md", (stamp, stamp))
    changes = last_changes(tmp_path, ["a.md", "missing.md"])
    assert set(changes) == {"a.md"}
    assert changes["a.md"].date == _dt.date(2025, 6, 1) and changes["a.md"].subject == "" and not changes["a.md"].from_git


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_the_recently_updated_page_lists_procedures_newest_first_with_the_commit_subject(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "src",
        {"billing/refund.md": procedure_text("Refund", ["Billing: Refunds"]), "hr/leave.md": procedure_text("Leave", ["HR: Leave"])},
    )
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "First procedures", when="2026-01-05T09:00:00+00:00")
    (root / "docs/hr/leave.md").write_text(procedure_text("Leave", ["HR: Leave"], "## Steps\n\n1. New step.\n"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "Leave: the new form", when="2026-02-10T09:00:00+00:00")
    (root / "docs/new.md").write_text(procedure_text("Brand new", ["HR: Leave"]), encoding="utf-8")  # not committed yet
    done = mkdocs("build", "--strict", "-d", str(tmp_path / "site"), cwd=root, index_dir=tmp_path / "index")
    assert done.returncode == 0, done.stderr
    page = read(tmp_path / "site", "recently-updated/index.html")
    assert page.index(">Brand new<") < page.index(">Leave<") < page.index(">Refund<")
    assert "Leave: the new form" in page and "First procedures" in page
    assert 'data-kb-changed="2026-02-10T09:00:00+00:00"' in page
    assert 'data-kb-changed="2026-02-10T09:00:00+00:00"' in read(tmp_path / "site", "hr/leave/index.html")
