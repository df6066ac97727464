"""Where a rep's "Report a problem" and "Ask for a procedure" go: a prefilled new issue in the
knowledge base's tracker (GitHub and GitLab URL patterns), else an e-mail.

The tracker comes from the plugin's `issues_url`, else from the site's `repo_url`, else from an
absolute `edit_uri` (a site that must work offline sets no `repo_url`, see README "Offline"). The
e-mail goes to the procedure owner's address (the plugin's `owners`), else to `report_email`.
Nothing here knows about MkDocs; every link is built from plain strings and is safe to put in an
attribute once escaped.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

GITHUB = "github"
GITLAB = "gitlab"
# The query parameters of a new issue's title and text, by kind of tracker. Other forges (Gitea,
# Forgejo) accept GitHub's.
FIELDS = {GITHUB: ("title", "body"), GITLAB: ("issue[title]", "issue[description]")}
OWN_WORDS = "What is wrong, missing or unclear? (in your own words)\n\n"


@dataclass(frozen=True)
class Tracker:
    """A project's issue tracker: the address of its "new issue" form and the kind of its fields."""

    new_issue_url: str
    kind: str  # GITHUB or GITLAB

    def link(self, title: str, body: str) -> str:
        title_field, body_field = FIELDS[self.kind]
        return f"{self.new_issue_url}?{quote(title_field)}={quote(title, safe='')}&{quote(body_field)}={quote(body, safe='')}"


def tracker_of(issues_url: str | None, repo_url: str | None, edit_uri: str | None) -> Tracker | None:
    """The tracker of the first of `issues_url`, `repo_url`, an absolute `edit_uri` that names one."""
    if issues_url:
        kind = GITLAB if _is_gitlab(issues_url) else GITHUB
        url = issues_url.rstrip("/")
        if not url.endswith("/new"):
            url += "/new"
        return Tracker(url, kind)
    for address in (repo_url, edit_uri):
        project = _project_url(address) if address else None
        if project is not None:
            kind = GITLAB if _is_gitlab(project) else GITHUB
            return Tracker(project + ("/-/issues/new" if kind == GITLAB else "/issues/new"), kind)
    return None


def _is_gitlab(url: str) -> bool:
    return "gitlab" in (urlsplit(url).hostname or "") or "/-/" in urlsplit(url).path


def _project_url(address: str) -> str | None:
    """`https://github.com/ORG/REPO` from a repository or edit address on GitHub or GitLab
    (`…/edit/main/docs/`, `…/-/edit/main/docs/`, `…/blob/…`), or None for anything else."""
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    base = f"{parts.scheme}://{parts.netloc}"
    if "/-/" in parts.path:  # GitLab: the project is everything before /-/ (groups may nest)
        project = parts.path.split("/-/", 1)[0].strip("/")
        return f"{base}/{project}" if project else None
    if parts.hostname == "github.com" or parts.hostname.endswith(".github.com"):
        return f"{base}/{segments[0]}/{segments[1].removesuffix('.git')}" if len(segments) >= 2 else None
    if "gitlab" in parts.hostname and segments:
        return f"{base}/{'/'.join(segments).removesuffix('.git')}"
    return None


def mailto(address: str, subject: str, body: str) -> str:
    """A mailto: link with a subject and a body (spaces as %20: mail programs do not read `+`)."""
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def report_text(title: str, path: str, page_url: str, reviewed: _dt.date | None, owner: str) -> tuple[str, str]:
    """The title and text of a report on a procedure: what an editor needs to find and fix it,
    then room for the rep's own words."""
    lines = [
        f"Procedure: {title}",
        f"File: {path}",
        f"Page: {page_url}",
        f"Reviewed: {reviewed.isoformat() if reviewed else 'never'}",
        f"Owner: {owner or '(none)'}",
    ]
    return f"Problem in procedure: {title}", "\n".join(lines) + "\n\n" + OWN_WORDS


@dataclass(frozen=True)
class Feedback:
    """Where reports go for one site: its tracker, the owners' addresses and the fallback address."""

    tracker: Tracker | None
    owners: dict[str, str]
    report_email: str | None

    def address(self, owner: str) -> str | None:
        """The e-mail address for a procedure of this owner (matched ignoring case), else the fallback."""
        wanted = owner.strip().casefold()
        found = next((email for name, email in self.owners.items() if name.strip().casefold() == wanted), None) if wanted else None
        return found or self.report_email

    def report_link(self, title: str, path: str, page_url: str, reviewed: _dt.date | None, owner: str) -> str | None:
        """Where "Report a problem" goes for a procedure, or None when the site has no tracker and no address."""
        subject, body = report_text(title, path, page_url, reviewed, owner)
        if self.tracker is not None:
            return self.tracker.link(subject, body)
        address = self.address(owner)
        return mailto(address, subject, body) if address else None

    def browser_settings(self) -> dict[str, str]:
        """What the search box needs to build "Ask for a procedure" links (an empty dict: none)."""
        if self.tracker is not None:
            title_field, body_field = FIELDS[self.tracker.kind]
            return {"issues": self.tracker.new_issue_url, "title-field": title_field, "body-field": body_field}
        return {"mailto": self.report_email} if self.report_email else {}
