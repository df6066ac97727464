"""The index and search data folders: the engine writes and deletes only what is its own, and no
kill, full disk or read-only folder leaves a wrong answer behind."""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search import cli, storage
from search.export import refresh_and_export
from search.index import SearchIndex
from search.query import QueryEngine
from search.storage import INDEX_MARKER, FolderRefused

from .conftest import procedure_text, run_kb


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (the .git of a project included) with its content."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def make_procedures(root: Path, extra_word: str = "") -> Path:
    for number, (title, tag) in enumerate([("Refund request", "Billing: Refund"), ("Late parcel", "Complaint: Late Shipment")]):
        path = root / "area" / f"p{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = f"## Steps\n\n1. Check the {title.lower()} {extra_word if number == 0 else ''}.\n"
        path.write_text(procedure_text(title, [tag], body), encoding="utf-8")
    return root


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("kb: error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


# ---- finding 1: the index folder holds only what the engine writes -----------------------------------
def test_a_folder_of_other_files_is_refused_not_emptied(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    (keep / "sub").mkdir(parents=True)
    (keep / "sub" / "a.txt").write_text("x\n", encoding="utf-8")
    before = snapshot(keep)
    done = run_kb("--procedures", "procedures", "search", "refund", env={"KB_INDEX_DIR": str(keep)})
    assert str(keep) in one_line_error(done)
    assert snapshot(keep) == before


def test_the_procedures_folder_is_refused_as_the_index(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    before = snapshot(procedures)
    done = run_kb("--procedures", str(procedures), "--index-dir", str(procedures), "index")
    assert str(procedures) in one_line_error(done)
    assert snapshot(procedures) == before


@pytest.mark.parametrize("where", ["inside", "above", "protected", "inside protected", "above protected"])
def test_folders_near_the_procedures_or_a_protected_folder_are_refused(tmp_path: Path, where: str) -> None:
    procedures = make_procedures(tmp_path / "project" / "docs")
    site = tmp_path / "project" / "site"
    (site / "keep").mkdir(parents=True)
    (site / "keep" / "index.html").write_text("<p>", encoding="utf-8")
    folder = {
        "inside": procedures / "index",
        "above": tmp_path / "project",
        "protected": site,
        "inside protected": site / "idx",
        "above protected": tmp_path,
    }[where]
    before = snapshot(tmp_path)
    with pytest.raises(FolderRefused, match=str(folder)):
        SearchIndex(procedures, folder, protected=[site]).refresh()
    assert snapshot(tmp_path) == before


def test_symlinks_are_resolved_before_comparing(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    (tmp_path / "link").symlink_to(procedures)
    with pytest.raises(FolderRefused):
        SearchIndex(procedures, tmp_path / "link").refresh()


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_missing_or_empty_folder_becomes_the_index(tmp_path: Path, state: str) -> None:
    procedures = make_procedures(tmp_path / "p")
    folder = tmp_path / "deep" / "idx"
    if state == "empty":
        folder.mkdir(parents=True)
    SearchIndex(procedures, folder).refresh()
    assert (folder / INDEX_MARKER).is_file()
    assert [r.path for r in QueryEngine(SearchIndex(procedures, folder), _thesaurus()).search("refund").results] == ["area/p0.md"]


def test_a_folder_another_process_claims_meanwhile_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two `kb` commands started together on a new index folder: the second one's first look finds
    no marker, and by the time it lists the folder the first has written the marker and its lock."""
    folder = tmp_path / "idx"
    folder.mkdir()
    listed = storage._entries

    def claimed_meanwhile(where: Path) -> Iterator[str]:
        (where / INDEX_MARKER).write_text("service-kb index folder\n", encoding="utf-8")
        (where / "kb.lock").write_text("", encoding="utf-8")
        return listed(where)

    monkeypatch.setattr(storage, "_entries", claimed_meanwhile)
    storage.claim_folder(folder, storage.INDEX_FOLDER)
    assert sorted(p.name for p in folder.iterdir()) == [INDEX_MARKER, "kb.lock"]
    (folder / INDEX_MARKER).unlink()  # the same files without the marker are still refused
    monkeypatch.setattr(storage, "_entries", listed)
    with pytest.raises(FolderRefused, match=r"no \.service-kb-index marker"):
        storage.claim_folder(folder, storage.INDEX_FOLDER)


def test_a_rebuild_deletes_only_the_engines_own_files(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    folder = tmp_path / "idx"
    SearchIndex(procedures, folder).refresh()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    (folder / "mine").mkdir()
    (folder / "mine" / "a.json").write_text("{}", encoding="utf-8")
    SearchIndex(procedures, folder).refresh(full=True)
    (folder / "files.json").write_text("not json", encoding="utf-8")  # forces a fresh index
    (folder / "stamp.json").unlink()
    SearchIndex(procedures, folder).refresh()
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert (folder / "mine" / "a.json").is_file()
    assert [r.path for r in QueryEngine(SearchIndex(procedures, folder), _thesaurus()).search("refund").results] == ["area/p0.md"]


def test_an_index_written_before_the_marker_is_adopted(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    folder = tmp_path / "idx"
    SearchIndex(procedures, folder).refresh()
    (folder / INDEX_MARKER).unlink()
    SearchIndex(procedures, folder).refresh(full=True)
    assert (folder / INDEX_MARKER).is_file()


def test_a_folder_with_the_search_data_marker_is_not_an_index(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    out = tmp_path / "out"
    refresh_and_export(procedures, tmp_path / "idx", out)
    before = snapshot(out)
    with pytest.raises(FolderRefused):
        SearchIndex(procedures, out).refresh()
    assert snapshot(out) == before


def test_the_export_deletes_only_files_it_wrote(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    out = tmp_path / "site" / "kb-search"
    refresh_and_export(procedures, tmp_path / "idx", out)
    (out / "notes.json").write_text("{}", encoding="utf-8")
    (out / "docs" / "extra.json").write_text("{}", encoding="utf-8")
    (out / "terms" / "9999.json").write_text("{}", encoding="utf-8")  # a name of its own, not written this time
    refresh_and_export(procedures, tmp_path / "idx", out)
    assert (out / "notes.json").is_file() and (out / "docs" / "extra.json").is_file()
    assert not (out / "terms" / "9999.json").exists()


def test_the_export_refuses_a_folder_of_other_files(tmp_path: Path) -> None:
    procedures = make_procedures(tmp_path / "p")
    site = tmp_path / "site"
    (site / "search").mkdir(parents=True)
    (site / "search" / "search_index.json").write_text("{}", encoding="utf-8")
    (site / "package.json").write_text("{}", encoding="utf-8")
    before = snapshot(site)
    for out, protected in ((site, ()), (site, (site,)), (tmp_path, (site,)), (procedures, ())):
        with pytest.raises(FolderRefused):
            refresh_and_export(procedures, tmp_path / "idx", out, protected=protected)
    assert snapshot(site) == before
    assert (procedures / "area" / "p0.md").is_file()


def test_mkdocs_build_with_the_project_as_index_folder_fails_and_deletes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_procedures(project / "procedures")
    (project / "mkdocs.yml").write_text(
        "site_name: KB\ndocs_dir: procedures\ntheme:\n  name: material\nplugins:\n  - kb:\n      index_dir: .\n", encoding="utf-8"
    )
    (project / "tags.yml").write_text("categories: {}\n", encoding="utf-8")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    before = snapshot(project)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    env.pop("KB_INDEX_DIR")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(tmp_path / "site")],
        capture_output=True, text=True, cwd=project, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert f"refusing to use '{project}' as the index folder" in done.stderr, done.stderr
    assert snapshot(project) == before
    assert not (tmp_path / "site").exists(), "the refusal comes before any page is built"


def test_mkdocs_build_refuses_an_index_folder_inside_the_site(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_procedures(project / "procedures")
    (project / "mkdocs.yml").write_text(
        "site_name: KB\ndocs_dir: procedures\ntheme:\n  name: material\nplugins:\n  - kb:\n      index_dir: site/index\n", encoding="utf-8"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
    env.pop("KB_INDEX_DIR")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"], capture_output=True, text=True, cwd=project, env=env, timeout=300, check=False
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "as the index folder: it is inside the protected folder" in done.stderr, done.stderr


# ---- finding 2: no kill leaves the word list disagreeing with the index -----------------------------
class Killed(BaseException):
    """A kill at the Nth file operation: nothing after it runs, no handler catches it."""


@contextlib.contextmanager
def killed_at(n: int, error: BaseException | type[BaseException] = Killed) -> Iterator[list[int]]:
    """Within the block, the nth file creation, rename, replace or deletion raises `error`
    (Killed by default). Yields a one-item list counting the operations seen."""
    seen = [0]
    real = {name: getattr(os, name) for name in ("replace", "rename", "unlink", "remove")}
    real_open = builtins.open

    def step() -> None:
        seen[0] += 1
        if seen[0] == n:
            raise error

    def counted(name: str) -> Callable[..., object]:
        def operation(*args: object, **kwargs: object) -> object:
            step()
            return real[name](*args, **kwargs)

        return operation

    def counted_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(flag in mode for flag in "wax+"):
            step()
        return real_open(file, mode, *args, **kwargs)

    try:
        for name in real:
            setattr(os, name, counted(name))
        builtins.open = counted_open
        yield seen
    finally:
        for name, function in real.items():
            setattr(os, name, function)
        builtins.open = real_open


def _thesaurus():
    from search.analysis import load_thesaurus

    return load_thesaurus()


def indexed_then_word_removed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """Procedures (`p{name}`) indexed into `idx{name}` while one of them held the word "zebra",
    then written again without it: the next refresh has to take the word out."""
    procedures, folder = make_procedures(tmp_path / f"p{name}", extra_word="zebra"), tmp_path / f"idx{name}"
    SearchIndex(procedures, folder).refresh()
    make_procedures(procedures)  # the word leaves the only file that had it
    return procedures, folder


def test_every_kill_during_an_update_leaves_a_correct_index(tmp_path: Path) -> None:
    reference = make_procedures(tmp_path / "reference")
    full = SearchIndex(reference, tmp_path / "full")
    full.refresh(full=True)
    expected_words = full.vocabulary()
    assert "zebra" not in expected_words
    n, finished = 0, False
    while not finished:
        n += 1
        assert n < 200, "the update never finished"
        procedures, folder = indexed_then_word_removed(tmp_path, f"{n}")
        with killed_at(n) as seen:
            try:
                SearchIndex(procedures, folder).refresh()
                finished = True
            except Killed:
                pass
        # Killed before or after the commit, the index answers as one version or the other, whole.
        index = SearchIndex(procedures, folder)
        found = QueryEngine(index, _thesaurus()).search("zebra").results
        assert bool(found) == ("zebra" in index.vocabulary()), (n, seen)
        SearchIndex(procedures, folder).refresh()
        assert SearchIndex(procedures, folder).vocabulary() == expected_words, n
        assert QueryEngine(SearchIndex(procedures, folder), _thesaurus()).search("zebra").results == []
    assert n > 5  # the update went through several file operations


def test_a_kill_after_the_commit_does_not_crash_the_next_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported case, through the command line: killed right after Whoosh renamed its new TOC
    into place, before anything else was written."""
    procedures, folder = indexed_then_word_removed(tmp_path, "")
    real_rename, real_open = os.rename, builtins.open
    committed = []

    def rename(source: object, target: object, *args: object, **kwargs: object) -> None:
        real_rename(source, target, *args, **kwargs)
        committed.append(os.fspath(target).endswith(".toc"))

    def open_after_commit(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if any(committed) and any(flag in mode for flag in "wax+"):
            raise Killed
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(builtins, "open", open_after_commit)
    with pytest.raises(Killed):
        SearchIndex(procedures, folder).refresh()
    monkeypatch.undo()
    for _ in range(2):
        done = run_kb("--procedures", str(procedures), "--index-dir", str(folder), "search", "zebra")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("No results"), done.stdout
        assert "zebra" not in SearchIndex(procedures, folder).vocabulary()


# ---- finding 3: a full disk or read-only folder still answers -------------------------------------------
def test_a_disk_that_fills_at_any_write_of_an_update_leaves_search_answering(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The nth file operation of an update fails with ENOSPC, as a write() does (no file name):
    the search answers with one warning naming the folder, and the update completes once there is room."""
    n, finished, warned = 0, False, 0
    while not finished:
        n += 1
        assert n < 200, "the update never finished"
        procedures, folder = indexed_then_word_removed(tmp_path, f"{n}")
        command = ["--procedures", str(procedures), "--index-dir", str(folder), "search", "--json", "zebra"]
        with killed_at(n, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) as seen:
            status = cli.main(command)
        captured = capsys.readouterr()
        assert status == 0, (n, captured.err)
        finished = seen[0] < n
        warnings = captured.err.strip().splitlines()
        assert len(warnings) <= 1, (n, captured.err)  # none when the failed operation was one that may fail (a cache)
        for warning in warnings:
            assert warning.startswith("kb: warning: ") and str(folder) in warning and os.strerror(errno.ENOSPC) in warning, n
            warned += 1
        assert cli.main(command) == 0
        assert '"results": []' in capsys.readouterr().out, n
        assert "zebra" not in SearchIndex(procedures, folder).vocabulary()
    assert warned > 5


@pytest.fixture
def unwritable(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path, int], None]:
    """unwritable(folder, code): every write, creation, rename or deletion under the folder fails
    with OSError(code) naming the file (root ignores chmod, so the refusal is simulated)."""

    def arm(folder: Path, code: int) -> None:
        folder = folder.resolve()

        def inside(path: object) -> bool:
            return isinstance(path, (str, os.PathLike)) and Path(os.path.abspath(os.fspath(path))).is_relative_to(folder)

        def refuse(path: object) -> None:
            raise OSError(code, os.strerror(code), os.fspath(path))

        real_open, real_os_open = builtins.open, os.open

        def guarded_open(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
            if any(flag in mode for flag in "wax+") and inside(file):
                refuse(file)
            return real_open(file, mode, *args, **kwargs)

        def guarded_os_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and inside(path):
                refuse(path)
            return real_os_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded_open)
        monkeypatch.setattr(os, "open", guarded_os_open)
        for name in ("replace", "rename", "unlink", "remove", "mkdir"):
            real = getattr(os, name)

            def guarded(path: object, *args: object, _real: Callable[..., object] = real, **kwargs: object) -> object:
                if inside(path):
                    refuse(path)
                return _real(path, *args, **kwargs)

            monkeypatch.setattr(os, name, guarded)

    return arm


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_search_answers_from_the_last_good_index_when_it_cannot_write(
    tmp_path: Path, code: int, unwritable: Callable[[Path, int], None], capsys: pytest.CaptureFixture[str]
) -> None:
    procedures = make_procedures(tmp_path / "p")
    folder = tmp_path / "idx"
    SearchIndex(procedures, folder).refresh()
    (procedures / "area" / "p2.md").write_text(procedure_text("Refund by cheque", ["Billing: Refund"]), encoding="utf-8")
    unwritable(folder, code)
    status = cli.main(["--procedures", str(procedures), "--index-dir", str(folder), "search", "refund", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert '"area/p0.md"' in captured.out
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("kb: warning: "), captured.err
    assert str(folder) in warnings[0] and os.strerror(code) in warnings[0]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_without_an_index_the_write_error_names_the_folder(
    tmp_path: Path, code: int, unwritable: Callable[[Path, int], None], capsys: pytest.CaptureFixture[str]
) -> None:
    procedures = make_procedures(tmp_path / "p")
    folder = tmp_path / "idx"
    folder.mkdir()
    unwritable(folder, code)
    for command in (["search", "refund"], ["index"]):
        status = cli.main(["--procedures", str(procedures), "--index-dir", str(folder), *command])
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert status == 2 and len(lines) == 1 and lines[0].startswith("kb: error: "), captured.err
        assert str(folder) in lines[0] and os.strerror(code) in lines[0]
