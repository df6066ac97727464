"""Retired and unfinished procedures: `status` (draft, published, archived) and `replaced_by`.

An archived procedure keeps its page, with a banner naming its replacement, and leaves search (the
CLI's and the browser's), the tag and area pages, the navigation, the counts and the related
procedures; a draft is built only by `mkdocs serve`, with a banner. `kb check` validates both fields.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from search.model import load_procedures

from .conftest import procedure_text, run_kb
from .parity import NODE, BrowserEngine, build
from .test_plugin import article, mkdocs, read, start_serve, write_site

OLD = procedure_text(
    "Refund by cheque",
    ["Billing: Refunds"],
    "## Steps\n\n1. Post a cheque refund to the customer.\n",
    status="archived",
    replaced_by="billing/refund-by-card.md",
    summary="Refund a customer by cheque.",
)
NEW = procedure_text("Refund to the card", ["Billing: Refunds"], "## Steps\n\n1. Refund to the card used.\n", summary="Refund to the card.")
DRAFT = procedure_text("Refund in vouchers", ["Billing: Refunds"], "## Steps\n\n1. Offer a voucher refund by cheque.\n", status="draft")
COLLECTION = {"billing/refund-by-cheque.md": OLD, "billing/refund-by-card.md": NEW, "billing/refund-in-vouchers.md": DRAFT}


def write_collection(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[str]:
    return [str(problem) for problem in load_procedures(root).problems]


# ---- kb check ------------------------------------------------------------------------------------
def test_check_accepts_the_three_statuses_and_an_existing_replacement(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "kb", COLLECTION)
    assert problems_of(root) == []
    loaded = {p.path: p for p in load_procedures(root).procedures}
    assert loaded["billing/refund-by-cheque.md"].status == "archived"
    assert loaded["billing/refund-by-cheque.md"].replaced_by == "billing/refund-by-card.md"
    assert loaded["billing/refund-in-vouchers.md"].status == "draft"
    assert loaded["billing/refund-by-card.md"].status == "published"


def test_check_errors_on_an_unknown_status(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "kb", {"a.md": procedure_text("A", ["A: B"], status="retired")})
    assert problems_of(root) == ["a.md:5: error: unknown status 'retired'; use one of: draft, published, archived"]


def test_check_errors_on_a_replacement_that_does_not_exist(tmp_path: Path) -> None:
    old = procedure_text("A", ["A: B"], status="archived", replaced_by="billing/nowhere")
    root = write_collection(tmp_path / "kb", {"a.md": old})
    assert problems_of(root) == ["a.md:6: error: replaced_by 'billing/nowhere.md' is not a procedure of this knowledge base"]
    done = run_kb("--procedures", str(root), "check")
    assert done.returncode == 1 and "replaced_by 'billing/nowhere.md'" in done.stdout + done.stderr


def test_check_warns_on_a_replacement_of_a_procedure_that_is_not_archived(tmp_path: Path) -> None:
    files = {"a.md": procedure_text("A", ["A: B"], replaced_by="/b/"), "b.md": procedure_text("B", ["A: B"])}
    root = write_collection(tmp_path / "kb", files)
    assert problems_of(root) == ["a.md:5: warning: replaced_by is set but status is 'published'; add 'status: archived'"]


def test_check_warns_on_a_replacement_that_is_itself_retired(tmp_path: Path) -> None:
    files = {
        "a.md": procedure_text("A", ["A: B"], status="archived", replaced_by="b.md"),
        "b.md": procedure_text("B", ["A: B"], status="archived"),
    }
    root = write_collection(tmp_path / "kb", files)
    assert problems_of(root) == [
        "a.md:6: warning: replaced_by 'b.md' is archived itself; name the published procedure that replaces this one"
    ]


# ---- search: the CLI and the browser engine --------------------------------------------------------
def test_archived_and_draft_procedures_are_not_found_by_kb_search(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "kb", COLLECTION)
    done = run_kb("--procedures", str(root), "search", "refund cheque voucher", "--json")
    assert done.returncode == 0, done.stderr
    assert [r["path"] for r in json.loads(done.stdout)["results"]] == ["billing/refund-by-card.md"]
    tags = run_kb("--procedures", str(root), "tags", "--json")
    assert json.loads(tags.stdout)[0]["count"] == 1


def test_archiving_a_procedure_takes_it_out_of_an_existing_index(tmp_path: Path) -> None:
    root = write_collection(
        tmp_path / "kb", {"billing/refund-by-card.md": NEW, "billing/refund-by-cheque.md": OLD.replace("archived", "published")}
    )
    first = json.loads(run_kb("--procedures", str(root), "search", "cheque", "--json").stdout)
    assert [r["path"] for r in first["results"]] == ["billing/refund-by-cheque.md"]
    (root / "billing/refund-by-cheque.md").write_text(OLD, encoding="utf-8")
    again = json.loads(run_kb("--procedures", str(root), "search", "cheque", "--json").stdout)
    assert again["results"] == []


@pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")
def test_archived_and_draft_procedures_are_not_in_the_browser_search_data(tmp_path: Path) -> None:
    root = write_collection(tmp_path / "kb", COLLECTION)
    _index, data = build(root, tmp_path / "work")
    with BrowserEngine() as engine:
        answers = engine.answers(data, ["refund cheque voucher", "Billing: Refunds", "cheque"], 10)
    assert [[r["path"] for r in answer["results"]] for answer in answers] == [["billing/refund-by-card.md"]] * 2 + [[]]
    everything = "".join(path.read_text(encoding="utf-8") for path in data.rglob("*.json"))
    assert "refund-by-cheque" not in everything and "refund-in-vouchers" not in everything


# ---- the site ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lifecycle_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("lifecycle")
    root = write_site(tmp / "src", COLLECTION)
    done = mkdocs("build", "--strict", "-d", str(tmp / "site"), cwd=root, index_dir=tmp / "index")
    assert done.returncode == 0, done.stderr
    return tmp / "site"


def test_an_archived_page_still_answers_with_a_banner_linking_its_replacement(lifecycle_site: Path) -> None:
    page = article(read(lifecycle_site, "billing/refund-by-cheque/index.html"))
    assert "This procedure is archived." in page
    assert 'class="kb-status__replacement" href="../../billing/refund-by-card/">Refund to the card</a>' in page
    assert "Related procedures" not in page


def test_archived_and_draft_procedures_leave_lists_counts_and_navigation(lifecycle_site: Path) -> None:
    assert not (lifecycle_site / "billing/refund-in-vouchers").exists()  # a draft is not built
    for rel in ("index.html", "tags/billing-refunds/index.html", "areas/billing/index.html", "billing/refund-by-card/index.html"):
        html = read(lifecycle_site, rel)
        assert "Refund by cheque" not in html and "Refund in vouchers" not in html, rel
    assert "1 procedure ·" in read(lifecycle_site, "index.html")
    sitemap = read(lifecycle_site, "sitemap.xml")
    assert "refund-in-vouchers" not in sitemap


def test_a_draft_is_previewed_by_mkdocs_serve_with_a_banner(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site", COLLECTION)
    server, port = start_serve(root, tmp_path / "index")
    try:
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "Refund in vouchers" not in text:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/billing/refund-in-vouchers/", timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                time.sleep(0.3)
        assert "Refund in vouchers" in text
        assert "kb-status--draft" in text and "Shown only in the preview" in text
    finally:
        server.terminate()
        server.wait(timeout=10)
