"""`kb check` warns on HTML in the front-matter fields the site shows as text (title, tags,
summary, owner, keywords), and not on `<` or `&` in prose."""

from __future__ import annotations

from pathlib import Path

from search.parsing import parse_procedure

from .conftest import run_kb
from .test_check import front


def warnings_of(text: str) -> list[str]:
    _, problems = parse_procedure(text.encode("utf-8"), "a.md")
    return [str(problem) for problem in problems if problem.severity == "warning"]


def test_html_in_each_text_field_is_warned_about_on_its_line() -> None:
    text = front(
        "title: <img src=x onerror=alert(1)>",
        "tags:",
        '  - "Complaint: <b>Late</b>"',
        "summary: Click <a href='x'>here</a>",
        "owner: <script>alert(1)</script>",
        "keywords:",
        "  - plain words",
        "  - <iframe src=x>",
    )
    assert warnings_of(text) == [
        "a.md:2: warning: title contains HTML (<img ...>); it is shown as text: write plain text",
        "a.md:4: warning: tags contains HTML (<b>); it is shown as text: write plain text",
        "a.md:5: warning: summary contains HTML (<a ...>); it is shown as text: write plain text",
        "a.md:6: warning: owner contains HTML (<script>); it is shown as text: write plain text",
        "a.md:9: warning: keywords contains HTML (<iframe ...>); it is shown as text: write plain text",
    ]


def test_angle_brackets_and_ampersands_in_prose_are_not_html() -> None:
    text = front(
        'title: "Refunds for orders < $50 & > $10"',
        "tags:",
        '  - "Billing: Refund < 50"',
        'summary: "When 3<4 or a->b, use R&D; x < y > z; <= and <> are fine"',
        "owner: Billing & Payments",
        "keywords: [a < b, <3 love]",
    )
    assert warnings_of(text) == []


def test_kb_check_prints_the_warning_and_strict_fails_on_it(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(front("title: <img src=x onerror=alert(1)>", "tags:", '  - "Complaint"'), encoding="utf-8")
    done = run_kb("--procedures", str(tmp_path), "check")
    assert done.returncode == 0, done.stderr
    assert "a.md:2: warning: title contains HTML (<img ...>); it is shown as text: write plain text" in done.stdout
    assert run_kb("--procedures", str(tmp_path), "check", "--strict").returncode == 1
