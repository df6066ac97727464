"""Performance benchmark of the `kb` command on synthetic collections.

    python benchmarks/perf.py                 # N = 1,000 and 10,000
    python benchmarks/perf.py --sizes 1000    # quicker
    python benchmarks/perf.py --keep          # keep the generated folders (to profile them)

For each N it generates procedures with benchmarks/generate.py in a temporary folder, then times
the real command (`python -m search`, the same as `kb`) as separate processes, wall clock from
process start to exit:
- a full index build (`index --full`), and the time the command itself reports;
- re-indexing after one file's body changed (`index`), median over 3 different files;
- `search QUERY` with a fresh index: median of 7 runs after 1 warm-up, for a plain query, a
  query with typos, a 12-word paraphrase and a query in words the procedures lack (meaning);
- `python -c pass`, the floor any Python command pays.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

QUERIES = {
    'search "late delivery refund"': "late delivery refund",
    'search "late delivry refnud" (typos)': "late delivry refnud",
    "search, 12-word paraphrase": "customer says the parcel never showed up and wants their money back",
    # Words the generated procedures lack: the meaning signal (numpy, the word-vector table, the
    # procedures' meaning vectors) is loaded and used.
    "search, meaning needed": "my gizmo went kaput and she wants a replacement",
}
SEARCH_RUNS, WARMUPS, CHANGED_FILES = 7, 1, 3
TARGETS = {"search": 0.35, "changed": 1.0, "build": 90.0}  # seconds, at the largest N
REPORTED = re.compile(r"Index (?:full build|update) in ([0-9.]+) s: (\d+) added, (\d+) updated")


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.procedures = root / "procedures"
        self.index = root / "index"
        # Without PYTHONDONTWRITEBYTECODE: an installed `kb` runs from compiled bytecode (pip
        # compiles it at install time); with it, every run would compile the package again.
        dropped = ("KB_INDEX_DIR", "KB_SYNONYMS", "PYTHONDONTWRITEBYTECODE")
        self.env = {k: v for k, v in os.environ.items() if k not in dropped}
        self.env["NO_COLOR"] = "1"

    def kb(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "search", "--procedures", str(self.procedures), "--index-dir", str(self.index), *args]

    def run(self, command: list[str], timeout: float = 3600) -> tuple[float, subprocess.CompletedProcess[str]]:
        started = time.perf_counter()
        done = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
        return elapsed, done

    def index_run(self, full: bool) -> tuple[float, float, int, int]:
        """(wall, reported seconds, added, updated) of one `index` command."""
        wall, done = self.run(self.kb("index", *(["--full"] if full else [])))
        found = REPORTED.search(done.stdout)
        if not found:
            sys.exit(f"cannot read the index report from: {done.stdout!r}")
        return wall, float(found.group(1)), int(found.group(2)), int(found.group(3))

    def median_of(self, command: list[str], runs: int = SEARCH_RUNS) -> float:
        for _ in range(WARMUPS):
            self.run(command)
        return statistics.median(self.run(command)[0] for _ in range(runs))


def edit_body(path: Path, number: int) -> None:
    """Appends a sentence to the file's last section, so the body, size and hash change."""
    text = path.read_text(encoding="utf-8")
    extra = f"Checked again by the benchmark, edit {number}: confirm the carrier cutoff first."
    path.write_text(text.rstrip("\n") + f"\n\n{extra}\n", encoding="utf-8")


def measure(n: int, root: Path) -> dict[str, float | int | str]:
    bench = Bench(root)
    row: dict[str, float | int | str] = {}
    started = time.perf_counter()
    generate(n, bench.procedures)
    row["generate"] = time.perf_counter() - started
    files = sorted(bench.procedures.rglob("*.md"))
    row["words"] = sum(len(f.read_text(encoding="utf-8").split()) for f in files) // max(len(files), 1)
    print(f"  N={n:,}: generated in {row['generate']:.1f} s; building the index ...", file=sys.stderr, flush=True)

    row["build_wall"], row["build_reported"], added, _ = bench.index_run(full=True)
    if added != n:
        sys.exit(f"full build indexed {added} files, expected {n}")
    try:
        row["vocab"] = len(json.loads((bench.index / "vocab.json").read_text(encoding="utf-8"))["words"])
    except (OSError, ValueError, KeyError, TypeError):
        row["vocab"] = "?"
    row["index_mb"] = sum(f.stat().st_size for f in bench.index.rglob("*") if f.is_file()) / 1e6
    print(f"  N={n:,}: full build {row['build_wall']:.1f} s; one-file updates ...", file=sys.stderr, flush=True)

    walls, reported = [], []
    for number, position in enumerate((len(files) // 4, len(files) // 2, 3 * len(files) // 4), start=1):
        edit_body(files[position], number)
        wall, seconds, added, updated = bench.index_run(full=False)
        if (added, updated) != (0, 1):
            sys.exit(f"expected one updated file, got {added} added and {updated} updated")
        walls.append(wall)
        reported.append(seconds)
    row["changed_wall"], row["changed_reported"] = statistics.median(walls), statistics.median(reported)

    print(f"  N={n:,}: searches ...", file=sys.stderr, flush=True)
    for label, query in QUERIES.items():
        row[label] = bench.median_of(bench.kb("search", query))
    row["python"] = bench.median_of([sys.executable, "-c", "pass"])
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated collection sizes (default 1000,10000)")
    parser.add_argument("--keep", action="store_true", help="keep the generated procedures and indexes")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    base = Path(tempfile.mkdtemp(prefix="kb-perf-"))
    rows: dict[int, dict[str, float | int | str]] = {}
    try:
        for n in sizes:
            rows[n] = measure(n, base / f"n{n}")
    finally:
        if args.keep:
            print(f"kept: {base}", file=sys.stderr)
        else:
            shutil.rmtree(base, ignore_errors=True)

    largest = max(sizes)
    print(
        f"machine: {os.cpu_count()} CPU (nproc {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}), "
        f"{platform.machine()}, {platform.system()} {platform.release()}"
    )
    print(f"python:  {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    print(f"queries: {', '.join(repr(q) for q in QUERIES.values())}")
    print(
        f"times in seconds; searches and `python -c pass` are medians of {SEARCH_RUNS} runs after {WARMUPS} warm-up; "
        f"one changed file is the median of {CHANGED_FILES} files\n"
    )

    def fmt(value: float | int | str, spec: str) -> str:
        return format(value, spec) if isinstance(value, int | float) else str(value)

    lines = [
        ("words per file (mean)", "words", "d", None),
        ("distinct words (vocab.json)", "vocab", ",", None),
        ("index size (MB)", "index_mb", ".1f", None),
        ("full build, wall", "build_wall", ".2f", "build"),
        ("full build, reported by kb", "build_reported", ".2f", None),
        ("one changed file, wall", "changed_wall", ".2f", "changed"),
        ("one changed file, reported", "changed_reported", ".2f", None),
        *((label, label, ".3f", "search") for label in QUERIES),
        ("python -c pass", "python", ".3f", None),
    ]
    width = max(len(line[0]) for line in lines)
    header = f"{'':{width}}  " + "  ".join(f"{'N=' + format(n, ','):>9}" for n in sizes) + f"  target (N={largest:,})"
    print(header)
    print("-" * len(header))
    for name, key, spec, target in lines:
        cells = "  ".join(f"{fmt(rows[n][key], spec):>9}" for n in sizes)
        verdict = ""
        if target:
            limit, value = TARGETS[target], rows[largest][key]
            verdict = f"<= {limit:g} s  {'ok' if isinstance(value, float) and value <= limit else 'MISSED'}"
        print(f"{name:{width}}  {cells}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
