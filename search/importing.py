"""`kb import`: from tables (workbook sheets, CSV files) and Word documents to procedure files.

Promises: a column mapping is read from `--map` or proposed from the header row; rows that share a
title (or continue one with an empty title cell) become one procedure whose extra rows are its
alternate methods; keyword cells become tags and keywords in the knowledge base's spelling (tags.yml
first); every procedure is checked with the rules of `kb new` and parsed as `kb check` would before
any file is written; a row or document that cannot become a procedure is skipped with its reason.
`write_plan` writes everything or nothing: files it wrote are removed again if a later one fails.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .import_readers import Table, WordDocument, escape_line_start
from .procedure import Procedure, Tag, slugify, squash
from .scaffold import NewProcedure, ScaffoldError, front_matter, write_new_file

if TYPE_CHECKING:
    from .vocabulary import Vocabulary

FIELDS = ("title", "tags", "keywords", "summary", "steps", "alternates", "owner", "area")
REQUIRED_FIELDS = ("title", "steps")
# Header words that propose a column for a field, most telling first; matched on folded words.
HEADER_WORDS = {
    "title": ("title", "procedure", "procedure name", "name", "issue", "topic", "situation", "subject"),
    "tags": ("tags", "tag", "category", "categories", "type"),
    "keywords": ("keywords", "keyword", "search terms", "also known as", "aka"),
    "summary": ("summary", "description", "when", "when to use"),
    "steps": ("steps", "how to handle", "what to do", "instructions", "resolution", "method", "process", "procedure steps"),
    "alternates": ("alternate methods", "alternates", "alternatives", "other options", "other methods", "options"),
    "owner": ("owner", "team", "department", "responsible"),
    "area": ("area", "folder", "section"),
}
STEPS_HEADINGS = ("steps", "procedure", "how to handle", "what to do", "instructions", "resolution", "process", "method")
ALTERNATES_HEADINGS = (
    "other options",
    "alternatives",
    "alternative methods",
    "alternate methods",
    "other methods",
    "other ways",
    "options",
)
DEFAULT_SHEET_NAME = re.compile(r"^(sheet|feuil|tabelle|hoja|blad)\s*\d*$", re.IGNORECASE)
TAG_SEPARATOR = re.compile(r"\s+[-–—>]\s+|\s*:\s*")
LIST_MARKER = re.compile(r"^\s*(?:(?:step\s*)?\d+\s*[.):-]|[•·▪◦‣*-])\s*", re.IGNORECASE)
METHOD_TITLE_WORDS = 8


class ImportFailure(ValueError):
    """What stops an import as a whole (a header row that cannot be mapped, a bad --map), in one line."""


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


# ---- the column mapping ------------------------------------------------------------------------
def parse_map(text: str) -> dict[str, str]:
    """`title=Procedure,steps=How to handle, step by step` as {field: column}: a comma ends a pair
    only where a next `NAME=` begins, so column names may hold commas."""
    pairs = re.split(r",\s*(?=\w+\s*=)", text.strip())
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, equals, column = pair.partition("=")
        name = name.strip().casefold()
        if not equals or name not in FIELDS or not column.strip():
            raise ImportFailure(f"--map: '{pair.strip()}' is not FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def propose_mapping(header: list[str]) -> dict[str, str]:
    """The column proposed for each field from the header row: an exact name first, then a header
    that contains the word; each column is used once."""
    folded = [_fold(cell) for cell in header]
    taken: set[int] = set()
    proposal: dict[str, str] = {}
    for exact in (True, False):
        for name, words in HEADER_WORDS.items():
            if name in proposal:
                continue
            for word in words:
                found = next(
                    (
                        i
                        for i, cell in enumerate(folded)
                        if i not in taken and cell and (cell == word if exact else f" {word} " in f" {cell} ")
                    ),
                    None,
                )
                if found is not None:
                    proposal[name] = header[found]
                    taken.add(found)
                    break
    return proposal


def resolve_mapping(table: Table, mapping: dict[str, str]) -> dict[str, int]:
    """{field: column index} for a table, or ImportFailure naming the sheet and what is missing."""
    folded = [_fold(cell) for cell in table.header]
    columns: dict[str, int] = {}
    for name, column in mapping.items():
        wanted = _fold(column)
        if wanted not in folded:
            if re.fullmatch(r"[A-Za-z]{1,2}", column.strip()):  # a column letter
                index = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(column.strip().upper()))) - 1
                if index < len(table.header):
                    columns[name] = index
                    continue
            known = ", ".join(f"'{cell}'" for cell in table.header if cell) or "none"
            raise ImportFailure(f"{table.label}: no column '{column}' for {name} (its header row {table.header_row} has {known})")
        columns[name] = folded.index(wanted)
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        known = ", ".join(f"'{cell}'" for cell in table.header if cell) or "none"
        raise ImportFailure(
            f"{table.label}: cannot map the header row (row {table.header_row}: {known}): no column for {' and '.join(missing)}; "
            f"give --map {missing[0]}=COLUMN,..."
        )
    return columns


# ---- drafts --------------------------------------------------------------------------------------
@dataclass
class Draft:
    """A procedure before it is checked: what the rows or the document said, as Markdown."""

    origin: str  # where it came from, for the summary: "book.xlsx, sheet 'Complaints', rows 3-5"
    title: str
    tag_cells: list[str] = field(default_factory=list)
    keyword_cells: list[str] = field(default_factory=list)
    summary: str = ""
    owner: str = ""
    area: str = ""
    context: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    alternates: list[tuple[str, list[str]]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # other sections, as Markdown lines
    rows: list[int] = field(default_factory=list)


def steps_markdown(text: str) -> list[str]:
    """A cell's steps as Markdown: one line stays a paragraph; several become a numbered list
    (typed numbers and bullets replaced), bullets under numbered lines nested."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) == 1:
        return [escape_line_start(LIST_MARKER.sub("", lines[0]) if re.match(r"^\s*1\s*[.)]", lines[0]) else lines[0])]
    numbered = any(re.match(r"^\s*(?:step\s*)?\d+\s*[.):-]", line, re.IGNORECASE) for line in lines)
    out, number = [], 0
    for line in lines:
        bullet = re.match(r"^\s*[•·▪◦‣*-]\s*", line) is not None
        if numbered and bullet and number:
            out.append("   - " + LIST_MARKER.sub("", line))
        else:
            number += 1
            out.append(f"{number}. " + LIST_MARKER.sub("", line))
    return out


def method_title(text: str) -> tuple[str, str]:
    """An alternate method's title and text from a cell: a short first line above more text, or a
    lead such as 'Store credit: ...', else its first words (the whole text stays its text)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    bold = re.match(r"^\*\*(.+?)\*\*[:.]?\s*(.*)$", lines[0]) if lines else None
    if bold and bold.group(2):
        return bold.group(1).strip(), "\n".join([bold.group(2), *lines[1:]])
    if len(lines) > 1 and len(lines[0]) <= 80:
        return LIST_MARKER.sub("", lines[0]).rstrip(":."), "\n".join(lines[1:])
    lead = re.match(r"^([^:.\n]{3,60}):\s+(\S.*)$", lines[0]) if lines else None
    if lead and len(lead.group(1).split()) <= METHOD_TITLE_WORDS:
        return lead.group(1).strip(), "\n".join([lead.group(2), *lines[1:]])
    words = LIST_MARKER.sub("", " ".join(lines)).split()
    title = " ".join(words[:METHOD_TITLE_WORDS]).rstrip(",;:.")
    return title, "\n".join(lines)


def _chunks(text: str) -> list[str]:
    """A cell of several methods: split at blank lines, else one method per line."""
    if re.search(r"\n\s*\n", text):
        return [chunk.strip() for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]
    return [line.strip() for line in text.split("\n") if line.strip()]


def drafts_from_table(table: Table, columns: dict[str, int]) -> tuple[list[Draft], list[str]]:
    """The table's procedures: rows sharing a title are one procedure; an empty title cell under a
    titled row continues it. Also the rows skipped, each with its reason."""

    def cell(cells: list[str], name: str) -> str:
        return cells[columns[name]] if name in columns and columns[name] < len(cells) else ""

    drafts: dict[str, Draft] = {}
    skipped: list[str] = []
    previous: Draft | None = None
    for number, cells in table.rows:
        title, steps = squash(cell(cells, "title")), cell(cells, "steps")
        draft = drafts.get(title.casefold()) if title else previous
        if draft is None and not title:
            skipped.append(f"{table.label}, row {number}: no title (and no titled row above it)")
            continue
        if not steps.strip() and not cell(cells, "alternates").strip():
            if draft is None or title:
                skipped.append(f"{table.label}, row {number}: '{title}' has no steps")
            continue
        if draft is None:
            draft = Draft(
                origin="", title=title, summary=squash(cell(cells, "summary")), steps=steps_markdown(steps) if steps.strip() else []
            )
            drafts[title.casefold()] = draft
        elif steps.strip():
            summary = squash(cell(cells, "summary"))
            name, text = (summary, steps) if summary and summary != draft.summary else method_title(steps)
            if not draft.steps:
                draft.steps = steps_markdown(steps)
            else:
                draft.alternates.append((name, steps_markdown(text)))
        for chunk in _chunks(cell(cells, "alternates")):
            name, text = method_title(chunk)
            draft.alternates.append((name, steps_markdown(text)))
        draft.tag_cells.append(cell(cells, "tags"))
        draft.keyword_cells.append(cell(cells, "keywords"))
        draft.owner = draft.owner or squash(cell(cells, "owner"))
        draft.area = draft.area or cell(cells, "area").strip()
        if not draft.area and table.name and not DEFAULT_SHEET_NAME.match(table.name.strip()):
            draft.area = slugify(table.name)
        draft.rows.append(number)
        previous = draft
    for draft in drafts.values():
        rows = f"row {draft.rows[0]}" if len(draft.rows) == 1 else f"rows {', '.join(map(str, draft.rows))}"
        draft.origin = f"{table.label}, {rows}"
    return [d for d in drafts.values() if d.steps or d.alternates], skipped


def draft_from_document(document: WordDocument) -> Draft:
    """A Word document's procedure: a steps-like section becomes `## Steps`, an "Other options" or
    "Alternatives" section `## Alternate methods` (its sub-headings, else each paragraph or list
    item, one method); without a steps section, the first list and what follows are the steps."""
    facts = document.facts
    draft = Draft(origin=document.source, title=squash(document.title), summary=squash(facts.get("summary", "")))
    draft.tag_cells.append(facts.get("tags", ""))
    draft.keyword_cells.append(facts.get("keywords", ""))
    draft.owner, draft.area = squash(facts.get("owner", "")), facts.get("area", "").strip()
    intro = list(document.intro)
    has_steps = any(_fold(section.heading) in STEPS_HEADINGS for section in document.sections)
    if not has_steps:
        first_list = next((i for i, line in enumerate(intro) if re.match(r"^(\d+\.|-) ", line)), None)
        if first_list is not None:
            intro, draft.steps = intro[:first_list], _numbered(intro[first_list:])
    draft.context = intro
    alternates_level = 0
    for section in document.sections:
        heading = _fold(section.heading)
        if alternates_level and section.level > alternates_level:
            draft.alternates.append((section.heading, section.lines))
            continue
        alternates_level = 0
        if heading in ALTERNATES_HEADINGS:
            alternates_level = section.level
            for line in section.lines:
                name, text = method_title(re.sub(r"^(\d+\.|-) ", "", line))
                draft.alternates.append((name, [text]))
        elif heading in STEPS_HEADINGS and not draft.steps:
            draft.steps = _numbered(section.lines)
        else:
            marks = "#" * min(max(section.level, 2), 4)
            draft.sections += ["", f"{marks} {section.heading}", "", *section.lines]
    return draft


def _numbered(lines: list[str]) -> list[str]:
    """Steps as a numbered list: list items numbered 1, 2, 3... (bullets too); other lines restart the count."""
    out, number = [], 0
    for line in lines:
        item = re.match(r"^(?:\d+\.|-) (.*)$", line)
        number = number + 1 if item else 0
        out.append(f"{number}. {item.group(1)}" if item else line)
    return out


# ---- checking and writing ------------------------------------------------------------------------
@dataclass
class PlannedFile:
    path: str  # relative to the procedures folder, with /
    text: str
    title: str
    origin: str
    alternates: int


@dataclass
class ImportPlan:
    files: list[PlannedFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def split_keyword_cell(text: str) -> list[str]:
    return [squash(part) for part in re.split(r"[;,|\n]", text) if squash(part)]


def tags_and_keywords(tag_cells: list[str], keyword_cells: list[str], known_categories: set[str]) -> tuple[list[str], list[str]]:
    """Tags and keywords from the cells: 'Complaint - Late Shipment' is the tag 'Complaint: Late
    Shipment'; in a keywords cell only a part whose category is known becomes a tag; in a tags cell,
    a bare part becomes a tag when its category is known or no categories are known, else a keyword."""
    tags: list[str] = []
    keywords: list[str] = []
    for is_tag_cell, cells in ((True, tag_cells), (False, keyword_cells)):
        for part in (p for text in cells for p in split_keyword_cell(text)):
            category, separator, subject = _split_tag(part)
            known = category.casefold() in known_categories
            if separator and (known or is_tag_cell):
                subject = subject if any(c.isupper() for c in subject) else subject.title()
                tags.append(f"{category}: {subject}")
            elif known or (is_tag_cell and not known_categories):
                tags.append(category)
            else:
                keywords.append(part if any(len(w) > 1 and w.isupper() for w in part.split()) else part.lower())
    unique_keywords = list(dict.fromkeys(keywords))
    tag_keys = {Tag.parse(tag).key for tag in tags}
    return list(dict.fromkeys(tags)), [k for k in unique_keywords if Tag.parse(k).key not in tag_keys]


def _split_tag(part: str) -> tuple[str, bool, str]:
    pieces = TAG_SEPARATOR.split(part, maxsplit=1)
    if len(pieces) == 2 and pieces[0].strip() and pieces[1].strip():
        return squash(pieces[0]), True, squash(pieces[1])
    return squash(part), False, ""


def procedure_markdown(draft: Draft, tags: list[str], keywords: list[str], owner: str, today: _dt.date) -> str:
    """The file's text: the front matter as `kb new` writes it, the context, `## Steps`, the other
    sections and `## Alternate methods` with one `###` per method."""
    lines = front_matter(draft.title, tags, owner, today, keywords, draft.summary)
    if draft.context:
        lines += ["", *draft.context]
    lines += ["", "## Steps", "", *draft.steps]
    lines += draft.sections
    if draft.alternates:
        lines += ["", "## Alternate methods"]
        seen: set[str] = set()
        for name, text in draft.alternates:
            name = squash(name.replace("#", "")) or "Another way"
            while name.casefold() in seen:
                name += " (again)"
            seen.add(name.casefold())
            lines += ["", f"### {name}", "", *text]
    return "\n".join(lines) + "\n"


def plan_import(
    drafts: list[Draft],
    procedures_root: Path,
    procedures: list[Procedure],
    vocabulary: Vocabulary | None,
    owner: str | None,
    area: str | None,
    default_tags: list[str],
    today: _dt.date,
) -> ImportPlan:
    """What would be written, every file checked as `kb new` and `kb check` would check it; the
    drafts that cannot be written are in `skipped` with their reasons."""
    from .parsing import parse_procedure

    new = NewProcedure(procedures, vocabulary)
    known_categories = {rule.name.casefold() for rule in vocabulary.categories.values()} if vocabulary is not None else set(new.categories)
    plan = ImportPlan()
    paths: set[str] = set()
    for draft in drafts:
        try:
            title = new.check_title(draft.title)
            tags, keywords = tags_and_keywords(draft.tag_cells, draft.keyword_cells, known_categories)
            tags = new.check_tags(tags or default_tags)
            where = new.check_area(area if area is not None else draft.area or new.usual_area(tags))
        except ScaffoldError as exc:
            reason = "no tags: map a tags or keywords column, or give --tag" if "at least one tag" in str(exc) else str(exc)
            plan.skipped.append(f"{draft.origin}: {reason}")
            continue
        who = draft.owner or (owner if owner is not None else new.usual_owner(tags, where))
        path = f"{where}/{slugify(title)}.md" if where else f"{slugify(title)}.md"
        if path.casefold() in paths or (procedures_root / path).exists():
            plan.skipped.append(f"{draft.origin}: {path} already exists (or another imported title has the same file name)")
            continue
        text = procedure_markdown(draft, tags, keywords, " ".join(who.split()), today)
        parsed, problems = parse_procedure(text.encode("utf-8"), path)
        errors = [problem.message for problem in problems if problem.severity == "error"]
        if parsed is None or errors:
            plan.skipped.append(f"{draft.origin}: would not pass kb check: {'; '.join(errors)}")
            continue
        plan.notes += [f"{path}: {warning}" for warning in new.warnings(tags, who)]
        plan.notes += [f"{path}:{problem.line}: {problem.message}" for problem in problems]
        new.titles[title.casefold()] = path
        paths.add(path.casefold())
        plan.files.append(PlannedFile(path, text, title, draft.origin, len(draft.alternates)))
    plan.notes = list(dict.fromkeys(new.notes + plan.notes))
    return plan


def write_plan(plan: ImportPlan, procedures_root: Path) -> list[Path]:
    """Writes every planned file, or none: when one cannot be written, the files written before it
    (new files this call made, never an existing one) and the folders made for them are removed."""
    written: list[Path] = []
    missing: set[Path] = set()
    for planned in plan.files:
        folder = (procedures_root / planned.path).parent
        while not folder.exists():
            missing.add(folder)
            folder = folder.parent
    try:
        for planned in plan.files:
            path = procedures_root / planned.path
            write_new_file(path, planned.text)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        for folder in sorted(missing, key=lambda f: len(f.parts), reverse=True):  # innermost first
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
        raise
    return written
