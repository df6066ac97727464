"""What the user gives `kb` never loses their files or every other answer: symlink loops in the
procedures folder, file names that are not UTF-8, tags in any script, bad bytes in arguments and
on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from search.model import Tag, list_procedure_files, load_procedures
from search.vocabulary import similar_tags

from .conftest import ROOT, procedure_text, run_kb

BAD_NAME = b"caf\xe9-item.md"


def write(root: Path, rel: str, title: str, tags: list[str], **fields: object) -> Path:
    """A procedure file; tags are written as they are (YAML cannot read JSON's escaped emoji)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    text = procedure_text(title, ["placeholder"], **fields)
    path.write_text(text.replace('  - "placeholder"', "\n".join(f'  - "{tag}"' for tag in tags)), encoding="utf-8")
    return path


@pytest.fixture
def kb_folder(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    write(root, "complaints/damaged.md", "Damaged item", ["Complaint: Damaged Item"], owner="Care")
    write(root, "complaints/late.md", "Late delivery", ["Complaint: Late Delivery"], owner="Care")
    write(root, "billing/refund.md", "Refund a charge", ["Billing: Refund"], owner="Money")
    return root


def kb(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = run_kb("--procedures", str(root), *args, stdin=stdin if stdin is not None else "")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


# ---- 5. symlink loops ------------------------------------------------------------------------------
def test_a_symlink_loop_counts_each_procedure_once(kb_folder: Path) -> None:
    (kb_folder / "complaints" / "up").symlink_to("..")
    assert sorted(list_procedure_files(kb_folder)) == ["billing/refund.md", "complaints/damaged.md", "complaints/late.md"]
    done = kb(kb_folder, "check")
    assert "3 file(s) checked" in done.stderr
    assert "complaints/up" in done.stdout and "not followed" in done.stdout  # the editor learns why


def test_two_symlink_loops_do_not_multiply_the_walk(kb_folder: Path) -> None:
    (kb_folder / "complaints" / "up").symlink_to("..")
    (kb_folder / "billing" / "again").symlink_to("../complaints")
    assert len(list_procedure_files(kb_folder)) == 3
    loaded = load_procedures(kb_folder)
    assert sorted(p.path for p in loaded.procedures) == ["billing/refund.md", "complaints/damaged.md", "complaints/late.md"]
    for args in (["index"], ["search", "--json", "damaged"], ["tags", "--json"]):
        done = kb(kb_folder, *args)
        assert done.returncode == 0, done.stderr
    results = json.loads(kb(kb_folder, "search", "--json", "damaged").stdout)["results"]
    assert [r["path"] for r in results] == ["complaints/damaged.md"]


def test_a_symlinked_file_is_still_read(kb_folder: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "shared", "policy.md", "Shared policy", ["Policy"])
    (kb_folder / "policy.md").symlink_to(outside)
    assert "policy.md" in list_procedure_files(kb_folder)


# ---- 6. file names that are not UTF-8 ------------------------------------------------------------------
@pytest.fixture
def bad_name(kb_folder: Path) -> Path:
    text = procedure_text("Cafe item", ["Complaint: Damaged Item"], owner="Care").encode()
    with open(os.path.join(os.fsencode(kb_folder / "complaints"), BAD_NAME), "wb") as handle:
        handle.write(text)
    return kb_folder


def test_check_reports_a_file_name_that_is_not_utf8(bad_name: Path) -> None:
    done = kb(bad_name, "check")
    assert done.returncode == 1
    assert "complaints/caf\\xe9-item.md:1: error: file name is not UTF-8" in done.stdout
    as_json = kb(bad_name, "check", "--format", "json")
    assert any(p["path"] == "complaints/caf\\xe9-item.md" for p in json.loads(as_json.stdout))


def test_search_and_index_skip_a_file_name_that_is_not_utf8(bad_name: Path) -> None:
    assert kb(bad_name, "index").returncode == 0
    done = kb(bad_name, "search", "--json", "damaged")
    assert done.returncode == 0
    assert [r["path"] for r in json.loads(done.stdout)["results"]] == ["complaints/damaged.md"]
    assert kb(bad_name, "tags").returncode == 0


# ---- 7. tags in other scripts -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("退款: 延迟", "配送: 遅延"),
        ("退款: 延迟", "Возврат: Задержка"),
        ("配送: 遅延", "🎉: ✈️"),
        ("Возврат: Задержка", "Доставка: Задержка"),
    ],
)
def test_distinct_words_in_any_script_are_distinct_tags(a: str, b: str) -> None:
    assert not similar_tags(Tag.parse(a), Tag.parse(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Biling", "Billing"),
        ("Возврат: Задержка", "Возврат: Задержки"),
        ("配送: 遅 延", "配送: 遅延"),
        ("Ünïcode: Ärger", "unicode: arger"),
    ],
)
def test_near_duplicates_are_still_caught_in_any_script(a: str, b: str) -> None:
    assert similar_tags(Tag.parse(a), Tag.parse(b))


def test_check_and_new_accept_tags_in_other_scripts(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    write(root, "cn/refund.md", "退款", ["退款: 延迟"])
    write(root, "jp/delivery.md", "配送", ["配送: 遅延"])
    write(root, "ru/return.md", "Возврат", ["Возврат: Задержка"])
    write(root, "fun/party.md", "Party", ["🎉: ✈️"])
    done = kb(root, "check")
    assert "near-duplicate" not in done.stdout and done.returncode == 0, done.stdout
    created = kb(root, "new", "配送: 返品", "--title", "返品の配送")
    assert created.returncode == 0, created.stderr


# ---- 8. bad bytes ----------------------------------------------------------------------------------------
def run_kb_bytes(*args: bytes, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The command line with raw bytes as arguments and stdin, as a shell passes them."""
    return subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"search", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
        check=False,
    )


def test_new_with_a_title_that_is_not_utf8_writes_nothing(kb_folder: Path) -> None:
    before = sorted(kb_folder.rglob("*"))
    done = run_kb_bytes(b"--procedures", b"kb", b"new", b"Complaint: Odd", b"--title", b"caf\xe9 order", cwd=kb_folder.parent)
    assert done.returncode == 2 and b"internal error" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(kb_folder.rglob("*")) == before
    again = kb(kb_folder, "new", "Complaint: Odd", "--title", "cafe order")
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["new", "Complaint: Odd", "--title", "X", "--area", "a\x01b"],
        ["new", "Complaint: Odd", "--title", "X\x1b[2J"],
        ["search", "late\x07"],
        ["search", "late", "--tag", "Billing\x01"],
        ["show", "complaints/late.md\x7f"],
    ],
)
def test_control_characters_in_arguments_are_a_usage_error(kb_folder: Path, args: list[str]) -> None:
    before = sorted(kb_folder.rglob("*"))
    done = run_kb_bytes(b"--procedures", b"kb", *(a.encode() for a in args), cwd=kb_folder.parent)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count(b"\n") == 1 and b"control character" in done.stderr, done.stderr
    assert sorted(kb_folder.rglob("*")) == before


def test_a_nul_byte_in_an_argument_is_a_usage_error(kb_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The operating system cannot pass a NUL in argv; a program calling main() can.
    from search.cli import main

    before = sorted(kb_folder.rglob("*"))
    assert main(["--procedures", str(kb_folder), "new", "Complaint: Odd", "--title", "X", "--area", "a\x00b"]) == 2
    err = capsys.readouterr().err
    assert err == "kb: error: argument 'a\\x00b' contains a control character (\\x00): type it again without\n"
    assert sorted(kb_folder.rglob("*")) == before


def test_batch_search_answers_every_line_it_can_decode(kb_folder: Path) -> None:
    stdin = b"damaged\ncaf\xe9 late\nrefund\n"
    done = run_kb_bytes(b"--procedures", b"kb", b"search", b"-", cwd=kb_folder.parent, stdin=stdin)
    assert b"internal error" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(lines) == 3
    assert lines[0]["q"] == "damaged" and lines[0]["results"][0]["path"] == "complaints/damaged.md"
    assert "error" in lines[1] and "UTF-8" in lines[1]["error"] and lines[1]["line"] == 2
    assert lines[2]["q"] == "refund" and lines[2]["results"][0]["path"] == "billing/refund.md"
    assert done.returncode == 1


def test_a_file_name_with_a_control_character_is_reported_and_skipped(kb_folder: Path) -> None:
    (kb_folder / "complaints" / "odd\x1bname.md").write_text(procedure_text("Odd name", ["Complaint: Odd"]), encoding="utf-8")
    assert "complaints/odd\x1bname.md" not in list_procedure_files(kb_folder)
    done = kb(kb_folder, "check")
    assert "complaints/odd\\x1bname.md:1: error: file name contains a control character" in done.stdout


def test_new_leaves_no_temporary_file_when_the_name_is_taken(kb_folder: Path) -> None:
    before = sorted(kb_folder.rglob("*"))
    done = kb(kb_folder, "new", "Complaint: Damaged Item", "--title", "Damaged")
    assert done.returncode == 2 and "already exists" in done.stderr
    assert sorted(kb_folder.rglob("*")) == before
