"""Reading the files `kb import` takes: Excel workbooks (.xlsx), CSV files and Word documents (.docx).

Promises: a workbook or CSV file becomes `Table`s of text cells (merged cells repeat their value in
every cell they cover, formulas give their saved values, dates are ISO dates); a Word document
becomes a `WordDocument` of Markdown sections (headings, numbered and bulleted lists, bold and
links kept). A file that cannot be read (encrypted, corrupt, too large, a formula without a saved
value) is a `ReadError` with a one-line message naming the file; nothing here writes anything.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_ROWS = 10_000  # per import: more is a migration to split into parts, not one run
# The signature of an OLE compound file: what Office writes for an encrypted (password-protected)
# .xlsx or .docx, and for the old .xls and .doc formats.
COMPOUND_FILE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")


class ReadError(ValueError):
    """A file `kb import` cannot read, in one line that names it."""


@dataclass
class Table:
    """One sheet of a workbook, or one CSV file: the header row and the rows under it.

    `rows` holds (row number in the file, cells as text); blank rows are left out."""

    source: str
    name: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    header_row: int = 1

    @property
    def label(self) -> str:
        return f"{self.source}, sheet '{self.name}'" if self.name else self.source


@dataclass
class Section:
    """A part of a Word document under one heading: its Markdown lines (lists, bold, links)."""

    heading: str
    level: int
    lines: list[str] = field(default_factory=list)


@dataclass
class WordDocument:
    """A Word document as Markdown: its title, labelled facts ("Tags: ...", "Owner: ..."), the
    text before the first heading (`intro`) and its sections in order."""

    source: str
    title: str
    facts: dict[str, str] = field(default_factory=dict)
    intro: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def _refuse_unreadable_office_file(path: Path, data: bytes, kind: str) -> None:
    if data.startswith(COMPOUND_FILE_SIGNATURE):
        raise ReadError(
            f"{path}: is password-protected (encrypted) or in the old {kind} format: "
            f"open it, remove the password, save it as {path.suffix or kind}, and import that copy"
        )
    if not data:
        raise ReadError(f"{path}: the file is empty")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ReadError(f"{path}: is not a readable {path.suffix} file (corrupt or of another kind)")


def _cell_text(value: object) -> str:
    """A cell's value as the text a rep would read: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("_x000D_", "")
    return text.strip()


def _table_from_grid(source: str, name: str, grid: list[tuple[int, list[str]]]) -> Table | None:
    """The table of a grid of text cells: the first non-blank row is the header. None when blank."""
    filled = [(number, cells) for number, cells in grid if any(cells)]
    if not filled:
        return None
    (header_row, header), rows = filled[0], filled[1:]
    width = max(len(cells) for _, cells in filled)
    header = [cell.replace("\n", " ").strip() for cell in header] + [""] * (width - len(header))
    rows = [(number, cells + [""] * (width - len(cells))) for number, cells in rows]
    return Table(source, name, header, rows, header_row)


def _check_size(path: Path, rows: int) -> None:
    if rows > MAX_ROWS:
        raise ReadError(
            f"{path}: {rows:,} rows; kb import takes at most {MAX_ROWS:,} rows at a time: split the file and import the parts one by one"
        )


# ---- Excel --------------------------------------------------------------------------------------
def read_workbook(path: Path) -> tuple[list[Table], list[str]]:
    """Every sheet of an .xlsx workbook with content, and a note for each empty sheet."""
    import openpyxl

    data = path.read_bytes()
    _refuse_unreadable_office_file(path, data, ".xls")
    try:
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ReadError(f"{path}: is not a readable Excel workbook ({type(exc).__name__}: {exc})") from None
    _check_size(path, sum(sheet.max_row for sheet in values.worksheets))
    tables, notes = [], []
    for sheet in values.worksheets:
        grid = _sheet_grid(path, sheet, formulas[sheet.title])
        table = _table_from_grid(str(path), sheet.title, grid)
        if table is None:
            notes.append(f"{path}, sheet '{sheet.title}': empty, skipped")
        else:
            tables.append(table)
    return tables, notes


def _sheet_grid(path: Path, sheet, formula_sheet) -> list[tuple[int, list[str]]]:
    """The sheet's cells as text, merged ranges filled with their top-left value."""
    from openpyxl.utils import get_column_letter

    grid = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top_left = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else ""
        for row in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                grid[row - 1][column - 1] = top_left
    for number, row in enumerate(formula_sheet.iter_rows(values_only=True), start=1):
        for column, formula in enumerate(row, start=1):
            if isinstance(formula, str) and formula.startswith("=") and number <= len(grid) and not grid[number - 1][column - 1]:
                cell = f"{get_column_letter(column)}{number}"
                raise ReadError(
                    f"{path}, sheet '{sheet.title}', cell {cell}: a formula ({formula}) without a saved value "
                    "(the file was written by a program that does not calculate): open it in Excel or LibreOffice, "
                    "save it, and import it again"
                )
    return list(enumerate(grid, start=1))


# ---- CSV ----------------------------------------------------------------------------------------
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text_file(path: Path, data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: by its byte-order mark (UTF-8, UTF-16),
    else UTF-8, else Windows-1252 (what Excel writes on Windows)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise ReadError(f"{path}: starts like {encoding} text but is not: save it again as CSV UTF-8") from None
    if b"\x00" in data[:4096]:
        raise ReadError(f"{path}: is not a text file (it contains NUL bytes): save it as CSV (UTF-8)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise ReadError(f"{path}: is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8") from None


def read_csv(path: Path) -> tuple[list[Table], list[str]]:
    """The one table of a CSV file (comma, semicolon or tab separated), and a note if it is empty."""
    text, encoding = decode_text_file(path, path.read_bytes())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ReadError(f"{path}: is not valid CSV ({exc})") from None
    _check_size(path, len(rows))
    table = _table_from_grid(str(path), "", [(n, [_cell_text(c) for c in row]) for n, row in enumerate(rows, start=1)])
    if table is None:
        return [], [f"{path}: empty, skipped"]
    return [table], [] if encoding.startswith("utf") else [f"{path}: read as {encoding} text"]


# ---- Word ---------------------------------------------------------------------------------------
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_FACT = re.compile(r"^\s*(tags|keywords|owner|summary|area)\s*:\s*(.+)$", re.IGNORECASE)
_TYPED_BULLET = re.compile(r"^\s*(?:[•·▪◦‣*-]|\d+[.)])\s+")


def read_word(path: Path) -> WordDocument:
    """A .docx document as Markdown sections. Paragraphs "Tags: ...", "Keywords: ...", "Owner: ...",
    "Summary: ..." and "Area: ..." are facts, not text; so are the document's title and keywords
    properties when the text does not give them."""
    import docx

    data = path.read_bytes()
    _refuse_unreadable_office_file(path, data, ".doc")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for a damaged file
        raise ReadError(f"{path}: is not a readable Word document ({type(exc).__name__}: {exc})") from None
    result = WordDocument(str(path), title="")
    current: list[str] = result.intro
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        opening_heading = heading is not None and heading.group(1) == "1" and not (result.sections or result.intro)
        if not result.title and (style.casefold() == "title" or opening_heading):
            result.title = text
            continue
        if heading:
            section = Section(text, int(heading.group(1)))
            result.sections.append(section)
            current = section.lines
            continue
        fact = _FACT.match(text)
        if fact and not style.casefold().startswith("list"):
            result.facts.setdefault(fact.group(1).casefold(), fact.group(2).strip())
            continue
        current.append(_paragraph_markdown(paragraph, style))
    properties = document.core_properties
    result.title = result.title or (properties.title or "").strip() or path.stem.replace("-", " ").replace("_", " ").strip()
    if properties.keywords and "tags" not in result.facts and "keywords" not in result.facts:
        result.facts["keywords"] = properties.keywords
    return result


def _paragraph_markdown(paragraph, style: str) -> str:
    """One paragraph as a Markdown line: list items marked, bold as **, links as [text](url)."""
    text = "".join(_inline_markdown(item) for item in paragraph.iter_inner_content()).strip()
    folded = style.casefold()
    if folded.startswith("list number"):
        return "1. " + _TYPED_BULLET.sub("", text)
    if folded.startswith(("list bullet", "list paragraph", "list")):
        return "- " + _TYPED_BULLET.sub("", text)
    if re.match(r"^\s*[•·▪◦‣]\s*", text):  # a bullet typed by hand
        return "- " + re.sub(r"^\s*[•·▪◦‣]\s*", "", text)
    return escape_line_start(text)


def _inline_markdown(item) -> str:
    from docx.text.hyperlink import Hyperlink

    if isinstance(item, Hyperlink):
        label = "".join(_run_markdown(run) for run in item.runs) or item.address
        address = item.address + (f"#{item.fragment}" if item.fragment else "")
        return f"[{label}]({address})" if address else label
    return _run_markdown(item)


def _run_markdown(run) -> str:
    text = run.text
    if run.bold and text.strip():
        lead, core, trail = re.match(r"^(\s*)(.*?)(\s*)$", text, re.DOTALL).groups()
        return f"{lead}**{core}**{trail}"
    return text


def escape_line_start(text: str) -> str:
    """Text that stays a paragraph in Markdown: a leading '#', '>', '-', '+' or 'N.' escaped."""
    text = re.sub(r"^(\d+)([.)])(?=\s)", r"\1\\\2", text)
    return re.sub(r"^(#|>|[-+*](?=\s))", r"\\\1", text)
