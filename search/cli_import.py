"""`kb import` on the command line: reads the files, settles the column mapping (from --map, by
asking in a terminal, or the proposal from the header row), prints the plan or writes it, and lists
every skipped row or document with its reason. The decisions are search/importing.py's.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .cli_parser import PROG
from .import_readers import ReadError, Table, read_csv, read_word, read_workbook
from .importing import (
    FIELDS,
    REQUIRED_FIELDS,
    Draft,
    ImportFailure,
    draft_from_document,
    drafts_from_table,
    parse_map,
    plan_import,
    propose_mapping,
    resolve_mapping,
    write_plan,
)

if TYPE_CHECKING:
    from .settings import Settings
    from .vocabulary import Vocabulary

# Asks one question with a default answer; returns the answer (the default when Enter is pressed).
Ask = Callable[[str, str], str]
READERS = {".xlsx": read_workbook, ".xlsm": read_workbook, ".csv": read_csv, ".txt": read_csv}


def run_import(args: argparse.Namespace, settings: Settings, vocabulary: Vocabulary | None, ask: Ask | None) -> int:
    """Reads every file first, then plans every procedure, then writes them all (or shows them
    with --dry-run). Raises ImportFailure or ReadError for what stops the import as a whole."""
    from .model import load_procedures

    given = parse_map(args.map) if args.map else None
    drafts: list[Draft] = []
    skipped: list[str] = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise ImportFailure(f"{name}: no such file")
        suffix = path.suffix.casefold()
        if suffix == ".docx":
            drafts.append(draft_from_document(read_word(path)))
            continue
        if suffix not in READERS:
            raise ImportFailure(f"{name}: kb import reads .xlsx, .csv and .docx files (save other formats as one of those)")
        tables, notes = READERS[suffix](path)
        if not tables:
            raise ImportFailure(f"{name}: empty (no rows, or only empty sheets)")
        skipped += [note for note in notes if "empty" in note]
        for note in notes:
            if "empty" not in note:
                print(f"{PROG}: note: {note}", file=sys.stderr)
        for table in tables:
            mapping = given if given is not None else _mapping_for(table, ask)
            table_drafts, table_skipped = drafts_from_table(table, resolve_mapping(table, mapping))
            drafts += table_drafts
            skipped += table_skipped
    if not drafts and not skipped:
        raise ImportFailure("nothing to import: the files hold no rows under their header rows")
    loaded = load_procedures(settings.procedures)
    plan = plan_import(drafts, settings.procedures, loaded.procedures, vocabulary, args.owner, args.area, args.tag, _dt.date.today())
    plan.skipped[:0] = skipped
    shown_root = Path(os.path.relpath(settings.procedures))
    for note in plan.notes:
        print(f"{PROG}: note: {note}", file=sys.stderr)
    if not args.dry_run and plan.files:
        write_plan(plan, settings.procedures)
    verb = "would write" if args.dry_run else "wrote"
    for planned in plan.files:
        methods = f", {planned.alternates} alternate method(s)" if planned.alternates else ""
        print(f"{verb} {(shown_root / planned.path).as_posix()}  ({planned.title}{methods}; from {planned.origin})")
    if plan.skipped:
        print(f"skipped {len(plan.skipped)}:", file=sys.stderr)
        for reason in plan.skipped:
            print(f"  {reason}", file=sys.stderr)
    summary = f"{len(plan.files)} procedure(s) {'would be written' if args.dry_run else 'written'} to {shown_root.as_posix()}"
    print(summary + (f", {len(plan.skipped)} skipped" if plan.skipped else ""), file=sys.stderr)
    if plan.files and not args.dry_run:
        print(f"Next: read them, then run: kb check {shown_root.as_posix()}", file=sys.stderr)
    return 0 if plan.files else 1


def _mapping_for(table: Table, ask: Ask | None) -> dict[str, str]:
    """The mapping proposed from the header row; in a terminal each field is asked, the proposal as
    the default answer ('-' for none)."""
    proposal = propose_mapping(table.header)
    if ask is None:
        if all(name in proposal for name in REQUIRED_FIELDS):
            shown = ",".join(f"{name}={column}" for name, column in proposal.items())
            print(f"{PROG}: note: {table.label}: using --map '{shown}'", file=sys.stderr)
        return proposal
    columns = ", ".join(f"'{cell}'" for cell in table.header if cell)
    print(f"{table.label}: columns {columns}", file=sys.stderr)
    mapping: dict[str, str] = {}
    for name in FIELDS:
        answer = ask(f"Column for {name}{' (required)' if name in REQUIRED_FIELDS else ''} ('-' for none)", proposal.get(name, "-"))
        if answer.strip() and answer.strip() != "-":
            mapping[name] = answer.strip()
    return mapping


__all__ = ["ImportFailure", "ReadError", "run_import"]
