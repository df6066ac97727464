"""The index: incremental refresh, stale detection, crash safety and concurrent writers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search.analysis import load_thesaurus
from search.index import SearchIndex
from search.query import QueryEngine

from .conftest import ROOT, procedure_text


def make_folder(root: Path, count: int, word: str = "alpha") -> None:
    for number in range(count):
        path = root / f"area{number % 7}" / f"proc-{number:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = f"## Steps\n\n1. Handle case {number} with the {word} method and log it in CaseBook.\n"
        path.write_text(procedure_text(f"Procedure {number} {word}", [f"Area: Topic {number % 13}"], body), encoding="utf-8")


def paths(index: SearchIndex, query: str) -> list[str]:
    """The procedures found by their words (the meaning signal may add others, close in meaning)."""
    results = QueryEngine(index, load_thesaurus()).search(query, limit=100).results
    return [r.path for r in results if any(not m.startswith("meaning: ") for m in r.matched)]


def test_refresh_touches_only_changed_added_and_deleted_files(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 20)
    index = SearchIndex(root, tmp_path / "idx")
    first = index.refresh()
    assert (first.added, first.full) == (20, True)
    assert index.refresh().added == index.refresh().updated == 0

    (root / "area1" / "proc-00001.md").write_text(procedure_text("Procedure one renamed", ["Area: Topic 1"]), encoding="utf-8")
    (root / "area2" / "proc-00002.md").unlink()
    (root / "new.md").write_text(procedure_text("Brand new procedure", ["Area: New"]), encoding="utf-8")
    report = index.refresh()
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 1, 1, 18)
    assert paths(index, "renamed") == ["area1/proc-00001.md"]
    assert "area2/proc-00002.md" not in paths(index, "procedure")
    assert paths(index, "brand new") == ["new.md"]


def test_touching_a_file_without_changing_it_is_not_a_change(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 3)
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    target = root / "area0" / "proc-00000.md"
    os.utime(target, (time.time() + 10, time.time() + 10))
    changes = index.changes()
    assert not changes and list(changes.touched) == ["area0/proc-00000.md"]
    # A refresh records the new mtime, so searches go back to the quick no-change answer.
    assert index.refresh().updated == 0
    assert not index.changes().touched


def test_a_lost_stamp_costs_one_slow_check_not_a_rebuild(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 3)
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    index.stamp_path.unlink()
    assert not index.changes()
    report = index.refresh()
    assert (report.added, report.updated, report.full) == (0, 0, False)
    assert index.stamp_path.exists() and index.exists()


def test_search_notices_a_stale_index(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 5)
    args = ["--procedures", str(root), "--index-dir", str(tmp_path / "idx")]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "search", *args, *extra], capture_output=True, text=True, cwd=ROOT, check=False)

    assert '"zebra.md"' not in run("search", "zebra", "--json").stdout
    (root / "zebra.md").write_text(procedure_text("Zebra crossing procedure", ["Area: Zebra"]), encoding="utf-8")
    assert '"zebra.md"' in run("search", "zebra", "--json").stdout


def test_a_killed_full_build_leaves_the_previous_index_answering(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    index_dir = tmp_path / "idx"
    make_folder(root, 1500, word="alpha")
    index = SearchIndex(root, index_dir)
    index.refresh()
    before = paths(index, "alpha")
    assert len(before) == 100

    make_folder(root, 1500, word="omega")  # every file changes: the next build rewrites everything
    build = subprocess.Popen(
        [sys.executable, "-m", "search", "--procedures", str(root), "--index-dir", str(index_dir), "index", "--full"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    first_progress = build.stderr.readline()  # printed after the first tenth of the files
    assert "indexed" in first_progress
    build.send_signal(signal.SIGKILL)
    build.wait()

    assert paths(index, "alpha") == before  # the old generation still answers
    assert paths(index, "omega") == []
    index.refresh()  # and the next refresh completes the job
    assert paths(index, "alpha") == [] and len(paths(index, "omega")) == 100


def test_two_writers_at_once_wait_for_each_other(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    index_dir = tmp_path / "idx"
    make_folder(root, 400)
    command = [sys.executable, "-m", "search", "--procedures", str(root), "--index-dir", str(index_dir), "index", "--full"]
    writers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
    outputs = [w.communicate(timeout=240) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    index = SearchIndex(root, index_dir)
    with index.open() as reader:
        assert reader.doc_count == 400
    assert not index.changes()


def test_busy_index_is_reported_not_corrupted(tmp_path: Path) -> None:
    import fcntl

    from search.index import IndexBusy

    root = tmp_path / "kb"
    make_folder(root, 3)
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    with open(index.dir / "kb.lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        messages: list[str] = []
        try:
            index.refresh(full=True, lock_wait=0.3, notify=messages.append)
        except IndexBusy as busy:
            assert "another process" in str(busy)
        else:
            raise AssertionError("refresh should not run while another writer holds the lock")
        assert messages and "waiting" in messages[0]
    assert len(paths(index, "procedure")) == 3


def test_index_lives_outside_the_procedures_folder(tmp_path: Path, monkeypatch) -> None:
    from search.index import default_index_dir

    monkeypatch.delenv("KB_INDEX_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "kb"
    root.mkdir()
    assert default_index_dir(root).is_relative_to(tmp_path / "cache")
    assert default_index_dir(root) != default_index_dir(tmp_path)


def test_unreadable_file_is_skipped_and_reindexed_once_fixed(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 2)
    broken = root / "broken.md"
    broken.write_bytes(b"---\ntitle: [unclosed\n---\n")
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    assert "broken.md" not in paths(index, "fixed")
    broken.write_text(procedure_text("Fixed now", ["Area: Fixed"]), encoding="utf-8")
    index.refresh()
    assert paths(index, "fixed") == ["broken.md"]


def test_impacts_over_segments_skip_deleted_documents(tmp_path: Path) -> None:
    """The impacts read segment by segment are what Whoosh's top-level matchers give, without the
    deleted and replaced documents, over a big segment with deletions and a small new one."""
    from search.index import IMPACT_DIGITS
    from search.storage import INDEX_NAME

    root = tmp_path / "kb"
    make_folder(root, 300)
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    (root / "area3" / "proc-00010.md").unlink()  # a deletion in the big segment
    (root / "area0" / "proc-00007.md").write_text(procedure_text("Changed alpha", ["Area: Topic 7"]), encoding="utf-8")
    index.refresh()
    with index.open() as reader, whoosh_index.open_dir(str(tmp_path / "idx"), indexname=INDEX_NAME).reader() as whoosh_reader:
        assert len(list(whoosh_reader.leaf_readers())) == 2
        for term in ("alpha", "handl", "casebook", "chang", "procedur"):
            expected = {}
            matcher = whoosh_reader.postings("text", term)
            while matcher.is_active():
                expected[matcher.id()] = round(matcher.weight(), IMPACT_DIGITS)
                matcher.next()
            assert reader.impacts(term) == expected, term
            assert expected
        paths_with_alpha = {reader.stored(docnum)["path"] for docnum in reader.impacts("alpha")}
        assert "area3/proc-00010.md" not in paths_with_alpha
        assert len(paths_with_alpha) == 299
        # The export's read of every term gives the same.
        everything = dict(reader.all_impacts())
        live_terms = {t.decode() for t in whoosh_reader.lexicon("text") if reader.impacts(t.decode())}
        assert set(everything) == live_terms
        assert all(everything[t] == reader.impacts(t) for t in live_terms)


def test_what_a_full_refresh_wrote_reads_as_the_index_does(tmp_path: Path) -> None:
    """The export of a freshly built index reads it from memory: the same answers, in the same
    order, as reading the index (32-bit weights, decoded keyword values) - else browser and CLI
    would rank apart."""
    root = tmp_path / "kb"
    make_folder(root, 120)
    (root / "area0" / "tagged.md").write_text(procedure_text("Tagged", ["Odd_Category: Under_score", "Area: Topic 1"]), encoding="utf-8")
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    written = index.written
    assert written is not None
    with index.open() as reader:
        assert list(written.documents()) == list(reader.documents())
        assert list(written.all_impacts()) == list(reader.all_impacts())
        for fieldname in ("tagkey", "category"):
            values = list(reader.keyword_values(fieldname))
            assert list(written.keyword_values(fieldname)) == values
            assert all(written.documents_with(fieldname, value) == reader.documents_with(fieldname, value) for value in values)
    (root / "area0" / "tagged.md").unlink()
    index.refresh()
    assert index.written is None  # an incremental refresh: the export reads the index


def test_whoosh_is_used_through_its_public_modules_only() -> None:
    """The engine imports Whoosh's public modules, never its codec or matcher internals, and
    leaves the interpreter's module table alone."""
    allowed = {"whoosh.fields", "whoosh.formats", "whoosh.index", "whoosh.reading", "whoosh.writing"}
    for path in sorted((ROOT / "search").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        imported = set(re.findall(r"^\s*(?:from|import) (whoosh\.[\w.]+)", text, flags=re.MULTILINE))
        imported |= {f"whoosh.{name}" for name in re.findall(r"^\s*from whoosh import (\w+)", text, flags=re.MULTILINE)}
        assert imported <= allowed, (path.name, imported - allowed)
        assert "sys.modules" not in text, path.name


def test_deleted_documents_stay_deleted_through_the_cached_property(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    make_folder(root, 12)
    index = SearchIndex(root, tmp_path / "idx")
    index.refresh()
    (root / "area1" / "proc-00001.md").unlink()
    index.refresh()
    assert "area1/proc-00001.md" not in paths(index, "procedure")
    assert len(paths(index, "procedure")) == 11


def test_the_garbage_collector_pauses_while_indexing_and_resumes_as_it_was() -> None:
    import gc

    from search.index import gc_paused

    @gc_paused()
    def work(fail: bool) -> bool:
        with gc_paused():
            pass
        if fail:
            raise ValueError
        return gc.isenabled()

    assert gc.isenabled()
    assert work(False) is False
    assert gc.isenabled()
    with pytest.raises(ValueError):
        work(True)
    assert gc.isenabled()
    gc.disable()
    try:
        work(False)
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()


def test_an_index_naming_classes_that_no_longer_exist_is_rebuilt(tmp_path: Path) -> None:
    """An index of an older format pickles its codec's class in the table of contents; when that
    class is gone, the next search builds a fresh index instead of failing."""
    root = tmp_path / "kb"
    make_folder(root, 5)
    (tmp_path / "gone").mkdir()
    (tmp_path / "gone" / "oldcodec.py").write_text("from whoosh.codec.whoosh3 import W3Codec\n\nclass OldCodec(W3Codec):\n    pass\n")
    code = (
        "import sys\nfrom pathlib import Path\nfrom whoosh import index\n"
        "from oldcodec import OldCodec\nfrom search.index import SearchIndex\nfrom search.storage import INDEX_NAME\n"
        "SearchIndex(Path(sys.argv[1]), Path(sys.argv[2])).refresh()\n"
        "writer = index.open_dir(sys.argv[2], indexname=INDEX_NAME).writer(codec=OldCodec())\n"
        "writer.add_document(path='old.md')\nwriter.commit()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "gone"), str(ROOT)])}
    subprocess.run([sys.executable, "-c", code, str(root), str(tmp_path / "idx")], cwd=ROOT, env=env, check=True)
    index = SearchIndex(root, tmp_path / "idx")
    assert index.refresh().full
    assert len(paths(index, "alpha")) == 5
