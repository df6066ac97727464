"""The `kb` MkDocs plugin, through real `mkdocs build` runs (and one `mkdocs serve`) in tmp folders."""

from __future__ import annotations

import datetime as _dt
import gzip
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from markdown.extensions.toc import TocExtension

from plugins.kb.plugin import root_prefix
from search.method_labels import label_alternates

from .conftest import ROOT, SAMPLE_PROCEDURES, procedure_text

TODAY = _dt.date.today()
RECENT = (TODAY - _dt.timedelta(days=10)).isoformat()


def mkdocs(*args: str, cwd: Path, index_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_INDEX_DIR": str(index_dir), "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    env.pop("KB_SYNONYMS", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )


def start_serve(root: Path, index_dir: Path, stderr: int = subprocess.DEVNULL) -> tuple[subprocess.Popen[str], int]:
    """`mkdocs serve` of the site in `root` on a free loopback port, as a user starts it: the process
    (the caller stops it) and its port. `stderr=subprocess.PIPE` keeps what it prints, as text."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KB_INDEX_DIR": str(index_dir), "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    return server, port


def write_site(root: Path, procedures: dict[str, str], plugin: str = "  - kb\n", docs: str = "docs", extra: str = "") -> Path:
    """A site of its own: mkdocs.yml with docs_dir pointing at a folder of procedures."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mkdocs.yml").write_text(
        f"site_name: Fresh KB\ndocs_dir: {docs}\ntheme:\n  name: material\nplugins:\n{plugin}{extra}", encoding="utf-8"
    )
    for rel, text in procedures.items():
        path = root / docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def article(html: str) -> str:
    return html[html.index("<article") : html.index("</article>")]


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


# ---- the sample knowledge base, built once ---------------------------------------------------------
@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("sample")
    done = mkdocs("build", "--strict", "-d", str(tmp / "site"), cwd=ROOT, index_dir=tmp / "index")
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr
    return tmp / "site"


def test_sample_builds_with_strict_and_brings_its_assets(sample_site: Path) -> None:
    home = read(sample_site, "index.html")
    for asset in ("kb.css", "kb-search.css", "kb-stemmer.js", "kb-meaning.js", "kb-engine.js", "kb-ui.js"):
        assert (sample_site / "assets" / "kb" / asset).is_file()
        assert f"assets/kb/{asset}" in home
    # The scripts, in load order.
    scripts = ("kb-stemmer.js", "kb-meaning.js", "kb-engine.js", "kb-ui.js")
    assert [home.index(f"assets/kb/{script}") for script in scripts] == sorted(home.index(f"assets/kb/{script}") for script in scripts)
    # Our header: Material's search button and the kb search box, without Material's search plugin.
    assert 'for="__search"' in home
    assert "data-kb-search" in home
    assert not (sample_site / "search" / "search_index.json").exists()
    # Nothing generated was written into the procedures folder.
    assert not (SAMPLE_PROCEDURES / "tags").exists() and not (SAMPLE_PROCEDURES / "index.md").exists()


def test_tag_pages_have_clean_urls_and_list_their_procedures(sample_site: Path) -> None:
    tag_dirs = [p.name for p in (sample_site / "tags").iterdir() if p.is_dir()]
    assert tag_dirs and all(re.fullmatch(r"[a-z0-9-]+", name) for name in tag_dirs)
    page = article(read(sample_site, "tags/complaint-late-delivery/index.html"))
    assert "<h1" in page and "Complaint: Late Delivery" in page
    assert 'href="../../complaints/late-delivery/"' in page
    assert "has not arrived by the promised date" in page  # its summary
    shipping = article(read(sample_site, "tags/shipping/index.html"))
    listed = {href for href in links(shipping) if href.startswith("../../") and "/tags/" not in href and "/areas/" not in href}
    carrying = {
        p.relative_to(SAMPLE_PROCEDURES).with_suffix("").as_posix()
        for p in SAMPLE_PROCEDURES.rglob("*.md")
        if re.search(r'^\s+- "?Shipping"?\s*$', p.read_text(encoding="utf-8"), re.MULTILINE)
    }
    assert {href.removeprefix("../../").rstrip("/") for href in listed} == carrying


def test_tags_index_groups_category_subject_procedures_with_counts(sample_site: Path) -> None:
    page = article(read(sample_site, "tags/index.html"))
    assert re.search(r'<h2 id="[^"]*">Complaint', page)
    section = page[page.index(">Complaint<") :]
    section = section[: section.index("<h2")]
    assert "procedures ·" in section and 'class="kb-count"' in section
    # Links go through the site root, the same text from any page at this depth.
    assert 'href="../tags/complaint-late-delivery/"' in section and "Late Delivery" in section
    assert 'href="../complaints/late-delivery/"' in section  # the procedure under its subject


def test_area_pages_list_the_folder(sample_site: Path) -> None:
    page = article(read(sample_site, "areas/complaints/index.html"))
    expected = sorted(p.stem for p in (SAMPLE_PROCEDURES / "complaints").glob("*.md"))
    found = sorted(re.findall(r'class="kb-card__title" href="\.\./\.\./complaints/([^/"]+)/"', page))
    assert found == expected
    assert "kb-card__summary" in page and "kb-chip" in page  # summaries and tags
    assert "6 procedures" in page


def test_home_and_short_navigation(sample_site: Path) -> None:
    home = read(sample_site, "index.html")
    assert "press" in article(home).lower() and "<kbd>/</kbd>" in home
    assert 'href="areas/complaints/"' in home and "6 procedures" in home
    nav = home[home.index('class="md-sidebar md-sidebar--primary"') : home.index('class="md-sidebar md-sidebar--secondary"')]
    nav_links = [h for h in links(nav) if not h.startswith("#")]
    # One entry each for areas and tags, not one per area, tag or procedure.
    entries = [h for h in nav_links if not h.startswith("https:")][1:]  # after the logo and the repository
    assert entries == [".", "areas/", "tags/", "recently-updated/", "due-for-review/"], nav_links


def test_areas_page_lists_every_area(sample_site: Path) -> None:
    page = article(read(sample_site, "areas/index.html"))
    folders = sorted(p.name for p in SAMPLE_PROCEDURES.iterdir() if p.is_dir())
    assert sorted(re.findall(r'class="kb-tile" href="\.\./areas/([^/"]+)/"', page)) == folders  # through the site root
    assert "6 procedures" in page


def test_procedure_page(sample_site: Path) -> None:
    whole = read(sample_site, "complaints/late-delivery/index.html")
    page = article(whole)
    toc = whole[whole.index('class="md-sidebar md-sidebar--secondary"') :]
    assert re.findall(r'href="#([^"]+)"', toc)[-1] == "related-procedures"  # the last entry of the table of contents
    meta = page[page.index('class="kb-meta"') :]
    assert meta.index('href="../../tags/complaint-late-delivery/"') < page.index("Use this when")  # under the title
    assert "Fulfillment Support" in meta and "2026-09-14" in meta
    blocks = re.findall(r'<div class="kb-alternate">(.*?)</div>', page, re.DOTALL)
    assert len(blocks) == 2
    assert "Alternate method 1" in blocks[0] and "Reship at once without waiting for the trace" in blocks[0]
    assert "Alternate method 2" in blocks[1] and "Offer a goodwill credit and keep waiting" in blocks[1]
    assert "store credit of up to $15" in blocks[1]  # the method's own text, inside its block
    related = page[page.index('id="related-procedures"') :]
    assert related.count('class="kb-related__item"') == 5
    assert 'href="../../fulfillment/lost-parcel/"' in related
    # The procedure's own text is untouched.
    assert '<h2 id="steps">Steps' in page and "reason code LD-01" in page


# ---- a fresh site of its own -----------------------------------------------------------------------
FRESH = {
    "shipping/late.md": procedure_text(
        "Late shipment",
        ["Complaint: Late Shipment", "Shipping"],
        body="""
        Context line.

        ## Steps

        1. Check the tracking.

        ## Alternate methods

        ### Reship at once
        Reship when under $50.

        ```text
        ### not a method (inside a fence)
        ```

        ### Offer a credit
        Up to $15.
        """,
        summary="The order is late.",
        owner="Fulfillment",
        reviewed="2020-01-01",
    ),
    "shipping/lost.md": procedure_text("Lost parcel", ["Complaint: Late Shipment", "Shipping"], summary="Gone.", reviewed=RECENT),
    "shipping/eu/customs.md": procedure_text("Customs hold", ["Shipping"], summary="Held at customs."),
    "top.md": procedure_text("Top level procedure", ["Misc: Other Thing"], summary="At the top.", reviewed=RECENT, hide=["toc"]),
}


FRESH_URL = "https://kb.example.com/"


@pytest.fixture(scope="module")
def fresh_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_site(tmp_path_factory.mktemp("fresh") / "kb", FRESH, docs="../procedures-elsewhere", extra=f"site_url: {FRESH_URL}\n")
    done = mkdocs("build", "--strict", cwd=root, index_dir=root.parent / "index")
    assert done.returncode == 0, done.stderr
    assert not (root.parent / "procedures-elsewhere" / "tags").exists()
    return root / "site"


def test_fresh_site_builds_with_no_other_setup(fresh_site: Path) -> None:
    assert (fresh_site / "index.html").is_file()
    assert (fresh_site / "tags" / "complaint-late-shipment" / "index.html").is_file()
    assert (fresh_site / "areas" / "shipping" / "eu" / "index.html").is_file()
    general = article(read(fresh_site, "areas/general/index.html"))
    assert "General" in general and 'href="../../top/"' in general
    area = article(read(fresh_site, "areas/shipping/index.html"))
    assert 'href="../../shipping/late/"' in area and 'href="../../shipping/lost/"' in area
    assert "../../shipping/eu/customs/" not in area and 'href="../../areas/shipping/eu/"' in area  # the sub-area, linked


def test_tag_pages_are_pages_of_the_site_with_their_own_title_url_and_sitemap_entry(fresh_site: Path) -> None:
    page = read(fresh_site, "tags/complaint-late-shipment/index.html")
    assert "<title>Complaint: Late Shipment - Fresh KB</title>" in page
    assert f'<link rel="canonical" href="{FRESH_URL}tags/complaint-late-shipment/">' in page
    assert '<h1 class="kb-tag-title">Complaint: Late Shipment</h1>' in article(page) and article(page).count("<h1") == 1
    sitemap = read(fresh_site, "sitemap.xml")
    for slug in ("complaint-late-shipment", "shipping", "misc-other-thing"):
        assert sitemap.count(f"<loc>{FRESH_URL}tags/{slug}/</loc>") == 1
    assert gzip.decompress((fresh_site / "sitemap.xml.gz").read_bytes()).decode("utf-8") == sitemap


def test_procedure_front_matter_is_the_page_metadata(fresh_site: Path) -> None:
    # `hide: [toc]` reaches Material, although the plugin hands MkDocs the already parsed file.
    top = read(fresh_site, "top/index.html")
    assert re.search(r'class="md-sidebar md-sidebar--secondary"[^>]*hidden', top)
    late = read(fresh_site, "shipping/late/index.html")
    assert not re.search(r'class="md-sidebar md-sidebar--secondary"[^>]*hidden', late)
    assert "<title>Top level procedure - Fresh KB</title>" in top


def test_fresh_site_review_marks_and_alternates(fresh_site: Path) -> None:
    late = article(read(fresh_site, "shipping/late/index.html"))
    assert "Review overdue" in late and "2020-01-01" in late
    assert "Never reviewed" in article(read(fresh_site, "shipping/eu/customs/index.html"))
    lost = article(read(fresh_site, "shipping/lost/index.html"))
    assert "Review overdue" not in lost and "Never reviewed" not in lost
    assert late.count('<div class="kb-alternate">') == 2  # the fenced heading is not a method
    assert "### not a method" in late
    related = late[late.index('id="related-procedures"') :]
    # Most shared tags first: lost.md shares two tags, customs.md one.
    assert related.index("../../shipping/lost/") < related.index("../../shipping/eu/customs/")
    assert "Top level procedure" not in related


def test_fresh_site_search_data(fresh_site: Path) -> None:
    assert any((fresh_site / "kb-search").iterdir())


def nav_targets(site: Path) -> dict[str, set[str]]:
    """For every page of a site: where the links of its sidebar navigation lead, from the site root."""
    found = {}
    for html in site.rglob("index.html"):
        page = html.relative_to(site).parent.as_posix()
        base = "https://site/" + ("" if page == "." else page + "/")
        text = html.read_text(encoding="utf-8")
        if 'class="md-sidebar md-sidebar--primary"' not in text:
            continue  # the 404 page
        nav = text[text.index('class="md-sidebar md-sidebar--primary"') : text.index('class="md-sidebar md-sidebar--secondary"')]
        targets = {urllib.parse.urljoin(base, href) for href in links(nav) if not href.startswith(("#", "https://github"))}
        found[page] = {target.removeprefix("https://site/") for target in targets}
    return found


@pytest.mark.parametrize(
    ("site_name", "some_pages"),
    [
        ("sample_site", {"complaints/late-delivery", "tags/complaint-late-delivery", "areas/complaints"}),
        ("fresh_site", {"shipping/late", "tags/complaint-late-shipment", "areas/shipping", "shipping/eu/customs", "top", "."}),
    ],
)
def test_navigation_links_lead_to_the_navigation_pages_from_every_page(
    site_name: str, some_pages: set[str], request: pytest.FixtureRequest
) -> None:
    # Every page, a procedure, a tag page or an area page, has the short navigation, with links that lead to its pages.
    targets = nav_targets(request.getfixturevalue(site_name))
    assert some_pages <= set(targets)
    for page, found in targets.items():
        assert found == {"", "areas/", "tags/", "recently-updated/", "due-for-review/"}, page


# ---- validation ------------------------------------------------------------------------------------
def kb_check_lines(docs: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "search", "--procedures", str(docs), "check"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return [line for line in done.stdout.splitlines() + done.stderr.splitlines() if re.match(r"^\S+:\d+: (error|warning): ", line)]


def test_broken_procedure_fails_the_build_with_kb_check_lines(tmp_path: Path) -> None:
    root = write_site(
        tmp_path / "site",
        {
            "good.md": procedure_text("Good", ["A: B"]),
            "area/bad.md": "---\ntitle: Bad\nowner: [x]\n---\n\n## Steps\n\n1. x\n",
        },
    )
    expected = kb_check_lines(root / "docs")
    assert any(line.startswith("area/bad.md:") and ": error: " in line for line in expected)
    done = mkdocs("build", cwd=root, index_dir=tmp_path / "index")
    assert done.returncode != 0
    for line in expected:
        assert line in done.stderr


def test_warning_fails_only_with_strict(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"no-steps.md": procedure_text("No steps", ["A: B"], body="Just text.\n")})
    (warning,) = kb_check_lines(root / "docs")
    assert warning.startswith("no-steps.md:") and ": warning: " in warning
    done = mkdocs("build", cwd=root, index_dir=tmp_path / "index")
    assert done.returncode == 0, done.stderr
    assert warning in done.stderr
    done = mkdocs("build", "--strict", cwd=root, index_dir=tmp_path / "index")
    assert done.returncode != 0 and warning in done.stderr
    # The plugin's own `strict` option makes warnings errors without --strict.
    (root / "mkdocs.yml").write_text(
        (root / "mkdocs.yml").read_text(encoding="utf-8").replace("  - kb\n", "  - kb:\n      strict: true\n"), encoding="utf-8"
    )
    done = mkdocs("build", cwd=root, index_dir=tmp_path / "index")
    assert done.returncode != 0 and warning in done.stderr


def test_other_theme_is_a_clear_error(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"a.md": procedure_text("A", ["A"])})
    (root / "mkdocs.yml").write_text("site_name: X\ndocs_dir: docs\ntheme:\n  name: mkdocs\nplugins:\n  - kb\n", encoding="utf-8")
    done = mkdocs("build", cwd=root, index_dir=tmp_path / "index")
    assert done.returncode != 0 and "needs the Material for MkDocs theme" in done.stderr


# ---- live preview ----------------------------------------------------------------------------------
def test_serve_rebuilds_on_edit(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", {"a.md": procedure_text("First title", ["A: B"])})
    server, port = start_serve(root, tmp_path / "index")

    def page_when(predicate, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/a/", timeout=2) as response:
                    text = response.read().decode()
                if predicate(text):
                    return text
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("mkdocs serve did not show the expected page")

    try:
        assert "First title" in page_when(lambda text: "First title" in text)
        (root / "docs" / "a.md").write_text(procedure_text("Second title", ["A: B"]), encoding="utf-8")
        page_when(lambda text: "Second title" in text)
    finally:
        server.terminate()
        server.wait(timeout=10)


# ---- units -----------------------------------------------------------------------------------------
def test_alternate_methods_are_labelled_as_the_engine_finds_them() -> None:
    import markdown

    from search.model import parse_procedure

    body = (
        "## Steps\n1. x\n\n### Not an alternate\n\n## Alternate methods\n\nChoose one.\n\n### Call *the* carrier\ntext one\n\n"
        "```\n### fenced\n```\n\n> ### quoted\n\n### Use [the form](https://example.com/f)\n\n- a\n- b\n\n## Notes\n\n### Three\n"
    )
    procedure, _ = parse_procedure(f"---\ntitle: T\ntags: [A]\n---\n{body}".encode(), "t.md")
    assert procedure is not None
    titles = [method.title for method in procedure.alternates]
    assert titles == ["Call *the* carrier", "Use [the form](https://example.com/f)"]
    for extensions in (["toc", "fenced_code"], ["fenced_code", "toc"], [TocExtension(permalink=True), "fenced_code"]):
        page = markdown.markdown(body, extensions=extensions)
        labelled = label_alternates(page, titles)
        blocks = re.findall(r'<div class="kb-alternate">(.*?)</div>', labelled, re.DOTALL)
        assert len(blocks) == 2
        assert "Alternate method 1" in blocks[0] and "the</em> carrier" in blocks[0] and "### fenced" in blocks[0] and "quoted" in blocks[0]
        assert "Alternate method 2" in blocks[1] and "<li>b</li>" in blocks[1] and "Notes" not in blocks[1]
        assert labelled.index("Choose one") < labelled.index('<div class="kb-alternate">')
        assert re.sub(r'<div class="kb-alternate"><p class="kb-alternate__label">.*?</p>|</div>\n', "", labelled) == page
    # Headings that do not all match, and blocks that would cut an element in two, leave the page as it is.
    page = markdown.markdown(body, extensions=["fenced_code"])
    assert label_alternates(page, [*titles, "Missing"]) == page
    nested = "<h2>Alternate methods</h2>\n<h3>One</h3>\n<blockquote>\n<h3>Two</h3>\n</blockquote>\n"
    assert label_alternates(nested, ["One", "Two"]) == nested
    assert label_alternates(page, []) == page


def test_root_prefix_leads_from_any_page_url_to_the_site_root() -> None:
    assert [root_prefix(url) for url in ("./", "", "index.html", "tags/", "tags/x/", "a/b.html", "a/b/c/")] == [
        "",
        "",
        "",
        "../",
        "../../",
        "../",
        "../../../",
    ]
