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
import types
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from markdown.extensions.toc import TocExtension
from mkdocs.exceptions import Abort, PluginError

from plugins.kb.pages import label_alternates, root_prefix
from plugins.kb.plugin import HEAD_ASSETS, HEAD_PARTIAL, replace_search_block, theme_overrides
from plugins.kb.sections import EndSection
from plugins.kb.shell import PageShell

from .conftest import ROOT, SAMPLE_PROCEDURES, procedure_text

TODAY = _dt.date.today()
RECENT = (TODAY - _dt.timedelta(days=10)).isoformat()


def mkdocs(*args: str, cwd: Path, index_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_INDEX_DIR": str(index_dir), "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    env.pop("KB_SYNONYMS", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )


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
    for asset in ("kb.css", "kb.js"):
        assert (sample_site / "assets" / "kb" / asset).is_file()
        assert f"assets/kb/{asset}" in home
    # The three scripts, in load order, in one file.
    bundle = (sample_site / "assets" / "kb" / "kb.js").read_text(encoding="utf-8")
    assert bundle.index("root.kbStem =") < bundle.index("root.KbEngine =") < bundle.index("window.kbSearch =")
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
    assert entries == [".", "areas/", "tags/", "due-for-review/"], nav_links


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


def test_tag_pages_are_the_theme_s_page_with_their_own_title_url_and_sitemap_entry(fresh_site: Path) -> None:
    # Filled into one page Material rendered (plugins/kb/shell.py), which is not left in the site.
    page = read(fresh_site, "tags/complaint-late-shipment/index.html")
    assert "<title>Complaint: Late Shipment - Fresh KB</title>" in page
    assert f'<link rel="canonical" href="{FRESH_URL}tags/complaint-late-shipment/">' in page
    assert '<h1 class="kb-tag-title">Complaint: Late Shipment</h1>' in article(page) and article(page).count("<h1") == 1
    assert not [path for path in fresh_site.rglob("*") if "kbshell" in path.name]
    sitemap = read(fresh_site, "sitemap.xml")
    assert "kbshell" not in sitemap
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
    # The navigation's HTML is rendered once per set of relative links and reused (partials/nav.html):
    # pages as deep as one another but in other folders (a procedure, a tag page, an area page) still
    # get links that lead to the right pages.
    targets = nav_targets(request.getfixturevalue(site_name))
    assert some_pages <= set(targets)
    for page, found in targets.items():
        assert found == {"", "areas/", "tags/", "due-for-review/"}, page


def test_an_error_while_writing_tag_pages_fails_the_build_naming_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from plugins.kb.pages import Catalog

    def broken(*args: object) -> str:
        raise OSError("disk full")

    root = write_site(tmp_path / "kb", FRESH)
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setattr(Catalog, "tag_page", broken)
    with pytest.raises(Abort):
        build(load_config(str(root / "mkdocs.yml")))
    assert re.search(r"kb: tags/kbshellpage\w+\.md: OSError: disk full", caplog.text)


def test_page_shell_writes_filled_pages_into_new_folders(tmp_path: Path) -> None:
    shell = PageShell("tags")
    shell.capture(f"<title>{shell.title}</title><a href='../{shell.slug}/'></a>{shell.content}", tmp_path / "site" / "shell.html")
    shell.write(tmp_path / "site" / "tags" / "a-b" / "index.html", "A: B", "<p>A: B</p>", "a-b")
    page = (tmp_path / "site" / "tags" / "a-b" / "index.html").read_text(encoding="utf-8")
    assert page == "<title>A: B</title><a href='../a-b/'></a><p>A: B</p>"
    (tmp_path / "blocked").write_text("a file where a folder should be", encoding="utf-8")
    with pytest.raises((FileExistsError, NotADirectoryError)):
        shell.write(tmp_path / "blocked" / "x" / "index.html", "X", "<p>X</p>", "x")


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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KB_INDEX_DIR": str(tmp_path / "index"), "NO_MKDOCS_2_WARNING": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

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
def test_header_override_replaces_materials_search_block() -> None:
    import material

    header = (Path(material.__file__).parent / "templates" / "partials" / "header.html").read_text(encoding="utf-8")
    replaced = replace_search_block(header)
    assert replaced is not None
    assert '"material/search" in config.plugins' not in replaced
    assert '{% include "partials/kb-search.html" %}' in replaced and 'for="__search"' in replaced
    assert replaced.count("{% if") - replaced.count("{% endif") == header.count("{% if") - header.count("{% endif")
    assert replace_search_block("<header>no search</header>") is None


def test_theme_overrides_are_written_from_the_partials_the_site_would_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import material

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    material_dir = str(Path(material.__file__).parent / "templates")
    material_header = (Path(material_dir) / "partials" / "header.html").read_text(encoding="utf-8")
    override, missing = theme_overrides([material_dir])
    assert missing == []
    assert Path(override).is_relative_to(tmp_path / "cache" / "service-kb" / "theme-overrides")
    head = (Path(override) / "partials" / HEAD_PARTIAL).read_text(encoding="utf-8")
    assert head == HEAD_ASSETS + (Path(material_dir) / "partials" / HEAD_PARTIAL).read_text(encoding="utf-8")
    assert "kb-search.html" in (Path(override) / "partials" / "header.html").read_text(encoding="utf-8")
    # The next build of a site with the same theme reuses the folder, with the override in front.
    assert theme_overrides([override, material_dir]) == (override, [])
    # A custom_dir's own partials come first; a header without Material's search block is left alone.
    custom = tmp_path / "custom"
    (custom / "partials" / "javascripts").mkdir(parents=True)
    (custom / "partials" / "header.html").write_text(material_header.replace("md-header", "my-header"), encoding="utf-8")
    (custom / "partials" / HEAD_PARTIAL).write_text("<script>own()</script>", encoding="utf-8")
    custom_override, missing = theme_overrides([str(custom), material_dir])
    assert custom_override != override and missing == []
    assert "my-header" in (Path(custom_override) / "partials" / "header.html").read_text(encoding="utf-8")
    assert (Path(custom_override) / "partials" / HEAD_PARTIAL).read_text(encoding="utf-8") == HEAD_ASSETS + "<script>own()</script>"
    (custom / "partials" / "header.html").write_text("<header>own</header>", encoding="utf-8")
    assert theme_overrides([custom_override, str(custom), material_dir]) == (custom_override, ["header.html"])
    assert not (Path(custom_override) / "partials" / "header.html").exists()  # the custom header is used as it is
    assert theme_overrides([str(tmp_path / "no-theme")])[1] == ["header.html", HEAD_PARTIAL]
    # Where the cache folder cannot be written: a temporary folder.
    monkeypatch.setenv("XDG_CACHE_HOME", str(custom / "partials" / "header.html"))
    fallback, missing = theme_overrides([material_dir])
    assert missing == [] and not Path(fallback).is_relative_to(tmp_path) and (Path(fallback) / "partials" / "header.html").is_file()


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


def test_end_section_is_the_heading_markdown_would_render_with_its_table_of_contents_entry() -> None:
    import markdown
    from mkdocs.structure.toc import get_toc

    body = "# Title\n\n## Steps\n\n1. x\n\n## Related procedures\n\nThe page's own section.\n"
    for extensions, configs in (
        (["toc"], {}),
        (["toc", "attr_list"], {"toc": {"permalink": True}}),
        (["toc"], {"toc": {"toc_depth": 1}}),  # level-2 headings left out of the table of contents
    ):
        md = markdown.Markdown(extensions=extensions, extension_configs=configs)
        html = md.convert(body)
        page = types.SimpleNamespace(toc=get_toc(md.toc_tokens), present_anchor_ids=set())
        section = EndSection("Related procedures", extensions, configs)
        out = section.append(page, html, "<ul><li>other</li></ul>")  # type: ignore[arg-type]
        # The same heading, and the same id for it, as when the page's Markdown ends with it.
        whole = markdown.Markdown(extensions=extensions, extension_configs=configs)
        expected = whole.convert(body + "\n## Related procedures\n")
        assert out == f"{expected}\n<ul><li>other</li></ul>"
        assert 'id="related-procedures_1"' in out and page.present_anchor_ids == {"related-procedures_1"}
        assert [[a.url for a in item.children] for item in page.toc.items] == [
            [a.url for a in item.children] for item in get_toc(whole.toc_tokens).items
        ]


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


def test_page_shell_fills_title_content_and_url_escaping_the_title(tmp_path: Path) -> None:
    shell = PageShell("tags")
    url = f"tags/{shell.slug}/"
    output = (
        f'<title>{shell.title} - KB</title><link rel="canonical" href="https://x/{url}">'
        f"<span>{shell.title}</span><article>{shell.content}</article>"
    )
    dest = tmp_path / url / "index.html"
    dest.parent.mkdir(parents=True)
    dest.write_text(output, encoding="utf-8")
    shell.capture(output, dest)
    page = shell.fill('Billing: Refund <fast> & "now"', "<h1>Refunds</h1><p>list</p>", "billing-refund")
    assert page == (
        '<title>Billing: Refund &lt;fast&gt; &amp; &quot;now&quot; - KB</title><link rel="canonical" href="https://x/tags/billing-refund/">'
        "<span>Billing: Refund &lt;fast&gt; &amp; &quot;now&quot;</span><article><h1>Refunds</h1><p>list</p></article>"
    )
    shell.remove_output()  # the placeholder page and its folder leave the site
    assert not dest.parent.exists() and (tmp_path / "tags").is_dir()


def test_page_shell_refuses_a_theme_that_drops_the_content() -> None:
    shell = PageShell("tags")
    with pytest.raises(PluginError, match="dropped the content"):
        shell.capture("<html><title>x</title></html>", Path("tags/x/index.html"))
