"""The `kb` plugin's build fails fast, leaves no process behind, and shows user text as text."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import markdown
import pytest

from search.method_labels import label_alternates
from search.model import parse_procedure

from .conftest import ROOT
from .test_plugin import RECENT, article, mkdocs, read, start_serve, write_site

BUILD_TIMEOUT = 120  # seconds: a build that takes this long is hung


def procedure(title: str, tags: str = '["Billing: Refund"]', body: str = "## Steps\n\n1. Do it.\n", extra: str = "") -> str:
    return f"---\ntitle: {json.dumps(title)}\ntags: {tags}\nsummary: Short.\nreviewed: {RECENT}\n{extra}---\n\n{body}"


# ---- alternate methods whose headings hold inline HTML ---------------------------------------------
INLINE_HTML_HEADINGS = [
    "Press <kbd>F5</kbd>, then refund",
    'Open the <abbr title="Return merchandise authorisation">RMA</abbr> form',
    'Read the <abbr title="a > b">label</abbr> aloud',
    "Call back<br>later",
    'Check the photo <img src="x.png" alt="a receipt">',
    "Type `<br>` in the note",
    "Refund &amp; apologise",
]


@pytest.mark.parametrize("heading", INLINE_HTML_HEADINGS)
def test_an_alternate_heading_with_inline_html_is_labelled(heading: str) -> None:
    body = f"## Steps\n\n1. x\n\n## Alternate methods\n\n### Email the customer\n\nOne.\n\n### {heading}\n\nTwo.\n\n## Notes\n\nEnd.\n"
    parsed, _ = parse_procedure(procedure("T", body=body).encode(), "t.md")
    assert parsed is not None
    titles = [method.title for method in parsed.alternates]
    assert len(titles) == 2
    page = markdown.markdown(body, extensions=["toc", "fenced_code"])
    labelled = label_alternates(page, titles)
    blocks = re.findall(r'<div class="kb-alternate">(.*?)</div>\n', labelled, re.DOTALL)
    assert len(blocks) == 2
    assert "Alternate method 2" in blocks[1] and "Two." in blocks[1] and "End." not in blocks[1]


def test_an_alternate_heading_with_an_attribute_list_is_labelled() -> None:
    body = "## Alternate methods\n\n### Call the carrier { #call }\n\nOne.\n"
    page = markdown.markdown(body, extensions=["toc", "attr_list"])
    assert label_alternates(page, ["Call the carrier { #call }"]).count('<div class="kb-alternate">') == 1


def test_an_alternates_section_with_no_matching_heading_leaves_the_page_as_it_is() -> None:
    page = "<h2>Alternate methods</h2>\n<h3>Something else</h3>\n<p>x</p>\n<h2>Alternate methods</h2>\n<h3>One</h3>\n"
    assert label_alternates(page, ["One", "Two"]) == page
    assert label_alternates(page, ["Missing"]) == page


def test_a_procedure_with_inline_html_in_a_method_heading_builds_with_its_methods_labelled(tmp_path: Path) -> None:
    body = "## Steps\n\n1. x\n\n## Alternate methods\n\n### Press <kbd>F5</kbd>, then refund\n\nOne.\n\n### Call back<br>later\n\nTwo.\n"
    root = write_site(tmp_path / "kb", {"billing/refund.md": procedure("Refund", body=body)})
    done = mkdocs("build", "--strict", cwd=root, index_dir=tmp_path / "index", timeout=BUILD_TIMEOUT)
    assert done.returncode == 0, done.stderr
    page = article(read(root / "site", "billing/refund/index.html"))
    assert page.count('<div class="kb-alternate">') == 2 and "<kbd>F5</kbd>" in page


def test_an_error_in_a_page_hook_fails_the_build_at_once_naming_the_file(tmp_path: Path) -> None:
    body = "## Steps\n\n1. x\n\n## Alternate methods\n\n### Call\n\nOne.\n"
    root = write_site(tmp_path / "kb", {"billing/refund.md": procedure("Refund", body=body)})
    # The build, in a process of its own, with the labelling of alternate methods broken.
    code = (
        "import sys, plugins.kb.plugin as plugin\n"
        "def broken(page, titles): raise ValueError('labelling broke')\n"
        "plugin.label_alternates = broken\n"
        "from mkdocs.__main__ import cli\n"
        "sys.argv = ['mkdocs', 'build']\n"
        "cli()\n"
    )
    env = {**os.environ, "KB_INDEX_DIR": str(tmp_path / "index"), "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    assert done.returncode != 0
    assert "billing/refund.md" in done.stderr and "labelling broke" in done.stderr
    assert "Traceback" not in done.stderr


# ---- no process left behind ----------------------------------------------------------------------
def descendants(pid: int) -> set[tuple[int, str]]:
    """The processes started by `pid` and by them, as (pid, start time): a pid alone may be reused."""
    found: set[tuple[int, str]] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except OSError:
                continue
            for child in pids:
                started = start_time(child)
                if started is not None:
                    found.add((child, started))
                    pending.append(child)
    return found


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22, counted after the command name


def alive(processes: set[tuple[int, str]]) -> set[tuple[int, str]]:
    return {(pid, started) for pid, started in processes if start_time(pid) == started}


@pytest.fixture(scope="module")
def generated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "300", str(root / "docs")], check=True, capture_output=True)
    write_site(root, {})
    return root


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_a_build_killed_while_rendering_leaves_no_process_behind(generated_site: Path, tmp_path: Path, stop: signal.Signals) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "KB_INDEX_DIR": str(tmp_path / "index"), "NO_MKDOCS_2_WARNING": "1"}
    build = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(site)],
        cwd=generated_site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started: set[tuple[int, str]] = set()
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT
        # Until the first procedure page is written: the pages are being rendered.
        while not any(site.glob("*/*/index.html")) and build.poll() is None and time.monotonic() < deadline:
            started |= descendants(build.pid)
            time.sleep(0.01)
        started |= descendants(build.pid)
        os.kill(build.pid, stop)
        assert build.wait(timeout=30) == -stop, "the build was not stopped while rendering"
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    deadline = time.monotonic() + 10
    while alive(started) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = alive(started)
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    assert not left


def test_stopping_serve_reports_no_leaked_semaphores(tmp_path: Path) -> None:
    root = write_site(tmp_path / "kb", {"billing/refund.md": procedure("Refund")})
    server, port = start_serve(root, tmp_path / "index", stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT
        served = False
        while not served and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/billing/refund/", timeout=2) as response:
                    served = "Refund" in response.read().decode()
            except OSError:
                time.sleep(0.2)
        assert served, "mkdocs serve did not show the page"
        server.terminate()  # as a process manager, or a terminal closing, stops it
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert "leaked semaphore" not in stderr and "resource_tracker" not in stderr


# ---- user text is shown as text ------------------------------------------------------------------
SCRIPT_TITLE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "kb"
    hostile = procedure(
        SCRIPT_TITLE,
        tags='["<b>Billing</b>: <img src=x onerror=alert(2)>", "<img src=x onerror=alert(6)>: Refund", "Billing: Refund"]',
        body="## Steps\n\n1. Do it.\n\n## Alternate methods\n\n### Call\n\nOne.\n",
        extra='owner: "<img src=x onerror=alert(3)>"\nkeywords: ["<img src=x onerror=alert(4)>"]\n',
    )
    hostile = hostile.replace("summary: Short.", 'summary: "<img src=x onerror=alert(5)>"')
    procedures = {
        "billing/hostile.md": hostile,
        "billing/returns.md": procedure("Returns & exchanges"),
        "billing/quoted.md": procedure('Say "stop" now'),
        "r&d/plan.md": procedure("Plan"),  # its area's page is titled "R&d"
    }
    # The site's own navigation lists the procedures: their titles also appear in it and in the footer.
    nav = "nav:\n  - billing/hostile.md\n  - billing/returns.md\n  - billing/quoted.md\n"
    write_site(root, procedures, extra=nav)
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")  # with the footer's links to the previous and next pages
    (root / "mkdocs.yml").write_text(
        config.replace("  name: material\n", "  name: material\n  features: [navigation.footer]\n"), encoding="utf-8"
    )
    done = mkdocs("build", cwd=root, index_dir=root.parent / "index", timeout=BUILD_TIMEOUT)  # kb check warns on the HTML
    assert done.returncode == 0, done.stderr
    assert "billing/hostile.md:2: warning: title contains HTML (<img ...>)" in done.stderr, done.stderr
    return root / "site"


def test_a_title_with_html_is_shown_as_text_on_every_page(hostile_site: Path) -> None:
    pages = {path.relative_to(hostile_site).as_posix(): path.read_text(encoding="utf-8") for path in hostile_site.rglob("*.html")}
    assert len(pages) > 5
    for name, html in pages.items():
        assert "<img src=x" not in html, name
    page = pages["billing/hostile/index.html"]
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert f"<title>{escaped} - Fresh KB</title>" in page
    assert f"<h1>{escaped}</h1>" in article(page)
    assert escaped in pages["billing/returns/index.html"]  # the footer's link to the previous page
    assert escaped in pages["tags/billing-refund/index.html"]  # its card
    assert all(f"alert({n})" in page for n in (2, 3, 6))  # the tags and the owner, as text


def test_a_title_with_an_ampersand_is_escaped_once(hostile_site: Path) -> None:
    page = read(hostile_site, "billing/returns/index.html")
    assert "<title>Returns &amp; exchanges - Fresh KB</title>" in page
    assert "<h1>Returns &amp; exchanges</h1>" in article(page)
    area = read(hostile_site, "areas/r-d/index.html")
    assert "<title>R&amp;d - Fresh KB</title>" in area
    for path in hostile_site.rglob("*.html"):
        assert "&amp;amp;" not in path.read_text(encoding="utf-8"), path


def test_a_title_with_double_quotes_cannot_end_an_attribute(hostile_site: Path) -> None:
    previous = read(hostile_site, "billing/quoted/index.html")
    assert 'aria-label="Previous: Returns &amp; exchanges"' in previous
    following = read(hostile_site, "billing/returns/index.html")
    assert 'aria-label="Next: Say &quot;stop&quot; now"' in following
    for path in hostile_site.rglob("*.html"):
        assert 'Say "stop"' not in path.read_text(encoding="utf-8"), path


def test_the_search_data_holds_the_title_as_text(hostile_site: Path) -> None:
    data = "\n".join(path.read_text(encoding="utf-8") for path in (hostile_site / "kb-search").rglob("*") if path.is_file())
    assert json.dumps(SCRIPT_TITLE)[1:-1] in data or SCRIPT_TITLE.replace("<", "\\u003c").replace(">", "\\u003e") in data
    assert "&lt;img" not in data and "&amp;" not in data
