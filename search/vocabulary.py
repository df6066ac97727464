"""The tag vocabulary (`tags.yml`) and the checks that keep tags from drifting.

`tags.yml` lists the allowed tag categories, each with a one-line description, and optionally the
category's allowed subjects and its own review interval:

    categories:
      Complaint:
        description: A customer is unhappy with an order, a delivery or a person.
        review_days: 90            # optional: review these procedures more often
        subjects: [Late Delivery, Damaged Item]   # optional: only these subjects
      Shipping: How parcels travel, carriers and tracking.   # short form: the description alone
    require_owner: true            # optional (default true): warn on procedures without an owner

Pure functions over the engine's `Procedure` and `Tag` objects: no MkDocs, no index. Nothing here
needs a `tags.yml`: the near-duplicate check works on the tags alone; the vocabulary checks run
only when a vocabulary is given.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis import base_form, fold, is_stopword, words
from .procedure import Problem, Procedure, Tag, tag_problem

SUGGESTION_CUTOFF = 70  # rapidfuzz ratio (0-100) for "did you mean"
DERIVED_SUFFIXES = ("s", "es", "ed", "ing", "ment", "ments", "ion", "ions", "ation", "ations")
NAMED_FILES = 2  # files named in a near-duplicate message


@dataclass(frozen=True)
class CategoryRule:
    """One category of tags.yml."""

    name: str
    description: str
    subjects: tuple[str, ...] | None = None  # None: any subject
    review_days: int | None = None
    line: int = 1

    def allows(self, subject: str) -> bool:
        return self.subjects is None or not subject or subject.casefold() in {s.casefold() for s in self.subjects}


@dataclass
class Vocabulary:
    """The allowed categories, by case-folded name. `path` is the file as problems name it."""

    path: str
    categories: dict[str, CategoryRule] = field(default_factory=dict)
    require_owner: bool = True
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.path).name

    def category(self, name: str) -> CategoryRule | None:
        return self.categories.get(" ".join(name.split()).casefold())

    def description(self, name: str) -> str:
        rule = self.category(name)
        return rule.description if rule is not None else ""

    def listed(self, tag: Tag) -> bool:
        """Whether the tag is in the vocabulary exactly: a known category and, if the category
        lists subjects, a listed subject."""
        rule = self.category(tag.category)
        return rule is not None and (not tag.subject or (rule.subjects is not None and rule.allows(tag.subject)))


# ---- reading tags.yml ------------------------------------------------------------------------
def parse_vocabulary(text: str, path: str) -> Vocabulary:
    """A vocabulary from the text of a tags.yml; never raises: what is wrong becomes `problems`
    (path:line: error|warning: message, like the procedures' own)."""

    vocabulary = Vocabulary(path=path)
    _read(text, vocabulary)
    vocabulary.problems.sort(key=lambda p: p.line)
    return vocabulary


def _read(text: str, vocabulary: Vocabulary) -> None:
    import yaml

    path = vocabulary.path

    def error(line: int, message: str) -> None:
        vocabulary.problems.append(Problem(path, line, "error", message))

    def warning(line: int, message: str) -> None:
        vocabulary.problems.append(Problem(path, line, "warning", message))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        error(mark.line + 1 if mark is not None else 1, f"not valid YAML: {reason}")
        return
    if not _is_mapping(
        root,
        error,
        "the file is empty: add 'categories:' and one category per line",
        "must be 'field: value' lines, starting with 'categories:'",
    ):
        return
    categories_node = None
    for key_node, value_node in root.value:
        key = str(key_node.value)
        line = key_node.start_mark.line + 1
        if key == "categories":
            categories_node = value_node
        elif key == "require_owner":
            value = _scalar(value_node)
            if isinstance(value, bool):
                vocabulary.require_owner = value
            else:
                error(line, "'require_owner' must be true or false")
        else:
            warning(line, f"unknown field '{key}' (expected 'categories' or 'require_owner')")
    if not _is_mapping(
        categories_node,
        error,
        "no 'categories:': list the allowed tag categories under it",
        "'categories' must hold one 'Category: description' line per category",
    ):
        return
    for key_node, value_node in categories_node.value:
        line = key_node.start_mark.line + 1
        name = " ".join(str(key_node.value).split()) if isinstance(key_node, yaml.ScalarNode) else ""
        problem = tag_problem(name) if name else "empty category name"
        if problem is None and ":" in name:
            problem = f"category '{name}' contains a colon; a category is the part of a tag before the colon"
        if problem is not None:
            error(line, problem)
            continue
        rule = _category_rule(name, value_node, line, error, warning)
        if rule is None:
            continue
        if name.casefold() in vocabulary.categories:
            error(line, f"category '{name}' is listed twice (also on line {vocabulary.categories[name.casefold()].line})")
            continue
        vocabulary.categories[name.casefold()] = rule


def _is_mapping(node: Any, error: Callable[[int, str], None], missing: str, not_mapping: str) -> bool:
    """Whether a YAML node is a mapping; reports `missing` (at line 1) or `not_mapping` (at the node) if not."""
    import yaml

    if node is None:
        error(1, missing)
        return False
    if not isinstance(node, yaml.MappingNode):
        error(node.start_mark.line + 1, not_mapping)
        return False
    return True


def _scalar(node: Any) -> Any:
    """The value of a scalar node (None for a list or mapping)."""
    import yaml

    return _construct(node) if isinstance(node, yaml.ScalarNode) else None


def _construct(node: Any) -> Any:
    import yaml

    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _category_rule(name: str, node: Any, line: int, error, warning) -> CategoryRule | None:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        description = _construct(node)
        if not isinstance(description, str) or not description.strip():
            error(line, f"category '{name}' needs a one-line description: '{name}: what these procedures are about'")
            return None
        return CategoryRule(name, " ".join(description.split()), line=line)
    if not isinstance(node, yaml.MappingNode):
        error(line, f"category '{name}' must have a description (text) or 'description:' and other fields under it")
        return None
    description = ""
    subjects: tuple[str, ...] | None = None
    review_days: int | None = None
    for key_node, value_node in node.value:
        key = str(key_node.value)
        key_line = key_node.start_mark.line + 1
        value = _construct(value_node)
        if key == "description":
            if isinstance(value, str) and value.strip():
                description = " ".join(value.split())
        elif key == "subjects":
            if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
                error(key_line, f"'subjects' of '{name}' must be a list of subjects, such as [Late Delivery, Damaged Item]")
            else:
                subjects = tuple(" ".join(s.split()) for s in value)
        elif key == "review_days":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                error(key_line, f"'review_days' of '{name}' must be a whole number of days, at least 1")
            else:
                review_days = value
        else:
            warning(key_line, f"unknown field '{key}' in category '{name}' (expected description, subjects, review_days)")
    if not description:
        error(line, f"category '{name}' needs a one-line description: 'description: what these procedures are about'")
        return None
    return CategoryRule(name, description, subjects, review_days, line)


def load_vocabulary(path: Path, root: Path | None = None) -> Vocabulary:
    """Reads a tags.yml; problems name it relative to `root` (the procedures folder) when given."""
    label = Path(os.path.relpath(path, root)).as_posix() if root is not None else path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Vocabulary(path=label, problems=[Problem(label, 1, "error", f"cannot read the tag vocabulary: {reason}")])
    return parse_vocabulary(text, label)


# ---- checks against the vocabulary -----------------------------------------------------------
def suggest(name: str, choices: Iterable[str]) -> str | None:
    """The nearest of `choices` to `name` (case ignored), or None when none is close."""
    from rapidfuzz import fuzz, process

    options = list(choices)
    found = process.extractOne(fold(name), [fold(c) for c in options], scorer=fuzz.ratio, score_cutoff=SUGGESTION_CUTOFF)
    return options[found[2]] if found else None


def vocabulary_problems(procedures: Iterable[Procedure], vocabulary: Vocabulary) -> list[Problem]:
    """Warnings: unknown categories (with the nearest allowed one), a category written otherwise than
    in tags.yml, subjects a category does not list, procedures without an owner."""
    problems: list[Problem] = []
    names = [rule.name for rule in vocabulary.categories.values()]
    for procedure in procedures:
        if vocabulary.require_owner and not procedure.owner:
            where = "'owner' is empty" if "owner" in procedure.field_lines else "no 'owner'"
            problems.append(
                Problem(
                    procedure.path,
                    procedure.field_lines.get("owner", 1),
                    "warning",
                    f"{where}: add a line 'owner: Team name' (the team that keeps this procedure correct)",
                )
            )
        for tag in procedure.tags:
            line = procedure.field_lines.get(f"tag:{tag.key}", 1)
            rule = vocabulary.category(tag.category)
            if rule is None:
                nearest = suggest(tag.category, names)
                if nearest is not None:
                    fixed = Tag(nearest, tag.subject).label
                    message = f"unknown tag category '{tag.category}': did you mean '{nearest}' ('{fixed}')?"
                else:
                    message = (
                        f"unknown tag category '{tag.category}': use a category of {vocabulary.name} or add it there with a description"
                    )
                problems.append(Problem(procedure.path, line, "warning", message))
            elif rule.name != tag.category:
                problems.append(
                    Problem(procedure.path, line, "warning", f"tag category '{tag.category}' is written '{rule.name}' in {vocabulary.name}")
                )
            elif not rule.allows(tag.subject):
                nearest = suggest(tag.subject, rule.subjects or ())
                hint = f"did you mean '{Tag(rule.name, nearest).label}'?" if nearest else f"add it to the subjects of '{rule.name}' there"
                message = f"subject '{tag.subject}' is not listed under '{rule.name}' in {vocabulary.name}: {hint}"
                problems.append(Problem(procedure.path, line, "warning", message))
    return problems


# ---- near-duplicate tags ---------------------------------------------------------------------
_LETTER_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def tag_words(text: str) -> list[str]:
    """The words of a tag part, in any script, case and accents folded: runs of letters and digits.
    Latin words keep the rules of the search (`words`: no single letters, no apostrophes); a part
    with no letters at all (`🎉`) is its symbols, so that it still differs from other symbols."""
    folded = fold(text)
    if folded.isascii():
        return words(text)
    found = [w.replace("'", "") for w in _LETTER_WORD.findall(folded)]
    found = [w for w in found if len(w) > 1 or not w.isascii()]
    return found or folded.split()


def _significant(text: str) -> tuple[str, ...]:
    """The words that make a tag part mean what it means: inflections gone, stop words dropped
    (unless nothing else is left: `IT`)."""
    found = tag_words(text)
    content = [w for w in found if not is_stopword(w)]
    return tuple(base_form(w) if w.isascii() else w for w in (content or found))


def similar_words(a: str, b: str) -> bool:
    """Two base forms that are one word: equal, derived one from the other (`ship`, `shipment`;
    `cancel`, `cancellation`), or a typo apart: one edit (two from 10 letters), same first letter,
    so that `Onboarding` and `Offboarding` stay two words."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 4 and long_.startswith(short):
        rest = long_[len(short) :]
        if rest in DERIVED_SUFFIXES or (rest[:1] == short[-1] and rest[1:] in DERIVED_SUFFIXES):
            return True
    limit = typo_limit(short)
    if limit == 0 or abs(len(a) - len(b)) > limit or a[0] != b[0]:
        return False
    from rapidfuzz.distance import OSA

    return OSA.distance(a, b, score_cutoff=limit) <= limit


def typo_limit(word: str) -> int:
    if len(word) < 4 or not word.isalpha():
        return 0
    return 1 if len(word) < 10 else 2


def _same_words(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same words in any order, each allowed the differences of `similar_words`."""
    if a == b:
        return True
    if len(a) != len(b):
        return False
    rest = list(b)
    for word in sorted(a, key=lambda w: w not in rest):  # exact matches first
        for i, other in enumerate(rest):
            if similar_words(word, other):
                del rest[i]
                break
        else:
            return False
    return True


def _compact(text: str) -> str:
    return "".join(tag_words(text))


@dataclass(frozen=True)
class _Forms:
    """What the comparison of two tags looks at, computed once per tag."""

    category: tuple[str, ...]
    subject: tuple[str, ...] | None  # None for a bare category
    compact: str

    @classmethod
    def of(cls, tag: Tag) -> _Forms:
        return cls(
            _significant(tag.category),
            _significant(tag.subject) if tag.subject else None,
            _compact(tag.category) + ":" + _compact(tag.subject),
        )

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.category), -1 if self.subject is None else len(self.subject)

    @property
    def initials(self) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
        """The first letters of the words, sorted: alike words (`similar_words`) share their
        first letter, so word-by-word alike tags have the same initials and the same shape."""
        return tuple(sorted(w[:1] for w in self.category)), None if self.subject is None else tuple(sorted(w[:1] for w in self.subject))


def _similar_forms(a: _Forms, b: _Forms) -> bool:
    if a.compact == b.compact:
        return True
    if (a.subject is None) != (b.subject is None) or not _same_words(a.category, b.category):
        return False
    return a.subject is None or b.subject is None or _same_words(a.subject, b.subject)


def similar_tags(a: Tag, b: Tag) -> bool:
    """Whether two tags are one tag written two ways: case, plurals, word order, small typos,
    spacing (`Complaints: Late shipping` and `Complaint: Late Shipment`)."""
    return _similar_forms(_Forms.of(a), _Forms.of(b))


@dataclass
class _Spelling:
    tag: Tag
    users: list[Procedure]
    listed: bool
    first_reviewed: _dt.date
    forms: _Forms

    @property
    def rank(self) -> tuple[bool, int, _dt.date, str]:
        """The reference spelling first: listed in tags.yml, used by more files, older, alphabetical."""
        return (not self.listed, -len(self.users), self.first_reviewed, self.tag.label.casefold())


def near_duplicate_problems(procedures: Iterable[Procedure], vocabulary: Vocabulary | None = None) -> list[Problem]:
    """An error on each use of a tag that is a near-duplicate of another tag of the knowledge base.

    The reference spelling is the one in tags.yml, else the one more files use, else the older one
    (earliest `reviewed` date; never reviewed counts as new); the other spelling gets the error, at
    its line, naming the reference and the files that use it.
    """
    by_key: dict[str, _Spelling] = {}
    for procedure in procedures:
        for tag in procedure.tags:
            spelling = by_key.get(tag.key)
            if spelling is None:
                listed = vocabulary is not None and vocabulary.listed(tag)
                spelling = by_key[tag.key] = _Spelling(tag, [], listed, _dt.date.max, _Forms.of(tag))
            spelling.users.append(procedure)
            if procedure.reviewed is not None and procedure.reviewed < spelling.first_reviewed:
                spelling.first_reviewed = procedure.reviewed
    # Word-by-word alike tags have the same word counts and initials: only those are compared
    # pair by pair. Tags alike once spaces are gone (`Log in`, `Login`) are found through their
    # compact form; one of the same shape counts as word-by-word alike.
    groups: dict[tuple[Any, ...], list[_Spelling]] = defaultdict(list)
    compact: dict[str, list[_Spelling]] = defaultdict(list)
    for spelling in by_key.values():
        groups[spelling.forms.shape, spelling.forms.initials].append(spelling)
        compact[spelling.forms.compact].append(spelling)

    def rank(spelling: _Spelling) -> tuple[bool, int, _dt.date, str]:
        return spelling.rank

    problems: list[Problem] = []
    for spelling in sorted(by_key.values(), key=rank):
        forms, better = spelling.forms, spelling.rank
        alike = [other for other in groups[forms.shape, forms.initials] if other.rank < better and _similar_forms(forms, other.forms)]
        alike += [other for other in compact[forms.compact] if other.rank < better and other.forms.shape == forms.shape]
        reference = min(alike, key=rank, default=None)
        if reference is None:
            reference = min((other for other in compact[forms.compact] if other.rank < better), key=rank, default=None)
        if reference is not None:
            problems.extend(_near_duplicate(spelling, reference))
    return problems


def _near_duplicate(spelling: _Spelling, reference: _Spelling) -> list[Problem]:
    paths = sorted(p.path for p in reference.users)
    named = ", ".join(paths[:NAMED_FILES]) + (f" and {len(paths) - NAMED_FILES} more" if len(paths) > NAMED_FILES else "")
    label, other = spelling.tag.label, reference.tag.label
    message = f"tag '{label}' is a near-duplicate of '{other}' (used in {named}); use '{other}'"
    return [
        Problem(procedure.path, procedure.field_lines.get(f"tag:{spelling.tag.key}", 1), "error", message, related=tuple(paths))
        for procedure in spelling.users
    ]
