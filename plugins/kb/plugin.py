"""The `kb` MkDocs plugin: a thin adapter between MkDocs + Material and the engine in `search/`.

- on_config: checks every procedure (errors fail the build with the `kb check` lines, warnings
  are logged so `mkdocs build --strict` fails on them), adds the plugin's templates: a header
  with the knowledge-base search box, and its stylesheet and script linked from every page's
  <head> (HEAD_PARTIAL). No Markdown extension is needed.
- on_files: generated pages (home, tags, one per area, due for review), never written to docs_dir,
  and the assets under assets/kb/ (the scripts as one file).
- on_nav: a short navigation (home, areas, tags, due for review) instead of one entry per procedure.
- on_env: the navigation's HTML rendered once for all the pages it does not list that see the
  same links (partials/nav.html wraps the theme's).
- on_page_read_source / on_page_markdown / on_page_content: a procedure's already parsed body
  and front matter; tag links, owner, review state, labelled alternate methods, related
  procedures on each procedure page (HTML goes in as placeholders, put back in on_page_content,
  goes under the page's title or in a section at its end (sections.py), or wraps parts of it).
- on_post_page: one page per tag, filled into the theme's rendering of one placeholder tag page
  (shell.py) and written as soon as that page is rendered.
- on_post_build: the placeholder page out of the site and the tag pages into its sitemap; the
  index refreshed (incrementally) and the browser search data written (search/export.py).

Everything runs in the build's own process: no process, thread or queue is started, so a build
stopped at any moment leaves nothing running, and an error anywhere fails the build at once.
An error in a page event fails it with the page's file and the message (`_page_event`).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from html import escape as escape_html
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import BuildError, PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import normalize_url

from search import export
from search.analysis import user_cache_dir
from search.cli import TAGS_FILE
from search.model import FileCache, LoadResult, Procedure, load_procedures
from search.storage import FolderRefused
from search.vocabulary import Vocabulary, load_vocabulary

from .config import KbConfig
from .pages import AREAS_INDEX, HOME, REVIEW_PAGE, TAGS_INDEX, Catalog, Fragments, TagEntry, label_alternates
from .sections import EndSection
from .shell import PageShell

log = logging.getLogger("mkdocs.plugins.kb")

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
ASSETS_DIR = PACKAGE_DIR / "assets"
ASSETS_URI = "assets/kb"
SCRIPTS = ("kb-stemmer.js", "kb-engine.js", "kb-ui.js")  # in load order
# The scripts go out as one file: one request fewer per page load, and a script tag Material
# renders into every page costs the build ~0.1 ms a page.
BUNDLE = "kb.js"
SEARCH_BLOCK_START = re.compile(r'{%-?\s*if\s+"material/search"\s+in\s+config\.plugins\s*-?%}')
JINJA_IF = re.compile(r"{%-?\s*(if|endif)\b.*?-?%}", re.DOTALL)
# Navigation HTML is cached for pages it does not list (partials/nav.html), when it has at most
# this many links: each page's cache key is its relative URL to each of them.
MAX_CACHED_NAV_LINKS = 64
NO_KEY = "-"
RELATED_HEADING = "Related procedures"
# Material includes this partial in <head>, after the site's extra_css. The plugin's stylesheets and
# script go in front of it, rendered once per base_url: through extra_css and extra_javascript,
# their `url` filters ran on every page (about 1% of a 1,000-page build). The script is deferred:
# it runs once the page is parsed, after the theme's own script at the end of <body>.
HEAD_PARTIAL = "javascripts/base.html"
HEAD_ASSETS = "{{ kb_head_assets(base_url) }}\n"
# The search button and box: the same HTML on every page but for its links to the site root and
# to the search data, so it is rendered once per pair of them (four icons and a partial per page
# cost a thousand-page build about 0.2 s).
HEADER_SEARCH = (
    """{% set kb_key = "search " ~ base_url ~ " " ~ ((config.plugins['kb'].config.search_dir ~ '/') | url) %}"""
    """{% if kb_key in kb_html_cache %}{{ kb_html_cache[kb_key] }}{% else %}{% set kb_html %}"""
    """<label class="md-header__button md-icon" for="__search">
      {% set icon = config.theme.icon.search or "material/magnify" %}
      {% include ".icons/" ~ icon ~ ".svg" %}
    </label>
    {% include "partials/kb-search.html" %}"""
    """{% endset %}{{ kb_remember(kb_key, kb_html) }}{% endif %}"""
)


PageEvent = TypeVar("PageEvent", bound=Callable[..., Any])


def _page_event(event: PageEvent) -> PageEvent:
    """A page event whose errors fail the build as a build error naming the page's file: one line
    with the file and the message, not a traceback (MkDocs prints a traceback for other errors)."""

    @functools.wraps(event)
    def checked(plugin: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return event(plugin, *args, **kwargs)
        except BuildError:
            raise
        except Exception as exc:
            page = kwargs.get("page") or next(arg for arg in args if isinstance(arg, Page))
            raise PluginError(f"kb: {page.file.src_uri}: {type(exc).__name__}: {exc}") from exc

    return checked  # type: ignore[return-value]


class KnowledgeBasePlugin(BasePlugin[KbConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.procedures: dict[str, Procedure] = {}
        self.catalog: Catalog | None = None
        self.urls: dict[str, str] = {}
        self.index_dir: Path | None = None
        self.synonyms: Path | None = None
        self.tags_file: Path | None = None
        self.vocabulary: Vocabulary | None = None
        self.fragments = Fragments()
        self.tag_shell: PageShell | None = None
        self.tag_files: list[tuple[TagEntry, File]] = []
        self.generated_pages: set[str] = set()  # the source paths of the pages on_files adds
        self._nav_pages: set[int] = set()
        self._nav_urls: list[str] | None = None
        self._html_cache: dict[str, str] = {}
        self._related_section: EndSection | None = None

    # ---- configuration ---------------------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if config.theme.name != "material":
            raise PluginError(
                f"the kb plugin needs the Material for MkDocs theme, not '{config.theme.name}': set 'theme: name: material' in mkdocs.yml"
            )
        docs_dir = Path(config.docs_dir)
        self.index_dir = Path(self.config.index_dir) if self.config.index_dir else None
        try:  # before anything is built: an index folder that is not the engine's to write is refused
            export.check_placements(
                docs_dir, self.index_dir, Path(config.site_dir) / self.config.search_dir, protected=[Path(config.site_dir)]
            )
        except FolderRefused as refused:
            raise PluginError(f"kb: {refused}") from None
        self.synonyms = self._synonyms_file(config)
        self.tags_file = self._tags_file(config)
        self.vocabulary = load_vocabulary(self.tags_file, docs_dir) if self.tags_file is not None else None

        self._related_section = None  # rendered with this build's Markdown extensions
        result = load_procedures(docs_dir, self.vocabulary, cache=_LOADED.setdefault(docs_dir.resolve(), {}))
        self._report(result, strict=self.config.strict)
        self.procedures = {p.path: p for p in result.procedures}

        self._add_templates(config)
        return config

    def _synonyms_file(self, config: MkDocsConfig) -> Path | None:
        """As the `kb` command: $KB_SYNONYMS, else the `synonyms` option, else synonyms.txt beside mkdocs.yml."""
        if os.environ.get("KB_SYNONYMS"):
            path = Path(os.environ["KB_SYNONYMS"])
            if not path.is_file():
                raise PluginError(f"kb: synonyms file '{path}' (from KB_SYNONYMS) does not exist")
            return path
        if self.config.synonyms:
            return Path(self.config.synonyms)
        if config.config_file_path:
            beside = Path(config.config_file_path).parent / "synonyms.txt"
            if beside.is_file():
                return beside
        return None

    def _tags_file(self, config: MkDocsConfig) -> Path | None:
        """As the `kb` command: the `tags_file` option, else tags.yml beside mkdocs.yml when there is one."""
        if self.config.tags_file:
            return Path(self.config.tags_file)
        if config.config_file_path:
            beside = Path(config.config_file_path).parent / TAGS_FILE
            if beside.is_file():
                return beside
        return None

    def _report(self, result: LoadResult, strict: bool) -> None:
        failing = result.problems if strict else result.errors
        if failing:
            counts = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
            lines = "\n".join(f"  {problem}" for problem in failing)
            hint = " (warnings count as errors: the kb plugin's 'strict' option is on)" if strict and result.warnings else ""
            raise PluginError(f"kb: the procedures have {counts}{hint}; fix them (run 'kb check'):\n{lines}")
        for problem in result.warnings:
            log.warning(str(problem))

    def _add_templates(self, config: MkDocsConfig) -> None:
        dirs = config.theme.dirs
        # The plugin's partials go in front of Material's own, behind a custom_dir of the site.
        material = next((i for i, d in enumerate(dirs) if Path(d).parent.name == "material"), len(dirs))
        if str(TEMPLATES_DIR) not in dirs:
            dirs.insert(material, str(TEMPLATES_DIR))
        override, missing = theme_overrides(dirs)
        if override not in dirs:
            dirs.insert(0, override)
        if "header.html" in missing:
            log.info("kb: the theme's partials/header.html has no Material search block; the kb search box is not added to the header")
        if HEAD_PARTIAL in missing:  # a theme without it (Material 9 has it): linked from every page the slower way
            stylesheets, script = _asset_uris()
            config.extra_css.extend(stylesheets)
            config.extra_javascript.append(ExtraScriptValue(script))

    # ---- files and pages -------------------------------------------------------------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        short_nav = config.nav is None
        included: list[Procedure] = []
        for path, procedure in self.procedures.items():
            file = files.get_file_from_path(path)
            if file is None or not file.inclusion.is_included():
                continue
            included.append(procedure)
            if short_nav and file.inclusion.is_in_nav():
                file.inclusion = InclusionLevel.NOT_IN_NAV  # reached through areas, tags and search
        generated: dict[str, File] = {}
        self.generated_pages = set()
        # Tag pages are filled into one page the theme renders (shell.py) and written once
        # it is rendered (on_post_page): they are linked to, but not among the pages MkDocs renders.
        tag_pages: dict[str, File] = {}
        known_urls: dict[str, str] = {}

        def url_of(src: str) -> str:
            if src not in known_urls:
                file = generated.get(src) or tag_pages.get(src) or files.get_file_from_path(src)
                if file is None:
                    raise KeyError(src)
                known_urls[src] = file.url
            return known_urls[src]

        catalog = Catalog(
            included,
            config.site_name,
            self.config.review_days,
            url_of,
            existing=lambda src: files.get_file_from_path(src) is not None,
            vocabulary=self.vocabulary,
        )
        self.catalog = catalog
        self.urls = {p.path: url_of(p.path) for p in included}

        def add(src: str, in_nav: bool, content: str = "") -> File:
            level = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
            generated[src] = File.generated(config, src, content=content, inclusion=level)
            self.generated_pages.add(src)
            return generated[src]

        home = add(HOME, True) if files.get_file_from_path(HOME) is None and files.get_file_from_path("README.md") is None else None
        tags = add(TAGS_INDEX, True) if files.get_file_from_path(TAGS_INDEX) is None else None
        review = add(REVIEW_PAGE, True) if files.get_file_from_path(REVIEW_PAGE) is None else None
        areas = add(AREAS_INDEX, True) if files.get_file_from_path(AREAS_INDEX) is None else None
        self.tag_files = [(entry, File.generated(config, entry.src, content="")) for entry in catalog.tags.values()]
        tag_pages.update((entry.src, file) for entry, file in self.tag_files)
        self.tag_shell = PageShell("tags") if self.tag_files else None
        shell_file = add(self.tag_shell.src, False, self.tag_shell.markdown()) if self.tag_shell is not None else None
        area_files = [(area, add(area.src, False)) for area in catalog.areas.values()]
        hold = self.fragments.holder
        if home is not None:
            home.content_string = catalog.home_page(home.url, hold(home.src_uri))
        if areas is not None:
            areas.content_string = catalog.areas_page(areas.url, hold(areas.src_uri))
        if tags is not None:
            tags.content_string = catalog.tags_page(tags.url, hold(tags.src_uri))
        if review is not None:
            review.content_string = catalog.review_page(review.url, hold(review.src_uri))
        for area, file in area_files:
            file.content_string = catalog.area_page(area, file.url, hold(file.src_uri))
        for file in generated.values():
            files.append(file)
        if shell_file is not None:
            # Rendered first: a theme that cannot hold tag pages fails the build before the other pages.
            files = Files([shell_file, *(file for file in files if file is not shell_file)])

        bundle = "\n;\n".join((ASSETS_DIR / name).read_text(encoding="utf-8") for name in SCRIPTS)
        assets = [(BUNDLE, {"content": bundle})]
        assets += [(a.name, {"abs_src_path": str(a)}) for a in sorted(ASSETS_DIR.iterdir()) if a.is_file() and a.suffix != ".js"]
        for name, source in assets:
            src = f"{ASSETS_URI}/{name}"
            existing = files.get_file_from_path(src)
            if existing is not None:
                files.remove(existing)
            files.append(File.generated(config, src, **source))
        return files

    @event_priority(-50)  # after other plugins, so the short navigation is the final one
    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        nav = self._short_nav(nav, config, files)
        self._nav_pages = {id(page) for page in nav.pages}
        urls = [url for url in (config.extra.get("homepage"), nav.homepage.url if nav.homepage else None) if url]
        urls = list(dict.fromkeys(urls + _nav_urls(nav.items)))  # the home page is usually both
        self._nav_urls = urls if len(urls) <= MAX_CACHED_NAV_LINKS else None
        return nav

    def _short_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        if config.nav is not None or self.catalog is None:
            return nav  # the site's own navigation wins
        home_file = files.get_file_from_path(HOME) or files.get_file_from_path("README.md")
        home = home_file.page if home_file is not None and isinstance(home_file.page, Page) else None
        if home is not None and home_file is not None and home_file.generated_by is not None:
            home.title = "Home"
        listed = [home, *(_page(files, src) for src in (AREAS_INDEX, TAGS_INDEX, REVIEW_PAGE))]
        pages = [page for page in listed if page is not None]
        for page in pages:
            page.parent = None
        for index, page in enumerate(pages):
            page.previous_page = pages[index - 1] if index > 0 else None
            page.next_page = pages[index + 1] if index + 1 < len(pages) else None
        return Navigation(pages, pages)

    def on_env(self, env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        """The theme's templates behind the plugin's own under `kb-theme/`, for the partials that
        wrap them (partials/nav.html), and the cache of HTML that many pages share (navigation,
        search box, the links to the plugin's assets)."""
        dirs = list(config.theme.dirs)
        behind = dirs[dirs.index(str(TEMPLATES_DIR)) + 1 :] if str(TEMPLATES_DIR) in dirs else dirs
        env.loader = jinja2.ChoiceLoader([env.loader, jinja2.PrefixLoader({"kb-theme": jinja2.FileSystemLoader(behind)})])
        self._html_cache = {}
        env.globals["kb_html_cache"] = self._html_cache
        env.globals["kb_nav_key"] = self._nav_key
        env.globals["kb_remember"] = self._remember
        # Linked from every page by partials/javascripts/base.html.
        env.globals["kb_head_assets"] = self._head_assets
        return env

    def _head_assets(self, base_url: str) -> str:
        """The links to the plugin's stylesheets and script, from pages with this base_url."""
        key = f"assets {base_url}"
        if key not in self._html_cache:
            stylesheets, script = _asset_uris()
            links = [f'<link rel="stylesheet" href="{normalize_url(uri, base=base_url)}">' for uri in stylesheets]
            self._html_cache[key] = "".join(links) + f'<script src="{normalize_url(script, base=base_url)}" defer></script>'
        return self._html_cache[key]

    def _nav_key(self, page: Any, base_url: str) -> str:
        """The key under which a page's navigation HTML is cached: the links the navigation would
        have from this page. The navigation lists none of the pages that get a key, so nothing in
        it is marked active for them. Pages it lists, and navigations too long to compare, get none."""
        if not isinstance(page, Page) or self._nav_urls is None or id(page) in self._nav_pages:
            return NO_KEY
        return "nav " + " ".join(normalize_url(url, page=page, base=base_url) for url in self._nav_urls)

    def _remember(self, key: str, html: str) -> str:
        if key != NO_KEY:
            self._html_cache[key] = html
        return html

    @_page_event
    def on_page_read_source(self, page: Page, config: MkDocsConfig) -> str | None:
        """A procedure's body as read in on_config: MkDocs need not read and parse the file again.

        The leading blank line tells MkDocs there is no metadata in it; the front matter, already
        parsed, becomes the page's metadata in on_page_markdown."""
        procedure = self.procedures.get(page.file.src_uri)
        return None if procedure is None else "\n" + procedure.body

    @event_priority(100)  # the metadata is in place before other plugins look at the page
    @_page_event
    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        procedure = self.procedures.get(page.file.src_uri)
        if procedure is None:
            if page.file.src_uri in self.generated_pages:
                _title_as_html(page.meta)
            return markdown
        page.meta = dict(procedure.front_matter)
        _title_as_html(page.meta)
        if self.catalog is None or procedure.path not in self.catalog.by_path:
            return markdown
        # The page's own Markdown is left as it is; what the plugin adds goes into its HTML.
        self.fragments.place_under_title(page.file.src_uri, self.catalog.meta_block(procedure, page.file.url))
        return markdown

    @event_priority(50)  # before other plugins read the page's HTML
    @_page_event
    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        procedure = self.procedures.get(page.file.src_uri)
        if procedure is None or self.catalog is None or procedure.path not in self.catalog.by_path:
            return self.fragments.restore(page.file.src_uri, html)
        if procedure.alternates:
            html = label_alternates(html, [method.title for method in procedure.alternates])
        html = self.fragments.restore(page.file.src_uri, html)
        related = self.catalog.related_block(procedure, page.file.url)
        if not related:
            return html
        if self._related_section is None:
            self._related_section = EndSection(RELATED_HEADING, config.markdown_extensions, config.mdx_configs or {})
        return self._related_section.append(page, html, related)

    @_page_event
    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        if self.tag_shell is not None and self.catalog is not None and page.file.src_uri == self.tag_shell.src:
            self.tag_shell.capture(output, Path(page.file.abs_dest_path))
            tag_page = self.catalog.tag_page
            for entry, file in self.tag_files:
                self.tag_shell.write(Path(file.abs_dest_path), entry.tag.label, tag_page(entry, file.url), entry.slug)
        return output

    def on_post_build(self, config: MkDocsConfig) -> None:
        """The tag pages' last touches, then the index and the browser search data."""
        if self.tag_shell is not None:
            self.tag_shell.remove_output()
            self.tag_shell.expand_sitemap(Path(config.site_dir), [entry.slug for entry, _ in self.tag_files])
        started = time.perf_counter()
        refreshed, exported = export.refresh_and_export(
            Path(config.docs_dir),
            self.index_dir,
            Path(config.site_dir) / self.config.search_dir,
            urls=dict(self.urls),
            synonyms=self.synonyms,
            cache=dict(_LOADED.get(Path(config.docs_dir).resolve(), {})),  # the files checked in on_config: not parsed again
            protected=[Path(config.site_dir)],
        )
        log.info(
            f"kb: index {refreshed.added} added, {refreshed.updated} updated, {refreshed.deleted} removed; "
            f"search data for {exported.documents} procedures ({exported.files_written} files written, "
            f"{exported.files_unchanged} unchanged) in {time.perf_counter() - started:.1f} s"
        )

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        for watched in (self.synonyms, self.tags_file):
            if watched is not None:
                server.watch(str(watched))
        for folder in (TEMPLATES_DIR, ASSETS_DIR):
            if folder.is_dir():
                server.watch(str(folder))
        return server


def _asset_uris() -> tuple[list[str], str]:
    """The plugin's stylesheets and its script (the bundle), as paths from the site root."""
    return [f"{ASSETS_URI}/{css.name}" for css in sorted(ASSETS_DIR.glob("*.css"))], f"{ASSETS_URI}/{BUNDLE}"


def _title_as_html(meta: dict[str, Any]) -> None:
    """A page's title made safe for the theme, which prints it as HTML (`{{ page.meta.title }}`,
    `{{ page.title }}`, unescaped): its escaped text, as Markup, so the page <title>, the <h1>,
    the header, the navigation and the footer show the text as it was written, and the places
    that escape it (`| e`) do not escape it twice. Double quotes are escaped, for the attributes
    the title goes in (`aria-label="{{ title | e }}"`); apostrophes are left as they are, which
    the theme's double-quoted attributes allow."""
    title = meta.get("title")
    if isinstance(title, str) and not isinstance(title, Markup):
        meta["title"] = Markup(escape_html(title, quote=False).replace('"', "&quot;"))


def _nav_urls(items: list[Any]) -> list[str]:
    """The URLs of a navigation's pages and links, sections included."""
    urls = []
    for item in items:
        if getattr(item, "url", None):
            urls.append(str(item.url))
        urls += _nav_urls(getattr(item, "children", None) or [])
    return urls


def _page(files: Files, src: str) -> Page | None:
    file = files.get_file_from_path(src)
    return file.page if file is not None and isinstance(file.page, Page) else None


# Files already read in this process, by procedures folder: `mkdocs serve` loads the configuration
# again for every rebuild, and only changed files need reading again.
_LOADED: dict[Path, FileCache] = {}


# ---- Material's header with the knowledge-base search box ---------------------------------------
_TEMPORARY_OVERRIDES: Path | None = None


def _override_dir(theme_dirs: list[str]) -> Path:
    """Where the partials written from these theme folders go: a folder per set of them in the
    user's cache folder, reused by every build of a site that uses them. A temporary folder,
    removed at exit, stayed behind after each killed build and each `mkdocs serve` ended by a
    signal; it is still used where the cache folder cannot be written."""
    global _TEMPORARY_OVERRIDES
    digest = hashlib.blake2b("\n".join(theme_dirs).encode("utf-8"), digest_size=8).hexdigest()
    folder = user_cache_dir() / "theme-overrides" / digest
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        if _TEMPORARY_OVERRIDES is None:
            _TEMPORARY_OVERRIDES = Path(tempfile.mkdtemp(prefix="mkdocs-kb-overrides-"))
            atexit.register(shutil.rmtree, _TEMPORARY_OVERRIDES, True)
        return _TEMPORARY_OVERRIDES


def replace_search_block(source: str) -> str | None:
    """header.html with Material's `{% if "material/search" in config.plugins %}` block replaced by
    the search button and the kb search box; None when the header has no such block."""
    start = SEARCH_BLOCK_START.search(source)
    if start is None:
        return None
    depth = 1
    for tag in JINJA_IF.finditer(source, start.end()):
        depth += 1 if tag.group(1) == "if" else -1
        if depth == 0:
            return source[: start.start()] + HEADER_SEARCH + source[tag.end() :]
    return None


def theme_overrides(theme_dirs: list[str]) -> tuple[str, list[str]]:
    """A folder of partials written at build time from the ones the site would use (a custom_dir's
    or Material's): the header with the kb search in place of Material's search, and the partial
    Material includes in <head> after the site's extra_css, with the links to the plugin's assets
    in front. Also the partials of the two that the theme lacks."""
    theme_dirs = [folder for folder in theme_dirs if not _is_override(folder)]
    override = _override_dir(theme_dirs)
    missing = []
    for partial, edit in (("header.html", replace_search_block), (HEAD_PARTIAL, lambda source: HEAD_ASSETS + source)):
        source = _theme_partial(theme_dirs, partial)
        text = edit(source.read_text(encoding="utf-8")) if source is not None else None
        target = override / "partials" / partial
        if text is None:
            missing.append(partial)
            target.unlink(missing_ok=True)  # written when the theme's partial was another
            continue
        # Written only when it changes: `mkdocs serve --watch-theme` would otherwise rebuild forever.
        # Replaced whole, so a build of another site with the same theme never reads half a file.
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            written = target.with_name(f".{target.name}.{os.getpid()}")
            written.write_text(text, encoding="utf-8")
            os.replace(written, target)
    return str(override), missing


def _is_override(folder: str) -> bool:
    path = Path(folder)
    return path.parent == user_cache_dir() / "theme-overrides" or path == _TEMPORARY_OVERRIDES


def _theme_partial(theme_dirs: list[str], partial: str) -> Path | None:
    for folder in theme_dirs:
        path = Path(folder) / "partials" / partial
        if path.is_file():
            return path
    return None
