"""A procedure page on paper, in real headless Chromium: the print stylesheet and the Print action.

The page is printed with Chromium's `page.pdf()`; the PDF lands in $KB_SCREENSHOTS (default: a tmp
folder) as procedure-print.pdf, to be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_browser import CHROMIUM, browser, build_site, page, serve  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
PROCEDURE = "complaints/late-delivery.md"
PORTAL = "https://carrier.example.com/trace"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, serve) -> str:  # noqa: F811
    tmp = tmp_path_factory.mktemp("print")
    docs = tmp / "docs"
    for name in ("complaints", "billing"):
        shutil.copytree(ROOT / "procedures" / name, docs / name)
    path = docs / PROCEDURE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## Steps\n\n", f"## Steps\n\nOpen the [carrier trace]({PORTAL}) first.\n\n", 1), encoding="utf-8")
    return serve(build_site(docs, tmp / "site", tmp, tags_file=ROOT / "tags.yml"))


def open_procedure(page, site: str) -> None:  # noqa: F811
    page.goto(site + PROCEDURE.removesuffix(".md") + "/")
    page.wait_for_selector("h1")


def test_the_print_action_is_on_the_page_and_not_on_paper(page, site: str) -> None:  # noqa: F811
    open_procedure(page, site)
    button = page.locator(".kb-actions .kb-action--print")
    assert button.is_visible() and button.inner_text() == "Print"
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    button.click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert not button.is_visible()


def test_printed_page_has_no_site_around_it_and_keeps_methods_together(page, site: str) -> None:  # noqa: F811
    open_procedure(page, site)
    page.emulate_media(media="print")
    hidden = (".md-header", ".md-sidebar--primary", ".md-sidebar--secondary", ".md-footer", ".kb-related", "h2#related-procedures")
    for chrome in hidden:
        assert page.locator(chrome).count() == 0 or not page.locator(chrome).first.is_visible(), chrome
    facts = (("title", "h1"), ("tags", ".kb-meta__tags"), ("owner", ".kb-meta__owner"), ("reviewed", ".kb-meta__reviewed"))
    top = {name: page.locator(selector).first.bounding_box()["y"] for name, selector in facts}
    steps = page.locator("h2#steps").bounding_box()["y"]
    assert all(y < steps for y in top.values()), top
    assert page.evaluate("getComputedStyle(document.querySelector('.kb-alternate')).breakInside") == "avoid"
    assert page.evaluate("getComputedStyle(document.querySelector('h2#steps + p + ol, h2#steps ~ ol')).breakInside") == "avoid"
    after = page.evaluate(f"getComputedStyle(document.querySelector('a[href=\"{PORTAL}\"]'), '::after').content")
    assert PORTAL in after
    chip_after = page.evaluate("getComputedStyle(document.querySelector('.kb-meta a'), '::after').content")
    assert "http" not in chip_after and "/" not in chip_after


def test_pdf_of_a_procedure_with_alternate_methods(page, site: str) -> None:  # noqa: F811
    open_procedure(page, site)
    assert page.locator(".kb-alternate").count() >= 2
    folder = Path(os.environ.get("KB_SCREENSHOTS", Path("/tmp") / "kb-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(folder / "procedure-print.pdf"), format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert pages == 1  # the procedure fits one sheet: nothing of the site spills onto a second
