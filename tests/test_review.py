"""Review and ownership: search/review.py, `kb review`, and the site's "Due for review" page, which must agree."""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.model import Procedure, Tag
from search.review import by_owner, due_for_review, review_interval
from search.vocabulary import parse_vocabulary

from .conftest import procedure_text, run_kb

TODAY = _dt.date.today()


def ago(days: int) -> str:
    return (TODAY - _dt.timedelta(days=days)).isoformat()


VOCABULARY = """\
categories:
  Complaint:
    description: Unhappy customers.
    review_days: 30
  Security:
    description: Fraud and access.
    review_days: 90
  Shipping: Parcels.
"""

# Known dates: which are due, and by how much, is fixed by the default of 180 days and tags.yml.
PROCEDURES = {
    "shipping/fresh.md": procedure_text("Fresh procedure", ["Shipping"], owner="Care Team", reviewed=ago(10)),
    "shipping/old.md": procedure_text("Old procedure", ["Shipping"], owner="Care Team", reviewed=ago(200)),  # 20 days overdue
    "security/badge.md": procedure_text("Badge fraud", ["Security"], owner="Billing Ops", reviewed=ago(100)),  # 90 days: 10 overdue
    "security/edge.md": procedure_text("Exactly on time", ["Security"], owner="Billing Ops", reviewed=ago(90)),  # not yet due
    "mixed.md": procedure_text("Mixed tags", ["Security", "Complaint: Rude"], owner="Billing Ops", reviewed=ago(40)),  # 30: 10 overdue
    "orphan.md": procedure_text("Orphan procedure", ["Shipping"]),  # no owner, never reviewed
    "billing/never.md": procedure_text("Never looked at", ["Shipping"], owner="Billing Ops"),  # never reviewed
}

EXPECTED = [  # (owner, path, description), in the order of `kb review`
    ("Billing Ops", "billing/never.md", "never reviewed"),
    ("Billing Ops", "security/badge.md", f"overdue by 10 days (reviewed {ago(100)}, every 90 days)"),
    ("Billing Ops", "mixed.md", f"overdue by 10 days (reviewed {ago(40)}, every 30 days)"),
    ("Care Team", "shipping/old.md", f"overdue by 20 days (reviewed {ago(200)}, every 180 days)"),
    ("(no owner)", "orphan.md", "never reviewed"),
]


def write_site(root: Path, procedures: dict[str, str] = PROCEDURES, plugin: str = "  - kb\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text(
        f"site_name: Review KB\ndocs_dir: docs\ntheme:\n  name: material\nplugins:\n{plugin}", encoding="utf-8"
    )
    (root / "tags.yml").write_text(VOCABULARY, encoding="utf-8")
    for rel, text in procedures.items():
        path = root / "docs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def mkdocs_build(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_INDEX_DIR": str(root.parent / f"{root.name}-index"), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"], capture_output=True, text=True, cwd=root, env=env, timeout=300, check=False
    )


def review_json(root: Path, *args: str) -> dict:
    done = run_kb("review", "--json", *args, cwd=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def flatten(data: dict) -> list[tuple[str, str, str]]:
    rows = []
    for group in data["owners"]:
        for item in group["procedures"]:
            state = "never reviewed" if item["state"] == "never" else f"overdue by {item['days_overdue']} days"
            if item["state"] == "overdue":
                state += f" (reviewed {item['reviewed']}, every {item['review_days']} days)"
            rows.append((group["owner"], item["path"], state))
    return rows


# ---- the shared computation ---------------------------------------------------------------------------
def make(path: str, tags: list[str], owner: str = "", reviewed: _dt.date | None = None) -> Procedure:
    return Procedure(path=path, title=path, tags=[Tag.parse(t) for t in tags], owner=owner, reviewed=reviewed)


def test_interval_is_the_shortest_category_override_else_the_default() -> None:
    vocabulary = parse_vocabulary(VOCABULARY, "tags.yml")
    assert review_interval(make("a.md", ["Shipping"]), 180, vocabulary) == 180
    assert review_interval(make("a.md", ["Security"]), 180, vocabulary) == 90
    assert review_interval(make("a.md", ["Security", "complaint: x"]), 180, vocabulary) == 30
    assert review_interval(make("a.md", ["Security"]), 180, None) == 180
    assert review_interval(make("a.md", ["Shipping"]), 365, vocabulary) == 365


def test_due_for_review_states_and_order() -> None:
    today = _dt.date(2026, 6, 1)
    items = due_for_review(
        [
            make("ok.md", ["Shipping"], "B", _dt.date(2026, 5, 1)),
            make("boundary.md", ["Shipping"], "B", today - _dt.timedelta(days=180)),  # due today, not yet overdue
            make("late.md", ["Shipping"], "B", today - _dt.timedelta(days=181)),
            make("later.md", ["Shipping"], "B", today - _dt.timedelta(days=300)),
            make("never.md", ["Shipping"], "B"),
            make("nobody.md", ["Shipping"]),
            make("alpha.md", ["Shipping"], "a team"),
        ],
        180,
        today=today,
    )
    assert [(i.owner, i.procedure.path, i.state, i.days_overdue) for i in items] == [
        ("a team", "alpha.md", "never", None),
        ("B", "never.md", "never", None),
        ("B", "later.md", "overdue", 120),
        ("B", "late.md", "overdue", 1),
        ("(no owner)", "nobody.md", "never", None),
    ]
    assert items[3].due == today - _dt.timedelta(days=1)
    assert items[3].describe() == f"overdue by 1 day (reviewed {today - _dt.timedelta(days=181)}, every 180 days)"
    assert [owner for owner, _ in by_owner(items)] == ["a team", "B", "(no owner)"]


# ---- kb review -----------------------------------------------------------------------------------------
def test_kb_review_lists_due_procedures_by_owner(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site")
    data = review_json(root)
    assert data["review_days"] == 180 and data["procedures"] == len(PROCEDURES) and data["due"] == len(EXPECTED)
    assert flatten(data) == EXPECTED
    text = run_kb("review", cwd=root)
    assert text.returncode == 0 and "Traceback" not in text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "Billing Ops (3)"
    assert "  Badge fraud  " + EXPECTED[1][2] in lines
    assert "    orphan.md" in lines
    assert lines[-1].startswith("5 of 7 procedure(s) due for review")


def test_kb_review_options(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site")
    assert [row[1] for row in flatten(review_json(root, "--owner", "care team"))] == ["shipping/old.md"]
    # A longer default interval: old.md (200 days) is no longer due; the category overrides still apply.
    assert "shipping/old.md" not in [row[1] for row in flatten(review_json(root, "--days", "365"))]
    assert "security/badge.md" in [row[1] for row in flatten(review_json(root, "--days", "365"))]
    # The kb plugin's review_days in mkdocs.yml is the default.
    write_site(root, plugin="  - kb:\n      review_days: 199\n")
    assert review_json(root)["review_days"] == 199
    old = [item for group in review_json(root)["owners"] for item in group["procedures"] if item["path"] == "shipping/old.md"]
    assert [(item["days_overdue"], item["review_days"]) for item in old] == [(1, 199)]


@pytest.mark.parametrize(
    ("plugin", "args", "message"),
    [
        ("  - kb:\n      review_days: soon\n", (), "review_days of the kb plugin in mkdocs.yml must be a whole number"),
        ("  - kb\n", ("--days", "0"), "--days must be at least 1"),
    ],
)
def test_kb_review_bad_interval_is_a_clear_error(tmp_path: Path, plugin: str, args: tuple[str, ...], message: str) -> None:
    root = write_site(tmp_path / "site", plugin=plugin)
    done = run_kb("review", *args, cwd=root)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_kb_review_survives_broken_files(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {**PROCEDURES, "broken.md": "---\ntitle: [unclosed\n---\n", "binary.md": "\x00\x01"})
    assert flatten(review_json(root)) == EXPECTED


# ---- the site ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def review_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_site(tmp_path_factory.mktemp("review") / "site")
    done = mkdocs_build(root)
    assert done.returncode == 0, done.stderr
    return root


def page_rows(page: str) -> list[tuple[str, str, str]]:
    """(owner, path, description) from the "Due for review" page, in page order."""
    article = page[page.index("<article") : page.index("</article>")]
    rows, owner = [], None
    for match in re.finditer(r'<h2 id="[^"]*">(.*?)</h2>|<li class="kb-review__item" data-path="([^"]+)">(.*?)</li>', article):
        if match.group(1) is not None:
            owner = html.unescape(re.sub(r"<a [^>]*>.*?</a>|<[^>]+>", "", match.group(1))).strip()
        else:
            state = re.search(r'<span class="kb-review__state[^"]*">(.*?)</span>', match.group(3)).group(1)
            rows.append((owner, html.unescape(match.group(2)), html.unescape(state)))
    return rows


def test_due_for_review_page_agrees_with_kb_review(review_site: Path) -> None:
    page = (review_site / "site" / "due-for-review" / "index.html").read_text(encoding="utf-8")
    assert page_rows(page) == flatten(review_json(review_site)) == EXPECTED
    assert "5 procedures of 7 are overdue for review or never reviewed" in page
    assert "Complaint: every 30 days, Security: every 90 days" in page
    assert 'href="../security/badge/"' in page
    assert 'rel="edit"' not in page  # a generated page has no "Edit this page"


def test_due_for_review_is_in_the_navigation_and_linked_from_home(review_site: Path) -> None:
    home = (review_site / "site" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="due-for-review/" class="md-nav__link">\s*<span class="md-ellipsis">\s*Due for review', home)
    assert "5 procedures are overdue for review or never reviewed" in home
    assert '<a href="due-for-review/">Due for review</a>' in home


def test_procedure_marks_follow_the_category_interval(review_site: Path) -> None:
    def article(rel: str) -> str:
        page = (review_site / "site" / rel / "index.html").read_text(encoding="utf-8")
        return page[page.index("<article") : page.index("</article>")]

    assert "Review overdue" in article("security/badge")  # 100 days, Security every 90
    assert "every 90 days" in article("security/badge")
    assert "Review overdue" not in article("security/edge")
    assert "Review overdue" in article("mixed")  # 40 days, Complaint every 30
    assert "Never reviewed" in article("orphan")


def test_page_when_nothing_is_due(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"a.md": procedure_text("All good", ["Shipping"], owner="Care", reviewed=ago(1))})
    done = mkdocs_build(root)
    assert done.returncode == 0, done.stderr
    page = (root / "site" / "due-for-review" / "index.html").read_text(encoding="utf-8")
    assert "Every procedure was reviewed within its interval (1 procedures)" in page
    assert review_json(root)["owners"] == []
