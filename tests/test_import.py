"""`kb import`: workbooks, CSV files and Word documents to procedure files, field by field, and the
bad input that must stop it with nothing written. Every fixture is built here."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from search.import_readers import ReadError, read_csv, read_word, read_workbook
from search.importing import ImportFailure, ImportPlan, PlannedFile, parse_map, propose_mapping, steps_markdown, write_plan
from search.parsing import load_file

from .conftest import procedure_text, run_kb

LONG_TEXT = "Read the whole note to the customer before you offer anything. " * 60  # about 3,800 characters
TAGS_YML = "categories:\n  Complaint: A customer is unhappy.\n  Billing: Charges and refunds.\n  Shipping: Parcels.\n"


def with_formula_value(data: bytes, sheet: int, cell: str, value: str) -> bytes:
    """The workbook with a saved value for a formula cell, as Excel leaves it (openpyxl saves none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == f"xl/worksheets/sheet{sheet}.xml":
                text = content.decode("utf-8")
                text, count = re.subn(rf'<c r="{cell}">(<f>.*?</f>)<v\s*/?>(</v>)?', rf'<c r="{cell}" t="str">\1<v>{value}</v>', text)
                assert count == 1
                content = text.encode("utf-8")
            target.writestr(item, content)
    return out.getvalue()


def cs_workbook(path: Path) -> Path:
    """A "CS Workbook": two sheets of procedures (blank rows, a title merged over two rows, a long
    cell, a formula with its saved value) and an empty sheet."""
    book = openpyxl.Workbook()
    complaints = book.active
    complaints.title = "Complaints"
    complaints.append([])  # a blank row above the header
    complaints.append(["Procedure", "Keywords", "How to handle", "Owner", "Summary"])
    complaints.append(
        [
            "Late shipment",
            "Complaint - Late Shipment; where is my order",
            "1. Look up the order\n2. Check the carrier scan",
            "Fulfillment",
            "Late order",
        ]
    )
    complaints.append([None, None, "Reship at once when the order is under $50", None, "Reship now"])
    complaints.append([])
    complaints.append(["Rude agent", "complaint; rude; manager", LONG_TEXT, "Service Desk", None])
    complaints.merge_cells("A3:A4")  # one title for the main method and its alternate
    complaints.append(["Damaged item", "Complaint: Damaged Item", None, "Fulfillment", None])  # the formula's row
    complaints["C7"] = '=CONCAT("Ask for a photo", " of the damage")'
    billing = book.create_sheet("Billing")
    billing.append(["Title", "Tags", "Steps", "Other options"])
    billing.append(["Duplicate charge", "Billing: Duplicate Charge", "Refund the second charge", "Store credit: offer credit instead"])
    billing.append(["", "", "", ""])
    billing.append(["Nameless row without a title above", None, None, None])
    book.create_sheet("Notes")
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(with_formula_value(buffer.getvalue(), 1, "C7", "Ask for a photo of the damage"))
    return path


def word_document(path: Path) -> Path:
    """A Word procedure: title, facts, context, numbered steps with bold and a link, a bulleted
    list, and an "Other options" section with one sub-heading per method."""
    document = docx.Document()
    document.add_paragraph("Warranty claim for a broken blender", style="Title")
    document.add_paragraph("Tags: Complaint - Damaged Item, warranty")
    document.add_paragraph("Owner: Appliance Support")
    document.add_paragraph("Use this when a blender stops working within two years.")
    document.add_heading("What to do", level=1)
    step = document.add_paragraph("Ask for the ", style="List Number")
    step.add_run("order number").bold = True
    link_step = document.add_paragraph("Open the ", style="List Number")
    _add_link(document, link_step, "https://warranty.example.com/claims", "warranty portal")
    document.add_heading("Have at hand", level=1)
    document.add_paragraph("The receipt", style="List Bullet")
    document.add_paragraph("The serial number", style="List Bullet")
    document.add_heading("Other options", level=1)
    document.add_heading("Replace in store", level=2)
    document.add_paragraph("Send the customer to the nearest store with the blender.")
    document.add_heading("Refund", level=2)
    document.add_paragraph("Refund when no replacement is in stock.")
    document.save(path)
    return path


def _add_link(document, paragraph, url: str, text: str) -> None:
    relation = document.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), relation)
    run = OxmlElement("w:r")
    label = OxmlElement("w:t")
    label.text = text
    run.append(label)
    link.append(run)
    paragraph._p.append(link)  # python-docx has no public way to add a hyperlink


def knowledge_base(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    (root / "complaints").mkdir(parents=True)
    (root / "complaints" / "wrong-item.md").write_text(
        procedure_text("Wrong item", ["Complaint: Wrong Item"], owner="Fulfillment", summary="x", reviewed="2026-01-05"), encoding="utf-8"
    )
    (tmp_path / "tags.yml").write_text(TAGS_YML, encoding="utf-8")
    return root


def kb(tmp_path: Path, *args: str):
    return run_kb("--procedures", str(tmp_path / "kb"), "--tags-file", str(tmp_path / "tags.yml"), *args, cwd=tmp_path)


def front(root: Path, rel: str):
    procedure, problems = load_file(root / rel, root)
    assert procedure is not None, problems
    assert not [p for p in problems if p.severity == "error"], problems
    return procedure


# ---- readers ------------------------------------------------------------------------------------
def test_workbook_sheets_merged_cells_blank_rows_and_formula_values(tmp_path: Path) -> None:
    tables, notes = read_workbook(cs_workbook(tmp_path / "book.xlsx"))
    assert [t.name for t in tables] == ["Complaints", "Billing"]
    assert notes == [f"{tmp_path / 'book.xlsx'}, sheet 'Notes': empty, skipped"]
    complaints = tables[0]
    assert complaints.header_row == 2 and complaints.header[:3] == ["Procedure", "Keywords", "How to handle"]
    assert [number for number, _ in complaints.rows] == [3, 4, 6, 7]  # blank rows 1 and 5 left out
    assert complaints.rows[1][1][0] == "Late shipment"  # the merged title repeated
    assert complaints.rows[3][1][2] == "Ask for a photo of the damage"  # the formula's saved value
    assert complaints.rows[2][1][2] == LONG_TEXT.strip()


def test_a_formula_without_a_saved_value_is_named(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["Title", "Steps"])
    book.active.append(["Refund", "=UPPER(A2)"])
    book.save(tmp_path / "calc.xlsx")
    with pytest.raises(ReadError, match=r"cell B2: a formula \(=UPPER\(A2\)\) without a saved value.*save it"):
        read_workbook(tmp_path / "calc.xlsx")


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_csv_in_another_encoding(tmp_path: Path, encoding: str) -> None:
    text = 'Title;Steps\r\n"Café voucher";"Issue a voucher for the café"\r\n'
    (tmp_path / "list.csv").write_bytes(text.encode(encoding))  # Python's utf-16 writes a byte-order mark
    tables, _ = read_csv(tmp_path / "list.csv")
    assert tables[0].header == ["Title", "Steps"]
    assert tables[0].rows == [(2, ["Café voucher", "Issue a voucher for the café"])]


def test_word_document_as_markdown(tmp_path: Path) -> None:
    document = read_word(word_document(tmp_path / "blender.docx"))
    assert document.title == "Warranty claim for a broken blender"
    assert document.facts == {"tags": "Complaint - Damaged Item, warranty", "owner": "Appliance Support"}
    assert document.intro == ["Use this when a blender stops working within two years."]
    assert [(s.heading, s.level) for s in document.sections][:2] == [("What to do", 1), ("Have at hand", 1)]
    assert document.sections[0].lines == [
        "1. Ask for the **order number**",
        "1. Open the [warranty portal](https://warranty.example.com/claims)",
    ]
    assert document.sections[1].lines == ["- The receipt", "- The serial number"]


@pytest.mark.parametrize("reader", [read_workbook, read_word])
def test_encrypted_and_corrupt_office_files(tmp_path: Path, reader) -> None:
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600)
    with pytest.raises(ReadError, match="password-protected"):
        reader(encrypted)
    corrupt = tmp_path / "broken.docx"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReadError, match="not a readable"):
        reader(corrupt)


def test_too_many_rows(tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_text("Title,Steps\n" + "".join(f"T{i},do {i}\n" for i in range(20_000)), encoding="utf-8")
    with pytest.raises(ReadError, match="20,001 rows; kb import takes at most 10,000"):
        read_csv(tmp_path / "big.csv")


# ---- mapping and drafts ------------------------------------------------------------------------
def test_map_allows_commas_in_column_names() -> None:
    assert parse_map("title=Procedure,steps=How to handle, step by step,tags=Keywords") == {
        "title": "Procedure",
        "steps": "How to handle, step by step",
        "tags": "Keywords",
    }
    with pytest.raises(ImportFailure, match="'colour=Red' is not FIELD=COLUMN"):
        parse_map("title=A,colour=Red")


def test_mapping_proposed_from_the_header() -> None:
    header = ["Procedure", "Keywords", "How to handle", "Other options", "Team", "Notes"]
    assert propose_mapping(header) == {
        "title": "Procedure",
        "keywords": "Keywords",
        "steps": "How to handle",
        "alternates": "Other options",
        "owner": "Team",
    }


def test_steps_cells_become_numbered_lists() -> None:
    assert steps_markdown("Step 1: Look it up\nStep 2: Refund\n- only once") == ["1. Look it up", "2. Refund", "   - only once"]
    assert steps_markdown("# not a heading") == ["\\# not a heading"]


def test_writing_is_all_or_nothing(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    (root / "old").mkdir(parents=True)
    (root / "old" / "taken.md").write_text("mine", encoding="utf-8")
    plan = ImportPlan(files=[PlannedFile("new/a.md", "a", "A", "x", 0), PlannedFile("old/taken.md", "b", "B", "y", 0)])
    with pytest.raises(FileExistsError):
        write_plan(plan, root)
    assert not (root / "new").exists()  # the file written first and its folder are gone
    assert (root / "old" / "taken.md").read_text(encoding="utf-8") == "mine"


# ---- through the command line --------------------------------------------------------------------
def test_import_workbook_csv_and_word_then_check_strict(tmp_path: Path) -> None:
    root = knowledge_base(tmp_path)
    cs_workbook(tmp_path / "book.xlsx")
    word_document(tmp_path / "blender.docx")
    (tmp_path / "team.csv").write_bytes("Title,Tags,Steps\nBadge lost,Shipping,Call the desk\n".encode("cp1252"))
    done = kb(tmp_path, "import", "book.xlsx", "blender.docx", "team.csv", "--owner", "CS Team")
    assert done.returncode == 0, done.stderr
    assert "sheet 'Notes': empty, skipped" in done.stderr
    assert "sheet 'Billing', row 5: no title" not in done.stderr  # its steps cell is empty: "has no steps"
    assert "Nameless row without a title above' has no steps" in done.stderr

    late = front(root, "complaints/late-shipment.md")
    assert [t.label for t in late.tags] == ["Complaint: Late Shipment"]
    assert late.keywords == ["where is my order"]
    assert (late.owner, late.summary) == ("Fulfillment", "Late order")
    assert "## Steps\n\n1. Look up the order\n2. Check the carrier scan" in late.body
    assert [(a.title, a.text) for a in late.alternates] == [("Reship now", "Reship at once when the order is under $50")]
    assert late.reviewed is not None

    rude = front(root, "complaints/rude-agent.md")
    assert [t.label for t in rude.tags] == ["Complaint"] and rude.keywords == ["rude", "manager"]
    assert LONG_TEXT.strip() in rude.body
    damaged = front(root, "complaints/damaged-item.md")
    assert "Ask for a photo of the damage" in damaged.body
    duplicate = front(root, "billing/duplicate-charge.md")
    assert duplicate.owner == "CS Team"  # --owner where the row names none
    assert [(a.title, a.text) for a in duplicate.alternates] == [("Store credit", "offer credit instead")]

    blender = front(root, "complaints/warranty-claim-for-a-broken-blender.md")
    assert [t.label for t in blender.tags] == ["Complaint: Damaged Item"] and blender.keywords == ["warranty"]
    assert blender.owner == "Appliance Support"
    assert "1. Ask for the **order number**\n2. Open the [warranty portal](https://warranty.example.com/claims)" in blender.body
    assert "## Have at hand\n\n- The receipt\n- The serial number" in blender.body
    assert [a.title for a in blender.alternates] == ["Replace in store", "Refund"]
    assert front(root, "shipping/badge-lost.md").tags[0].label == "Shipping"

    check = kb(tmp_path, "check", "--strict")
    assert check.returncode == 0, check.stdout + check.stderr


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    root = knowledge_base(tmp_path)
    cs_workbook(tmp_path / "book.xlsx")
    done = kb(tmp_path, "import", "book.xlsx", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "would write " in done.stdout and "complaints/late-shipment.md" in done.stdout
    assert sorted(p.name for p in root.rglob("*.md")) == ["wrong-item.md"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("locked.xlsx", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600, "password-protected"),
        ("broken.xlsx", b"PK\x03\x04garbage", "not a readable"),
        ("odd.csv", b"Colour,Size\nred,4\n", "cannot map the header row (row 1: 'Colour', 'Size'): no column for title and steps"),
        ("empty.csv", b"", "empty.csv: empty (no rows, or only empty sheets)"),
        ("blank.csv", b"\n,,\n\n", "blank.csv: empty (no rows, or only empty sheets)"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    root = knowledge_base(tmp_path)
    cs_workbook(tmp_path / "book.xlsx")  # a good file first: it must not be written either
    (tmp_path / name).write_bytes(content)
    done = kb(tmp_path, "import", "book.xlsx", name)
    assert done.returncode == 2
    assert message in done.stderr and "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 3
    assert sorted(p.name for p in root.rglob("*.md")) == ["wrong-item.md"]


def test_an_existing_title_is_skipped_with_its_reason(tmp_path: Path) -> None:
    knowledge_base(tmp_path)
    (tmp_path / "again.csv").write_text("Title,Tags,Steps\nWrong item,Complaint: Wrong Item,Swap it\n", encoding="utf-8")
    done = kb(tmp_path, "import", "again.csv")
    assert done.returncode == 1
    assert "again.csv, row 2: a procedure titled 'Wrong item' already exists" in done.stderr


def test_show_as_text_and_markdown(tmp_path: Path) -> None:
    root = knowledge_base(tmp_path)
    (root / "complaints" / "linked.md").write_text(
        procedure_text(
            "Linked",
            ["Complaint: Late Shipment"],
            body="## Steps\n\n1. Open **the** [portal](https://portal.example.com).\n\n## Alternate methods\n\n### Call\nCall them.\n",
            owner="Desk",
            reviewed="2026-02-01",
        ),
        encoding="utf-8",
    )
    text = kb(tmp_path, "show", "complaints/linked.md", "--format", "text")
    assert text.returncode == 0, text.stderr
    assert "1. Open the portal <https://portal.example.com>." in text.stdout and "\033[" not in text.stdout
    assert "owner: Desk   reviewed: 2026-02-01" in text.stdout
    markdown = kb(tmp_path, "show", "complaints/linked.md", "--format", "markdown")
    assert markdown.stdout.startswith("# Linked\n\n**Tags:** Complaint: Late Shipment  \n**Owner:** Desk  \n**Reviewed:** 2026-02-01")
    assert "1. Open **the** [portal](https://portal.example.com).\n\n## Alternate methods\n\n### Call\nCall them." in markdown.stdout
    assert "---" not in markdown.stdout
