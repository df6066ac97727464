"""Every way of opening the search puts the cursor in its field, and typing lands there.

Each test opens the search one way, then types as a person does (one key event per character,
page.keyboard.type) and checks that the field holds exactly what was typed and that the results
are those of `kb search` for it. On a phone the openers are tapped (page.tap) in a touch context.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from .test_browser import browser, cli_search, page, sample_site, serve  # noqa: F401 (fixtures)

FIELD = "[data-kb-query]"
HOME_BOX = ".kb-hero__search"
HEADER_ICON = "label.md-header__button[for='__search']"


@pytest.fixture
def phone(browser) -> Iterator:  # noqa: F811 (the fixture imported above)
    """A page in a phone-sized touch context (390x844), as a rep's phone shows the site."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


def first_title(query: str) -> str:
    return json.loads(cli_search(query))["results"][0]["title"]


def assert_typed_into_the_search(page, text: str) -> None:  # noqa: F811 (a page, not the fixture)
    page.keyboard.type(text)
    assert page.evaluate("document.activeElement.matches('[data-kb-query]')"), "the cursor is not in the search field"
    assert page.input_value(FIELD) == text
    expected = first_title(text)
    page.wait_for_function(
        "(title) => (document.querySelector('[data-kb-results] .kb-result__title') || {}).textContent === title", arg=expected
    )
    assert page.evaluate("document.getElementById('__search').checked")


def test_clicking_the_home_page_search_box(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site)
    page.click(HOME_BOX)
    assert_typed_into_the_search(page, "refnd")


def test_clicking_the_header_search_field(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site + "complaints/late-delivery/")
    page.click(FIELD)
    assert_typed_into_the_search(page, "refnd")


@pytest.mark.parametrize("key", ["Enter", " "])
def test_enter_or_space_on_the_focused_home_page_search_box(page, sample_site: str, key: str) -> None:  # noqa: F811
    page.goto(sample_site)
    page.focus(HOME_BOX)
    assert page.evaluate("document.activeElement.matches('.kb-hero__search')"), "the home page's search box cannot be focused"
    page.keyboard.press(key)
    assert_typed_into_the_search(page, "my parcel never showed up")


def test_tab_reaches_the_home_page_search_box(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.kb-hero__search')"):
            break
    else:
        pytest.fail("Tab never reaches the home page's search box")
    page.keyboard.press("Enter")
    assert_typed_into_the_search(page, "refund")


def test_tabbing_out_of_the_search_closes_it(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site)
    page.focus(FIELD)
    assert page.evaluate("document.getElementById('__search').checked")
    for _ in range(5):
        page.keyboard.press("Tab")
        if not page.evaluate("document.activeElement.closest('[data-kb-search]')"):
            break
    assert page.evaluate("!document.getElementById('__search').checked")


@pytest.mark.parametrize("key", ["/", "s", "S"])
def test_shortcut_keys(page, sample_site: str, key: str) -> None:  # noqa: F811
    page.goto(sample_site + "complaints/late-delivery/")
    page.keyboard.press(key)
    assert_typed_into_the_search(page, "my parcel never showed up")


def test_a_q_link_leaves_the_cursor_in_the_field(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site + "?q=refund")
    page.wait_for_selector("[data-kb-results] li")
    assert_typed_into_the_search(page, "parcel never showed up")


def test_tapping_the_header_icon_on_a_phone(phone, sample_site: str) -> None:  # noqa: F811
    phone.goto(sample_site)
    phone.tap(HEADER_ICON)
    assert_typed_into_the_search(phone, "my parcel never showed up")


def test_tapping_the_home_page_search_box_on_a_phone(phone, sample_site: str) -> None:  # noqa: F811
    phone.goto(sample_site)
    phone.tap(HOME_BOX)
    assert_typed_into_the_search(phone, "customer says the parcel never showed up")


def test_tapping_the_header_icon_of_a_procedure_page_on_a_phone(phone, sample_site: str) -> None:  # noqa: F811
    phone.goto(sample_site + "complaints/late-delivery/")
    phone.tap(HEADER_ICON)
    assert_typed_into_the_search(phone, "refnd")


def test_closing_and_reopening_on_a_phone(phone, sample_site: str) -> None:  # noqa: F811
    phone.goto(sample_site)
    phone.tap(HEADER_ICON)
    phone.keyboard.type("badge")
    # The search panel slides in (Material's transition); on a loaded machine a tap computed while
    # it moves lands its mousedown on the arrow and its mouseup beside it, and no click results.
    phone.wait_for_function("document.getAnimations().every((animation) => animation.playState !== 'running')")
    phone.tap("form[data-kb-form] label.md-search__icon[for='__search']")  # the back arrow
    phone.wait_for_function("!document.getElementById('__search').checked", timeout=5000)
    phone.tap(HEADER_ICON)
    phone.wait_for_function("document.activeElement.matches('[data-kb-query]')", timeout=5000)
    phone.keyboard.press("Control+A")
    assert_typed_into_the_search(phone, "refnd")


def test_typing_after_clicking_inside_the_open_search_goes_on_in_the_field(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site)
    page.keyboard.press("/")
    page.keyboard.type("parcel")
    page.wait_for_selector("[data-kb-results] li")
    page.click("[data-kb-meta]")
    page.keyboard.press("End")
    page.keyboard.type(" never showed up")
    assert page.input_value(FIELD) == "parcel never showed up"
    page.keyboard.press("Control+A")
    assert_typed_into_the_search(page, "my parcel never showed up")


@pytest.mark.parametrize(
    "markup",
    [
        '<input id="kb-test-field" type="text">',
        '<input id="kb-test-field" type="search">',
        '<textarea id="kb-test-field"></textarea>',
        '<div id="kb-test-field" contenteditable="true"></div>',
        '<div contenteditable="true"><p id="kb-test-field">x</p></div>',
    ],
)
def test_shortcut_keys_do_nothing_while_typing_in_another_text_field(page, sample_site: str, markup: str) -> None:  # noqa: F811
    page.goto(sample_site + "complaints/late-delivery/")
    page.evaluate("(markup) => document.querySelector('article').insertAdjacentHTML('afterbegin', markup)", markup)
    page.click("#kb-test-field")
    page.keyboard.press("End")
    text = "ships s/S today"
    page.keyboard.type(text)
    typed = page.evaluate("(f => f.value !== undefined ? f.value : f.textContent)(document.getElementById('kb-test-field'))")
    assert typed.endswith(text)
    assert page.evaluate("!document.getElementById('__search').checked")
    assert page.input_value(FIELD) == ""


def test_shortcut_keys_do_nothing_in_a_select(page, sample_site: str) -> None:  # noqa: F811
    page.goto(sample_site + "complaints/late-delivery/")
    page.evaluate(
        "document.querySelector('article').insertAdjacentHTML('afterbegin', "
        "'<select id=\"kb-test-field\"><option>a</option><option>slow</option></select>')"
    )
    page.focus("#kb-test-field")
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "kb-test-field"
    assert page.evaluate("!document.getElementById('__search').checked")


def test_the_home_search_box_says_all_it_shows_on_a_phone(phone, sample_site: str) -> None:  # noqa: F811
    phone.goto(sample_site)
    placeholder = phone.locator(".kb-hero__placeholder")
    assert placeholder.inner_text() == "Search procedures"
    assert placeholder.evaluate("(node) => node.scrollWidth <= node.clientWidth"), "the box's text is cut off"
