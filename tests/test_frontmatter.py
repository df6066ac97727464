"""The front matter's fast path gives what PyYAML gives, or hands the text over to PyYAML."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from search.frontmatter import FrontMatter, read_simple, read_yaml
from search.model import parse_procedure

from .conftest import ROOT, SAMPLE_PROCEDURES

TEMPLATE = """title: Late shipment complaint
tags:
  - "Complaint: Late Shipment"
  - Shipping
keywords: [delayed order, where's my order, 'package, not arrived']
summary: A customer reports that an order has not arrived by its promised date.
owner: Fulfillment Support
reviewed: 2026-09-14"""

# Pieces that mean something in YAML, put into the template at random places.
TRICKY = [
    ": ", " #", "#", ":", "'", "''", '"', '""', "\\", "\\n", "- ", "-", "[", "]", ",", "{", "}", "&a ", "*a", "!!str ",
    "|", ">", "%", "@", "`", "?", "? ", "yes", "No", "~", "null", "1", "0x1F", "1e3", "10:30", ".inf", "2020-01-01",
    "\t", "\x07", "\u00a0", "\u2028", "\n", "\n  ", "\n- ", "\n  - x", "\ntitle: again", "\nx:", "\nOn: x", " ", "  ", "ü", "🙂",
]  # fmt: skip


def yaml_reading(source: str) -> tuple[FrontMatter | None, list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    return read_yaml(source, 2, lambda line, message: errors.append((line, message))), errors


def assert_same_as_yaml(source: str) -> bool:
    """True when the fast path took the text, after checking it read it as PyYAML does."""
    simple = read_simple(source, 2)
    if simple is None:
        return False
    full, errors = yaml_reading(source)
    assert not errors, (source, errors)
    assert full is not None
    assert (simple.values, simple.lines, simple.item_lines) == (full.values, full.lines, full.item_lines), source
    return True


def front_matter_of(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text.split("---\n", 2)[1]


def test_every_sample_and_dev_procedure_is_read_by_the_fast_path_as_by_pyyaml() -> None:
    paths = sorted(SAMPLE_PROCEDURES.rglob("*.md"))
    dev = ROOT.parent / "shared" / "eval" / "dev" / "procedures"
    paths += sorted(dev.rglob("*.md"))
    assert len(paths) >= 60
    taken = [assert_same_as_yaml(front_matter_of(path)) for path in paths]
    assert all(taken), [str(path) for path, ok in zip(paths, taken, strict=True) if not ok]


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("title: x\ntags:\n- A\n- B", {"title": "x", "tags": ["A", "B"]}),  # a list at the key's indentation
        ('title: it\'s "fine" now', {"title": 'it\'s "fine" now'}),
        ("keywords: [a, 'b, c', \"d\", don't]\n", {"keywords": ["a", "b, c", "d", "don't"]}),
        ("keywords: []\ntitle: 'it''s'", {"keywords": [], "title": "it's"}),
        ("# a comment\ntitle: order#123\n\nowner: a:b", {"title": "order#123", "owner": "a:b"}),
        ("reviewed: 2026-09-14", {"reviewed": "2026-09-14"}),  # dates stay text
    ],
)
def test_simple_forms_are_read_by_the_fast_path(source: str, values: dict[str, object]) -> None:
    assert assert_same_as_yaml(source)
    simple = read_simple(source, 2)
    assert simple is not None and simple.values == values


@pytest.mark.parametrize(
    "source",
    [
        "title: Note: this",  # an error in YAML
        "reviewed: 10:30",  # a number (base 60) in YAML 1.1
        "title: yes",
        "on: x",  # the key is a boolean in YAML 1.1
        "title: x\nNull: y",
        "owner:",  # null
        "owner:\ntitle: x",
        "title: x # a comment",
        "title: |\n  block",
        "title: x\ntitle: y",  # given twice: PyYAML's error message
        "tags: [a, b,]",
        'title: "a \\" b"',
        "title: x\n  continued",
        "tags:\n  - a\n    - b",
        "title:\tx",
        "# a comment with a control character \x07\ntitle: x",  # an error in YAML
        "",
    ],
)
def test_anything_else_is_left_to_pyyaml(source: str) -> None:
    assert read_simple(source, 2) is None


def test_random_yaml_is_read_as_pyyaml_reads_it_or_left_to_it() -> None:
    generator = random.Random(20261123)
    taken = left = 0
    for _ in range(4000):
        lines = TEMPLATE.split("\n")
        for _ in range(generator.randint(1, 3)):
            number = generator.randrange(len(lines))
            line = lines[number]
            at = generator.randint(0, len(line))
            lines[number] = line[:at] + generator.choice(TRICKY) + line[at:]
        if assert_same_as_yaml("\n".join(lines)):
            taken += 1
        else:
            left += 1
    # Both paths are exercised: many variants stay simple, many do not.
    assert taken > 1000 and left > 1000, (taken, left)


def test_a_procedure_has_the_same_fields_and_lines_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (SAMPLE_PROCEDURES / "complaints" / "late-delivery.md").read_bytes()
    fast, fast_problems = parse_procedure(data, "late.md")
    monkeypatch.setattr("search.parsing.read_simple", lambda source, first_line: None)
    slow, slow_problems = parse_procedure(data, "late.md")
    assert fast is not None and fast == slow and fast_problems == slow_problems
    tag_lines = [line for key, line in fast.field_lines.items() if key.startswith("tag:")]
    assert (fast.field_lines["title"], fast.field_lines["tags"], tag_lines, fast.field_lines["reviewed"]) == (2, 4, [4, 5], 9)
