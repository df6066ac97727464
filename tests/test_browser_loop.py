"""The rep's side of the loop in real headless Chromium: compact search results (six and more in a
1280×800 window), what to do when a search finds nothing, and "Report a problem" naming the page
the rep has open. Screenshots land in $KB_SCREENSHOTS (default: a tmp folder)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ROOT
from .test_browser import CHROMIUM, browser, screenshot, serve  # noqa: F401 (fixtures)
from .test_plugin import mkdocs

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory, serve) -> str:  # noqa: F811
    """The sample site as its own mkdocs.yml builds it (its edit_uri on github.com gives the tracker)."""
    tmp = tmp_path_factory.mktemp("loop")
    done = mkdocs("build", "--strict", "-d", str(tmp / "site"), cwd=ROOT, index_dir=tmp / "index")
    assert done.returncode == 0, done.stderr
    return serve(tmp / "site")


@pytest.fixture
def page(browser) -> Iterator:  # noqa: F811 (the fixture imported above)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def search(page, site: str, query: str) -> None:
    page.goto(site)
    page.keyboard.press("/")
    page.keyboard.type(query)


def test_six_results_fit_in_a_1280_by_800_window_with_title_first_tag_and_a_summary_line(page, sample_site: str) -> None:
    search(page, sample_site, "customer")
    page.wait_for_function("document.querySelectorAll('[data-kb-results] li').length >= 8")
    page.wait_for_timeout(300)  # the dropdown's opening transition
    visible = page.evaluate(
        """() => {
          const wrap = document.querySelector('.kb-search .md-search__scrollwrap').getBoundingClientRect();
          const bottom = Math.min(wrap.bottom, window.innerHeight);
          return [...document.querySelectorAll('[data-kb-results] li')].filter((li) => {
            const box = li.getBoundingClientRect();
            return box.top >= wrap.top - 1 && box.bottom <= bottom + 1;
          }).map((li) => {
            const line = (selector) => { const e = li.querySelector(selector); return e ? e.getBoundingClientRect() : null; };
            const summary = line('.kb-result__summary');
            const chips = [...li.querySelectorAll('.kb-result__tags .kb-chip')].filter((c) => c.getClientRects().length);
            return {
              title: li.querySelector('.kb-result__title').getBoundingClientRect().height,
              summary: summary ? summary.height : null,
              summaryLine: summary ? parseFloat(getComputedStyle(li.querySelector('.kb-result__summary')).lineHeight) : null,
              chips: chips.map((c) => c.textContent),
              selected: li.getAttribute('aria-selected') === 'true',
            };
          });
        }"""
    )
    screenshot(page, "search-compact-1280x800")
    assert len(visible) >= 6, visible
    for result in visible:
        assert result["chips"], result  # the first tag at least
        if not result["selected"]:
            assert len(result["chips"]) == 1
            assert result["summary"] is None or result["summary"] <= result["summaryLine"] * 1.5, result


def test_the_selected_result_shows_its_details(page, sample_site: str) -> None:
    search(page, sample_site, "refund")
    page.wait_for_selector("[data-kb-results] li")
    selected = page.locator("[data-kb-results] li[aria-selected='true']")
    assert selected.locator(".kb-result__where").is_visible()
    other = page.locator("[data-kb-results] li[aria-selected='false']").first
    assert not other.locator(".kb-result__where").is_visible()


def test_no_results_offers_the_tag_browser_and_asking_for_a_procedure(page, sample_site: str) -> None:
    search(page, sample_site, "zzqx qwertyuiop")
    page.wait_for_selector(".kb-next-steps__ask")
    assert page.locator("[data-kb-meta]").inner_text().startswith("No results")
    assert page.locator(".kb-next-steps__tags").get_attribute("href") == sample_site + "tags/"
    ask = urlsplit(page.locator(".kb-next-steps__ask").get_attribute("href"))
    assert f"{ask.scheme}://{ask.netloc}{ask.path}" == "https://github.com/example-org/service-kb/issues/new"
    fields = parse_qs(ask.query)
    assert fields["title"] == ["Procedure needed: zzqx qwertyuiop"]
    assert "Searched for: zzqx qwertyuiop" in fields["body"][0]
    screenshot(page, "search-no-results")


def test_report_a_problem_names_the_address_the_rep_has_open(page, sample_site: str) -> None:
    page.goto(sample_site + "complaints/late-delivery/")
    href = page.locator("a.kb-report__link").get_attribute("href")
    body = parse_qs(urlsplit(href).query)["body"][0]
    assert f"Page: {sample_site}complaints/late-delivery/" in body.splitlines()
    assert "File: complaints/late-delivery.md" in body.splitlines()
    screenshot(page, "procedure-report")


def test_updated_marks_show_what_changed_since_the_reps_previous_visit(page, sample_site: str) -> None:
    page.goto(sample_site + "recently-updated/")
    assert page.locator(".kb-recent__item").count() >= 10
    assert page.locator(".kb-updated:not(.kb-lead .kb-updated)").count() == 0  # a first visit marks nothing
    changed = page.eval_on_selector_all("[data-kb-changed]", "items => items.map(i => Date.parse(i.dataset.kbChanged))")
    # The rep was last here an hour before the newest change: only what changed after it is marked.
    newest = max(changed)
    page.evaluate("(seen) => localStorage.setItem('kb-last-seen', String(seen))", newest - 3600_000)
    page.reload()
    marked = page.locator(".kb-recent__item .kb-updated").count()
    assert marked == sum(1 for when in changed if when > newest - 3600_000) > 0
    screenshot(page, "recently-updated")
    first = page.locator(".kb-recent__item .kb-recent__title").first.get_attribute("href")
    page.goto(first if first.startswith("http") else page.url + first)
    assert page.locator(".kb-meta .kb-updated").count() == 1  # the same visit: the procedure page is marked too
