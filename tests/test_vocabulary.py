"""The tag vocabulary (tags.yml) and near-duplicate tags: the pure functions, then `kb check` and the
site on folders with malformed files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.model import Tag, load_procedures
from search.vocabulary import near_duplicate_problems, parse_vocabulary, similar_tags, suggest

from .conftest import DEV_SET, ROOT, SAMPLE_PROCEDURES, procedure_text, run_kb

VOCABULARY = """\
categories:
  Complaint:
    description: A customer is unhappy.
    review_days: 90
  Shipping: Parcels on their way.
  Billing:
    description: Charges and refunds.
    subjects: [Duplicate Charge, Refund Status]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def check(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = run_kb("--procedures", str(root), *args, cwd=cwd)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def problem_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": error: " in line or ": warning: " in line]


# ---- near-duplicates: the comparison ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Complaints: Late shipping", "Complaint: Late Shipment"),  # plural category, derived word, case
        ("Complaint: Shipment Late", "Complaint: Late Shipment"),  # word order
        ("Complant: Late Shipment", "Complaint: Late Shipment"),  # typo in the category
        ("Complaint: Late Shipmnet", "Complaint: Late Shipment"),  # transposed letters
        ("Billing: Duplicate Charges", "Billing: Duplicate Charge"),  # plural subject
        ("Facilities: Lost & Found", "Facilities: Lost and Found"),  # stop words
        ("IT: Log in", "IT: Login"),  # spacing
        ("Returns: Start-a-Return", "Returns: Start a Return"),
        ("Shiping", "Shipping"),  # bare categories
        ("Request: Order Cancellation", "Request: Cancel Order"),
    ],
)
def test_near_duplicates_are_recognised(a: str, b: str) -> None:
    assert similar_tags(Tag.parse(a), Tag.parse(b))
    assert similar_tags(Tag.parse(b), Tag.parse(a))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HR: Onboarding", "HR: Offboarding"),
        ("Account: Password Reset", "IT: Password Reset"),
        ("Request: Cancel Order", "Request: Change Order"),
        ("Request: Price Match", "Request: Price Adjustment"),
        ("Internal", "International"),
        ("IT", "HR"),
        ("Shipping", "Shipping: Late"),  # a bare category and one of its tags
        ("Complaint: Damaged Item", "Complaint: Missing Item"),
        ("Billing: Duplicate Charge", "Billing: Unrecognized Charge"),
    ],
)
def test_different_tags_are_not_near_duplicates(a: str, b: str) -> None:
    assert not similar_tags(Tag.parse(a), Tag.parse(b))


@pytest.mark.parametrize("root", [SAMPLE_PROCEDURES, DEV_SET / "procedures"], ids=["sample", "dev"])
def test_real_knowledge_bases_have_no_near_duplicates(root: Path) -> None:
    if not root.is_dir():
        pytest.skip(f"{root} is not there")
    assert near_duplicate_problems(load_procedures(root).procedures) == []


def test_suggestion_of_the_nearest_category() -> None:
    names = ["Account", "Complaint", "Shipping", "IT"]
    assert suggest("Complant", names) == "Complaint"
    assert suggest("complaints", names) == "Complaint"
    assert suggest("Acount", names) == "Account"
    assert suggest("Gizmos", names) is None


# ---- tags.yml itself --------------------------------------------------------------------------------
def test_vocabulary_is_read() -> None:
    vocabulary = parse_vocabulary(VOCABULARY, "tags.yml")
    assert vocabulary.problems == []
    assert vocabulary.description("complaint") == "A customer is unhappy."
    assert vocabulary.category("Complaint").review_days == 90
    assert vocabulary.category("Shipping").subjects is None
    assert vocabulary.category("Billing").subjects == ("Duplicate Charge", "Refund Status")
    assert vocabulary.require_owner


MALFORMED_VOCABULARIES = {
    "not-yaml": ("categories:\n  Complaint: [unclosed\n", ["tags.yml:3: error: not valid YAML"]),
    "empty": ("", ["tags.yml:1: error: the file is empty"]),
    "a-list": ("- Complaint\n- Shipping\n", ["tags.yml:1: error: must be 'field: value' lines"]),
    "no-categories": ("require_owner: true\n", ["tags.yml:1: error: no 'categories:'"]),
    "categories-a-list": ("categories:\n  - Complaint\n", ["tags.yml:2: error: 'categories' must hold"]),
    "no-description": (
        "categories:\n  Complaint:\n  Shipping: Parcels.\n",
        ["tags.yml:2: error: category 'Complaint' needs a one-line description"],
    ),
    "mapping-without-description": (
        "categories:\n  Complaint:\n    review_days: 30\n",
        ["tags.yml:2: error: category 'Complaint' needs a one-line description"],
    ),
    "bad-review-days": (
        "categories:\n  Complaint:\n    description: Unhappy.\n    review_days: soon\n",
        ["tags.yml:4: error: 'review_days' of 'Complaint' must be a whole number of days"],
    ),
    "bad-subjects": (
        "categories:\n  Complaint:\n    description: Unhappy.\n    subjects: Late\n",
        ["tags.yml:4: error: 'subjects' of 'Complaint' must be a list"],
    ),
    "colon-in-name": ('categories:\n  "Complaint: Late": Unhappy.\n', ["tags.yml:2: error: category 'Complaint: Late' contains a colon"]),
    "twice": (
        "categories:\n  Complaint: Unhappy.\n  complaint: Also unhappy.\n",
        ["tags.yml:3: error: category 'complaint' is listed twice"],
    ),
    "unknown-field": (
        "categories:\n  Complaint:\n    description: Unhappy.\n    colour: red\nowners: []\n",
        ["tags.yml:4: warning: unknown field 'colour' in category 'Complaint'", "tags.yml:5: warning: unknown field 'owners'"],
    ),
    "require-owner-not-bool": (
        "require_owner: maybe\ncategories:\n  A: B.\n",
        ["tags.yml:1: error: 'require_owner' must be true or false"],
    ),
}


@pytest.mark.parametrize(("text", "expected"), list(MALFORMED_VOCABULARIES.values()), ids=list(MALFORMED_VOCABULARIES))
def test_malformed_vocabulary_is_reported_with_its_line(text: str, expected: list[str]) -> None:
    problems = [str(p) for p in parse_vocabulary(text, "tags.yml").problems]
    assert len(problems) == len(expected), problems
    for line, start in zip(problems, expected, strict=True):
        assert line.startswith(start), problems


@pytest.mark.parametrize("case", ["not-yaml", "no-description", "bad-review-days"])
def test_kb_check_reports_a_broken_tags_file(tmp_path: Path, case: str) -> None:
    text, expected = MALFORMED_VOCABULARIES[case]
    write(tmp_path, {"tags.yml": text, "kb/a.md": procedure_text("A", ["Complaint: Late"], owner="Care")})
    done = check(tmp_path / "kb", "--tags-file", str(tmp_path / "tags.yml"), "check")
    assert done.returncode == 1
    assert any(line.startswith("../" + expected[0]) for line in problem_lines(done.stdout)), done.stdout


def test_missing_tags_file_is_a_clear_error(tmp_path: Path) -> None:
    write(tmp_path, {"kb/a.md": procedure_text("A", ["Complaint: Late"])})
    done = check(tmp_path / "kb", "--tags-file", str(tmp_path / "nope.yml"), "check")
    assert done.returncode == 2
    assert "tag vocabulary" in done.stderr and "nope.yml" in done.stderr and "does not exist" in done.stderr


# ---- kb check with a vocabulary ---------------------------------------------------------------------
def test_vocabulary_warnings_through_kb_check(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "tags.yml": VOCABULARY,
            "kb/ok.md": procedure_text("Fine", ["Complaint: Late Delivery", "Shipping"], owner="Care"),
            "kb/typo.md": procedure_text("Typo category", ["Shipping", "Complant: Rude Driver"], owner="Care"),
            "kb/unknown.md": procedure_text("Unknown category", ["Gizmos"], owner="Care"),
            "kb/case.md": procedure_text("Lower case", ["complaint: Lost Parcel"], owner="Care"),
            "kb/subject.md": procedure_text("Unlisted subject", ["Billing: Refund Stats"], owner="Care"),
            "kb/no-owner.md": procedure_text("Nobody owns it", ["Shipping"]),
            "kb/empty-owner.md": procedure_text("Empty owner", ["Shipping"], owner=""),
        },
    )
    done = check(tmp_path / "kb", "--tags-file", str(tmp_path / "tags.yml"), "check")
    assert done.returncode == 0, done.stdout + done.stderr  # warnings only
    assert problem_lines(done.stdout) == [
        "case.md:4: warning: tag category 'complaint' is written 'Complaint' in tags.yml",
        "empty-owner.md:5: warning: 'owner' is empty: add a line 'owner: Team name' (the team that keeps this procedure correct)",
        "no-owner.md:1: warning: no 'owner': add a line 'owner: Team name' (the team that keeps this procedure correct)",
        "subject.md:4: warning: subject 'Refund Stats' is not listed under 'Billing' in tags.yml: did you mean 'Billing: Refund Status'?",
        "typo.md:5: warning: unknown tag category 'Complant': did you mean 'Complaint' ('Complaint: Rude Driver')?",
        "unknown.md:4: warning: unknown tag category 'Gizmos': use a category of tags.yml or add it there with a description",
    ]
    strict = check(tmp_path / "kb", "--tags-file", str(tmp_path / "tags.yml"), "check", "--strict")
    assert strict.returncode == 1


def test_without_a_vocabulary_there_are_no_vocabulary_warnings(tmp_path: Path) -> None:
    """load_procedures and kb check work as before on a folder without tags.yml (owner is optional in the format)."""
    write(tmp_path, {"kb/a.md": procedure_text("Nobody owns it", ["Gizmos: Whatever"])})
    assert load_procedures(tmp_path / "kb").problems == []
    done = check(tmp_path / "kb", "check", "--strict")
    assert done.returncode == 0 and problem_lines(done.stdout) == []


def test_require_owner_can_be_switched_off(tmp_path: Path) -> None:
    write(tmp_path, {"tags.yml": "require_owner: false\n" + VOCABULARY, "kb/a.md": procedure_text("Nobody owns it", ["Shipping"])})
    done = check(tmp_path / "kb", "--tags-file", str(tmp_path / "tags.yml"), "check", "--strict")
    assert done.returncode == 0, done.stdout


def test_tags_file_is_found_beside_mkdocs_yml_and_through_its_option(tmp_path: Path) -> None:
    """Without --procedures, kb reads ./mkdocs.yml: docs_dir, then the kb plugin's tags_file, else ./tags.yml."""
    write(
        tmp_path,
        {
            "mkdocs.yml": "site_name: X\ndocs_dir: docs\ntheme:\n  name: material\nplugins:\n  - kb\n",
            "tags.yml": VOCABULARY,
            "docs/a.md": procedure_text("A", ["Gizmos"], owner="Care"),
        },
    )
    done = run_kb("check", cwd=tmp_path)
    assert "a.md:4: warning: unknown tag category 'Gizmos'" in done.stdout
    (tmp_path / "tags.yml").rename(tmp_path / "vocabulary.yml")
    assert "Gizmos" not in run_kb("check", cwd=tmp_path).stdout
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: X\ndocs_dir: docs\ntheme:\n  name: material\nplugins:\n  - kb:\n      tags_file: vocabulary.yml\n", encoding="utf-8"
    )
    assert "a.md:4: warning: unknown tag category 'Gizmos'" in run_kb("check", cwd=tmp_path).stdout


def test_near_duplicates_of_a_collection_are_its_alike_pairs() -> None:
    # Whatever the grouping that spares comparisons, the errors are those of comparing every pair:
    # a spelling with an alike (similar_tags), better-ranked spelling gets an error on each use,
    # naming such a spelling; every other spelling gets none.
    import datetime
    import random
    from types import SimpleNamespace

    categories = ["Complaint", "Complaints", "complaint", "Billing", "Biling", "Log in", "Login", "IT", "Shipping", "Shipment"]
    subjects = ["Late Shipment", "late shipping", "Shipment Late", "Refund", "Refunds", "Log in", "Login", "", "Onboarding",
                "Offboarding", "Damaged item", "Item damaged", "Cancel order", "Order cancellation", "Pass word", "Password",
                "Over charge", "Overcharge"]  # fmt: skip
    rng = random.Random(7)
    duplicates = 0
    for _ in range(60):
        procedures = []
        for number in range(rng.randint(2, 12)):
            tags = [Tag.parse(f"{rng.choice(categories)}: {rng.choice(subjects)}") for _ in range(rng.randint(1, 3))]
            reviewed = datetime.date(2025, rng.randint(1, 12), 1) if rng.random() < 0.8 else None
            procedures.append(SimpleNamespace(path=f"p{number}.md", tags=tags, reviewed=reviewed, field_lines={}))
        users: dict[str, list[SimpleNamespace]] = {}
        labels: dict[str, str] = {}
        for procedure in procedures:
            for tag in procedure.tags:
                users.setdefault(tag.key, []).append(procedure)
                labels[tag.key] = tag.label

        never = datetime.date.max
        rank = {
            key: (-len(found), min((p.reviewed for p in found if p.reviewed is not None), default=never), labels[key].casefold())
            for key, found in users.items()
        }
        reported: dict[str, set[str]] = {}
        for problem in near_duplicate_problems(procedures):
            label, reference = problem.message.split("'")[1], problem.message.split("'")[3]
            reported.setdefault(label, set()).add(problem.path)
            assert similar_tags(Tag.parse(label), Tag.parse(reference)), problem.message
        for key, label in labels.items():
            better = [other for other in labels if rank[other] < rank[key] and similar_tags(Tag.parse(label), Tag.parse(labels[other]))]
            assert reported.get(label, set()) == ({p.path for p in users[key]} if better else set()), label
            duplicates += bool(better)
    assert duplicates > 50


# ---- near-duplicates through kb check ---------------------------------------------------------------
def test_near_duplicate_tag_is_an_error_on_the_rarer_spelling(tmp_path: Path) -> None:
    root = write(
        tmp_path / "kb",
        {
            "complaints/late.md": procedure_text("Late parcel", ["Complaint: Late Shipment"], reviewed="2026-01-05"),
            "complaints/slow.md": procedure_text("Slow parcel", ["Shipping", "Complaint: Late Shipment"], reviewed="2026-02-01"),
            "orders/new.md": procedure_text("Where is my order", ["Shipping", "Complaints: Late shipping"], reviewed="2026-03-01"),
        },
    )
    done = check(root, "check")
    assert done.returncode == 1
    assert problem_lines(done.stdout) == [
        "orders/new.md:5: error: tag 'Complaints: Late shipping' is a near-duplicate of 'Complaint: Late Shipment' "
        "(used in complaints/late.md, complaints/slow.md); use 'Complaint: Late Shipment'"
    ]
    github = check(root, "check", "--format", "github")
    assert (
        f"::error file={(root / 'orders/new.md').as_posix()},line=5::tag 'Complaints: Late shipping' is a near-duplicate" in github.stdout
    )


def test_near_duplicate_tie_points_at_the_newer_spelling(tmp_path: Path) -> None:
    root = write(
        tmp_path / "kb",
        {
            "old.md": procedure_text("Old one", ["Complaint: Late Shipment"], reviewed="2025-01-01"),
            "new.md": procedure_text("New one", ["Complaint: Shipment Late"], reviewed="2026-06-01"),
        },
    )
    lines = problem_lines(check(root, "check").stdout)
    assert lines == [
        "new.md:4: error: tag 'Complaint: Shipment Late' is a near-duplicate of 'Complaint: Late Shipment' (used in old.md); "
        "use 'Complaint: Late Shipment'"
    ]


def test_the_spelling_in_tags_yml_is_the_reference(tmp_path: Path) -> None:
    vocabulary = "categories:\n  Complaint:\n    description: Unhappy.\n    subjects: [Late Shipment]\n"
    write(
        tmp_path,
        {
            "tags.yml": vocabulary,
            "kb/a.md": procedure_text("A", ["Complaint: Late Shipments"], owner="Care"),
            "kb/b.md": procedure_text("B", ["Complaint: Late Shipments"], owner="Care"),
            "kb/c.md": procedure_text("C", ["Complaint: Late Shipment"], owner="Care"),
        },
    )
    done = check(tmp_path / "kb", "--tags-file", str(tmp_path / "tags.yml"), "check")
    errors = [line for line in problem_lines(done.stdout) if ": error: " in line]
    assert [line.split(":")[0] for line in errors] == ["a.md", "b.md"]
    assert all("near-duplicate of 'Complaint: Late Shipment' (used in c.md)" in line for line in errors)


# ---- the site -----------------------------------------------------------------------------------------
def mkdocs_build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KB_INDEX_DIR": str(root / ".index"), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("KB_SYNONYMS", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args], capture_output=True, text=True, cwd=root, env=env, timeout=300, check=False
    )


def test_site_tags_page_shows_descriptions_and_the_build_checks_the_vocabulary(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "mkdocs.yml": "site_name: X\ndocs_dir: docs\ntheme:\n  name: material\nplugins:\n  - kb\n",
            "tags.yml": VOCABULARY.replace("Parcels on their way.", "Parcels on their way <b>&</b> back."),
            "docs/a.md": procedure_text("A", ["Complaint: Late Delivery", "Shipping"], owner="Care"),
        },
    )
    done = mkdocs_build(tmp_path, "--strict")
    assert done.returncode == 0, done.stderr
    tags = (tmp_path / "site" / "tags" / "index.html").read_text(encoding="utf-8")
    assert '<p class="kb-category-description">A customer is unhappy.</p>' in tags
    assert "Parcels on their way &lt;b&gt;&amp;&lt;/b&gt; back." in tags  # escaped
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'title="A customer is unhappy."' in home

    # An unknown category is a warning: --strict fails with the kb check line.
    (tmp_path / "docs" / "b.md").write_text(procedure_text("B", ["Complant: Rude Driver"], owner="Care"), encoding="utf-8")
    done = mkdocs_build(tmp_path, "--strict")
    assert done.returncode != 0
    assert "b.md:4: warning: unknown tag category 'Complant': did you mean 'Complaint'" in done.stderr
    # A near-duplicate is an error: the build fails even without --strict.
    (tmp_path / "docs" / "c.md").write_text(procedure_text("C", ["Complaints: Late delivery"], owner="Care"), encoding="utf-8")
    done = mkdocs_build(tmp_path)
    assert done.returncode != 0
    assert "c.md:4: error: tag 'Complaints: Late delivery' is a near-duplicate of 'Complaint: Late Delivery' (used in a.md)" in done.stderr


def test_sample_tags_yml_describes_every_category() -> None:
    vocabulary = parse_vocabulary((ROOT / "tags.yml").read_text(encoding="utf-8"), "tags.yml")
    assert vocabulary.problems == []
    used = {tag.category for p in load_procedures(SAMPLE_PROCEDURES).procedures for tag in p.tags}
    assert used == {rule.name for rule in vocabulary.categories.values()}
    assert all(rule.description for rule in vocabulary.categories.values())


def test_sample_passes_strict_check_with_its_vocabulary() -> None:
    done = run_kb("check", "--strict")  # from the repository: mkdocs.yml and tags.yml
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s), 0 warning(s)" in done.stderr
    tags = json.loads(run_kb("tags", "--json").stdout)
    assert all(category["description"] for category in tags)
