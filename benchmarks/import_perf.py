"""`kb import` of a 2,000-row workbook: the seconds from the command to the files written.

Builds a workbook of 2,000 rows on 4 sheets (every fourth title repeated: an alternate method;
keyword cells of tags and keywords; steps of several lines) in a temporary folder, imports it
through the real command line into an empty procedures folder, and prints the time; the target
is at most 30 s on the project's machine. Usage: python benchmarks/import_perf.py [ROWS]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

TARGET_SECONDS = 30.0
SHEETS = ("Complaints", "Billing", "Returns", "Shipping")


def build_workbook(path: Path, rows: int) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    per_sheet = rows // len(SHEETS)
    for sheet_name in SHEETS:
        sheet = book.create_sheet(sheet_name)
        sheet.append(["Procedure", "Keywords", "How to handle", "Owner", "Summary"])
        for row in range(per_sheet):
            number = row - 1 if row % 4 == 3 else row  # every fourth row: another method of the row above
            sheet.append(
                [
                    f"{sheet_name} case {number}",
                    f"{sheet_name[:-1] if sheet_name.endswith('s') else sheet_name} - Case {number % 40}; customer wording {row}",
                    f"1. Look up the account for case {row}\n2. Explain the policy\n3. Note the ticket",
                    f"{sheet_name} Team",
                    f"Method {row} for {sheet_name.lower()}",
                ]
            )
    book.save(path)


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        build_workbook(base / "book.xlsx", rows)
        (base / "kb").mkdir()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "search", "--procedures", str(base / "kb"), "import", str(base / "book.xlsx"), "--tag", "Imported"],
            capture_output=True,
            text=True,
            cwd=base,
            check=False,
        )
        seconds = time.perf_counter() - started
        written = len(list((base / "kb").rglob("*.md")))
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    verdict = "ok" if seconds <= TARGET_SECONDS else f"over the {TARGET_SECONDS:.0f} s target"
    print(f"kb import: {rows} rows -> {written} procedures in {seconds:.2f} s ({verdict})")
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
