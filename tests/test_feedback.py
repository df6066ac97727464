"""'Report a problem' on procedure pages: a prefilled issue in the site's tracker (GitHub or GitLab,
from issues_url, repo_url or an absolute edit_uri), else an e-mail to the procedure's owner."""

from __future__ import annotations

import datetime as _dt
import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from search.feedback import GITHUB, GITLAB, Feedback, Tracker, tracker_of

from .conftest import ROOT, procedure_text
from .test_plugin import mkdocs, read, write_site


def report_href(page: str) -> str | None:
    found = re.search(r'<a class="kb-report__link" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


# ---- the tracker's address -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("issues_url", "repo_url", "edit_uri", "expected"),
    [
        (
            None,
            None,
            "https://github.com/example-org/service-kb/edit/main/procedures/",
            ("https://github.com/example-org/service-kb/issues/new", GITHUB),
        ),
        (None, "https://github.com/org/repo.git", "edit/main/docs/", ("https://github.com/org/repo/issues/new", GITHUB)),
        (
            None,
            None,
            "https://gitlab.example.com/ops/kb/site/-/edit/main/procedures/",
            ("https://gitlab.example.com/ops/kb/site/-/issues/new", GITLAB),
        ),
        (None, "https://gitlab.com/group/project", None, ("https://gitlab.com/group/project/-/issues/new", GITLAB)),
        (
            "https://git.example.com/org/kb/issues",
            "https://github.com/org/other",
            None,
            ("https://git.example.com/org/kb/issues/new", GITHUB),
        ),
        ("https://gitlab.example.com/org/kb/-/issues/new", None, None, ("https://gitlab.example.com/org/kb/-/issues/new", GITLAB)),
    ],
)
def test_the_tracker_comes_from_issues_url_then_repo_url_then_edit_uri(issues_url, repo_url, edit_uri, expected) -> None:
    tracker = tracker_of(issues_url, repo_url, edit_uri)
    assert tracker is not None and (tracker.new_issue_url, tracker.kind) == expected


@pytest.mark.parametrize("edit_uri", [None, "edit/main/docs/", "https://intranet.example.com/wiki/edit/"])
def test_no_tracker_without_a_github_or_gitlab_address(edit_uri) -> None:
    assert tracker_of(None, None, edit_uri) is None


def test_gitlab_issues_are_prefilled_with_its_own_field_names() -> None:
    link = Tracker("https://gitlab.com/g/p/-/issues/new", GITLAB).link("A: b", "line 1\nline & 2")
    query = parse_qs(urlsplit(link).query)
    assert query == {"issue[title]": ["A: b"], "issue[description]": ["line 1\nline & 2"]}


def test_without_a_tracker_a_report_is_mailed_to_the_owner_else_to_the_fallback() -> None:
    feedback = Feedback(None, {"Billing Team": "billing@example.com"}, "kb@example.com")
    link = feedback.report_link("Refund", "billing/refund.md", "https://kb/billing/refund/", None, "billing team")
    assert link is not None and link.startswith("mailto:billing@example.com?subject=Problem%20in%20procedure%3A%20Refund&body=")
    assert "Reviewed%3A%20never" in link and "+" not in link
    assert feedback.report_link("X", "x.md", "/x/", None, "Someone else").startswith("mailto:kb@example.com?")
    assert Feedback(None, {}, None).report_link("X", "x.md", "/x/", None, "Team") is None


# ---- the built pages -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("feedback")
    done = mkdocs("build", "--strict", "-d", str(tmp / "site"), cwd=ROOT, index_dir=tmp / "index")
    assert done.returncode == 0, done.stderr
    return tmp / "site"


def test_the_report_link_of_a_sample_page_carries_the_procedures_details(sample_site: Path) -> None:
    page = read(sample_site, "complaints/late-delivery/index.html")
    href = report_href(page)
    assert href is not None
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://github.com/example-org/service-kb/issues/new"
    query = parse_qs(parts.query)
    assert query["title"] == ["Problem in procedure: Late delivery complaint"]
    body = query["body"][0]
    for line in ("Procedure: Late delivery complaint", "File: complaints/late-delivery.md", "Page: /complaints/late-delivery/"):
        assert line in body.splitlines()
    reviewed = re.search(r"^reviewed: (\S+)", (ROOT / "procedures/complaints/late-delivery.md").read_text(), re.MULTILINE)
    assert reviewed is not None and f"Reviewed: {reviewed.group(1)}" in body
    assert body.rstrip().endswith("(in your own words)")
    assert "Edit this page" in page  # the editors' button stays


def test_generated_pages_have_no_report_action(sample_site: Path) -> None:
    for rel in ("index.html", "tags/index.html", "due-for-review/index.html"):
        assert report_href(read(sample_site, rel)) is None, rel


def test_with_site_url_the_report_names_the_pages_full_address_and_owners_get_the_mail(tmp_path: Path) -> None:
    reviewed = _dt.date(2026, 1, 5).isoformat()
    text = procedure_text("Refund", ["Billing: Refunds"], owner="Billing Team", reviewed=reviewed)
    plugin = "  - kb:\n      owners:\n        Billing Team: billing@example.com\n"
    root = write_site(tmp_path / "src", {"billing/refund.md": text}, plugin=plugin, extra="site_url: https://kb.example.com/\n")
    done = mkdocs("build", "-d", str(tmp_path / "site"), cwd=root, index_dir=tmp_path / "index")
    assert done.returncode == 0, done.stderr
    page = read(tmp_path / "site", "billing/refund/index.html")
    href = report_href(page)
    assert href is not None and href.startswith("mailto:billing@example.com?")
    body = parse_qs(urlsplit(href).query)["body"][0]
    assert "Page: https://kb.example.com/billing/refund/" in body and f"Reviewed: {reviewed}" in body
    assert "data-kb-page" not in page  # a full address needs no rewriting in the browser
