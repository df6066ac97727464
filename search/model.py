"""Procedures as data: reading the files, and every check an editor needs to see.

Loading never raises on bad content. Each file yields a `Procedure` (or None when it is
unusable) plus the list of `Problem`s found, so one broken file never hides the others.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import tag_key
from .frontmatter import FrontMatter, read_simple, read_yaml

if TYPE_CHECKING:
    from .vocabulary import Vocabulary

REQUIRED_FIELDS = ("title", "tags")
STRING_FIELDS = ("title", "summary", "owner")
ALTERNATES_HEADING = re.compile(r"^##\s+alternat(?:e|ive)\s+methods?\s*#*\s*$", re.IGNORECASE)
STEPS_HEADING = re.compile(r"^##\s+steps\s*#*\s*$", re.IGNORECASE)
FENCE = re.compile(r"^\s*(```|~~~)")
HTML_COMMENT = re.compile(r"<!--.*?(-->|\Z)", re.DOTALL)
# The placeholder lines `kb new` writes; `kb check` warns while one is left in a procedure.
NEW_CONTEXT_LINE = "When this applies, and what the rep must have at hand."
NEW_STEP_LINE = "1. ..."
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def _squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Tag:
    """A keyword tag: `Category: Subject` or a bare `Category`. Derived forms are computed once
    (a site build asks for them tens of thousands of times)."""

    category: str
    subject: str = ""

    @classmethod
    def parse(cls, text: str) -> Tag:
        category, _, subject = text.partition(":")
        return cls(_squash(category), _squash(subject))

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


@dataclass
class ProcedureListing:
    """What a walk of the procedures folder found: the procedure files, and the entries it passed
    over that an editor should hear about (symlinked folders, names that are not usable text)."""

    files: dict[str, os.stat_result] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)


def printable_name(name: str) -> str:
    """A file name as it can be shown and written to any output: bytes that are not UTF-8 appear
    as `\\xe9`, control characters as `\\x1b`."""
    shown = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii") for ch in shown)


def _name_problem(name: str) -> str | None:
    """Why a file or folder name cannot be a page of the knowledge base, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not UTF-8 text: rename it (search, the index and the site skip it)"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "file name contains a control character: rename it (search, the index and the site skip it)"
    return None


def walk_procedures(root: Path) -> ProcedureListing:
    """Every `*.md` file under root, by path relative to root (with `/`), sorted; hidden entries skipped.

    Symlinked folders are not followed (a link such as `up -> ..` would otherwise repeat the whole
    folder without end); each one is reported. Symlinked files are read like files. Entries whose
    names are not UTF-8 text or hold control characters are left out and reported.
    """
    listing = ProcedureListing()
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_md_file = not is_dir and entry.name.endswith(".md") and entry.is_file()
                if not (is_dir or is_md_file or entry.is_symlink()):
                    continue
                shown = prefix + printable_name(entry.name)
                problem = _name_problem(entry.name)
                if problem is not None:
                    listing.skipped.append(Problem(shown + ("/" if is_dir else ""), 1, "error", problem))
                elif is_dir:
                    pending.append((f"{prefix}{entry.name}/", entry.path))
                elif is_md_file:
                    listing.files[prefix + entry.name] = entry.stat()
                elif entry.is_dir():
                    message = "symlinked folder is not followed: its procedures are not searched; move them into the procedures folder"
                    listing.skipped.append(Problem(shown, 1, "warning", message))
            except OSError:
                continue
    listing.files = dict(sorted(listing.files.items()))
    listing.skipped.sort(key=lambda p: p.path)
    return listing


def list_procedure_files(root: Path) -> dict[str, os.stat_result]:
    """Every usable `*.md` file under root, by path relative to root (with `/`), sorted (see `walk_procedures`)."""
    return walk_procedures(root).files


def relative_path(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


class _FileChecker:
    """Collects the problems of one file while it is parsed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, "error", message))

    def warning(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, "warning", message))


def _decode(data: bytes, check: _FileChecker) -> str | None:
    if b"\x00" in data:
        check.error(data[: data.index(b"\x00")].count(b"\n") + 1, "binary file (contains NUL bytes), not a Markdown procedure")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        check.error(line, f"file is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it with UTF-8 encoding")
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _split_front_matter(text: str, check: _FileChecker) -> tuple[str, str, int] | None:
    """Returns (yaml text, body, line number of the body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        check.error(1, "missing front matter: the file must start with a line '---', then title and tags, then '---'")
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    check.error(1, "front matter is not closed: add a line '---' after the last field")
    return None


def _check_string(front: FrontMatter, key: str, check: _FileChecker) -> str:
    value = front.values.get(key)
    if value is None:
        if key in REQUIRED_FIELDS:
            check.error(front.line(key), f"missing required field '{key}'")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        check.error(front.line(key), f"'{key}' must be text, not {_type_name(value)}")
        return ""
    text = _squash(str(value))
    if not text and key in REQUIRED_FIELDS:
        check.error(front.line(key), f"'{key}' is empty")
    return text


def _type_name(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "empty", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _check_tags(front: FrontMatter, check: _FileChecker) -> tuple[list[Tag], dict[str, int]]:
    value = front.values.get("tags")
    line = front.line("tags")
    if value is None:
        check.error(line, "missing required field 'tags' (a list such as - \"Complaint: Late Shipment\")")
        return [], {}
    if isinstance(value, str):
        value, item_lines = [value], [line]
    elif isinstance(value, list):
        item_lines = front.item_lines["tags"]
    else:
        check.error(line, f"'tags' must be a list of tags, not {_type_name(value)}")
        return [], {}
    if not value:
        check.error(line, "'tags' is empty: give at least one tag")
    tags: list[Tag] = []
    tag_lines: dict[str, int] = {}
    for item, item_line in zip(value, item_lines, strict=True):
        if isinstance(item, dict) and len(item) == 1:
            category, subject = next(iter(item.items()))
            item = f"{category}: {'' if subject is None else subject}".strip()
            if not tag_problem(item):
                check.error(item_line, f'tag {item} must be in quotes: - "{item}"')
        elif not isinstance(item, str):
            check.error(item_line, f"a tag must be text, not {_type_name(item)}")
            continue
        problem = tag_problem(item)
        if problem:
            check.error(item_line, problem)
            continue
        tag = Tag.parse(item)
        if tag.key in tag_lines:
            check.warning(item_line, f"tag '{tag.label}' is listed twice")
            continue
        tags.append(tag)
        tag_lines[tag.key] = item_line
    return tags, tag_lines


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


def _check_keywords(front: FrontMatter, check: _FileChecker) -> list[str]:
    value = front.values.get("keywords")
    if value is None:
        return []
    if isinstance(value, str):
        return [_squash(part) for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        check.error(front.line("keywords"), f"'keywords' must be a list of phrases, not {_type_name(value)}")
        return []
    keywords = []
    for item, item_line in zip(value, front.item_lines["keywords"], strict=True):
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            keywords.append(_squash(str(item)))
        else:
            check.error(item_line, f"a keyword must be text, not {_type_name(item)}")
    return [k for k in keywords if k]


def _check_reviewed(front: FrontMatter, check: _FileChecker) -> _dt.date | None:
    value = front.values.get("reviewed")
    if value is None:
        return None
    line = front.line("reviewed")
    text = str(value).strip()
    try:
        if not ISO_DATE.match(text):
            raise ValueError
        reviewed = _dt.date.fromisoformat(text)
    except ValueError:
        check.error(line, f"'reviewed' must be a date written YYYY-MM-DD, got '{text}'")
        return None
    if reviewed > _dt.date.today():
        check.warning(line, f"'reviewed' date {text} is in the future")
    return reviewed


def _parse_body(body: str, first_line: int, check: _FileChecker) -> tuple[str, list[AlternateMethod]]:
    """Splits the body into the main Markdown and the `### ` alternates under `## Alternate methods`."""
    main: list[str] = []
    alternates: list[tuple[str, int, list[str]]] = []
    in_alternates = in_fence = has_steps = False
    alternates_line = 0
    for offset, line in enumerate(body.split("\n")):
        if FENCE.match(line):
            in_fence = not in_fence
        if not in_fence and line.strip() in (NEW_CONTEXT_LINE, NEW_STEP_LINE):
            check.warning(first_line + offset, f"placeholder '{line.strip()}' from 'kb new' is still here: replace it with the real text")
        if not in_fence and line.startswith("## "):
            in_alternates = bool(ALTERNATES_HEADING.match(line))
            has_steps = has_steps or bool(STEPS_HEADING.match(line))
            if in_alternates:
                alternates_line = first_line + offset
                continue
        if in_alternates:
            if not in_fence and line.startswith("### "):
                alternates.append((line[4:].strip().strip("#").strip(), first_line + offset, []))
            elif alternates:
                alternates[-1][2].append(line)
            elif line.strip():
                main.append(line)
        else:
            main.append(line)
    if not has_steps:
        check.warning(first_line, "no '## Steps' section: reps look for the steps under that heading")
    if alternates_line and not alternates:
        check.warning(alternates_line, "'## Alternate methods' has no '### ' method headings under it")
    methods = []
    for title, line, lines in alternates:
        if not title:
            check.warning(line, "an alternate method needs a title after '### '")
        text = markdown_to_text("\n".join(lines))
        if not text:
            check.warning(line, f"alternate method '{title}' has no text")
        methods.append(AlternateMethod(title, text, line))
    return "\n".join(main), methods


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


def parse_procedure(data: bytes, path: str) -> tuple[Procedure | None, list[Problem]]:
    """Parses one file's bytes; never raises on bad content."""
    check = _FileChecker(path)
    text = _decode(data, check)
    split = _split_front_matter(text, check) if text is not None else None
    # The front matter starts on the file's second line, after '---'.
    front = (read_simple(split[0], 2) or read_yaml(split[0], 2, check.error)) if split else None
    if split is None or front is None:
        return None, check.problems
    _, body, body_line = split
    title = _check_string(front, "title", check)
    tags, tag_lines = _check_tags(front, check)
    summary = _check_string(front, "summary", check)
    owner = _check_string(front, "owner", check)
    keywords = _check_keywords(front, check)
    reviewed = _check_reviewed(front, check)
    main_markdown, alternates = _parse_body(body, body_line, check)
    field_lines = front.lines | {f"tag:{key}": line for key, line in tag_lines.items()}
    procedure = Procedure(
        path=path,
        title=title or Path(path).stem.replace("-", " ").capitalize(),
        tags=tags,
        keywords=keywords,
        summary=summary,
        owner=owner,
        reviewed=reviewed,
        body=body,
        main_markdown=main_markdown,
        alternates=alternates,
        front_matter=front.values,
        content_hash=content_hash(data),
        field_lines=field_lines,
    )
    return procedure, check.problems


def read_body(path: Path) -> tuple[str, list[AlternateMethod]]:
    """The plain main text and alternate methods of a file, without parsing its front matter."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    except OSError:
        return "", []
    split = _split_front_matter(text, _FileChecker(path.name))
    if not split:
        return "", []
    main, alternates = _parse_body(split[1], split[2], _FileChecker(path.name))
    return markdown_to_text(main), alternates


def load_file(path: Path, root: Path) -> tuple[Procedure | None, list[Problem]]:
    return _read_and_parse(path, relative_path(path, root))


def _read_and_parse(path: str | Path, rel: str) -> tuple[Procedure | None, list[Problem]]:
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        return None, [Problem(rel, 1, "error", f"cannot read file: {exc.strerror or exc}")]
    return parse_procedure(data, rel)


# path -> (mtime_ns, size, procedure, problems) of files already read, for `load_procedures`.
FileCache = dict[str, tuple[int, int, "Procedure | None", list[Problem]]]


def load_procedures(
    root: Path, vocabulary: Vocabulary | None = None, only: Iterable[str] | None = None, cache: FileCache | None = None
) -> LoadResult:
    """Loads and checks every procedure under root, then the checks that span files; with a
    vocabulary (tags.yml, see `search.vocabulary`), its problems and the checks against it.

    `only` (paths relative to root) keeps the problems of those files, and the cross-file findings
    that concern them; every file is still read, so the cross-file checks see the whole folder.
    `cache`, kept by a long-running caller (`mkdocs serve`), spares re-reading unchanged files.
    """
    procedures: list[Procedure] = []
    problems: list[Problem] = []
    current: FileCache = {}
    folder = str(root)  # paths joined as text: pathlib's parsing cost a tenth of loading 1,000 files
    listing = walk_procedures(root)
    problems.extend(listing.skipped)
    for rel, stat in listing.files.items():
        entry = cache.get(rel) if cache is not None else None
        if entry is None or entry[0] != stat.st_mtime_ns or entry[1] != stat.st_size:
            entry = (stat.st_mtime_ns, stat.st_size, *_read_and_parse(os.path.join(folder, rel), rel))
        current[rel] = entry
        problems.extend(entry[3])
        if entry[2] is not None:
            procedures.append(entry[2])
    if cache is not None:
        cache.clear()
        cache.update(current)
    problems.extend(cross_file_problems(procedures, vocabulary))
    if only is not None:
        selected = set(only)
        own = vocabulary.path if vocabulary is not None else None
        problems = [p for p in problems if p.path in selected or p.path == own or not selected.isdisjoint(p.related)]
    problems.sort(key=lambda p: (p.path, p.line, p.severity, p.message))
    return LoadResult(procedures, problems)


def cross_file_problems(procedures: list[Procedure], vocabulary: Vocabulary | None = None) -> list[Problem]:
    """Duplicate titles, one tag spelled several ways and near-duplicate tags across the knowledge
    base; with a vocabulary, also its own problems and the checks of every tag against it."""
    from .vocabulary import near_duplicate_problems, vocabulary_problems

    problems: list[Problem] = []
    by_title: dict[str, list[Procedure]] = defaultdict(list)
    for procedure in procedures:
        if procedure.field_lines.get("title"):
            by_title[procedure.title.casefold()].append(procedure)
    for same in by_title.values():
        # The older procedure (earliest `reviewed`; never reviewed counts as new) keeps the title.
        same.sort(key=lambda p: (p.reviewed or _dt.date.max, p.path))
        for duplicate in same[1:]:
            problems.append(
                Problem(
                    duplicate.path,
                    duplicate.field_lines["title"],
                    "error",
                    f"title '{duplicate.title}' is also used by {same[0].path}; titles must be unique",
                    related=(same[0].path,),
                )
            )
    spellings: dict[str, dict[str, list[Procedure]]] = defaultdict(lambda: defaultdict(list))
    for procedure in procedures:
        for tag in procedure.tags:
            spellings[tag.key][tag.label].append(procedure)
    for key, labels in spellings.items():
        if len(labels) < 2:
            continue
        # The spelling most files use is the reference; ties go to the alphabetically first.
        preferred = sorted(labels, key=lambda label: (-len(labels[label]), label))[0]
        for label, users in labels.items():
            if label == preferred:
                continue
            for procedure in users:
                problems.append(
                    Problem(
                        procedure.path,
                        procedure.field_lines.get(f"tag:{key}", 1),
                        "error",
                        f"tag '{label}' is spelled '{preferred}' in {len(labels[preferred])} other file(s); use one spelling",
                        related=tuple(p.path for p in labels[preferred]),
                    )
                )
    problems.extend(near_duplicate_problems(procedures, vocabulary))
    if vocabulary is not None:
        problems.extend(vocabulary.problems)
        problems.extend(vocabulary_problems(procedures, vocabulary))
    return problems
