"""The site in real headless Chromium: search box, keyboard, tag pages, ?q= links, XSS, parity.

Sites are built with `mkdocs build` and served by a plain static HTTP server on 127.0.0.1, as
any static host would serve them. Screenshots land in $KB_SCREENSHOTS (default: a tmp folder).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DEV_SET, ROOT, procedure_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")

XSS = '<img src=x onerror="window.__xss=1;alert(1)">'


def build_site(docs: Path, site: Path, tmp: Path, tags_file: Path | None = None, strict: bool = True) -> Path:
    """`mkdocs build` (`--strict` unless told) of a Material site with the kb plugin over docs."""
    options = f"      index_dir: {tmp / 'index'}\n" + (f"      tags_file: {tags_file}\n" if tags_file else "")
    config = tmp / "mkdocs.yml"
    config.write_text(
        f"site_name: Test KB\ndocs_dir: {docs}\nsite_dir: {site}\ntheme:\n  name: material\nplugins:\n  - kb:\n{options}",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *(["--strict"] if strict else []), "-q", "-f", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return site


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def serve() -> Iterator:
    servers = []

    def start(directory: Path) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory, serve) -> str:
    tmp = tmp_path_factory.mktemp("sample")
    return serve(build_site(ROOT / "procedures", tmp / "site", tmp))


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    folder = Path(os.environ.get("KB_SCREENSHOTS", Path("/tmp") / "kb-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def result_titles(page) -> list[str]:
    page.wait_for_selector("[data-kb-results] li")
    return page.locator("[data-kb-results] li .kb-result__title").all_text_contents()


def test_typing_a_query_shows_the_right_first_result(page, sample_site: str) -> None:
    page.goto(sample_site)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.hasAttribute('data-kb-query')")
    page.keyboard.type("customer says the parcel never showed up")
    page.wait_for_function("document.querySelectorAll('[data-kb-results] li').length > 0")
    titles = result_titles(page)
    expected = json.loads(cli_search("customer says the parcel never showed up"))["results"][0]["title"]
    assert titles[0] == expected
    assert page.locator("[data-kb-meta]").inner_text().strip()
    screenshot(page, "search-results")


def test_keyboard_moves_through_results_and_enter_opens_one(page, sample_site: str) -> None:
    page.goto(sample_site)
    page.keyboard.press("s")
    page.keyboard.type("refund")
    result_titles(page)
    items = page.locator("[data-kb-results] li")
    assert items.nth(0).get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    assert items.nth(1).get_attribute("aria-selected") == "true"
    target = items.nth(1).locator("a").get_attribute("href")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == target
    assert page.locator("h1").first.inner_text().strip()


def test_escape_closes_the_search(page, sample_site: str) -> None:
    page.goto(sample_site)
    page.keyboard.press("/")
    page.keyboard.type("badge")
    result_titles(page)
    page.keyboard.press("Escape")
    assert page.evaluate("!document.getElementById('__search').checked")


def test_q_parameter_opens_the_search_with_the_query(page, sample_site: str) -> None:
    page.goto(sample_site + "?q=Complaint%3A%20Late%20Delivery")
    titles = result_titles(page)
    assert page.input_value("[data-kb-query]") == "Complaint: Late Delivery"
    assert titles[0] == json.loads(cli_search("Complaint: Late Delivery"))["results"][0]["title"]


def test_no_results_shows_did_you_mean(page, sample_site: str) -> None:
    page.goto(sample_site)
    page.keyboard.press("/")
    page.keyboard.type("warrentee zzqx")
    page.wait_for_function("document.querySelector('[data-kb-meta]').textContent.includes('Did you mean')")
    assert page.locator("[data-kb-meta]").inner_text().startswith("No results")
    assert page.locator(".kb-did-you-mean").inner_text() == "warranty"


def test_tags_page_and_a_tag_page(page, sample_site: str) -> None:
    page.goto(sample_site + "tags/")
    text = page.locator("article").inner_text()
    assert "Complaint" in text and "Late Delivery" in text
    screenshot(page, "tags")
    with page.expect_navigation():
        page.locator("article a", has_text="Late Delivery").first.click()
    assert "/tags/" in page.url and ":" not in page.url.split("/tags/")[1] and " " not in page.url
    assert "Late delivery complaint" in page.locator("article").inner_text()
    screenshot(page, "tag-page")


def test_areas_from_the_navigation_to_an_area_page(page, sample_site: str) -> None:
    page.goto(sample_site)
    with page.expect_navigation():
        page.locator(".md-sidebar--primary a.md-nav__link:visible", has_text="Areas").click()
    assert page.url.endswith("/areas/")
    screenshot(page, "areas")
    with page.expect_navigation():
        page.locator("article a.kb-tile", has_text="Complaints").click()
    assert page.url.endswith("/areas/complaints/")
    assert "Late delivery complaint" in page.locator("article").inner_text()


def test_procedure_page_screenshot(page, sample_site: str) -> None:
    page.goto(sample_site + "complaints/late-delivery/")
    assert "Alternate method" in page.locator("article").inner_text()
    screenshot(page, "procedure")


# The overdue notice's last words, "… listed by owner on <a>Due for review</a>.": where the link's
# last line box and the closing period are, as {link: {right, top}, period: {left, top}}.
NOTE_ENDING = """() => {
  const note = document.querySelector('.kb-note'), link = note.querySelector('a');
  const rects = link.getClientRects(), last = rects[rects.length - 1];
  const range = document.createRange();
  range.setStart(link.nextSibling, 0);
  range.setEnd(link.nextSibling, 1);
  const period = range.getBoundingClientRect();
  return {text: link.nextSibling.textContent, link: {right: last.right, top: last.top}, period: {left: period.left, top: period.top}};
}"""


@pytest.mark.parametrize(
    ("name", "options"),
    [("desktop", {"viewport": {"width": 1280, "height": 900}}), ("mobile", {"viewport": {"width": 390, "height": 844}, "is_mobile": True})],
)
def test_overdue_notice_on_the_home_page_reads_as_one_sentence(browser, sample_site: str, name: str, options: dict) -> None:
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(sample_site)
    page.locator(".kb-note").scroll_into_view_if_needed()
    ending = page.evaluate(NOTE_ENDING)
    assert ending["text"].startswith(".")
    assert abs(ending["period"]["top"] - ending["link"]["top"]) < 2, ending  # on the link's line
    assert 0 <= ending["period"]["left"] - ending["link"]["right"] < 2, ending  # right after it
    icon = page.locator(".kb-note .kb-icon").bounding_box()
    assert icon is not None and icon["width"] > 0
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    screenshot(page, f"home-bottom-{name}")
    context.close()


def test_one_result_is_highlighted_when_the_pointer_rests_over_another(page, sample_site: str) -> None:
    page.goto(sample_site)
    page.click(".kb-hero__search")  # the pointer stays there, where the results then appear
    page.keyboard.type("my parcel never showed up")
    page.wait_for_function("document.querySelectorAll('[data-kb-results] li').length >= 3")
    under_pointer = page.evaluate(
        "(() => { const b = document.querySelector('.kb-hero__search').getBoundingClientRect();"
        " return document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2).closest('li.kb-result').id; })()"
    )
    assert under_pointer != "kb-result-0", "the pointer should rest over another result than the selected first one"
    highlighted = page.evaluate(
        "[...document.querySelectorAll('[data-kb-results] li')].filter(li => [li, li.querySelector('a')]"
        ".some(e => getComputedStyle(e).backgroundColor !== 'rgba(0, 0, 0, 0)')).map(li => li.id)"
    )
    assert highlighted == ["kb-result-0"]


def test_kbsearch_api_returns_paths_as_the_cli_prints_them(page, sample_site: str) -> None:
    page.goto(sample_site)
    results = page.evaluate("kbSearch('Complaint: Late Delivery')")
    assert results[0]["path"] == "complaints/late-delivery.md"
    assert results[0]["url"].startswith(sample_site) and results[0]["title"]


def test_procedure_text_is_never_executed_as_html(page, tmp_path: Path, serve) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.md").write_text(procedure_text(f"Evil {XSS} title", [f"Security: {XSS}"], summary=f"Summary {XSS}"), encoding="utf-8")
    (docs / "good.md").write_text(procedure_text("Good procedure", ["Security: Fine"]), encoding="utf-8")
    url = serve(build_site(docs, tmp_path / "site", tmp_path, strict=False))  # kb check warns on the HTML
    page.goto(url)
    page.keyboard.press("/")
    page.keyboard.type("evil")
    titles = result_titles(page)
    assert "<img" in titles[0]  # shown as text
    page.wait_for_timeout(300)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("[data-kb-results] img").count() == 0


@pytest.mark.skipif(not (DEV_SET / "queries.jsonl").is_file(), reason="../shared/eval/dev is not beside the repository")
def test_dev_set_through_the_browser_matches_the_cli(page, tmp_path: Path, serve) -> None:
    judged = [json.loads(line) for line in (DEV_SET / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    url = serve(build_site(DEV_SET / "procedures", tmp_path / "site", tmp_path))
    page.goto(url)
    browser_answers = page.evaluate(
        "async (qs) => { const out = []; for (const q of qs) out.push(await kbSearch(q)); return out; }", [j["q"] for j in judged]
    )
    stdin = "".join(j["q"] + "\n" for j in judged)
    cli_answers = [json.loads(line) for line in cli_search("-", stdin=stdin, procedures=DEV_SET / "procedures").splitlines()]
    same_first = sum(
        [r["path"] for r in b][:1] == [r["path"] for r in c["results"]][:1] for b, c in zip(browser_answers, cli_answers, strict=True)
    )
    top1 = sum(bool(b) and b[0]["path"] in {j["relevant"], *j.get("also", [])} for b, j in zip(browser_answers, judged, strict=True))
    assert same_first / len(judged) >= 0.95
    assert top1 / len(judged) >= 0.88


def cli_search(query: str, stdin: str | None = None, procedures: Path = ROOT / "procedures") -> str:
    args = [sys.executable, "-m", "search", "--procedures", str(procedures), "search", query] + ([] if stdin else ["--json"])
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_new_procedure_goes_from_kb_new_to_both_searches(page, tmp_path: Path, serve) -> None:
    """The editors' path from the README: kb new, edit, kb check, mkdocs build --strict, search."""
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "procedures", docs)
    shutil.copy(ROOT / "tags.yml", tmp_path / "tags.yml")
    kb = [
        sys.executable,
        "-m",
        "search",
        "--procedures",
        str(docs),
        "--tags-file",
        str(tmp_path / "tags.yml"),
        "--index-dir",
        str(tmp_path / "idx"),
    ]
    created = subprocess.run(
        [*kb, "new", "Complaint: Kayak Paddle Warped", "--title", "Warped kayak paddle complaint", "--owner", "Fulfillment Support"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    path = next(docs.rglob("warped-kayak-paddle-complaint.md"))
    text = path.read_text(encoding="utf-8")
    text = text.replace("When this applies, and what the rep must have at hand.", "A paddle arrived bent or warped from heat in transit.")
    text = text.replace("1. ...", "1. Ask for a photo of the warped blade and replace it with reason code PAD-WARP.")
    path.write_text(text, encoding="utf-8")
    checked = subprocess.run([*kb, "check", "--strict"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    site = build_site(docs, tmp_path / "site", tmp_path, tags_file=tmp_path / "tags.yml")

    rel = path.relative_to(docs).as_posix()
    found = subprocess.run([*kb, "search", "--json", "warped paddle"], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert json.loads(found.stdout)["results"][0]["path"] == rel
    page.goto(serve(site))
    assert page.evaluate("kbSearch('warped paddle')")[0]["path"] == rel
