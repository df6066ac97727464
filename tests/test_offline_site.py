"""The site as the repository's mkdocs.yml builds it asks nothing of the internet.

An internal knowledge base must work where only its own host is reachable: no web fonts, no
repository facts from a code host's API, no scripts from a CDN. Chromium loads the pages a rep
uses and runs a search while every request is recorded; all of them go to the site's own origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from .conftest import ROOT
from .test_browser import browser, serve  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def repository_site(tmp_path_factory: pytest.TempPathFactory, serve) -> tuple[str, Path]:  # noqa: F811 (the fixture imported above)
    """The site `mkdocs build` makes from the repository's own mkdocs.yml: its URL on 127.0.0.1, its folder."""
    tmp = tmp_path_factory.mktemp("repository-site")
    env = {**os.environ, "KB_INDEX_DIR": str(tmp / "index"), "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return serve(tmp / "site"), tmp / "site"


def test_pages_and_search_request_nothing_outside_the_site(browser, repository_site: tuple[str, Path]) -> None:  # noqa: F811
    url = repository_site[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    for path in ("", "complaints/late-delivery/", "tags/"):
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
    page.keyboard.press("/")
    page.keyboard.type("refund")
    page.wait_for_selector("[data-kb-results] li")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    context.close()
    origin = urlsplit(url)
    outside = [url for url in requested if urlsplit(url).scheme != "data" and urlsplit(url)[:2] != origin[:2]]
    assert any("/kb-search/" in url for url in requested), "the search loaded no data: the test saw no search"
    assert outside == [], f"{len(requested)} requests, {len(outside)} outside the site"


def test_procedure_pages_keep_their_edit_link_without_a_repository_widget(repository_site: tuple[str, Path]) -> None:
    """Material asks the GitHub or GitLab API for stars and forks whenever repo_url points there; an
    absolute edit_uri alone still gives each procedure page its "Edit this page" link."""
    site = repository_site[1]
    edit_uri = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["edit_uri"]
    assert urlsplit(edit_uri).scheme == "https"
    for rel in ("complaints/late-delivery", "billing/refund-request"):
        html = (site / rel / "index.html").read_text(encoding="utf-8")
        assert f'<a href="{edit_uri}{rel}.md" title="Edit this page"' in html, rel
        assert 'data-md-component="source"' not in html


def test_readme_says_how_a_site_stays_offline() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "font: false" in readme and "repo_url" in readme and "edit_uri" in readme
