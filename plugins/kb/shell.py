"""Pages of one layout filled into a single page that the theme rendered once.

Material renders every page through its whole template (header, navigation, sidebars, footer),
and on a knowledge base of 1,000 procedures there are about 300 tag pages: rendered one by one,
they cost as much as 300 procedure pages. Tag pages differ only in their title, their URL and
their content, and they all sit at the same depth (`tags/<slug>/`), so every relative link of
one rendered tag page is right for all of them. The theme renders one placeholder page (`PageShell`);
each tag page is that HTML with its own title, content and URL put in.

Pages made this way do not pass through other plugins' page events; they are generated listings
with no Markdown of their own.
"""

from __future__ import annotations

import gzip
import html
import re
import secrets
from pathlib import Path

from mkdocs.exceptions import PluginError


class PageShell:
    """A placeholder page at `folder/<token>.md` and the theme's rendering of it."""

    def __init__(self, folder: str) -> None:
        nonce = secrets.token_hex(6)  # lower-case letters and digits: no filter of the theme changes them
        self.slug = f"kbshellpage{nonce}"
        self.title = f"kbshelltitle{nonce}"
        # An <h1> of its own, so the theme does not add one with the page title.
        self.content = f"<h1>kbshellcontent{nonce}</h1>"
        self.src = f"{folder}/{self.slug}.md"
        self._pieces: list[str] | None = None
        self._dest: Path | None = None
        # One capturing group: re.split keeps the placeholders, at the odd positions.
        self._placeholder = re.compile("(" + "|".join(re.escape(token) for token in (self.content, self.title, self.slug)) + ")")

    def markdown(self) -> str:
        return f"---\ntitle: {self.title}\n---\n\n{self.content}\n"

    def capture(self, output: str, dest: Path) -> None:
        """Keeps the theme's HTML of the placeholder page (written to `dest`), cut at the placeholders."""
        if self.content not in output:
            raise PluginError(f"kb: the theme dropped the content of {self.src}; tag pages cannot be generated from it")
        self._pieces = self._placeholder.split(output)
        self._dest = dest

    def fill(self, title: str, content: str, slug: str) -> str:
        """The page as the theme would have rendered it with this title, HTML content and slug."""
        if self._pieces is None:
            raise PluginError(f"kb: {self.src} was not rendered; tag pages cannot be generated")
        values = {self.content: content, self.title: html.escape(title, quote=True), self.slug: slug}
        return "".join(values[piece] if position % 2 else piece for position, piece in enumerate(self._pieces))

    def write(self, dest: Path, title: str, content: str, slug: str) -> None:
        """Writes one filled page (`fill`) to `dest`, creating its folder."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(self.fill(title, content, slug), encoding="utf-8")

    def remove_output(self) -> None:
        """Deletes the placeholder page from the built site (and its folder, when left empty)."""
        dest = self._dest
        if dest is None:
            return
        dest.unlink(missing_ok=True)
        if dest.name == "index.html" and dest.parent.is_dir() and not any(dest.parent.iterdir()):
            dest.parent.rmdir()

    def expand_sitemap(self, site_dir: Path, slugs: list[str]) -> None:
        """Gives each filled page the sitemap entry MkDocs wrote for the placeholder page."""
        sitemap = site_dir / "sitemap.xml"
        if not sitemap.is_file():
            return
        text = sitemap.read_text(encoding="utf-8")
        entry = re.search(r"\s*<url>(?:(?!</url>).)*?" + re.escape(self.slug) + r".*?</url>", text, re.DOTALL)
        if entry is None:
            return  # no site_url: MkDocs lists no pages
        block = entry.group(0)
        expanded = "".join(block.replace(self.slug, slug) for slug in slugs)
        text = text[: entry.start()] + expanded + text[entry.end() :]
        sitemap.write_text(text, encoding="utf-8")
        packed = site_dir / "sitemap.xml.gz"
        if packed.is_file():
            packed.write_bytes(gzip.compress(text.encode("utf-8")))
