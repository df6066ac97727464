"""What a new editor or rep trips over first: kb new's category spelling, output wrapped to the
terminal, an unknown --tag, kb show by the site's paths, kb run from inside the project."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import procedure_text, run_kb
from .test_editing import Terminal

VOCABULARY = "categories:\n  Billing: Money.\n  Delivery: Parcels on their way.\n  Complaint: Unhappy customers.\n"
FILES = {
    "money/refund.md": procedure_text("Refund a charge", ["Billing: Refund"], owner="Billing Ops"),
    "parcels/late.md": procedure_text("Late parcel", ["Delivery: Late"], owner="Couriers"),
    "fulfillment/lost-parcel.md": procedure_text("Lost parcel", ["Complaint: Lost Parcel"], owner="Care"),
}


def make_project(root: Path, vocabulary: bool = True) -> Path:
    """A project as `mkdocs new` would lay it out: mkdocs.yml, procedures/, tags.yml."""
    (root / "mkdocs.yml").write_text("site_name: Test\ndocs_dir: procedures\nplugins:\n  - kb\n", encoding="utf-8")
    for rel, text in FILES.items():
        path = root / "procedures" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if vocabulary:
        (root / "tags.yml").write_text(VOCABULARY, encoding="utf-8")
    return root


def kb(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = run_kb(*args, cwd=cwd, stdin="", env=env)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def procedure_files(root: Path) -> list[Path]:
    return sorted((root / "procedures").rglob("*"))


# ---- 4. kb new proposes the vocabulary's spelling of a category -----------------------------------
def test_new_refuses_a_misspelt_category_outside_a_terminal(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    before = procedure_files(root)
    done = kb(root, "new", "Biling: Gift Card", "--title", "Gift card balance")
    assert done.returncode == 2
    assert "unknown tag category 'Biling': did you mean 'Billing'? Give 'Billing: Gift Card'" in done.stderr
    assert procedure_files(root) == before  # no biling/ folder, no file


def test_new_offers_the_known_category_in_a_terminal(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    terminal = Terminal(["new", "Biling: Gift Card", "--title", "Gift card balance"], root)
    terminal.answer("")  # "use 'Billing' instead? [Y/n]"
    assert terminal.finish() == 0, terminal.text
    assert "Category 'Biling' is not in the tag vocabulary; use 'Billing' instead? [Y/n]" in terminal.text
    written = root / "procedures" / "money" / "gift-card-balance.md"  # the folder of Billing procedures
    assert '  - "Billing: Gift Card"' in written.read_text(encoding="utf-8")
    assert not (root / "procedures" / "biling").exists()


def test_new_uses_the_vocabulary_spelling_of_a_category_and_says_so(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = kb(root, "new", "delivery: leave with neighbor", "--title", "Leave with a neighbour")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "procedures/parcels/leave-with-a-neighbour.md"
    assert "category 'delivery' is written 'Delivery' in tags.yml: using 'Delivery'" in done.stderr
    text = (root / "procedures" / "parcels" / "leave-with-a-neighbour.md").read_text(encoding="utf-8")
    assert '  - "Delivery: leave with neighbor"' in text


def test_new_without_a_vocabulary_warns_about_a_near_duplicate_category(tmp_path: Path) -> None:
    root = make_project(tmp_path, vocabulary=False)
    done = kb(root, "new", "Biling: Gift Card", "--title", "Gift card balance")
    assert done.returncode == 0, done.stderr
    note = "category 'Biling' looks like 'Billing'"
    assert note in done.stderr and done.stderr.index(note) < done.stderr.index("Next:")
    done = kb(root, "new", "billing: Late Fee", "--title", "Late fee")
    assert "category 'billing' is written 'Billing' in the other procedures" in done.stderr
    assert '  - "Billing: Late Fee"' in (root / "procedures" / "money" / "late-fee.md").read_text(encoding="utf-8")


# ---- 5. output wrapped to the terminal ------------------------------------------------------------------
def test_snippets_and_matched_lines_wrap_to_the_terminal_width(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    body = "## Steps\n\n" + "\n".join(
        f"{n}. Check the Tidewater OMS order screen and the warehouse parcel scan before any refund." for n in range(1, 6)
    )
    body += "\n\n## Alternate methods\n\n### Refund from the warehouse parcel screen at once\nRefund the parcel from the screen.\n"
    body += "\n### Ask the Tidewater parcel desk for the refund\nThe Tidewater desk refunds the parcel.\n"
    path = root / "oms.md"
    path.parent.mkdir(parents=True)
    keywords = ["tidewater parcel refund", "order management system screen", "warehouse scan lookup"]
    summary = "Find a parcel in the Tidewater OMS when the customer asks for a refund."
    path.write_text(procedure_text("Tidewater order lookup", ["Orders"], body=body, keywords=keywords, summary=summary), encoding="utf-8")
    done = kb(tmp_path, "--procedures", "kb", "search", "tidewater", "parcel", "refund", "warehouse", "screen", COLUMNS="60")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 60, done.stdout
    matched = next(i for i, line in enumerate(lines) if line.strip().startswith("matched:"))
    end = next(i for i, line in enumerate(lines) if line.strip() == "oms.md")
    assert end > matched + 1 and all(line.startswith("    ") for line in lines[matched:end])  # wrapped, indented
    joined = " ".join(line.strip() for line in lines[matched:end])
    assert joined.endswith("alternate method: Ask the Tidewater parcel desk for the refund"), done.stdout
    words = " ".join(line.strip() for line in lines[:matched] if "[" in line)
    assert "[Tidewater] OMS" in words  # no word cut across lines


def test_an_unknown_tag_filter_is_named_with_a_suggestion(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = kb(root, "search", "refund", "--tag", "Bilin")
    assert done.returncode == 0
    assert done.stdout.strip() == "No procedure has the tag 'Bilin'. Did you mean: Billing"
    done = kb(root, "search", "zzz", "--tag", "Billing")  # a known tag: the usual answer
    assert done.stdout.startswith("No results for 'zzz'")


@pytest.mark.parametrize(
    "given",
    [
        "fulfillment/lost-parcel",
        "fulfillment/lost-parcel/",
        "/fulfillment/lost-parcel/",
        "kb/fulfillment/lost-parcel/",
        "https://example.org/kb/fulfillment/lost-parcel/#steps",
    ],
)
def test_show_accepts_the_path_without_md_and_the_site_url(tmp_path: Path, given: str) -> None:
    root = make_project(tmp_path)
    done = kb(root, "show", given)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Lost parcel\n")


def test_show_still_refuses_what_is_not_there(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = kb(root, "show", "fulfillment/missing/")
    assert done.returncode == 2 and "no procedure at 'fulfillment/missing/'" in done.stderr


# ---- 5. kb from inside the project ---------------------------------------------------------------------
@pytest.mark.parametrize("inside", ["procedures", "procedures/fulfillment"])
def test_kb_works_from_inside_the_procedures_folder(tmp_path: Path, inside: str) -> None:
    root = make_project(tmp_path)
    (root / "procedures" / "money" / "refund.md").write_text(
        procedure_text("Refund a charge", ["Biling: Refund"], owner="Billing Ops"), encoding="utf-8"
    )
    cwd = root / inside
    here = "lost-parcel.md" if inside.endswith("fulfillment") else "fulfillment/lost-parcel.md"
    done = kb(cwd, "check", here)
    assert done.returncode == 0, done.stderr
    assert "1 of 3 file(s) checked" in done.stderr
    done = kb(cwd, "check")
    assert "did you mean 'Billing'" in done.stdout  # tags.yml of the project was found
    results = json.loads(kb(cwd, "search", "--json", "lost", "parcel").stdout)["results"]
    assert results[0]["path"] == "fulfillment/lost-parcel.md"


def test_kb_new_from_a_subfolder_writes_into_the_project(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    done = kb(root / "procedures" / "money", "new", "Billing: Gift Card", "--title", "Gift card balance")
    assert done.returncode == 0, done.stderr
    assert (root / "procedures" / "money" / "gift-card-balance.md").is_file()
    assert done.stdout.strip() == "gift-card-balance.md"
