"""The catalog of a collection: its tags, their categories, its areas (one per folder), the review
state of each procedure and the procedures related to each one.

What the site shows as tag, area, home and "Due for review" pages, and on each procedure page,
comes from here; the site only lays it out. Nothing here knows about MkDocs or HTML.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .procedure import Procedure, Tag, slugify
from .review import ReviewItem, by_owner, due_for_review, review_interval, review_state
from .vocabulary import Vocabulary

GENERAL_AREA = "General"  # the title of the area of the procedures at the top of the folder
RELATED_LIMIT = 5


@dataclass
class TagEntry:
    """A tag, the unique slug of its page, and its procedures in title order."""

    tag: Tag
    slug: str
    procedures: list[Procedure] = field(default_factory=list)

    @property
    def name(self) -> str:
        """How the tag is named under its category: its subject, or the category for a bare tag."""
        return self.tag.subject or self.tag.category


@dataclass
class AreaEntry:
    """A folder of procedures ('' for the top level), its title, the unique slug of its page."""

    area: str
    title: str
    slug: str
    procedures: list[Procedure] = field(default_factory=list)


@dataclass
class Category:
    """A tag category: the bare tag (`Shipping`), the tags with a subject, their procedures' paths."""

    label: str
    description: str = ""
    bare: TagEntry | None = None
    subjects: list[TagEntry] = field(default_factory=list)
    procedures: set[str] = field(default_factory=set)

    @property
    def entries(self) -> list[TagEntry]:
        """The bare tag first, then the others by subject."""
        return ([self.bare] if self.bare else []) + self.subjects


def _unique(slug: str, taken: Callable[[str], bool]) -> str:
    candidate, number = slug, 2
    while taken(candidate):
        candidate, number = f"{slug}-{number}", number + 1
    return candidate


class Catalog:
    """Tags, categories, areas and review states of the published procedures of a set.

    `tag_slug_taken` and `area_slug_taken` say which slugs are already in use by something else
    (a page of the site's own); the catalog gives every tag and area a slug of its own."""

    def __init__(
        self,
        procedures: Iterable[Procedure],
        review_days: int,
        vocabulary: Vocabulary | None = None,
        today: _dt.date | None = None,
        tag_slug_taken: Callable[[str], bool] = lambda slug: False,
        area_slug_taken: Callable[[str], bool] = lambda slug: False,
    ) -> None:
        # Only published procedures: drafts and archived ones are in no list, count or relation.
        self.procedures = sorted((p for p in procedures if p.published), key=lambda p: (p.title.casefold(), p.path))
        self.by_path = {p.path: p for p in self.procedures}
        self.review_days = review_days
        self.vocabulary = vocabulary
        self.today = today or _dt.date.today()
        # The same list as `kb review` (search/review.py).
        self.due: list[ReviewItem] = due_for_review(self.procedures, review_days, vocabulary, self.today)
        self.due_by_owner = by_owner(self.due)
        self._due_by_path = {item.procedure.path: item for item in self.due}
        self.tags = self._tags(lambda slug: slug == "index" or tag_slug_taken(slug))
        self.categories = self._categories()
        self.areas = self._areas(lambda slug: slug == "index" or area_slug_taken(slug))
        self._order = {p.path: i for i, p in enumerate(self.procedures)}
        self._members = {entry.slug: frozenset(p.path for p in entry.procedures) for entry in self.tags.values()}

    def _tags(self, taken: Callable[[str], bool]) -> dict[str, TagEntry]:
        tags: dict[str, TagEntry] = {}
        slugs: set[str] = set()
        for procedure in self.procedures:
            for tag in procedure.tags:
                if tag.key not in tags:
                    slug = _unique(tag.slug, lambda s: s in slugs or taken(s))
                    slugs.add(slug)
                    tags[tag.key] = TagEntry(tag, slug)
                tags[tag.key].procedures.append(procedure)
        return tags

    def _categories(self) -> dict[str, Category]:
        """Categories by key, labelled with their most used spelling, in label order."""
        spellings: dict[str, Counter[str]] = defaultdict(Counter)
        for entry in self.tags.values():
            spellings[entry.tag.category_key][entry.tag.category] += len(entry.procedures)
        categories = {}
        for key, counts in spellings.items():
            label = min(counts, key=lambda spelling: (-counts[spelling], spelling))
            description = self.vocabulary.description(label) if self.vocabulary is not None else ""
            categories[key] = Category(label, description)
        for entry in sorted(self.tags.values(), key=lambda e: e.tag.subject.casefold()):
            category = categories[entry.tag.category_key]
            if entry.tag.subject:
                category.subjects.append(entry)
            else:
                category.bare = entry
            category.procedures.update(p.path for p in entry.procedures)
        return dict(sorted(categories.items(), key=lambda item: item[1].label.casefold()))

    def _areas(self, taken: Callable[[str], bool]) -> dict[str, AreaEntry]:
        grouped: dict[str, list[Procedure]] = defaultdict(list)
        for procedure in self.procedures:
            grouped[procedure.area].append(procedure)
        labels = {key: category.label for key, category in self.categories.items()}
        areas: dict[str, AreaEntry] = {}
        slugs: set[str] = set()
        for area in sorted(grouped, key=lambda a: (a != "", a.casefold())):
            base = "/".join(slugify(part) for part in area.split("/")) if area else slugify(GENERAL_AREA)
            slug = _unique(base, lambda s: s in slugs or taken(s))
            slugs.add(slug)
            areas[area] = AreaEntry(area, area_title(area, labels), slug, grouped[area])
        return areas

    def review_overrides(self) -> list[tuple[str, int]]:
        """The categories of the tag vocabulary that have a review interval of their own, by name."""
        rules = self.vocabulary.categories.values() if self.vocabulary is not None else []
        return sorted((rule.name, rule.review_days) for rule in rules if rule.review_days)

    # ---- per procedure ---------------------------------------------------------------------------
    def review_state(self, procedure: Procedure) -> str:
        """'never', 'overdue', or 'ok'."""
        item = self._due_by_path.get(procedure.path)
        return item.state if item is not None else review_state(procedure, self.review_interval(procedure), self.today)

    def review_interval(self, procedure: Procedure) -> int:
        """Days between the procedure's reviews (its categories may set their own)."""
        return review_interval(procedure, self.review_days, self.vocabulary)

    def days_since_review(self, procedure: Procedure) -> int:
        return (self.today - procedure.reviewed).days if procedure.reviewed else 0

    def tag(self, tag: Tag) -> TagEntry:
        return self.tags[tag.key]

    def children(self, area: AreaEntry) -> list[AreaEntry]:
        """The areas of the folders right under this area's folder."""
        return [a for a in self.areas.values() if a.area and a is not area and a.area.rpartition("/")[0] == area.area]

    def popular_tags(self) -> list[TagEntry]:
        """Tags of more than one procedure, most used first."""
        entries = sorted(self.tags.values(), key=lambda e: (-len(e.procedures), e.tag.label.casefold()))
        return [entry for entry in entries if len(entry.procedures) > 1]

    def related(self, procedure: Procedure, limit: int = RELATED_LIMIT) -> list[tuple[Procedure, list[Tag]]]:
        """Procedures sharing tags with this one, each with the tags it shares, ranked by: more shared
        tags, rarer shared tags (the sum of 1/size of each shared tag), same area, title."""
        entries = [self.tags[t.key] for t in procedure.tags if t.key in self.tags]
        entries.sort(key=lambda e: (len(e.procedures), e.tag.label.casefold()))
        shared: Counter[str] = Counter()
        for entry in entries:
            shared.update(self._members[entry.slug])
        shared.pop(procedure.path, None)
        weights = {path: sum(1.0 / len(e.procedures) for e in entries if path in self._members[e.slug]) for path in shared}
        ranked = sorted(
            shared,
            key=lambda path: (
                -shared[path],
                -weights[path] if shared[path] > 1 else 0.0,
                self._first_tag(entries, path) if shared[path] == 1 else 0,
                self.by_path[path].area != procedure.area,
                self._order[path],
            ),
        )
        keys = {tag.key for tag in procedure.tags}
        return [(self.by_path[path], [t for t in self.by_path[path].tags if t.key in keys]) for path in ranked[:limit]]

    def _first_tag(self, entries: list[TagEntry], path: str) -> int:
        """The position, rarest first, of the procedure's only shared tag."""
        return next(number for number, entry in enumerate(entries) if path in self._members[entry.slug])


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


def tag_tree(procedures: Iterable[Procedure], vocabulary: Vocabulary | None = None) -> list[dict[str, Any]]:
    """The tag tree as `kb tags` shows it: each category (as first spelled, with its tags.yml
    description and its number of procedures), its subjects with their procedures, and the
    procedures tagged with the bare category; categories and subjects in sorted order. Only
    published procedures count: drafts and archived ones are in no list of tags."""
    procedures = [procedure for procedure in procedures if procedure.published]
    tree: dict[str, dict[str, list[str]]] = {}
    labels: dict[str, str] = {}
    for procedure in procedures:
        for tag in procedure.tags:
            labels.setdefault(tag.category_key, tag.category)
            tree.setdefault(tag.category_key, {}).setdefault(tag.subject, []).append(procedure.path)
    return [
        {
            "category": labels[key],
            "description": vocabulary.description(labels[key]) if vocabulary is not None else "",
            "count": len({path for paths in subjects.values() for path in paths}),
            "subjects": [
                {"subject": subject, "tag": f"{labels[key]}: {subject}", "count": len(paths), "procedures": sorted(paths)}
                for subject, paths in sorted(subjects.items())
                if subject
            ],
            "procedures": sorted(subjects.get("", [])),
        }
        for key, subjects in sorted(tree.items())
    ]
