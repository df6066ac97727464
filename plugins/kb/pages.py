"""What the plugin adds to the site, as Markdown/HTML text: the generated pages (home, tags, one
page per tag, one page per area, due for review) and the decorations of procedure pages (tag links, owner and
review line, labelled alternate methods, related procedures).

No MkDocs events here and no search logic: `Catalog` is built from the engine's `Procedure`
objects and a `url_of(src_path)` callable, and every link it writes is relative to the page it
appears on, so the site works from any folder of any static host.

HTML is not run through Markdown: each page function gets `hold(html) -> str`, which keeps the
HTML aside and returns a placeholder paragraph; the plugin puts the HTML back into the rendered
page (`Fragments`). Parsing the HTML of thousands of listing entries with Python-Markdown would
cost more than the rest of the build, and the procedure's own Markdown needs no extension.
"""

from __future__ import annotations

import datetime as _dt
import functools
import html
import json
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from search.model import Procedure, Tag, markdown_to_text, slugify
from search.review import ReviewItem, by_owner, due_for_review, review_interval
from search.review import review_state as _review_state
from search.vocabulary import Vocabulary

GENERAL_AREA = "General"
TAGS_INDEX = "tags/index.md"
AREAS_INDEX = "areas/index.md"
HOME = "index.md"
REVIEW_PAGE = "due-for-review.md"
TAGS_INDEX_LIMIT = 8  # procedures listed under each tag on the tags page; the tag page has them all
HOME_TAG_LIMIT = 16
RELATED_LIMIT = 5


Hold = Callable[[str], str]


class Fragments:
    """HTML kept out of Markdown: a placeholder paragraph goes in, the HTML replaces it after
    rendering. HTML that goes under the page's title needs no placeholder (`place_under_title`)."""

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(5)
        self._count = 0
        self._by_page: dict[str, dict[str, str]] = defaultdict(dict)
        self._under_title: dict[str, str] = {}

    def holder(self, page: str) -> Hold:
        def hold(fragment: str) -> str:
            self._count += 1
            token = f"kbfragment{self._nonce}x{self._count}"
            self._by_page[page][token] = fragment
            return f"\n\n{token}\n\n"

        return hold

    def place_under_title(self, page: str, under_title: str) -> None:
        """HTML for under the page's leading <h1> (first, when the page does not start with one)."""
        self._under_title[page] = under_title

    def restore(self, page: str, output: str) -> str:
        for token, fragment in self._by_page.pop(page, {}).items():
            wrapped = f"<p>{token}</p>"
            output = output.replace(wrapped, fragment) if wrapped in output else output.replace(token, "")
        under_title = self._under_title.pop(page, "")
        if not under_title:
            return output
        if output.lstrip().startswith("<h1"):
            title, closing, rest = output.partition("</h1>")
            return f"{title}{closing}\n{under_title}{rest}"
        return under_title + output


@functools.lru_cache(maxsize=65536)  # titles, summaries and labels recur on many pages
def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_text(text: str) -> str:
    """Plain text made safe for a Markdown heading: no emphasis, links or raw HTML."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def front_matter(title: str) -> str:
    return f"---\ntitle: {json.dumps(title)}\n---\n\n"


def icon(name: str) -> str:
    """An icon drawn by kb.css (a Material icon as a CSS mask, in the text colour)."""
    return f'<span class="kb-icon kb-icon--{name}" aria-hidden="true"></span>'


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# ---- the catalog ---------------------------------------------------------------------------------
@dataclass
class TagEntry:
    tag: Tag
    slug: str
    procedures: list[Procedure] = field(default_factory=list)

    @property
    def src(self) -> str:
        return f"tags/{self.slug}.md"


@dataclass
class AreaEntry:
    area: str  # the folder, '' for the top level
    title: str
    slug: str
    procedures: list[Procedure] = field(default_factory=list)

    @property
    def src(self) -> str:
        return f"areas/{self.slug}.md"


@dataclass
class Category:
    label: str
    bare: TagEntry | None = None  # the tag that is the category alone (`Shipping`)
    subjects: list[TagEntry] = field(default_factory=list)
    procedures: set[str] = field(default_factory=set)


def _unique(slug: str, taken: Callable[[str], bool]) -> str:
    candidate, number = slug, 2
    while taken(candidate):
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


def _sort_key(procedure: Procedure) -> tuple[str, str]:
    return procedure.title.casefold(), procedure.path


class Catalog:
    """Tags, categories and areas of the procedures that are part of the site."""

    def __init__(
        self,
        procedures: Iterable[Procedure],
        site_name: str,
        review_days: int,
        url_of: Callable[[str], str],
        existing: Callable[[str], bool] = lambda src: False,
        today: _dt.date | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.procedures = sorted(procedures, key=_sort_key)
        self.by_path = {p.path: p for p in self.procedures}
        self.site_name = site_name
        self.review_days = review_days
        self.vocabulary = vocabulary
        self.today = today or _dt.date.today()
        # The same list as `kb review` (search/review.py), for the "Due for review" page and the marks.
        self.due: list[ReviewItem] = due_for_review(self.procedures, review_days, vocabulary, self.today)
        self._due_by_path = {item.procedure.path: item for item in self.due}
        self._url_of = url_of

        self.tags: dict[str, TagEntry] = {}
        slugs: set[str] = {"index"}
        for procedure in self.procedures:
            for tag in procedure.tags:
                entry = self.tags.get(tag.key)
                if entry is None:
                    slug = _unique(tag.slug, lambda s: s in slugs or existing(f"tags/{s}.md"))
                    slugs.add(slug)
                    entry = self.tags[tag.key] = TagEntry(tag, slug)
                entry.procedures.append(procedure)

        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for entry in self.tags.values():
            spellings[entry.tag.category_key][entry.tag.category] += len(entry.procedures)
        self.categories: dict[str, Category] = {
            key: Category(label=sorted(counts, key=lambda label: (-counts[label], label))[0]) for key, counts in spellings.items()
        }
        for entry in sorted(self.tags.values(), key=lambda e: e.tag.subject.casefold()):
            category = self.categories[entry.tag.category_key]
            if entry.tag.subject:
                category.subjects.append(entry)
            else:
                category.bare = entry
            category.procedures.update(p.path for p in entry.procedures)

        grouped: dict[str, list[Procedure]] = defaultdict(list)
        for procedure in self.procedures:
            grouped[procedure.area].append(procedure)
        category_labels = {key: category.label for key, category in self.categories.items()}
        self.areas: dict[str, AreaEntry] = {}
        area_slugs: set[str] = set()
        for area in sorted(grouped, key=lambda a: (a != "", a.casefold())):
            title = area_title(area, category_labels)
            base = "/".join(slugify(part) for part in area.split("/")) if area else slugify(GENERAL_AREA)
            slug = _unique(base, lambda s: s in area_slugs or s == "index" or existing(f"areas/{s}.md"))
            area_slugs.add(slug)
            self.areas[area] = AreaEntry(area, title, slug, grouped[area])

        # Lookups for `related`.
        self._order = {p.path: i for i, p in enumerate(self.procedures)}
        self._area_of = {p.path: p.area for p in self.procedures}
        self._paths = {entry.slug: [p.path for p in entry.procedures] for entry in self.tags.values()}
        self._sets: dict[str, frozenset[str]] = {}
        self._near: dict[tuple[str, str], list[str]] = {}
        self._escaped_urls: dict[str, str] = {}
        self._cards: dict[tuple[str, str, bool], str] = {}
        self._chips: dict[tuple[str, str, int | None], str] = {}

    # ---- helpers ---------------------------------------------------------------------------------
    def link(self, target_src: str, page_url: str) -> str:
        """The relative link to a page through the site root (`../../tags/x/`): the same text on
        every page at the same depth, so listings repeated across pages are built once."""
        url = self._escaped_urls.get(target_src)
        if url is None:
            url = self._escaped_urls[target_src] = esc(self._url_of(target_src))
        return root_prefix(page_url) + url

    def review_state(self, procedure: Procedure) -> str:
        """'never', 'overdue', or 'ok'."""
        item = self._due_by_path.get(procedure.path)
        if item is not None:
            return item.state
        return _review_state(procedure, review_interval(procedure, self.review_days, self.vocabulary), self.today)

    def tag_chip(self, tag: Tag, page_url: str, count: int | None = None) -> str:
        """A link to a tag's page; the same on every page at the same depth, so made once for them
        (a 1,000-procedure site shows about 10,000 chips: each card and procedure page has some)."""
        key = (tag.key, root_prefix(page_url), count)
        chip = self._chips.get(key)
        if chip is None:
            entry = self.tags[tag.key]
            counter = f' <span class="kb-chip__count">{count}</span>' if count is not None else ""
            chip = self._chips[key] = f'<a class="kb-chip" href="{self.link(entry.src, page_url)}">{esc(entry.tag.label)}{counter}</a>'
        return chip

    def review_badge(self, procedure: Procedure, small: bool = False) -> str:
        state = self.review_state(procedure)
        size = " kb-badge--small" if small else ""
        if state == "overdue":
            age = (self.today - procedure.reviewed).days if procedure.reviewed else 0
            days = review_interval(procedure, self.review_days, self.vocabulary)
            title = f"Last reviewed {age} days ago; this procedure is due for review every {days} days"
            return (
                f'<span class="kb-badge kb-badge--overdue{size}" title="{esc(title)}">{icon("alert-circle-outline")}Review overdue</span>'
            )
        if state == "never":
            title = "This procedure has no 'reviewed' date"
            return f'<span class="kb-badge kb-badge--never{size}" title="{esc(title)}">{icon("alert-circle-outline")}Never reviewed</span>'
        return ""

    def cards(self, procedures: Iterable[Procedure], page_url: str, show_area: bool = True) -> str:
        """A list of procedures with their summaries, areas and tags."""
        return f'<ul class="kb-cards">\n{chr(10).join(self.card(p, page_url, show_area) for p in procedures)}\n</ul>\n'

    def card(self, procedure: Procedure, page_url: str, show_area: bool) -> str:
        """One procedure's entry in a listing; a procedure is listed on each of its tags' pages."""
        key = (procedure.path, root_prefix(page_url), show_area)
        if key not in self._cards:
            parts = [f'<a class="kb-card__title" href="{self.link(procedure.path, page_url)}">{esc(procedure.title)}</a>']
            if procedure.summary:
                parts.append(f'<p class="kb-card__summary">{esc(procedure.summary)}</p>')
            meta = []
            if show_area:
                area = self.areas[procedure.area]
                meta.append(
                    f'<a class="kb-card__area" href="{self.link(area.src, page_url)}">{icon("folder-outline")}{esc(area.title)}</a>'
                )
            meta.extend(self.tag_chip(tag, page_url) for tag in procedure.tags)
            badge = self.review_badge(procedure, small=True)
            if badge:
                meta.append(badge)
            parts.append(f'<div class="kb-card__meta">{"".join(meta)}</div>')
            self._cards[key] = f'<li class="kb-card">{"".join(parts)}</li>'
        return self._cards[key]

    # ---- generated pages -------------------------------------------------------------------------
    def home_page(self, page_url: str, hold: Hold) -> str:
        overdue = len(self.due)
        stats = [plural(len(self.procedures), "procedure"), plural(len(self.areas), "area"), plural(len(self.tags), "tag")]
        search_box = (
            f'<label class="kb-hero__search" for="__search">{icon("magnify")}'
            f'<span class="kb-hero__placeholder">Search procedures: a tag, a few words, or the customer\'s own words</span>'
            f"<kbd>/</kbd></label>"
        )
        hint = "Press <kbd>/</kbd> or <kbd>s</kbd> to search from any page; <kbd>↑</kbd> <kbd>↓</kbd> move, <kbd>Enter</kbd> opens."
        hero = [
            '<div class="kb-hero">',
            f"<h1>{esc(self.site_name)}</h1>",
            '<p class="kb-hero__lead">What to do, step by step, for every customer and staff situation, '
            "with the other acceptable ways to handle it.</p>",
            search_box,
            f'<p class="kb-hero__hint">{hint}</p>',
            f'<p class="kb-hero__stats">{" · ".join(stats)}</p>',
            "</div>",
        ]
        out = [front_matter(self.site_name), hold("".join(hero)), "## Areas\n", hold(self.area_tiles(page_url))]
        categories = sorted(self.categories.values(), key=lambda c: c.label.casefold())
        if categories:
            out.append("## Categories\n")
            chips = "".join(
                f'<a class="kb-chip" href="{self.link(TAGS_INDEX, page_url)}#{category_anchor(c.label)}"{self._description_title(c.label)}>'
                f"{esc(c.label)}"
                f' <span class="kb-chip__count">{len(c.procedures)}</span></a>'
                for c in categories
            )
            out.append(hold(f'<div class="kb-chips kb-chips--large">{chips}</div>'))
        popular = [
            e for e in sorted(self.tags.values(), key=lambda e: (-len(e.procedures), e.tag.label.casefold())) if len(e.procedures) > 1
        ]
        if popular:
            out.append("## Most used tags\n")
            chips = "".join(self.tag_chip(entry.tag, page_url, len(entry.procedures)) for entry in popular[:HOME_TAG_LIMIT])
            out.append(hold(f'<div class="kb-chips">{chips}</div>'))
        if self.tags:
            out.append(
                hold(
                    f'<p class="kb-more"><a href="{self.link(TAGS_INDEX, page_url)}">'
                    f"All {plural(len(self.tags), 'tag')}, by category →</a></p>"
                )
            )
        if overdue:
            out.append(
                hold(
                    f'<p class="kb-note">{icon("alert-circle-outline")}{plural(overdue, "procedure")} '
                    f"{'is' if overdue == 1 else 'are'} overdue for review or never reviewed; "
                    "they are marked on their pages and listed by owner on "
                    f'<a href="{self.link(REVIEW_PAGE, page_url)}">Due for review</a>.</p>'
                )
            )
        return "\n".join(out)

    def area_tiles(self, page_url: str) -> str:
        tiles = [
            f'<a class="kb-tile" href="{self.link(area.src, page_url)}">{icon("folder-outline")}<span class="kb-tile__text">'
            f'<span class="kb-tile__title">{esc(area.title)}</span>'
            f'<span class="kb-tile__count">{plural(len(area.procedures), "procedure")}</span></span></a>'
            for area in self.areas.values()
        ]
        return f'<div class="kb-grid">{"".join(tiles)}</div>'

    def areas_page(self, page_url: str, hold: Hold) -> str:
        """One navigation entry for all areas: a sidebar entry per area would be rendered into
        every page of the site, the largest part of the build's cost."""
        lead = f'<p class="kb-lead">{plural(len(self.procedures), "procedure")} in {plural(len(self.areas), "area")}, one per folder.</p>'
        return front_matter("Areas") + hold(f"<h1>Areas</h1>{lead}{self.area_tiles(page_url)}")

    def tags_page(self, page_url: str, hold: Hold) -> str:
        categories = sorted(self.categories.values(), key=lambda c: c.label.casefold())
        lead = (
            f'<h1>Tags</h1><p class="kb-lead">{plural(len(self.tags), "tag")} in {len(categories)} '
            f"{'category' if len(categories) == 1 else 'categories'}. Each tag leads to all its procedures.</p>"
        )
        out = [front_matter("Tags"), hold(lead)]
        for category in categories:
            # The anchor comes first so that a link to it shows the heading under Material's header.
            out.append(hold(f'<span class="kb-anchor" id="{category_anchor(category.label)}"></span>'))
            out.append(f"## {md_text(category.label)}\n")
            entries = ([category.bare] if category.bare else []) + category.subjects
            description = self.vocabulary.description(category.label) if self.vocabulary is not None else ""
            sections = [
                f'<p class="kb-category-description">{esc(description)}</p>' if description else "",
                f'<p class="kb-group-meta">{plural(len(category.procedures), "procedure")} · {plural(len(entries), "tag")}</p>',
                '<div class="kb-tagcards">',
            ]
            for entry in entries:
                name = entry.tag.subject or entry.tag.category
                items = "".join(
                    f'<li><a href="{self.link(p.path, page_url)}">{esc(p.title)}</a></li>' for p in entry.procedures[:TAGS_INDEX_LIMIT]
                )
                more = ""
                if len(entry.procedures) > TAGS_INDEX_LIMIT:
                    more = (
                        f'<a class="kb-tagcard__more" href="{self.link(entry.src, page_url)}">All {len(entry.procedures)} procedures →</a>'
                    )
                sections.append(
                    f'<section class="kb-tagcard"><div class="kb-tagcard__head">'
                    f'<a class="kb-tagcard__name" href="{self.link(entry.src, page_url)}" title="{esc(entry.tag.label)}">'
                    f"{icon('tag-outline')}{esc(name)}</a>"
                    f'<span class="kb-count">{len(entry.procedures)}</span></div>'
                    f'<ul class="kb-tagcard__list">{items}</ul>{more}</section>'
                )
            sections.append("</div>")
            out.append(hold("\n".join(sections)))
        return "".join(out)

    def _description_title(self, category: str) -> str:
        description = self.vocabulary.description(category) if self.vocabulary is not None else ""
        return f' title="{esc(description)}"' if description else ""

    def review_page(self, page_url: str, hold: Hold) -> str:
        """The procedures due for review, grouped by owner: the list of `kb review`."""
        intervals = f"Procedures are reviewed every {plural(self.review_days, 'day')}"
        if self.vocabulary is not None:
            overrides = sorted((r.name, r.review_days) for r in self.vocabulary.categories.values() if r.review_days)
            if overrides:
                intervals += "; " + ", ".join(f"{esc(name)}: every {plural(days, 'day')}" for name, days in overrides)
        count = len(self.due)
        lead = (
            f"{plural(count, 'procedure')} of {len(self.procedures)} {'is' if count == 1 else 'are'} overdue for review or never reviewed"
            if count
            else f"Every procedure was reviewed within its interval ({len(self.procedures)} procedures)"
        )
        out = [
            front_matter("Due for review"),
            hold(
                f'<h1>Due for review</h1><p class="kb-lead">{lead}.</p>'
                f"<p>{intervals}. To review one: check it against how the work is done today, correct it, "
                "and set its <code>reviewed</code> date to the day of the review.</p>"
            ),
        ]
        for owner, items in by_owner(self.due):
            out.append(f"## {md_text(owner)}\n")
            rows = []
            for item in items:
                p = item.procedure
                rows.append(
                    f'<li class="kb-review__item" data-path="{esc(p.path)}">'
                    f'<a class="kb-review__title" href="{self.link(p.path, page_url)}">{esc(p.title)}</a>'
                    f'<span class="kb-review__state kb-review__state--{item.state}">{esc(item.describe())}</span>'
                    f'<code class="kb-review__path">{esc(p.path)}</code></li>'
                )
            out.append(hold(f'<ul class="kb-review">{"".join(rows)}</ul>'))
        return "\n".join(out)

    def tag_page(self, entry: TagEntry, page_url: str) -> str:
        """The HTML content of a tag's page (filled into the theme's rendering by shell.py)."""
        category = self.categories[entry.tag.category_key]
        parts = [
            f'<h1 class="kb-tag-title">{esc(entry.tag.label)}</h1>',
            f'<p class="kb-lead">{icon("tag-outline")}Tag · {plural(len(entry.procedures), "procedure")} · '
            f'<a href="{self.link(TAGS_INDEX, page_url)}">all tags</a></p>',
        ]
        siblings = [e for e in ([category.bare] if category.bare else []) + category.subjects if e is not entry]
        if siblings:
            chips = "".join(self.tag_chip(e.tag, page_url, len(e.procedures)) for e in siblings)
            parts.append(
                f'<div class="kb-related-tags"><span class="kb-related-tags__label">Also in {esc(category.label)}</span>{chips}</div>'
            )
        parts.append(self.cards(entry.procedures, page_url))
        return "\n".join(parts)

    def area_page(self, area: AreaEntry, page_url: str, hold: Hold) -> str:
        where = f"<code>{esc(area.area)}/</code>" if area.area else "the top folder"
        parts = [
            f"<h1>{esc(area.title)}</h1>",
            f'<p class="kb-lead">{icon("folder-outline")}{plural(len(area.procedures), "procedure")} in {where}</p>',
        ]
        children = [a for a in self.areas.values() if a.area and a.area.rpartition("/")[0] == area.area and a is not area]
        if children:
            links = "".join(f'<a class="kb-chip" href="{self.link(a.src, page_url)}">{esc(a.title)}</a>' for a in children)
            parts.append(f'<div class="kb-related-tags"><span class="kb-related-tags__label">Sub-areas</span>{links}</div>')
        parts.append(self.cards(area.procedures, page_url, show_area=False))
        return front_matter(area.title) + hold("\n".join(parts))

    # ---- procedure pages -------------------------------------------------------------------------
    def meta_block(self, procedure: Procedure, page_url: str) -> str:
        tags = "".join(self.tag_chip(tag, page_url) for tag in procedure.tags)
        facts = []
        area = self.areas.get(procedure.area)
        if area is not None:
            facts.append(f'<a class="kb-meta__area" href="{self.link(area.src, page_url)}">{icon("folder-outline")}{esc(area.title)}</a>')
        if procedure.owner:
            facts.append(
                f'<span class="kb-meta__owner" title="Owner">{icon("account-group-outline")}'
                f"Owner: <strong>{esc(procedure.owner)}</strong></span>"
            )
        if procedure.reviewed is not None:
            iso = procedure.reviewed.isoformat()
            facts.append(
                f'<span class="kb-meta__reviewed">{icon("calendar-check-outline")}Reviewed <time datetime="{iso}">{iso}</time></span>'
            )
        badge = self.review_badge(procedure)
        if badge:
            facts.append(badge)
        return (
            f'<div class="kb-meta">\n<div class="kb-meta__tags">{tags}</div>\n<div class="kb-meta__facts">{"".join(facts)}</div>\n</div>\n'
        )

    def related(self, procedure: Procedure, limit: int = RELATED_LIMIT) -> list[tuple[Procedure, list[Tag]]]:
        """Procedures sharing tags with this one, ranked by: more shared tags, rarer shared tags
        (the sum of 1/size of each shared tag), same area, title.

        Linear in the members of the procedure's tags but its largest, and done in C where it can
        be: a tag such as `Shipping` may hold thousands of procedures (the related procedures of
        10,000 took 1.15 s with its members counted, 0.83 s without). Only candidates sharing two
        or more tags are ranked one by one; the rest come tag by tag, rarest tag first, in each
        tag's own order.
        """
        entries = sorted(
            (entry for tag in procedure.tags if (entry := self.tags.get(tag.key)) is not None),
            key=lambda e: (len(e.procedures), e.tag.label.casefold()),
        )
        # How many of the procedure's tags each candidate has; the members of the largest tag that
        # are in no other one are left out (they have one, which `counts.get(path, 1)` says below).
        counts: Counter[str] = Counter()
        for entry in entries[:-1]:
            counts.update(self._paths[entry.slug])
        if entries:
            counts.update(self._member_set(entries[-1]).intersection(counts))
        counts.pop(procedure.path, None)
        chosen = [path for path, count in counts.items() if count > 1]
        if chosen:
            members = [(1.0 / len(e.procedures), self._member_set(e)) for e in entries]
            weights = {path: sum(weight for weight, paths in members if path in paths) for path in chosen}
            chosen.sort(key=lambda path: (-counts[path], -weights[path], self._area_of[path] != procedure.area, self._order[path]))
            del chosen[limit:]
        for entry in entries:
            if len(chosen) >= limit:
                break
            for path in self._members_near(entry, procedure.area):
                if counts.get(path, 1) == 1 and path != procedure.path:
                    chosen.append(path)
                    if len(chosen) >= limit:
                        break
        keys = {tag.key for tag in procedure.tags}
        return [(self.by_path[path], [t for t in self.by_path[path].tags if t.key in keys]) for path in chosen]

    def _member_set(self, entry: TagEntry) -> frozenset[str]:
        if entry.slug not in self._sets:
            self._sets[entry.slug] = frozenset(self._paths[entry.slug])
        return self._sets[entry.slug]

    def _members_near(self, entry: TagEntry, area: str) -> list[str]:
        """The tag's procedures, those of `area` first, each group in title order."""
        key = (entry.slug, area)
        if key not in self._near:
            paths, areas = self._paths[entry.slug], self._area_of
            self._near[key] = [p for p in paths if areas[p] == area] + [p for p in paths if areas[p] != area]
        return self._near[key]

    def related_block(self, procedure: Procedure, page_url: str) -> str:
        related = self.related(procedure)
        if not related:
            return ""
        items = []
        for other, tags in related:
            summary = f'<span class="kb-related__summary">{esc(other.summary)}</span>' if other.summary else ""
            shared = "".join(f'<span class="kb-related__tag">{esc(tag.label)}</span>' for tag in tags)
            label = "Shared tag" if len(tags) == 1 else "Shared tags"
            items.append(
                f'<li class="kb-related__item"><a class="kb-related__title" href="{self.link(other.path, page_url)}">{esc(other.title)}</a>'
                f'{summary}<span class="kb-related__shared">{label}{shared}</span></li>'
            )
        return f'<ul class="kb-related">\n{chr(10).join(items)}\n</ul>'


@functools.lru_cache(maxsize=4096)
def root_prefix(page_url: str) -> str:
    """From a page to the site root: `../` per folder of its URL (`a/b/` and `a/b/c.html` → `../../`;
    MkDocs' URL of the home page is `./`)."""
    folder, _, name = page_url.rpartition("/")
    if "." not in name:
        folder = page_url
    return "../" * sum(1 for part in folder.split("/") if part not in ("", "."))


def category_anchor(label: str) -> str:
    return f"category-{slugify(label)}"


def area_title(area: str, category_labels: dict[str, str]) -> str:
    """`hr` → `HR` (the spelling of a tag category of the same name), `white-glove` → `White glove`."""
    if not area:
        return GENERAL_AREA
    parts = []
    for part in area.split("/"):
        words = part.replace("-", " ").replace("_", " ").strip()
        label = category_labels.get(words.casefold())
        parts.append(label if label else words[:1].upper() + words[1:])
    return " / ".join(parts)


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


def label_alternates(page: str, titles: list[str]) -> str:
    """A rendered procedure page with each alternate method in a labelled block.

    The methods are the engine's (`### ` headings under `## Alternate methods`, outside code
    fences; search/model.py), so the blocks are what search reports as "alternate method: …".
    Python-Markdown renders such a heading as a top-level <h3>: they are matched in order, by
    their text (inline HTML, entities and punctuation aside), among the <h3> under the section's
    <h2>, and each block runs to the next method or the next <h2>. Done on the HTML: placeholders
    around the methods in the Markdown cost Python-Markdown about 0.2 s a thousand pages. A page
    whose methods are not all found, or whose blocks would not hold whole elements, is left as it is.
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
        label = f'<div class="kb-alternate"><p class="kb-alternate__label">{icon("call-split")}Alternate method {number}</p>'
        out += [page[previous:start], label, page[start:end], "</div>\n"]
        previous = end
    return "".join([*out, page[previous:]])
