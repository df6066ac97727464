"""Reading one procedure file: its bytes to a `Procedure`, with every problem of that file alone
(encoding, front matter, fields, tags, sections, placeholders left by `kb new`, HTML in text fields).

Promises: never raises on bad content; a problem names its line; a file that cannot be used gives
None and the problems that say why. Checks that compare files live in search/checks.py.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

from .folder import relative_path
from .frontmatter import FrontMatter, read_simple, read_yaml
from .procedure import (
    NEW_CONTEXT_LINE,
    NEW_STEP_LINE,
    PUBLISHED,
    STATUSES,
    AlternateMethod,
    Problem,
    Procedure,
    Tag,
    content_hash,
    markdown_to_text,
    squash,
    tag_problem,
)

REQUIRED_FIELDS = ("title", "tags")
STRING_FIELDS = ("title", "summary", "owner")
ALTERNATES_HEADING = re.compile(r"^##\s+alternat(?:e|ive)\s+methods?\s*#*\s*$", re.IGNORECASE)
STEPS_HEADING = re.compile(r"^##\s+steps\s*#*\s*$", re.IGNORECASE)
FENCE = re.compile(r"^\s*(```|~~~)")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Fields the site shows as text; markup in them is shown, never run, so it is a mistake to point out.
TEXT_FIELDS = ("title", "tags", "summary", "owner", "keywords")
# A start or end tag (`<img src=x>`, `</b>`); `<` in prose ("orders < $50", "<3", "<=") is not one.
HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?/?>")


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
    text = squash(str(value))
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


def _check_keywords(front: FrontMatter, check: _FileChecker) -> list[str]:
    value = front.values.get("keywords")
    if value is None:
        return []
    if isinstance(value, str):
        return [squash(part) for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        check.error(front.line("keywords"), f"'keywords' must be a list of phrases, not {_type_name(value)}")
        return []
    keywords = []
    for item, item_line in zip(value, front.item_lines["keywords"], strict=True):
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            keywords.append(squash(str(item)))
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


def _check_status(front: FrontMatter, check: _FileChecker) -> str:
    value = front.values.get("status")
    if value is None:
        return PUBLISHED
    text = str(value).strip().casefold() if isinstance(value, str) else ""
    if text not in STATUSES:
        shown = value if isinstance(value, str) else _type_name(value)
        check.error(front.line("status"), f"unknown status '{shown}'; use one of: {', '.join(STATUSES)}")
        return PUBLISHED
    return text


def _check_replaced_by(front: FrontMatter, check: _FileChecker) -> str:
    """The path named by `replaced_by`, written as `kb show` accepts it (with or without `.md`, or
    the page's address): made a path relative to the procedures folder ending in `.md`."""
    value = front.values.get("replaced_by")
    if value is None:
        return ""
    if not isinstance(value, str) or not value.strip():
        check.error(front.line("replaced_by"), "'replaced_by' must be the path of a procedure, such as complaints/late-delivery.md")
        return ""
    return procedure_path(value)


def procedure_path(text: str) -> str:
    """`complaints/late-delivery`, `/complaints/late-delivery/` or `./complaints/late-delivery.md`
    as the path of the procedure file, `complaints/late-delivery.md`."""
    path = text.strip().replace("\\", "/").strip("/")
    while path.startswith("./"):
        path = path[2:]
    return path if path.endswith(".md") else f"{path}.md"


def _check_html(front: FrontMatter, check: _FileChecker) -> None:
    """Warns on a tag-like `<name ...>` or `</name>` in a field the site shows as text."""
    for key in TEXT_FIELDS:
        value = front.values.get(key)
        if isinstance(value, list):
            items = zip(value, front.item_lines.get(key, []), strict=False)
        else:
            items = zip([value], [front.line(key)], strict=True)
        for item, line in items:
            found = HTML_TAG.search(item) if isinstance(item, str) else None
            if found is not None:
                closing, name, attributes = found.groups()
                shown = f"<{closing}{name}{' ...' if attributes else ''}>"
                check.warning(line, f"{key} contains HTML ({shown}); it is shown as text: write plain text")


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
    status = _check_status(front, check)
    replaced_by = _check_replaced_by(front, check)
    _check_html(front, check)
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
        status=status,
        replaced_by=replaced_by,
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
    return read_procedure_file(path, relative_path(path, root))


def read_procedure_file(path: str | Path, rel: str) -> tuple[Procedure | None, list[Problem]]:
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        return None, [Problem(rel, 1, "error", f"cannot read file: {exc.strerror or exc}")]
    return parse_procedure(data, rel)
