"""Search-quality benchmark: runs `kb search -` over a judged query file and prints metrics.

    python benchmarks/quality.py --procedures ../shared/eval/dev/procedures ../shared/eval/dev/queries.jsonl

Prints top-1, MRR@10 and recall@5 per query kind and overall; `--misses` lists the queries whose
first result is wrong; `--json` prints the numbers for other scripts (the quality floor test).
The scoring is `search.evaluate`'s, as `kb eval` (which answers in-process instead).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, when not installed

from search.evaluate import JudgementError, load_judgements, score


def run_batch(procedures: Path, queries: list[str], index_dir: Path, extra: list[str]) -> list[dict]:
    """Answers through the real command, as any other front would see it."""
    command = [
        sys.executable,
        "-m",
        "search",
        "--procedures",
        str(procedures),
        "--index-dir",
        str(index_dir),
        *extra,
        "search",
        "--limit",
        "10",
        "-",
    ]
    stdin = "".join(q.replace("\n", " ") + "\n" for q in queries)
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"kb search failed ({done.returncode}):\n{done.stderr}")
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    if len(answers) != len(queries):
        sys.exit(f"expected {len(queries)} answers, got {len(answers)}")
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("queries", type=Path, help="judged queries, JSON lines with q, relevant, also, kind")
    parser.add_argument("--procedures", type=Path, required=True, help="the procedures folder the queries were judged on")
    parser.add_argument("--synonyms", type=Path, help="extra synonyms file")
    parser.add_argument("--misses", action="store_true", help="list the queries whose first result is wrong")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--half",
        choices=("even", "odd"),
        help="only the queries on even (1st, 3rd, ...) or odd lines: tune settings on one half, check them on the other",
    )
    args = parser.parse_args()
    try:
        judgements = load_judgements(args.queries)
        if args.half:
            judgements = judgements[args.half == "odd" :: 2]
    except JudgementError as exc:
        sys.exit(str(exc))
    extra = ["--synonyms", str(args.synonyms)] if args.synonyms else []
    with tempfile.TemporaryDirectory(prefix="kb-quality-") as index_dir:
        env_root = Path(__file__).resolve().parent.parent
        os.chdir(env_root)
        answers = run_batch(args.procedures.resolve(), [j["q"] for j in judgements], Path(index_dir), extra)
    result = score(judgements, answers)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'kind':<12} {'n':>4} {'top-1':>7} {'MRR':>7} {'R@5':>7}")
    for kind, row in [*result["kinds"].items(), ("overall", result["overall"])]:
        print(f"{kind:<12} {row['n']:>4} {row['top1']:>7.3f} {row['mrr']:>7.3f} {row['recall5']:>7.3f}")
    if args.misses:
        print()
        for miss in result["misses"]:
            print(f"[{miss['kind']}] {miss['q']!r}\n    expected {miss['expected']} (rank {miss['rank']}), got {miss['got']}")


if __name__ == "__main__":
    main()
