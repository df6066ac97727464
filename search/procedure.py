"""The procedure model: what one procedure file means once read, as plain data.

Owns the dataclasses every other room passes around (`Procedure`, `Tag`, `AlternateMethod`, `Problem`,
`LoadResult`), the rules of a well-formed tag (`tag_problem`), the page slug of a text (`slugify`), the
plain text of Markdown (`markdown_to_text`) and the fingerprint of a file's bytes (`content_hash`).
Promises: no I/O, no MkDocs, nothing here raises on odd content.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .analysis import tag_key

HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
# The placeholder lines `kb new` writes; `kb check` warns while one is left in a procedure.
NEW_CONTEXT_LINE = "When this applies, and what the rep must have at hand."
NEW_STEP_LINE = "1. ..."
# The values of the `status` field: a draft is previewed only, a published procedure is everywhere,
# an archived one keeps its page (with a banner naming its replacement) and leaves everything else.
STATUSES = ("draft", "published", "archived")
PUBLISHED = "published"


@dataclass(frozen=True)
class Problem:
    """One finding of `kb check`, printed as `path:line: severity: message`."""

    path: str
    line: int
    severity: str  # "error" or "warning"
    message: str
    # Other files a cross-file finding is about (`kb check FILE` shows it when one of them is checked).
    related: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "severity": self.severity, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


def squash(text: str) -> str:
    """Text with every run of whitespace made one space, and none at the ends."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Tag:
    """A keyword tag: `Category: Subject` or a bare `Category`. Derived forms are computed once
    (a site build asks for them for every tag of every page)."""

    category: str
    subject: str = ""

    @classmethod
    def parse(cls, text: str) -> Tag:
        category, _, subject = text.partition(":")
        return cls(squash(category), squash(subject))

    @cached_property
    def label(self) -> str:
        return f"{self.category}: {self.subject}" if self.subject else self.category

    @cached_property
    def key(self) -> str:
        return tag_key(self.label)

    @cached_property
    def category_key(self) -> str:
        return self.category.casefold()

    @cached_property
    def subject_key(self) -> str:
        """The subject part of the tag's key (`order cancelled` of `Complaint: Order Cancelled`);
        empty for a bare category."""
        return self.key.partition(":")[2]

    @cached_property
    def slug(self) -> str:
        return slugify(self.label)


def slugify(text: str) -> str:
    """A URL- and file-name-safe form: lowercase ASCII words joined by hyphens."""
    from .analysis import fold

    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "untitled"


@dataclass(frozen=True)
class AlternateMethod:
    title: str
    text: str
    line: int


@dataclass
class Procedure:
    """One procedure file, parsed. `path` is relative to the procedures folder, with `/`."""

    path: str
    title: str
    tags: list[Tag]
    keywords: list[str] = field(default_factory=list)
    summary: str = ""
    owner: str = ""
    reviewed: _dt.date | None = None
    body: str = ""
    main_markdown: str = ""  # the body without the alternate methods
    alternates: list[AlternateMethod] = field(default_factory=list)
    # Every front matter field as written (dates as text): the page's metadata on the site.
    front_matter: dict[str, Any] = field(default_factory=dict)
    content_hash: str = ""
    field_lines: dict[str, int] = field(default_factory=dict)
    status: str = PUBLISHED  # one of STATUSES
    replaced_by: str = ""  # the path of the procedure that replaces an archived one ('' for none)

    @property
    def published(self) -> bool:
        """Whether the procedure is in search, the tag and area pages, the navigation and the
        counts: a draft or an archived procedure is not."""
        return self.status == PUBLISHED

    @property
    def main_text(self) -> str:
        """The body as plain text, without the alternate methods: made when the index needs it, so
        a site build's own process, which renders the Markdown instead, does not pay for it."""
        return markdown_to_text(self.main_markdown)

    @property
    def area(self) -> str:
        """The sub-folder the procedure lives in ('' at the top level)."""
        return self.path.rpartition("/")[0]


@dataclass
class LoadResult:
    procedures: list[Procedure]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# path -> (mtime_ns, size, procedure, problems) of files already read, for `load_procedures`.
FileCache = dict[str, tuple[int, int, "Procedure | None", list[Problem]]]


def tag_problem(text: str) -> str | None:
    """Why a tag string is malformed, or None when it is fine."""
    if not text.strip():
        return "empty tag"
    if text.count(":") > 1:
        return f"tag '{text}' has more than one colon; use 'Category: Subject'"
    if ":" in text:
        category, _, subject = text.partition(":")
        if not category.strip():
            return f"tag '{text}' has nothing before the colon; use 'Category: Subject'"
        if not subject.strip():
            return f"tag '{text}' has nothing after the colon; write '{category.strip()}' or 'Category: Subject'"
    return None


_MARKDOWN_NOISE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links
    # A heading reads as a label in running text: "Steps: Verify the caller ...".
    (re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE), lambda m: m.group(1) + ("" if m.group(1)[-1:] in ".:?!" else ":")),
    (re.compile(r"^\s{0,3}(>|[-*+]|\d+[.)])\s+", re.MULTILINE), ""),  # quotes, lists
    (re.compile(r"^\s*(```|~~~).*$", re.MULTILINE), ""),  # fences
    (re.compile(r"(\*\*|__|`)"), ""),  # emphasis, code spans
    (re.compile(r"^\s*\|?[-:| ]+\|?\s*$", re.MULTILINE), ""),  # table rules
]


def markdown_to_text(markdown: str) -> str:
    """Plain text of Markdown, good enough for indexing and snippets."""
    text = HTML_COMMENT.sub("", markdown)
    for pattern, replacement in _MARKDOWN_NOISE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())
