"""`kb check` on folders of malformed procedure files, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import SAMPLE_PROCEDURES, procedure_text, run_kb

GOOD_BODY = "\n## Steps\n\n1. Do the thing.\n"


def front(*lines: str, body: str = GOOD_BODY) -> str:
    """A file whose front matter is exactly `lines` (file line 2 is lines[0])."""
    return "\n".join(["---", *lines, "---", body])


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def check(root: Path, *extra: str, cwd: Path | None = None):
    result = run_kb("--procedures", str(root), "check", *extra, cwd=cwd)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def problem_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": error: " in line or ": warning: " in line]


# Each case: files to write (path -> text or bytes), and the exact problem lines `kb check` must print.
CASES = {
    "yaml-syntax-mapping-value": (
        {"area/yaml.md": front('title: "YAML value"', "tags:", "  - Shipping", "summary: Customer says: where is it")},
        ["area/yaml.md:5: error: front matter is not valid YAML: a value contains ': ' (put the whole value in quotes)"],
    ),
    "yaml-syntax-tab": (
        {"yaml-tab.md": front('title: "YAML tab"', "tags:", "\t- Shipping")},
        ["yaml-tab.md:4: error: front matter is not valid YAML: a tab is used for indentation; indent with spaces"],
    ),
    "missing-title": (
        {"no-title.md": front("tags:", "  - Shipping")},
        ["no-title.md:1: error: missing required field 'title'"],
    ),
    "empty-title": (
        {"empty-title.md": front('title: ""', "tags:", "  - Shipping")},
        ["empty-title.md:2: error: 'title' is empty"],
    ),
    "title-is-list": (
        {"list-title.md": front("tags:", "  - Shipping", "title: [Late, shipment]")},
        ["list-title.md:4: error: 'title' must be text, not a list"],
    ),
    "missing-tags": (
        {"no-tags.md": front('title: "No tags"', "owner: Support")},
        ["no-tags.md:1: error: missing required field 'tags' (a list such as - \"Complaint: Late Shipment\")"],
    ),
    "empty-tags": (
        {"empty-tags.md": front('title: "Empty tags"', "tags: []")},
        ["empty-tags.md:3: error: 'tags' is empty: give at least one tag"],
    ),
    "tags-is-mapping": (
        {"map-tags.md": front('title: "Mapping tags"', "tags: {Complaint: Late Shipment}")},
        ["map-tags.md:3: error: 'tags' must be a list of tags, not a mapping"],
    ),
    "tag-two-colons": (
        {"two-colons.md": front('title: "Two colons"', "tags:", "  - Shipping", '  - "Complaint: Late: Shipment"')},
        ["two-colons.md:5: error: tag 'Complaint: Late: Shipment' has more than one colon; use 'Category: Subject'"],
    ),
    "tag-empty-category": (
        {"empty-category.md": front('title: "Empty category"', "tags:", '  - ": Foo"')},
        ["empty-category.md:4: error: tag ': Foo' has nothing before the colon; use 'Category: Subject'"],
    ),
    "tag-empty-subject": (
        {"empty-subject.md": front('title: "Empty subject"', "tags:", '  - "Foo:"')},
        ["empty-subject.md:4: error: tag 'Foo:' has nothing after the colon; write 'Foo' or 'Category: Subject'"],
    ),
    "tag-unquoted-mapping": (
        {"unquoted.md": front('title: "Unquoted tag"', "tags:", "  - Shipping", "  - Request: Refund")},
        ['unquoted.md:5: error: tag Request: Refund must be in quotes: - "Request: Refund"'],
    ),
    "reviewed-impossible-date": (
        {"bad-date.md": front('title: "Bad date"', "tags:", "  - Shipping", "reviewed: 2026-13-40")},
        ["bad-date.md:5: error: 'reviewed' must be a date written YYYY-MM-DD, got '2026-13-40'"],
    ),
    "reviewed-words": (
        {"last-week.md": front('title: "Last week"', "tags:", "  - Shipping", "reviewed: last week")},
        ["last-week.md:5: error: 'reviewed' must be a date written YYYY-MM-DD, got 'last week'"],
    ),
    "keywords-mapping": (
        {"kw-map.md": front('title: "Keyword mapping"', "tags:", "  - Shipping", "keywords: {late: yes}")},
        ["kw-map.md:5: error: 'keywords' must be a list of phrases, not a mapping"],
    ),
    "keyword-item-list": (
        {"kw-item.md": front('title: "Keyword item"', "tags: [Shipping]", "keywords:", "  - late parcel", "  - [nested, list]")},
        ["kw-item.md:6: error: a keyword must be text, not a list"],
    ),
    "latin-1-file": (
        {"latin.md": front('title: "Caf\xe9 order"', "tags:", "  - Shipping").encode("latin-1")},
        ["latin.md:2: error: file is not UTF-8 text (byte 0xe9); save it with UTF-8 encoding"],
    ),
    "binary-file": (
        {"image.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"},
        ["image.md:3: error: binary file (contains NUL bytes), not a Markdown procedure"],
    ),
    "no-front-matter": (
        {"plain.md": "# Late shipment\n\n## Steps\n\n1. Apologise.\n"},
        ["plain.md:1: error: missing front matter: the file must start with a line '---', then title and tags, then '---'"],
    ),
    "unclosed-front-matter": (
        {"unclosed.md": '---\ntitle: "Unclosed"\ntags:\n  - Shipping\n\n## Steps\n\n1. Do it.\n'},
        ["unclosed.md:1: error: front matter is not closed: add a line '---' after the last field"],
    ),
    "duplicate-titles": (
        {
            "orders/late.md": procedure_text("Late shipment", ["Shipping"]),
            "returns/late.md": procedure_text("Late shipment", ["Returns"]),
        },
        ["returns/late.md:2: error: title 'Late shipment' is also used by orders/late.md; titles must be unique"],
    ),
    "tag-spelled-two-ways": (
        {
            "a-late.md": procedure_text("Late parcel", ["Shipping", "Complaint: Late Shipment"]),
            "b-late.md": procedure_text("Slow parcel", ["Complaint: Late shipment"]),
        },
        ["b-late.md:4: error: tag 'Complaint: Late shipment' is spelled 'Complaint: Late Shipment' in 1 other file(s); use one spelling"],
    ),
    "duplicate-key": (
        {"dup-key.md": front('title: "First title"', "tags:", "  - Shipping", 'title: "Second title"')},
        ["dup-key.md:5: error: field 'title' is given twice"],
    ),
}


@pytest.mark.parametrize(("files", "expected"), list(CASES.values()), ids=list(CASES))
def test_each_kind_of_error(tmp_path: Path, files: dict[str, str | bytes], expected: list[str]) -> None:
    root = tmp_path / "kb"
    write_files(root, files)
    result = check(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert problem_lines(result.stdout) == expected
    assert "error(s)" in result.stderr


def test_unquoted_tag_with_empty_subject_is_reported_as_such(tmp_path: Path) -> None:
    """`- Foo:` unquoted is YAML for {Foo: None}; the report must not invent a tag 'Foo: None'."""
    root = tmp_path / "kb"
    write_files(root, {"foo.md": front('title: "Foo"', "tags:", "  - Foo:")})
    result = check(root)
    assert result.returncode == 1
    lines = problem_lines(result.stdout)
    assert any(line.startswith("foo.md:4: error: ") and "nothing after the colon" in line for line in lines), lines
    assert "None" not in result.stdout


def test_several_broken_files_are_all_reported_and_good_files_still_load(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    expected: list[str] = []
    for case_id, (files, lines) in CASES.items():
        # Each case in its own folder, so paths cannot clash; titles are unique across cases.
        write_files(root, {f"{case_id}/{rel}": content for rel, content in files.items()})
        for line in lines:
            for rel in files:  # cross-file messages name the other file
                line = line.replace(f"used by {rel}", f"used by {case_id}/{rel}")
            expected.append(f"{case_id}/{line}")
    write_files(root, {"good/zebra-crossing.md": procedure_text("Zebra crossing permit", ["Facilities: Permits"])})
    result = check(root)
    assert result.returncode == 1
    printed = problem_lines(result.stdout)
    missing = [line for line in expected if line not in printed]
    assert not missing, "\n".join(missing)
    assert not any(line.startswith("good/") for line in printed)

    search = run_kb("--procedures", str(root), "search", "--json", "zebra crossing")
    assert search.returncode == 0, search.stderr
    assert "Traceback" not in search.stderr
    paths = [r["path"] for r in json.loads(search.stdout)["results"]]
    assert paths[0] == "good/zebra-crossing.md"


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write_files(
        root,
        {
            "ok.md": procedure_text("Fine procedure", ["Shipping"]),
            "billing/no-steps.md": procedure_text("No steps here", ["Billing"], body="Just a paragraph of text.\n"),
        },
    )
    warning = "billing/no-steps.md:6: warning: no '## Steps' section: reps look for the steps under that heading"

    relaxed = check(root)
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
    assert problem_lines(relaxed.stdout) == [warning]

    strict = check(root, "--strict")
    assert strict.returncode == 1
    assert problem_lines(strict.stdout) == [warning]


def test_github_format(tmp_path: Path) -> None:
    write_files(
        tmp_path / "kb",
        {
            "orders/empty-title.md": front('title: ""', "tags:", "  - Shipping"),
            "orders/no-steps.md": procedure_text("No steps", ["Shipping"], body="Text only.\n"),
        },
    )
    result = check(Path("kb"), "--format", "github", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "::error file=kb/orders/empty-title.md,line=2::'title' is empty" in lines
    assert "::warning file=kb/orders/no-steps.md,line=6::no '## Steps' section: reps look for the steps under that heading" in lines


def test_github_format_escapes_commas_in_file_property(tmp_path: Path) -> None:
    """GitHub workflow commands split properties on ',': a file name with one must be escaped (%2C)."""
    write_files(tmp_path / "kb", {"late, damaged.md": front('title: ""', "tags:", "  - Shipping")})
    result = check(Path("kb"), "--format", "github", cwd=tmp_path)
    assert result.returncode == 1
    assert "::error file=kb/late%2C damaged.md,line=2::'title' is empty" in result.stdout.splitlines()


def test_json_format_lists_problems(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write_files(root, {"no-title.md": front("tags:", "  - Shipping")})
    result = check(root, "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {"path": "no-title.md", "line": 1, "severity": "error", "message": "missing required field 'title'"}
    ]


def test_sample_knowledge_base_passes_strict_check() -> None:
    result = check(SAMPLE_PROCEDURES, "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert problem_lines(result.stdout) == []
    assert "0 error(s), 0 warning(s)" in result.stderr


def test_load_cache_rereads_only_changed_files(tmp_path: Path) -> None:
    """The cache `mkdocs serve` keeps: unchanged files come from it, changed ones are read again."""
    from search.model import load_procedures

    root = tmp_path / "kb"
    (root / "a").mkdir(parents=True)
    (root / "a" / "one.md").write_text(procedure_text("One", ["Area: One"]), encoding="utf-8")
    (root / "a" / "two.md").write_text(procedure_text("Two", ["Area: Two"]), encoding="utf-8")
    cache: dict = {}
    first = load_procedures(root, cache=cache)
    assert sorted(cache) == ["a/one.md", "a/two.md"]
    kept = cache["a/one.md"][2]
    (root / "a" / "two.md").write_text(procedure_text("Two changed", ["Area: Two"]) + "\n", encoding="utf-8")
    (root / "a" / "one.md").unlink()
    (root / "a" / "three.md").write_text(procedure_text("Three", ["Area: Three"]), encoding="utf-8")
    second = load_procedures(root, cache=cache)
    assert sorted(cache) == ["a/three.md", "a/two.md"]
    assert sorted(p.title for p in second.procedures) == ["Three", "Two changed"]
    assert kept is not None and [p.title for p in first.procedures] == ["One", "Two"]
    cached_two = cache["a/two.md"][2]
    assert load_procedures(root, cache=cache).procedures[1] is cached_two  # unchanged: the same object
