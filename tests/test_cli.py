"""The `kb` command line end to end, run in a subprocess as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import procedure_text, run_kb

PROCEDURES = {
    "it/password-reset.md": procedure_text(
        "Password reset",
        ["IT: Password Reset", "Security"],
        body="""
            Use this when an employee is locked out.

            ## Steps

            1. Verify the employee's badge number.
            2. Reset the password in the identity portal and the authenticator app.

            ## Alternate methods

            ### Reset by phone
            Call the service desk and read the ticket number.

            ### Temporary passcode
            Issue a one-time passcode valid for one hour.
        """,
        keywords=["forgot password", "locked out"],
        summary="An employee cannot sign in and needs a new password.",
    ),
    "billing/duplicate-charge.md": procedure_text(
        "Refund a duplicate charge", ["Billing: Duplicate Charge"], body="## Steps\n\n1. Refund the second charge in the ledger.\n"
    ),
    "billing/late-fee.md": procedure_text(
        "Waive a late fee", ["Billing: Late Fee"], body="## Steps\n\n1. Waive the late fee once a year.\n"
    ),
    "complaints/late-shipment.md": procedure_text(
        "Late shipment complaint",
        ["Complaint: Late Shipment", "Shipping"],
        body="## Steps\n\n1. Look up the order and the carrier scan.\n2. Offer a refund of the shipping charge.\n",
    ),
    "returns/return-label.md": procedure_text(
        "Send a return label", ["Returns", "Shipping"], body="## Steps\n\n1. Email the prepaid label.\n"
    ),
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory):
    """One procedures folder and one built index for the whole module: kb(*args) runs the CLI on them."""
    base = tmp_path_factory.mktemp("cli")
    root, index_dir = base / "kb", base / "index"
    for rel, text in PROCEDURES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def run(*args: str, stdin: str | None = None):
        result = run_kb("--procedures", str(root), "--index-dir", str(index_dir), *args, stdin=stdin)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    built = run("index")
    assert built.returncode == 0, built.stderr
    run.root = root  # type: ignore[attr-defined]
    return run


def no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


# ---- search --------------------------------------------------------------------------------
def test_search_prints_title_tags_path_and_matched(kb) -> None:
    result = kb("search", "password", "reset")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0].startswith("1. Password reset")
    assert "IT: Password Reset  Security" in lines
    assert "it/password-reset.md" in lines
    assert any(line.startswith("matched: ") and "title" in line for line in lines)
    assert str(kb.root) not in result.stdout  # paths are relative to the procedures folder


def test_search_json(kb) -> None:
    result = kb("search", "--json", "late")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["q"] == "late"
    results = data["results"]
    assert {r["path"] for r in results} >= {"billing/late-fee.md", "complaints/late-shipment.md"}
    for r in results:
        assert set(r) == {"path", "title", "tags", "score", "matched"}
        assert isinstance(r["title"], str) and r["title"]
        assert isinstance(r["tags"], list) and all(isinstance(t, str) for t in r["tags"])
        assert isinstance(r["score"], int | float)
        assert isinstance(r["matched"], list) and r["matched"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


def test_search_limit(kb) -> None:
    full = json.loads(kb("search", "--json", "late").stdout)["results"]
    assert len(full) >= 2
    one = kb("search", "--json", "--limit", "1", "late")
    assert one.returncode == 0
    results = json.loads(one.stdout)["results"]
    assert [r["path"] for r in results] == [full[0]["path"]]
    text = kb("search", "--limit", "1", "late")
    assert "1 of " in text.stdout and "--limit N shows more" in text.stdout


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("Billing", {"billing/late-fee.md"}), ("complaint: late shipment", {"complaints/late-shipment.md"}), ("Returns", set())],
)
def test_search_tag_filter(kb, tag: str, expected: set[str]) -> None:
    result = kb("search", "--json", "--tag", tag, "late")
    assert result.returncode == 0, result.stderr
    assert {r["path"] for r in json.loads(result.stdout)["results"]} == expected


def test_batch_mode(kb) -> None:
    queries = ["password", "duplicate charge", "return label"]
    result = kb("search", "-", stdin="\n".join(queries) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    answers = [json.loads(line) for line in lines]
    assert [a["q"] for a in answers] == queries
    assert [a["results"][0]["path"] for a in answers] == ["it/password-reset.md", "billing/duplicate-charge.md", "returns/return-label.md"]
    for answer in answers:
        for r in answer["results"]:
            assert set(r) == {"path", "title", "tags", "score", "matched"}


def test_misspelled_word_is_corrected(kb) -> None:
    result = kb("search", "paswrod", "zzqx")
    assert result.returncode == 0
    assert "paswrod → password" in result.stdout
    assert "it/password-reset.md" in result.stdout


def test_no_results_suggests_spelling(kb) -> None:
    # Three typing mistakes: too many to search for, close enough to suggest.
    result = kb("search", "athuenticatr", "zzqx")
    assert result.returncode == 0
    assert "No results for 'athuenticatr zzqx'." in result.stdout
    assert "Did you mean: authenticator" in result.stdout
    data = json.loads(kb("search", "--json", "athuenticatr", "zzqx").stdout)
    assert data["results"] == [] and data["did_you_mean"] == "authenticator"


# ---- show / tags -----------------------------------------------------------------------------
def test_show(kb) -> None:
    result = kb("show", "it/password-reset.md")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines[0] == "Password reset"
    assert "STEPS" in lines and "ALTERNATE METHODS" in lines
    assert lines.index("STEPS") < lines.index("ALTERNATE METHODS")
    assert "▸ Reset by phone" in lines and "▸ Temporary passcode" in lines
    assert any("Reset the password in the identity portal" in line for line in lines)


def test_show_missing_file(kb) -> None:
    result = kb("show", "missing.md")
    assert result.returncode == 2
    assert "no procedure at 'missing.md'" in result.stderr
    assert result.stdout == ""


def test_tags(kb) -> None:
    result = kb("tags")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for expected in ["Billing (2)", "  Duplicate Charge (1)", "  Late Fee (1)", "IT (1)", "  Password Reset (1)", "Shipping (2)"]:
        assert expected in lines, result.stdout

    data = json.loads(kb("tags", "--json").stdout)
    by_category = {c["category"]: c for c in data}
    assert set(by_category) == {"Billing", "Complaint", "IT", "Returns", "Security", "Shipping"}
    assert by_category["Billing"]["count"] == 2
    assert [s["tag"] for s in by_category["Billing"]["subjects"]] == ["Billing: Duplicate Charge", "Billing: Late Fee"]
    assert by_category["Shipping"]["procedures"] == ["complaints/late-shipment.md", "returns/return-label.md"]


# ---- index freshness (own folder and index per test) -----------------------------------------
def test_index_twice_reports_nothing_to_do(write_procedure) -> None:
    write_procedure("a.md", "Alpha procedure", ["Shipping"])
    write_procedure("b/b.md", "Beta procedure", ["Returns"])
    root = str(write_procedure.root)
    first = run_kb("--procedures", root, "index")
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout
    second = run_kb("--procedures", root, "index")
    assert second.returncode == 0, second.stderr
    assert "0 added, 0 updated, 0 removed, 2 unchanged" in second.stdout


def test_search_notices_edited_and_deleted_files(write_procedure) -> None:
    path = write_procedure("a.md", "Alpha procedure", ["Shipping"], body="## Steps\n\n1. Weigh the parcel.\n")
    other = write_procedure("b.md", "Beta procedure", ["Returns"], body="## Steps\n\n1. Print the zebra label.\n")
    root = str(write_procedure.root)

    def paths(query: str) -> list[str]:
        """The procedures found by their words (the meaning signal may add others, close in meaning)."""
        result = run_kb("--procedures", root, "search", "--json", query)
        assert result.returncode == 0, result.stderr
        results = json.loads(result.stdout)["results"]
        return [r["path"] for r in results if any(not m.startswith("meaning: ") for m in r["matched"])]

    assert paths("flamingo") == []
    write_procedure("a.md", "Alpha procedure", ["Shipping"], body="## Steps\n\n1. Weigh the flamingo crate.\n")
    assert path.read_text().count("flamingo") == 1
    assert paths("flamingo") == ["a.md"]
    other.unlink()
    assert paths("zebra") == []
    assert paths("procedure") == ["a.md"]


def test_snippet_reads_headings_and_list_items_as_sentences(write_procedure) -> None:
    body = "Use this for a caller.\n\n## Steps\n\n1. Verify the caller\n2. Open the order\n"
    write_procedure("a.md", "Alpha procedure", ["Shipping"], body=body)
    result = run_kb("--procedures", str(write_procedure.root), "search", "verify", env={"NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "Use this for a caller. Steps: [Verify] the caller. Open the order." in result.stdout


# ---- where the procedures are ----------------------------------------------------------------
def _folder(base: Path, name: str, title: str) -> None:
    (base / name).mkdir(parents=True)
    (base / name / "only.md").write_text(procedure_text(title, ["Shipping"]), encoding="utf-8")


def test_default_folder_is_docs_dir_of_mkdocs_yml(tmp_path: Path) -> None:
    _folder(tmp_path, "stuff", "From the stuff folder")
    _folder(tmp_path, "procedures", "From the procedures folder")
    (tmp_path / "mkdocs.yml").write_text("site_name: Test KB\ndocs_dir: stuff\n", encoding="utf-8")
    result = run_kb("search", "--json", "folder", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["title"] for r in json.loads(result.stdout)["results"]] == ["From the stuff folder"]


def test_default_folder_without_mkdocs_yml_is_procedures(tmp_path: Path) -> None:
    _folder(tmp_path, "stuff", "From the stuff folder")
    _folder(tmp_path, "procedures", "From the procedures folder")
    result = run_kb("search", "--json", "folder", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["title"] for r in json.loads(result.stdout)["results"]] == ["From the procedures folder"]


@pytest.mark.parametrize("args", [("search", "x"), ("--procedures", "nowhere", "search", "x"), ("tags",), ("check",)])
def test_missing_procedures_folder(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run_kb(*args, cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert "kb: error: procedures folder" in result.stderr and "does not exist" in result.stderr


def test_missing_docs_dir_of_mkdocs_yml(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: Test KB\ndocs_dir: stuff\n", encoding="utf-8")
    result = run_kb("check", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert "procedures folder 'stuff' does not exist" in result.stderr


# ---- usage -----------------------------------------------------------------------------------
def test_knowledge_base_options_also_after_the_command(kb, tmp_path: Path) -> None:
    """`kb search --procedures DIR ...` searches DIR, as `kb --procedures DIR search ...` does, and a
    value given after the command wins over one given before it."""
    after = run_kb("search", "--procedures", str(kb.root), "--index-dir", str(tmp_path / "index"), "--json", "password", "reset")
    before = kb("search", "--json", "password", "reset")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["results"] == json.loads(before.stdout)["results"] != []
    overridden = run_kb("--procedures", "nowhere", "check", "--procedures", str(kb.root), cwd=tmp_path)
    assert overridden.returncode == 0, overridden.stderr


def test_tags_is_the_tag_filter_not_the_tag_vocabulary(kb) -> None:
    """`--tags` is a prefix of `--tags-file`; a rep who types it means the tag filter `--tag`."""
    plural = kb("search", "--json", "--tags", "Billing", "late")
    singular = kb("search", "--json", "--tag", "Billing", "late")
    assert plural.returncode == 0, plural.stderr
    assert json.loads(plural.stdout)["results"] == json.loads(singular.stdout)["results"] != []


def test_command_help_lists_the_knowledge_base_options(tmp_path: Path) -> None:
    result = run_kb("search", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "knowledge base options:" in result.stdout and "--procedures DIR" in result.stdout


def test_no_arguments_prints_help(tmp_path: Path) -> None:
    result = run_kb(cwd=tmp_path)
    no_traceback(result)
    assert result.stdout.startswith("usage: kb")
    for command in ("search", "show", "tags", "check", "index"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("limit", "problem"), [("0", "must be at least 1, not 0"), ("-1", "must be at least 1, not -1"), ("ten", "not a whole number: 'ten'")]
)
def test_limit_below_one_is_a_usage_error_of_kb_search(kb, limit: str, problem: str) -> None:
    result = kb("search", "--limit", limit, "late")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: kb search") and f"kb search: error: argument --limit: {problem}" in result.stderr
    assert result.stdout == ""


ODD_QUERIES = {
    "double-quotes": '"password reset"',
    "lone-quote": '"',
    "apostrophe": "can't sign in'",
    "colon": ":",
    "colons": "a:b:c::",
    "category-colon": "IT:",
    "empty-category-tag": ": Password Reset",
    "boolean-words": "AND OR NOT",
    "boolean-query": "password AND NOT (reset OR refund)",
    "operators": "* ~ ^ ( ) [ ]",
    "wildcard-word": "pass* refu~2 label^3",
    "empty": "",
    "spaces": "   \t ",
    "10k-word-chars": "x" * 10_000,
    "10k-words": ("password late refund " * 500)[:10_000],
    "emoji": "🔑 password 😀",
    "rtl": "שלום مرحبا كلمة السر",
    "rtl-mark": "\u200fpassword\u200f",
    "dash": "--",
}


@pytest.mark.parametrize("query", list(ODD_QUERIES.values()), ids=list(ODD_QUERIES))
def test_odd_queries_do_not_crash(kb, query: str) -> None:
    result = kb("search", "--", query)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()  # either results or "No results"


def test_odd_queries_in_batch_mode(kb) -> None:
    queries = [q for q in ODD_QUERIES.values() if "\n" not in q]
    result = kb("search", "-", stdin="\n".join(queries) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["q"] for a in answers] == queries
    assert all(isinstance(a["results"], list) for a in answers)
    by_query = dict(zip(queries, answers, strict=True))
    assert by_query["🔑 password 😀"]["results"][0]["path"] == "it/password-reset.md"
    assert by_query['"password reset"']["results"][0]["path"] == "it/password-reset.md"
