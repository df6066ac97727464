"""An empty procedures folder, one procedure and many all index, build and search, whichever of
`kb search`, `kb index` and `mkdocs build` runs first on the same index folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_kb

sys.path.insert(0, str(ROOT / "benchmarks"))
from generate import generate

ORDERS = {
    "kb first": ["search", "build", "index", "search", "build"],
    "mkdocs first": ["build", "search", "build", "search"],
}


def make_site(root: Path, count: int) -> Path:
    """A site whose docs folder holds `count` generated procedures (none: an empty folder)."""
    docs = root / "docs"
    docs.mkdir(parents=True)
    if count:
        generate(count, docs)
    (root / "mkdocs.yml").write_text("site_name: Sizes\ndocs_dir: docs\ntheme:\n  name: material\nplugins:\n  - kb\n", encoding="utf-8")
    return root


def run_step(step: str, site: Path, index_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"KB_INDEX_DIR": str(index_dir), "NO_MKDOCS_2_WARNING": "1"}
    if step == "build":
        return subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict"],
            capture_output=True,
            text=True,
            cwd=site,
            env={**os.environ, **env},
            timeout=300,
            check=False,
        )
    args = ["search", "--json", "refund"] if step == "search" else ["index"]
    return run_kb("--procedures", str(site / "docs"), *args, cwd=site, env=env)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("count", [0, 1, 50])
def test_every_size_builds_and_searches_in_any_order(tmp_path: Path, count: int, order: str) -> None:
    site = make_site(tmp_path / "site", count)
    index_dir = tmp_path / "index"
    for step in ORDERS[order]:
        done = run_step(step, site, index_dir)
        assert done.returncode == 0, f"{step}: {done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, step
        if step == "search":
            results = json.loads(done.stdout)["results"]
            if count == 0:
                assert results == []
            if count == 50:
                assert results, "50 generated procedures and nothing about a refund"
        else:
            assert "error" not in done.stderr.lower(), done.stderr[-2000:]
    search_data = list((site / "site").rglob("*.json"))
    assert search_data, "the build wrote no search data"
