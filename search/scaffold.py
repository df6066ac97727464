"""`kb new`: what a new procedure holds, where it goes, and writing it whole or not at all.

The command line asks and prints; this module decides. A problem the editor can fix is a
`ScaffoldError` with a one-line message.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .procedure import NEW_CONTEXT_LINE, NEW_STEP_LINE, Procedure, Tag, tag_problem

if TYPE_CHECKING:
    from .vocabulary import Vocabulary

ALTERNATES_HINT = """<!-- Other acceptable ways to handle the same situation? Add them after the steps, like this
     (each line without the spaces in front):
     ## Alternate methods
     ### Short name of the other method
     When it applies, and what to do differently.
-->"""

# Asked when a category is a near-miss of a known one: (given, known) -> use the known one?
Confirm = Callable[[str, str], bool]


class ScaffoldError(ValueError):
    """A problem with what the editor gave `kb new`, in one line."""


def front_matter(title: str, tags: list[str], owner: str, reviewed: _dt.date, keywords: Iterable[str] = (), summary: str = "") -> list[str]:
    """The front matter lines of a procedure written by `kb new` or `kb import`, `---` to `---`:
    every value quoted, so no text can change the YAML's structure."""

    def quoted(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML string

    keyword_list = "[" + ", ".join(quoted(keyword) for keyword in keywords) + "]"
    front = ["---", f"title: {quoted(title)}", "tags:", *(f"  - {quoted(tag)}" for tag in tags)]
    front += [f"keywords: {keyword_list}", f"summary: {quoted(summary)}", f"owner: {quoted(owner)}", f"reviewed: {reviewed.isoformat()}"]
    return [*front, "---"]


def new_procedure_text(title: str, tags: list[str], owner: str, today: _dt.date) -> str:
    """The text of a new procedure: the front matter and the standard sections, with placeholders
    that `kb check` reports until they are replaced."""
    body = ["", NEW_CONTEXT_LINE, "", "## Steps", "", NEW_STEP_LINE, "", ALTERNATES_HINT, ""]
    return "\n".join(front_matter(title, tags, owner, today) + body)


def text_problem(text: str) -> str | None:
    """Why a piece of typed text cannot go into a file: bytes that were not UTF-8, or control
    characters (tabs and line ends count as spaces). None when it is fine."""
    if text.isprintable():
        return None
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            return "is not UTF-8 text"
        if category == "Cc" and char not in "\t\n\r":
            return f"contains a control character ({char.encode('unicode_escape').decode('ascii')})"
    return None


def write_new_file(path: Path, text: str) -> None:
    """Writes a new file whole or not at all, never over an existing one (FileExistsError).

    The text goes to a hidden temporary file in the same folder, which is then linked to its name;
    only that temporary file, and the folders made for it while still empty, are removed again.
    """
    data = text.encode("utf-8")  # fails before anything is on disk
    made = _make_folders(path.parent)
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links on this file system: create exclusively, then write
                _write_exclusively(path, data)
        finally:
            os.unlink(temporary)
    except BaseException:
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _make_folders(folder: Path) -> list[Path]:
    """Makes the folder and its missing parents; returns those it made, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    made = []
    for each in reversed(missing):
        try:
            each.mkdir()
        except FileExistsError:
            continue
        made.append(each)
    return made


def _write_exclusively(path: Path, data: bytes) -> None:
    with open(path, "xb") as file:
        try:
            file.write(data)
            file.flush()
        except BaseException:
            file.close()
            path.unlink()  # created by the open above: ours to remove
            raise


def _most_common(values: Iterable[str | None]) -> str:
    counts = Counter(v for v in values if v is not None)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else ""


class NewProcedure:
    """What `kb new` checks and suggests, from the knowledge base as it is and its tags.yml.

    `notes` collects what the editor should hear before the file is written: categories respelled
    as tags.yml or the knowledge base writes them, categories that look like misspellings.
    """

    def __init__(self, procedures: list[Procedure], vocabulary: Vocabulary | None) -> None:
        self.procedures = procedures
        self.vocabulary = vocabulary
        self.notes: list[str] = []
        self.titles = {p.title.casefold(): p.path for p in procedures}
        self.tags: dict[str, tuple[Tag, int]] = {}  # key -> (Tag, number of procedures)
        self.categories: dict[str, tuple[str, int]] = {}  # case-folded category -> (spelling, number of tags)
        for procedure in procedures:
            for tag in procedure.tags:
                known, count = self.tags.get(tag.key, (tag, 0))
                self.tags[tag.key] = (known, count + 1)
                spelling, uses = self.categories.get(tag.category_key, (tag.category, 0))
                self.categories[tag.category_key] = (spelling, uses + 1)

    def check_title(self, title: str) -> str:
        problem = text_problem(title)
        if problem:
            raise ScaffoldError(f"the title {problem}")
        title = " ".join(title.split())
        if not title:
            raise ScaffoldError("the title is empty")
        if title.casefold() in self.titles:
            raise ScaffoldError(f"a procedure titled '{title}' already exists: {self.titles[title.casefold()]}")
        return title

    def check_tag_line(self, line: str, confirm: Confirm | None = None) -> list[str]:
        return self.check_tags([part.strip() for part in line.split(",") if part.strip()], confirm)

    def check_tags(self, given: list[str], confirm: Confirm | None = None) -> list[str]:
        """Tags as the knowledge base writes them: a category as tags.yml spells it, an existing tag
        in its existing spelling. A category that is a near-miss of a tags.yml category is offered
        to `confirm`, or refused with the suggestion when there is no one to ask; a tag that is a
        near-duplicate of an existing one is refused, naming it."""
        if not given:
            raise ScaffoldError("give at least one tag, such as 'Complaint: Late Shipment'")
        labels: dict[str, str] = {}
        for text in given:
            problem = tag_problem(text) or (f"tag '{text}' {text_problem(text)}" if text_problem(text) else None)
            if problem:
                raise ScaffoldError(problem)
            tag = Tag.parse(text)
            if tag.key not in self.tags:
                self._refuse_near_duplicate(tag)  # names the whole tag to use, the clearest advice
                tag = self._known_category(tag, confirm)
            if tag.key in self.tags:
                labels.setdefault(tag.key, self.tags[tag.key][0].label)
                continue
            self._refuse_near_duplicate(tag)
            labels.setdefault(tag.key, tag.label)
        return list(labels.values())

    def _known_category(self, tag: Tag, confirm: Confirm | None) -> Tag:
        """The tag with its category spelled as tags.yml (else the knowledge base) spells it."""
        from .vocabulary import similar_tags, suggest

        if self.vocabulary is not None:
            rule = self.vocabulary.category(tag.category)
            if rule is not None:
                return self._respelled(tag, rule.name, self.vocabulary.name)
            nearest = suggest(tag.category, [rule.name for rule in self.vocabulary.categories.values()])
            if nearest is None:
                return tag
            fixed = Tag(nearest, tag.subject)
            if confirm is None:
                raise ScaffoldError(
                    f"unknown tag category '{tag.category}': did you mean '{nearest}'? Give '{fixed.label}' "
                    f"(or add '{tag.category}' to {self.vocabulary.name} first if it is a new category)"
                )
            return fixed if confirm(tag.category, nearest) else tag
        known = self.categories.get(tag.category_key)
        if known is not None:
            return self._respelled(tag, known[0], "the other procedures")
        for spelling, uses in self.categories.values():
            if similar_tags(Tag(tag.category), Tag(spelling)):
                self.notes.append(f"category '{tag.category}' looks like '{spelling}' ({uses} tag use(s)): check the spelling")
                break
        return tag

    def _respelled(self, tag: Tag, category: str, where: str) -> Tag:
        if category == tag.category:
            return tag
        self.notes.append(f"category '{tag.category}' is written '{category}' in {where}: using '{category}'")
        return Tag(category, tag.subject)

    def _refuse_near_duplicate(self, tag: Tag) -> None:
        from .vocabulary import similar_tags

        for other, count in self.tags.values():
            if similar_tags(tag, other):
                raise ScaffoldError(
                    f"tag '{tag.label}' is a near-duplicate of '{other.label}' ({count} procedure(s) use it); use '{other.label}'"
                )

    def warnings(self, tags: list[str], owner: str) -> list[str]:
        """What `kb check` will say about these tags and owner (the new file has an `owner` line)."""
        from .vocabulary import vocabulary_problems

        if self.vocabulary is None:
            return []
        probe = Procedure(path="", title="", tags=[Tag.parse(t) for t in tags], owner=owner, field_lines={"owner": 1})
        return [problem.message for problem in vocabulary_problems([probe], self.vocabulary)]

    def _category_procedures(self, tags: list[str]) -> list[Procedure]:
        for text in tags:
            key = Tag.parse(text).category_key
            found = [p for p in self.procedures if any(t.category_key == key for t in p.tags)]
            if found:
                return found
        return []

    def usual_area(self, tags: list[str]) -> str:
        """The folder where procedures of the first known category live most, else the category's slug."""
        from .procedure import slugify

        found = self._category_procedures(tags)
        return _most_common(p.area for p in found) if found else slugify(Tag.parse(tags[0]).category)

    def usual_owner(self, tags: list[str], area: str) -> str:
        found = self._category_procedures(tags) or [p for p in self.procedures if p.area == area]
        return _most_common(p.owner or None for p in found)

    def check_area(self, area: str) -> str:
        """The area as a relative folder path with `/`; refuses anything outside the procedures folder."""
        problem = text_problem(area) or ("contains a line break or tab" if any(c in area for c in "\t\n\r") else None)
        if problem:
            raise ScaffoldError(f"area {problem}")
        parts = [part.strip() for part in area.replace("\\", "/").split("/") if part.strip()]
        if area.strip().startswith("/") or any(part in (".", "..") or part.startswith(".") for part in parts):
            raise ScaffoldError(f"area '{area}' must be a folder inside the procedures folder, such as 'complaints'")
        return "/".join(parts)
