"""The `kb` MkDocs plugin: the knowledge base's pages on a Material for MkDocs site, from the engine
in `search/` (procedures, checks, catalog, index and browser search data).

- on_config: checks every procedure (errors fail the build with the `kb check` lines, warnings are
  logged, so `mkdocs build --strict` fails on them); puts the plugin's templates behind the site's
  custom_dir and in front of Material's (partials/header.html holds the kb search box), and links
  the plugin's stylesheets and scripts through extra_css and extra_javascript.
- on_files: the generated pages (home, areas, one per area, tags, one per tag, due for review) as
  ordinary Markdown files rendered from the templates under templates/kb/, never written to
  docs_dir, and the assets under assets/kb/.
- on_nav: a short navigation (home, areas, tags, recently updated, due for review) unless the site has its own.
- on_page_*: a procedure's front matter as the page's metadata, its related procedures at the end
  of its Markdown, its tags, owner and review state under its title, its alternate methods labelled.
- on_post_build: the index refreshed (incrementally) and the browser search data written.

Every template can be replaced by a file of the same path in the site's `theme.custom_dir`.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from html import escape as escape_html
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from markupsafe import Markup
from mkdocs.config.config_options import ExtraScriptValue
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import BuildError, PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from search import export, settings
from search.catalog import AreaEntry, Catalog, TagEntry
from search.feedback import Feedback, tracker_of
from search.folder import link_to_a_containing_folder
from search.history import last_changes, recently_updated
from search.meaning import table_problem
from search.method_labels import label_alternates
from search.model import FileCache, LoadResult, Procedure, load_procedures, slugify
from search.searching import MEANING_OFF_WARNING
from search.storage import FolderRefused
from search.vocabulary import Vocabulary, load_vocabulary

from .config import KbConfig

log = logging.getLogger("mkdocs.plugins.kb")

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
ASSETS_DIR = PACKAGE_DIR / "assets"
ASSETS_URI = "assets/kb"
SCRIPTS = ("kb-stemmer.js", "kb-meaning.js", "kb-engine.js", "kb-ui.js", "kb-marks.js")  # in load order
HOME = "index.md"
AREAS_INDEX = "areas/index.md"
TAGS_INDEX = "tags/index.md"
REVIEW_PAGE = "due-for-review.md"
RECENT_PAGE = "recently-updated.md"
RECENT_LIMIT = 50  # procedures on the "Recently updated" page
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")

PageEvent = TypeVar("PageEvent", bound=Callable[..., Any])


def _page_event(event: PageEvent) -> PageEvent:
    """A page event whose errors fail the build with one line naming the page's file (MkDocs
    prints a traceback for errors other than build errors)."""

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


class Links:
    """Links from one page to pages of the site, by source path, through the site root
    (`../../tags/x/`), so the site works from any folder of any static host."""

    def __init__(self, urls: dict[str, str], page_url: str) -> None:
        self.urls = urls
        self.root = root_prefix(page_url)

    def __call__(self, src: str) -> str:
        return self.root + self.urls[src]

    def tag(self, entry: TagEntry) -> str:
        return self(tag_page(entry))

    def area(self, area: AreaEntry) -> str:
        return self(area_page(area))


class KnowledgeBasePlugin(BasePlugin[KbConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.procedures: dict[str, Procedure] = {}
        self.catalog: Catalog | None = None
        self.urls: dict[str, str] = {}  # source path -> URL of every file of the site
        self.index_dir: Path | None = None
        self.synonyms: Path | None = None
        self.tags_file: Path | None = None
        self.vocabulary: Vocabulary | None = None
        self.said_meaning_off = False  # "meaning-based ranking is off" is logged once per process
        self.feedback = Feedback(None, {}, None)
        self.site_url = ""
        self.env = jinja2.Environment()

    # ---- configuration ---------------------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if config.theme.name != "material":
            raise PluginError(
                f"the kb plugin needs the Material for MkDocs theme, not '{config.theme.name}': set 'theme: name: material' in mkdocs.yml"
            )
        docs_dir = Path(config.docs_dir)
        loop = link_to_a_containing_folder(docs_dir)
        if loop is not None:  # MkDocs follows links to folders while it lists docs_dir, forever here
            raise PluginError(f"kb: '{loop}' is a link to a folder that contains it, which MkDocs would list forever; remove the link")
        project = Path(config.config_file_path).parent if config.config_file_path else None
        options = {name: self.config[name] for name in ("index_dir", "synonyms", "tags_file", "review_days")}
        try:  # before anything is built: an index folder that is not the engine's to write is refused
            resolved = settings.resolve(project, options, os.environ, docs_dir=docs_dir)
            self.index_dir, self.synonyms, self.tags_file = resolved.index_dir, resolved.synonyms, resolved.tags_file
            export.check_placements(
                docs_dir, self.index_dir, Path(config.site_dir) / self.config.search_dir, protected=[Path(config.site_dir)]
            )
        except (FolderRefused, settings.SettingError) as refused:
            raise PluginError(f"kb: {refused}") from None
        self.vocabulary = load_vocabulary(self.tags_file, docs_dir) if self.tags_file is not None else None
        result = load_procedures(docs_dir, self.vocabulary, cache=_LOADED.setdefault(docs_dir.resolve(), {}))
        self._report(result, strict=self.config.strict)
        self.procedures = {p.path: p for p in result.procedures}

        dirs = config.theme.dirs  # the plugin's templates behind a custom_dir's, in front of Material's
        if str(TEMPLATES_DIR) not in dirs:
            dirs.insert(next((i for i, d in enumerate(dirs) if Path(d).parent.name == "material"), len(dirs)), str(TEMPLATES_DIR))
        config.extra_css.extend(f"{ASSETS_URI}/{css.name}" for css in sorted(ASSETS_DIR.glob("*.css")))
        config.extra_javascript.extend(ExtraScriptValue(f"{ASSETS_URI}/{script}") for script in SCRIPTS)
        self.env = _template_environment(dirs)
        self.env.globals["site_name"] = config.site_name
        tracker = tracker_of(self.config.issues_url, config.repo_url, config.edit_uri)
        self.feedback = Feedback(tracker, dict(self.config.owners), self.config.report_email)
        self.site_url = config.site_url or ""
        return config

    def _report(self, result: LoadResult, strict: bool) -> None:
        failing = result.problems if strict else result.errors
        if failing:
            counts = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
            lines = "\n".join(f"  {problem}" for problem in failing)
            hint = " (warnings count as errors: the kb plugin's 'strict' option is on)" if strict and result.warnings else ""
            raise PluginError(f"kb: the procedures have {counts}{hint}; fix them (run 'kb check'):\n{lines}")
        for problem in result.warnings:
            log.warning(str(problem))

    # ---- files and pages -------------------------------------------------------------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        included: list[Procedure] = []
        for path, procedure in self.procedures.items():
            file = files.get_file_from_path(path)
            if file is None or not file.inclusion.is_included():
                continue
            if procedure.status == "draft":
                file.inclusion = InclusionLevel.DRAFT  # built by `mkdocs serve` only, with a banner
                continue
            included.append(procedure)
            if (config.nav is None and file.inclusion.is_in_nav()) or not procedure.published:
                file.inclusion = InclusionLevel.NOT_IN_NAV  # reached through areas, tags and search; archived: by its URL
        self.catalog = catalog = Catalog(
            included,
            self.config.review_days,
            self.vocabulary,
            tag_slug_taken=lambda slug: files.get_file_from_path(f"tags/{slug}.md") is not None,
            area_slug_taken=lambda slug: files.get_file_from_path(f"areas/{slug}.md") is not None,
        )
        generated: list[tuple[File, str, dict[str, Any]]] = []

        def add(src: str, template: str, in_nav: bool = False, **context: Any) -> None:
            if files.get_file_from_path(src) is None:  # a page of the site's own wins
                level = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
                file = File.generated(config, src, content="", inclusion=level)
                files.append(file)
                generated.append((file, template, context))

        if files.get_file_from_path("README.md") is None:
            add(HOME, "kb/home.html", in_nav=True)
        add(AREAS_INDEX, "kb/areas.html", in_nav=True)
        add(TAGS_INDEX, "kb/tags.html", in_nav=True)
        add(REVIEW_PAGE, "kb/review.html", in_nav=True)
        changes = last_changes(Path(config.docs_dir), catalog.by_path)
        self.env.globals["changes"] = changes  # cards and procedure pages carry their last change, for "Updated" marks
        add(RECENT_PAGE, "kb/recent.html", in_nav=True, recent=recently_updated(catalog.procedures, changes, RECENT_LIMIT))
        for area in catalog.areas.values():
            add(area_page(area), "kb/area.html", area=area)
        for entry in catalog.tags.values():
            add(tag_page(entry), "kb/tag.html", entry=entry)
        self.urls = {file.src_uri: file.url for file in files}
        for file, template, context in generated:
            file.content_string = self.render(template, file.url, **context)

        for asset in sorted(ASSETS_DIR.iterdir()):
            existing = files.get_file_from_path(f"{ASSETS_URI}/{asset.name}")
            if existing is not None:
                files.remove(existing)
            files.append(File.generated(config, f"{ASSETS_URI}/{asset.name}", abs_src_path=str(asset)))
        return files

    def render(self, template: str, page_url: str, **context: Any) -> str:
        """A template of the plugin (templates/kb/, or the site's custom_dir), for the page at `page_url`."""
        try:
            return self.env.get_template(template).render(catalog=self.catalog, link=Links(self.urls, page_url), **context)
        except jinja2.TemplateError as error:  # most likely in a template of the site's own
            where = f"{error.filename}:{error.lineno}" if isinstance(error, jinja2.TemplateSyntaxError) else template
            raise PluginError(f"kb: template {where}: {type(error).__name__}: {error.message}") from None

    def on_env(self, env: jinja2.Environment, config: MkDocsConfig, files: Files) -> jinja2.Environment:
        """Where "Ask for a procedure" goes, for the search box (partials/kb-search.html)."""
        env.globals["kb_feedback"] = self.feedback.browser_settings()
        return env

    @event_priority(-50)  # after other plugins, so the short navigation is the final one
    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        if config.nav is not None or self.catalog is None:
            return nav  # the site's own navigation wins
        home_file = files.get_file_from_path(HOME) or files.get_file_from_path("README.md")
        home = _page(home_file)
        if home is not None and home_file is not None and home_file.generated_by is not None:
            home.title = "Home"
        listed = [home, *(_page(files.get_file_from_path(src)) for src in (AREAS_INDEX, TAGS_INDEX, RECENT_PAGE, REVIEW_PAGE))]
        pages = [page for page in listed if page is not None]
        for index, page in enumerate(pages):
            page.parent = None
            page.previous_page = pages[index - 1] if index > 0 else None
            page.next_page = pages[index + 1] if index + 1 < len(pages) else None
        return Navigation(pages, pages)

    @_page_event
    def on_page_read_source(self, page: Page, config: MkDocsConfig) -> str | None:
        """A procedure's body as read in on_config; its front matter, already parsed, becomes the
        page's metadata in on_page_markdown (the leading blank line says there is none here)."""
        procedure = self.procedures.get(page.file.src_uri)
        return None if procedure is None else "\n" + procedure.body

    @event_priority(100)  # the metadata is in place before other plugins look at the page
    @_page_event
    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        procedure = self.procedures.get(page.file.src_uri)
        if procedure is not None:
            page.meta = dict(procedure.front_matter)
        _title_as_html(page.meta)
        if procedure is None or self.catalog is None or procedure.path not in self.catalog.by_path:
            return markdown
        return markdown + self.render("kb/related.html", page.file.url, related=self.catalog.related(procedure))

    @event_priority(50)  # before other plugins read the page's HTML
    @_page_event
    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        procedure = self.procedures.get(page.file.src_uri)
        if procedure is None or self.catalog is None:
            return html
        if not procedure.published:
            banner = self.render(
                "kb/status-banner.html", page.file.url, procedure=procedure, replacement=self.catalog.by_path.get(procedure.replaced_by)
            )
            return _under_title(html, banner)
        if procedure.path not in self.catalog.by_path:
            return html
        html = label_alternates(html, [method.title for method in procedure.alternates])
        meta = self.render("kb/procedure-meta.html", page.file.url, procedure=procedure)
        report = Markup(self.report_action(procedure, page.file.url))  # rendered by the plugin's own template
        meta += self.render("kb/procedure-actions.html", page.file.url, procedure=procedure, report=report)
        return _under_title(html, meta)

    def report_action(self, procedure: Procedure, page_url: str) -> str:
        """The "Report a problem" action of a procedure page ('' when the site has nowhere to send it).
        Without a `site_url` the page's address in the text is its path, which kb-marks.js replaces
        with the address the rep has open."""
        address = self.site_url.rstrip("/") + "/" + page_url if self.site_url else "/" + page_url
        href = self.feedback.report_link(procedure.title, procedure.path, address, procedure.reviewed, procedure.owner)
        if href is None:
            return ""
        token = "" if self.site_url else quote(address, safe="")
        return self.render(
            "kb/report.html", page_url, procedure=procedure, href=href, page_token=token, by_issue=self.feedback.tracker is not None
        )

    def on_post_build(self, config: MkDocsConfig) -> None:
        """The index refreshed and the browser search data written."""
        refreshed, exported = export.refresh_and_export(
            Path(config.docs_dir),
            self.index_dir,
            Path(config.site_dir) / self.config.search_dir,
            urls={path: self.urls[path] for path in self.catalog.by_path} if self.catalog is not None else {},
            synonyms=self.synonyms,
            cache=dict(_LOADED.get(Path(config.docs_dir).resolve(), {})),  # the files checked in on_config: not parsed again
            protected=[Path(config.site_dir)],
        )
        log.info(
            f"kb: index {refreshed.added} added, {refreshed.updated} updated, {refreshed.deleted} removed; "
            f"search data for {exported.documents} procedures ({exported.files_written} files written, "
            f"{exported.files_unchanged} unchanged)"
        )
        problem = table_problem()  # the same for every build of this process: said on the first
        if problem and not self.said_meaning_off:
            self.said_meaning_off = True
            log.info(f"kb: {MEANING_OFF_WARNING.format(problem=problem)}")

    def on_serve(self, server: Any, config: MkDocsConfig, builder: Any) -> Any:
        for watched in (self.synonyms, self.tags_file, TEMPLATES_DIR, ASSETS_DIR):
            if watched is not None and watched.exists():
                server.watch(str(watched))
        return server


def tag_page(entry: TagEntry) -> str:
    return f"tags/{entry.slug}.md"


def area_page(area: AreaEntry) -> str:
    return f"areas/{area.slug}.md"


def _template_environment(theme_dirs: list[str]) -> jinja2.Environment:
    """The plugin's templates, looked up in the theme's folders (a custom_dir first), with every
    value escaped unless a template marks it safe."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(theme_dirs), autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
    )
    env.filters["plural"] = lambda count, word: f"{count} {word}" if count == 1 else f"{count} {word}s"
    env.filters["category_anchor"] = lambda label: f"category-{slugify(label)}"
    # Plain text made safe for a Markdown heading: no emphasis, links or raw HTML.
    env.filters["markdown_text"] = lambda text: Markup(_MARKDOWN_SPECIAL.sub(r"\\\1", escape_html(str(text), quote=False)))
    env.globals.update(tags_index=TAGS_INDEX, review_page=REVIEW_PAGE)
    return env


def root_prefix(page_url: str) -> str:
    """From a page to the site root: `../` per folder of its URL (`a/b/` and `a/b/c.html` → `../../`;
    MkDocs' URL of the home page is `./`)."""
    folder, _, name = page_url.rpartition("/")
    if "." not in name:
        folder = page_url
    return "../" * sum(1 for part in folder.split("/") if part not in ("", "."))


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


def _under_title(html: str, insert: str) -> str:
    """A page's HTML with `insert` under its own <h1>, or at the top (under the theme's title)."""
    if html.lstrip().startswith("<h1"):
        title, closing, rest = html.partition("</h1>")
        return f"{title}{closing}\n{insert}{rest}"
    return insert + html


def _page(file: File | None) -> Page | None:
    return file.page if file is not None and isinstance(file.page, Page) else None


# Files already read in this process, by procedures folder: `mkdocs serve` loads the configuration
# again for every rebuild, and only changed files need reading again.
_LOADED: dict[Path, FileCache] = {}
