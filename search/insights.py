"""Search insights for editors: from the reports of finished searches (search/insights_store.py),
the searches that found nothing grouped by similar wording, the most frequent searches, the
searches whose results nobody opened, and for each frequent miss the procedure the engine ranks
best for it, so an editor can add the customer's words to that procedure's keywords.

Similar wording is the engine's own reading of a query (search/analysis.py): folded, stop words
left out, each word stemmed, the order ignored; "Parcels stolen!" and "stolen parcel" are one group.

Promises: the report depends only on the reports given and the engine's answers (no clock); the
Markdown escapes what searchers typed, so a query cannot add links, tables or HTML to an issue.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .analysis import fold, terms
from .insights_store import SearchReport

if TYPE_CHECKING:
    from .query import QueryEngine

TOP = 10  # rows in each list of the report


def wording_key(query: str) -> str:
    """The group of a query: its stems without stop words, sorted; its folded text when it has none."""
    stems = sorted(set(terms(query)))
    return " ".join(stems) if stems else " ".join(fold(query).split())


@dataclass
class Suggestion:
    """The procedure the engine ranks best for a missed search; `via` the query that found it
    (a did-you-mean spelling), None when the search's own words find it now."""

    path: str
    title: str
    via: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "title": self.title, "via": self.via}


@dataclass
class QueryGroup:
    """Searches of similar wording: how many, in which spellings, with what outcome."""

    key: str
    wordings: Counter[str] = field(default_factory=Counter)
    searches: int = 0
    found_nothing: int = 0
    opened: int = 0
    results: int = 0  # the most results any of them had
    first: Counter[str] = field(default_factory=Counter)
    suggestion: Suggestion | None = None

    @property
    def label(self) -> str:
        """The most frequent spelling (the alphabetically first of equally frequent ones)."""
        return min(self.wordings.items(), key=lambda item: (-item[1], item[0]))[0]

    @property
    def variants(self) -> list[str]:
        return sorted((w for w in self.wordings if w != self.label), key=lambda w: (-self.wordings[w], w))

    def add(self, report: SearchReport) -> None:
        self.wordings[report.query.casefold()] += 1
        self.searches += 1
        self.found_nothing += report.results == 0
        self.opened += report.opened is not None
        self.results = max(self.results, report.results)
        if report.first:
            self.first[report.first] += 1

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "wording": self.label,
            "variants": self.variants,
            "searches": self.searches,
            "found_nothing": self.found_nothing,
            "opened": self.opened,
        }
        if self.first:
            data["first_result"] = self.first.most_common(1)[0][0]
        if self.found_nothing == self.searches:
            data["best_procedure"] = self.suggestion.as_json() if self.suggestion else None
        return data


@dataclass
class InsightsReport:
    """The three lists of the report, most searched first, and the totals they come from."""

    searches: int
    groups: int
    first_at: str | None
    last_at: str | None
    misses: list[QueryGroup]
    frequent: list[QueryGroup]
    unopened: list[QueryGroup]
    looked_up: bool = True  # whether the engine was asked for the misses' best procedures

    def as_json(self) -> dict[str, Any]:
        return {
            "searches": self.searches,
            "different": self.groups,
            "from": self.first_at,
            "to": self.last_at,
            "found_nothing": [g.as_json() for g in self.misses],
            "most_frequent": [g.as_json() for g in self.frequent],
            "results_not_opened": [g.as_json() for g in self.unopened],
        }


def build_report(reports: Iterable[SearchReport], best: Callable[[str], Suggestion | None] | None = None, top: int = TOP) -> InsightsReport:
    """The report of `reports`; `best` names the procedure to suggest for a missed wording
    (see `best_procedure`), asked for the `top` most frequent misses only."""
    reports = list(reports)
    every: dict[str, QueryGroup] = {}
    missed: dict[str, QueryGroup] = {}
    for report in reports:
        key = wording_key(report.query)
        every.setdefault(key, QueryGroup(key)).add(report)
        if report.results == 0:
            missed.setdefault(key, QueryGroup(key)).add(report)

    def most_searched(groups: Iterable[QueryGroup]) -> list[QueryGroup]:
        return sorted(groups, key=lambda g: (-g.searches, g.label))[:top]

    misses = most_searched(missed.values())
    if best is not None:
        for group in misses:
            group.suggestion = best(group.label)
    unopened = most_searched(g for g in every.values() if g.results and not g.opened)
    times = sorted(r.at for r in reports if r.at is not None)
    iso = [t.isoformat().replace("+00:00", "Z") for t in (times[:1] + times[-1:])] if times else [None, None]
    return InsightsReport(len(reports), len(every), iso[0], iso[-1], misses, most_searched(every.values()), unopened, best is not None)


def best_procedure(engine: QueryEngine, query: str) -> Suggestion | None:
    """The procedure the engine ranks first for `query`, else for the did-you-mean spelling it
    offers; None when neither finds anything."""
    response = engine.search(query, limit=1)
    if response.results:
        return Suggestion(response.results[0].path, response.results[0].title)
    if response.did_you_mean:
        again = engine.search(response.did_you_mean, limit=1)
        if again.results:
            return Suggestion(again.results[0].path, again.results[0].title, response.did_you_mean)
    return None


# ---- Markdown ---------------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~&])")


def md(text: str) -> str:
    """Text as literal Markdown: every character GitHub's or GitLab's Markdown could read as markup escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _wording(group: QueryGroup) -> str:
    variants = group.variants
    also = f" (also: {', '.join(md(v) for v in variants[:3])}{', …' if len(variants) > 3 else ''})" if variants else ""
    return f"{md(group.label)}{also}"


def report_markdown(report: InsightsReport) -> str:
    """The report as Markdown an editor can paste into an issue."""
    period = f" from {report.first_at[:10]} to {report.last_at[:10]}" if report.first_at and report.last_at else ""
    lines = [
        f"## Search insights{period}",
        "",
        f"{report.searches} search(es), {report.groups} different wording(s).",
        "",
        "### Searches that found nothing",
        "",
    ]
    if report.misses:
        lines += ["| searches | what was searched | best procedure now | to do |", "|---:|---|---|---|"]
        for group in report.misses:
            suggestion = group.suggestion
            if not report.looked_up:
                best, todo = "not looked up (no procedures folder)", ""
            elif suggestion is None:
                best, todo = "none", "a procedure may be missing"
            else:
                via = f" (as {md(suggestion.via)})" if suggestion.via else ""
                best = f"{md(suggestion.title)}: `{suggestion.path.replace('`', '')}`{via}"
                todo = "add these words to its keywords" if suggestion.via else "found now (the site may be older)"
            lines.append(f"| {group.searches} | {_wording(group)} | {best} | {todo} |")
    else:
        lines.append("Every search found something.")
    lines += ["", "### Most frequent searches", ""]
    if report.frequent:
        lines += ["| searches | what was searched | found nothing | opened a result |", "|---:|---|---:|---:|"]
        lines += [f"| {g.searches} | {_wording(g)} | {g.found_nothing} | {g.opened} |" for g in report.frequent]
    else:
        lines.append("No searches.")
    lines += ["", "### Searches whose results nobody opened", ""]
    if report.unopened:
        lines += ["| searches | what was searched | first result |", "|---:|---|---|"]
        for group in report.unopened:
            first = group.first.most_common(1)[0][0].replace("`", "") if group.first else ""
            lines.append(f"| {group.searches} | {_wording(group)} | `{first}` |")
    else:
        lines.append("None: every search with results had one opened.")
    return "\n".join(lines) + "\n"
