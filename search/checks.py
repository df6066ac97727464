"""The checks that compare procedures with each other: duplicate titles, one tag spelled several
ways, near-duplicate tags, and (with a tag vocabulary) every tag against tags.yml.

Promises: a finding names the file and line to fix and, in `related`, the other files it is about,
so `kb check FILE` shows it when any of them is checked.
"""

from __future__ import annotations

import datetime as _dt
from collections import defaultdict

from .procedure import Problem, Procedure
from .vocabulary import Vocabulary, near_duplicate_problems, vocabulary_problems


def cross_file_problems(procedures: list[Procedure], vocabulary: Vocabulary | None = None) -> list[Problem]:
    """Duplicate titles, one tag spelled several ways and near-duplicate tags across the knowledge
    base; with a vocabulary, also its own problems and the checks of every tag against it."""

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
    problems.extend(replacement_problems(procedures))
    problems.extend(near_duplicate_problems(procedures, vocabulary))
    if vocabulary is not None:
        problems.extend(vocabulary.problems)
        problems.extend(vocabulary_problems(procedures, vocabulary))
    return problems


def replacement_problems(procedures: list[Procedure]) -> list[Problem]:
    """`replaced_by` checked against the other files: it must name an existing procedure other than
    itself (errors); it only means something on an archived procedure, and should name a published
    one (warnings)."""
    by_path = {procedure.path: procedure for procedure in procedures}
    problems: list[Problem] = []
    for procedure in procedures:
        target = procedure.replaced_by
        if not target:
            continue
        line = procedure.field_lines.get("replaced_by", 1)
        replacement = by_path.get(target)
        if replacement is None:
            problems.append(Problem(procedure.path, line, "error", f"replaced_by '{target}' is not a procedure of this knowledge base"))
            continue
        if replacement is procedure:
            problems.append(Problem(procedure.path, line, "error", "replaced_by names this procedure itself"))
            continue
        if procedure.status != "archived":
            problems.append(
                Problem(procedure.path, line, "warning", f"replaced_by is set but status is '{procedure.status}'; add 'status: archived'")
            )
        if not replacement.published:
            problems.append(
                Problem(
                    procedure.path,
                    line,
                    "warning",
                    f"replaced_by '{target}' is {replacement.status} itself; name the published procedure that replaces this one",
                    related=(target,),
                )
            )
    return problems
