"""Alternate methods of a rendered procedure page, each in a block labelled "Alternate method N".

The methods are the engine's (search/parsing.py: `### ` headings under `## Alternate methods`,
outside code fences), so the blocks are what search reports as "alternate method: ...". Plain
HTML in, HTML out, with no site generator in sight: any front end that renders procedures to
HTML can label them the same way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from .procedure import markdown_to_text


def default_label(number: int) -> str:
    """The opening of the block of the method numbered `number` (from 1); the block ends with </div>."""
    icon = '<span class="kb-icon kb-icon--call-split" aria-hidden="true"></span>'
    return f'<div class="kb-alternate"><p class="kb-alternate__label">{icon}Alternate method {number}</p>'


_H2 = re.compile(r"<h2[\s>].*?</h2>", re.DOTALL)
_H3 = re.compile(r"<h3[\s>].*?</h3>", re.DOTALL)
_HEADERLINK = re.compile(r"<a\s[^>]*\bheaderlink\b.*?</a>", re.DOTALL)
# An HTML tag or comment, with `>` allowed inside quoted attribute values (`<abbr title="a > b">`).
_HTML_TAG = re.compile(r"""<!--.*?-->|</?[A-Za-z][^\s/>]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s*/?>""", re.DOTALL)
# `{ #id .class }` at the end of a heading: the attr_list extension's, not part of its text.
_ATTRIBUTE_LIST = re.compile(r"\s*\{:?[^{}]*\}\s*$")
_ALTERNATES_TITLE = re.compile(r"alternat(?:e|ive)\s+methods?", re.IGNORECASE)
_CONTAINER_TAG = re.compile(r"<(/?)(div|blockquote|ul|ol|table|details|pre)[\s>]")
_NOT_WORD = re.compile(r"[\W_]+")


def heading_text(heading: str) -> str:
    """The text of a rendered heading, without its permalink."""
    return html.unescape(_HTML_TAG.sub("", _HEADERLINK.sub("", heading))).strip()


def _title_key(text: str) -> str:
    """What a heading and the Markdown it came from have in common: their letters and digits,
    once tags are gone and entities decoded. Tags go before and after decoding, so `<kbd>F5</kbd>`
    in the Markdown and `&lt;br&gt;` shown as text in the HTML both leave no trace."""
    return _NOT_WORD.sub("", _HTML_TAG.sub("", html.unescape(_HTML_TAG.sub("", text)))).casefold()


def _method_keys(title: str) -> set[str]:
    """The keys a method's rendered heading may have: with its trailing attribute list, when the
    site has no attr_list extension, or without it."""
    text = markdown_to_text(title)
    return {_title_key(text), _title_key(_ATTRIBUTE_LIST.sub("", text))}


def _balanced(fragment: str) -> bool:
    depth = 0
    for tag in _CONTAINER_TAG.finditer(fragment):
        depth += -1 if tag.group(1) else 1
        if depth < 0:
            return False
    return depth == 0


def label_alternates(page: str, titles: list[str], label: Callable[[int], str] = default_label) -> str:
    """A rendered procedure page with each alternate method in a labelled block.

    The methods are the engine's (`### ` headings under `## Alternate methods`, outside code
    fences; search/model.py), so the blocks are what search reports as "alternate method: …".
    Python-Markdown renders such a heading as a top-level <h3>: they are matched in order, by
    their text (inline HTML, entities and punctuation aside), among the <h3> under the section's
    <h2>, and each block runs to the next method or the next <h2>. A page whose methods are not
    all found, or whose blocks would not hold whole elements, is left as it is.
    """
    wanted = [_method_keys(title) for title in titles]
    if not wanted:
        return page
    sections = list(_H2.finditer(page))
    starts: list[int] = []  # where each method's heading starts
    ends: list[int] = []  # the end of the section each method is in
    for number, section in enumerate(sections):
        if not _ALTERNATES_TITLE.fullmatch(heading_text(section.group())):
            continue
        end = sections[number + 1].start() if number + 1 < len(sections) else len(page)
        for heading in _H3.finditer(page, section.end(), end):
            if len(starts) < len(wanted) and _title_key(heading_text(heading.group())) in wanted[len(starts)]:
                starts.append(heading.start())
                ends.append(end)
    if len(starts) != len(wanted):
        return page
    # A block runs to the next method in the same section, else to the end of its section.
    blocks = [(start, starts[i + 1] if i + 1 < len(starts) and starts[i + 1] < ends[i] else ends[i]) for i, start in enumerate(starts)]
    if not all(_balanced(page[start:end]) for start, end in blocks):
        return page
    out, previous = [], 0
    for number, (start, end) in enumerate(blocks, 1):
        out += [page[previous:start], label(number), page[start:end], "</div>\n"]
        previous = end
    return "".join([*out, page[previous:]])
