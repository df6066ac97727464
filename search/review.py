"""Which procedures are due for review: one computation for `kb review`, the site's "Due for review"
page and the review marks on procedure pages, so they always agree.

A procedure is due when it was never reviewed (no `reviewed` date), or when more days than its
review interval have passed since its `reviewed` date. The interval is the configured default
(`review_days` of the kb plugin, 180 days unless set), or the shortest `review_days` among the
categories of its tags in tags.yml.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .procedure import Procedure
    from .vocabulary import Vocabulary

DEFAULT_REVIEW_DAYS = 180
NO_OWNER = "(no owner)"


def review_interval(procedure: Procedure, default_days: int = DEFAULT_REVIEW_DAYS, vocabulary: Vocabulary | None = None) -> int:
    """Days between reviews: the shortest override of the procedure's categories, else the default."""
    overrides = []
    if vocabulary is not None:
        for tag in procedure.tags:
            rule = vocabulary.category(tag.category)
            if rule is not None and rule.review_days:
                overrides.append(rule.review_days)
    return min(overrides, default=default_days)


def review_state(procedure: Procedure, interval: int, today: _dt.date) -> str:
    """'never', 'overdue' or 'ok'."""
    if procedure.reviewed is None:
        return "never"
    return "overdue" if (today - procedure.reviewed).days > interval else "ok"


@dataclass(frozen=True)
class ReviewItem:
    procedure: Procedure
    state: str  # 'never' or 'overdue'
    interval: int  # days
    due: _dt.date | None  # the day the review fell due; None when never reviewed
    days_overdue: int | None

    @property
    def owner(self) -> str:
        return self.procedure.owner or NO_OWNER

    def describe(self) -> str:
        """`overdue by 12 days (reviewed 2026-01-02, every 90 days)` or `never reviewed`."""
        if self.state == "never":
            return "never reviewed"
        days = "1 day" if self.days_overdue == 1 else f"{self.days_overdue} days"
        return f"overdue by {days} (reviewed {self.procedure.reviewed}, every {self.interval} days)"

    def as_json(self) -> dict[str, object]:
        p = self.procedure
        return {
            "path": p.path,
            "title": p.title,
            "owner": p.owner,
            "state": self.state,
            "reviewed": p.reviewed.isoformat() if p.reviewed else None,
            "review_days": self.interval,
            "due": self.due.isoformat() if self.due else None,
            "days_overdue": self.days_overdue,
        }


def due_for_review(
    procedures: Iterable[Procedure],
    default_days: int = DEFAULT_REVIEW_DAYS,
    vocabulary: Vocabulary | None = None,
    today: _dt.date | None = None,
) -> list[ReviewItem]:
    """Published procedures overdue or never reviewed, by owner (no owner last), then never reviewed
    first, then the longest overdue first, then title. Drafts and archived procedures are not due."""
    today = today or _dt.date.today()
    items = []
    for procedure in procedures:
        if not procedure.published:
            continue
        interval = review_interval(procedure, default_days, vocabulary)
        state = review_state(procedure, interval, today)
        if state == "ok":
            continue
        due = procedure.reviewed + _dt.timedelta(days=interval) if procedure.reviewed else None
        items.append(ReviewItem(procedure, state, interval, due, (today - due).days if due else None))
    items.sort(
        key=lambda i: (
            not i.procedure.owner,
            i.procedure.owner.casefold(),
            i.state != "never",
            -(i.days_overdue or 0),
            i.procedure.title.casefold(),
            i.procedure.path,
        )
    )
    return items


def by_owner(items: Iterable[ReviewItem]) -> list[tuple[str, list[ReviewItem]]]:
    """The items of `due_for_review`, grouped by owner in their order."""
    groups: dict[str, list[ReviewItem]] = {}
    for item in items:
        groups.setdefault(item.owner, []).append(item)
    return list(groups.items())
