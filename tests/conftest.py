"""Shared fixtures: every test gets its own index folder, helpers to write procedures, and the
browser engine run in Node with the thesaurus for the parity tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.analysis import Thesaurus, load_thesaurus

from .parity import BrowserEngine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PROCEDURES = ROOT / "procedures"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev"
SERVICE_DESK_SET = ROOT.parent / "shared" / "eval" / "service-desk"


@pytest.fixture(scope="session")
def test_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder for the whole test run: what the engine derives once is derived once per run."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture(autouse=True)
def isolated_cache(test_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keeps every test, and the commands it runs, out of the user's cache folder: $XDG_CACHE_HOME
    and the home folder (whose .cache is the default) are the test run's own."""
    monkeypatch.setenv("HOME", str(test_home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(test_home / ".cache"))
    return test_home / ".cache"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="write tests/golden/rankings.json again from the Python engine (see tests/test_golden_rankings.py)",
    )


@pytest.fixture(autouse=True)
def isolated_index(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keeps every test's index out of the user's cache."""
    index_dir = tmp_path_factory.mktemp("index")
    monkeypatch.setenv("KB_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("NO_COLOR", "1")
    return index_dir


def procedure_text(title: str, tags: list[str], body: str = "## Steps\n\n1. Do the thing.\n", **fields: object) -> str:
    """A procedure file's text; extra front-matter fields are written as JSON (valid YAML)."""
    lines = ["---", f"title: {json.dumps(title)}", "tags:", *[f"  - {json.dumps(t)}" for t in tags]]
    lines += [f"{key}: {json.dumps(value)}" for key, value in fields.items()]
    return "\n".join([*lines, "---", "", textwrap.dedent(body).strip(), ""])


@pytest.fixture
def write_procedure(tmp_path: Path):
    """write_procedure('area/name.md', title, tags, body=..., **fields) -> Path under tmp_path/'kb'."""
    root = tmp_path / "kb"
    root.mkdir(exist_ok=True)

    def write(rel: str, title: str, tags: list[str], body: str = "## Steps\n\n1. Do the thing.\n", **fields: object) -> Path:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(procedure_text(title, tags, body, **fields), encoding="utf-8")
        return path

    write.root = root  # type: ignore[attr-defined]
    return write


def ctrl_c_stops_it() -> None:
    """`preexec_fn` of a `kb serve` a test stops with SIGINT, as a user's Ctrl-C would. A test run
    started in the background by a shell hands its children SIGINT ignored, and a Python started
    so never raises KeyboardInterrupt: the child gets the terminal's default back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_kb(
    *args: str, stdin: str | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the real command line in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def node_engine() -> Iterator[BrowserEngine]:
    """The browser's search engine (kb-engine.js) run in Node, one per test module that asks for it."""
    with BrowserEngine() as engine:
        yield engine


@pytest.fixture(scope="module")
def thesaurus() -> Thesaurus:
    """The default thesaurus, loaded once per test module that asks for it."""
    return load_thesaurus()
