"""Search-quality floors, measured through `kb search -` by the benchmark script.

The floors sit a little under the measured numbers (README, closing notes): a change that makes
search clearly worse fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import DEV_SET, ROOT, SAMPLE_PROCEDURES, SERVICE_DESK_SET

OWN_FLOOR = {"top1": 0.82, "mrr": 0.86, "recall5": 0.92}
DEV_FLOOR = {"top1": 0.87, "mrr": 0.90, "recall5": 0.94}
# Employees' own words (../shared/eval/service-desk): measured 0.782 top-1 and 0.968 recall@5 with
# the meaning signal, 0.710 and 0.947 without it; the floor fails if meaning stops working.
SERVICE_DESK_FLOOR = {"top1": 0.76, "mrr": 0.84, "recall5": 0.96}
KIND_TOP1_FLOOR = 0.3  # no kind may collapse


def measure(procedures, queries) -> dict:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "quality.py"), "--procedures", str(procedures), str(queries), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_floor(result: dict, floor: dict) -> None:
    overall = result["overall"]
    for metric, minimum in floor.items():
        assert overall[metric] >= minimum, f"{metric} {overall[metric]:.3f} < {minimum}; misses: {result['misses']}"
    for kind, row in result["kinds"].items():
        assert row["top1"] >= KIND_TOP1_FLOOR, f"{kind}: top-1 {row['top1']:.2f}"


def test_sample_knowledge_base_quality_floor() -> None:
    assert_floor(measure(SAMPLE_PROCEDURES, ROOT / "tests" / "queries.jsonl"), OWN_FLOOR)


@pytest.mark.skipif(not (DEV_SET / "queries.jsonl").is_file(), reason="../shared/eval/dev is not beside the repository")
def test_dev_set_quality_floor() -> None:
    assert_floor(measure(DEV_SET / "procedures", DEV_SET / "queries.jsonl"), DEV_FLOOR)


@pytest.mark.skipif(not (SERVICE_DESK_SET / "queries.jsonl").is_file(), reason="../shared/eval/service-desk is not beside the repository")
def test_service_desk_quality_floor() -> None:
    assert_floor(measure(SERVICE_DESK_SET / "procedures", SERVICE_DESK_SET / "queries.jsonl"), SERVICE_DESK_FLOOR)
