"""A section added at the end of rendered pages, with its heading in the page's table of contents.

The heading could go at the end of each page's Markdown, but one more heading costs
Python-Markdown (inline patterns, the `toc` extension's slug and permalink) about 0.1 ms a page:
on 1,000 procedure pages, about 2.5% of the build's instructions, counted with cachegrind. It is
rendered once with the site's own Markdown extensions instead, so it looks like every other
heading (permalink, custom slugify and all), and its entry is added to each page's table of
contents as the `toc` extension would have added it.
"""

from __future__ import annotations

import re
from typing import Any

import markdown
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink


class EndSection:
    def __init__(self, title: str, extensions: list[Any], extension_configs: dict[str, Any]) -> None:
        md = markdown.Markdown(extensions=extensions, extension_configs=extension_configs)
        self.heading = md.convert(f"## {title}")
        tokens = getattr(md, "toc_tokens", [])
        # None when the site's `toc_depth` leaves level-2 headings out of the table of contents.
        self.token: dict[str, Any] | None = tokens[0] if tokens else None
        found = re.search(r'\bid="([^"]+)"', self.heading)
        self.id = found.group(1) if found else ""

    def append(self, page: Page, html: str, body: str) -> str:
        """The page's HTML with the section at its end. An id the page already has gets the
        suffix the `toc` extension would give it (`_1`, `_2`, ...)."""
        anchor, heading = self.id, self.heading
        if anchor:
            number = 0
            while f'id="{anchor}"' in html:
                number += 1
                anchor = f"{self.id}_{number}"
            if number:
                heading = heading.replace(f'id="{self.id}"', f'id="{anchor}"').replace(f'href="#{self.id}"', f'href="#{anchor}"')
            if page.present_anchor_ids is not None:
                page.present_anchor_ids.add(anchor)
        if self.token is not None and page.toc is not None:
            items = page.toc.items
            while items and items[-1].level < self.token["level"]:
                items = items[-1].children  # under the last heading of a higher level, as in the toc extension
            items.append(AnchorLink(self.token["name"], anchor, self.token["level"]))
        return f"{html}\n{heading}\n{body}"
