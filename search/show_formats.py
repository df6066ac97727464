"""`kb show --format text|markdown`: one procedure to paste into an e-mail or a ticket.

Promises: `text` is plain text without colour codes, links written as `label <address>`; `markdown`
is the procedure's Markdown with its title as a heading and its tags, owner and review date as lines
under it instead of front matter. Both end with the file's path.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from .terminal import Style, render_procedure

if TYPE_CHECKING:
    from .procedure import Procedure

MARKDOWN_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)


def procedure_text(procedure: Procedure) -> str:
    """Plain text, laid out like `kb show` in a terminal without colours, link addresses shown."""
    plain = Style(io.StringIO())  # not a terminal: no colour
    body = HTML_COMMENT.sub("", procedure.body)
    body = MARKDOWN_LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} <{m.group(2)}>", body)
    shown = _with_body(procedure, body)
    return render_procedure(shown, plain)


def procedure_markdown(procedure: Procedure) -> str:
    """Markdown: `# title`, the facts as a line each, the summary, then the body as written."""
    lines = [f"# {procedure.title}", ""]
    if procedure.tags:
        lines.append("**Tags:** " + ", ".join(tag.label for tag in procedure.tags) + "  ")
    if procedure.owner:
        lines.append(f"**Owner:** {procedure.owner}  ")
    if procedure.reviewed:
        lines.append(f"**Reviewed:** {procedure.reviewed.isoformat()}  ")
    if procedure.summary:
        lines += ["", procedure.summary]
    body = HTML_COMMENT.sub("", procedure.body).strip("\n")
    lines += ["", body, "", f"<!-- {procedure.path} -->"]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _with_body(procedure: Procedure, body: str) -> Procedure:
    from dataclasses import replace

    return replace(procedure, body=body)
