"""Both engines rank alike on the questions the meaning signal decides.

The service-desk set (../shared/eval/service-desk) is employees' own wording, most of it words
the procedures lack: the questions where the meaning signal (search/meaning.py) changes the
ranking. For every one of its questions, and of the dev set's, the browser engine (kb-engine.js
with kb-meaning.js, under Node) must give the full ranking, the scores and the "matched" lists
(with their "meaning: ..." lines) that `kb search` gives. So that this compares more than lexical
rankings, the meaning signal must have changed many of them: they are compared with the rankings
`kb search` gives without it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import search.query
from search.analysis import Thesaurus
from search.meaning import Meaning, meaning_query
from search.ranking import RANKING

from .conftest import DEV_SET, ROOT, SERVICE_DESK_SET
from .parity import NODE, BrowserEngine, build, differences, python_answers

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")

LIMIT = 50  # more than either set's procedures: the full ranking is compared


def questions(folder: Path) -> list[str]:
    return [json.loads(line)["q"] for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def paths(answer: dict[str, Any]) -> list[str]:
    return [r["path"] for r in answer["results"]]


def compare(folder: Path, work: Path, node_engine: BrowserEngine, thesaurus: Thesaurus, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Asserts that both engines answer every question of the set alike; returns how many
    rankings, and how many first results, the meaning signal changed."""
    queries = questions(folder)
    index, data = build(folder / "procedures", work)
    expected = python_answers(index, thesaurus, queries, LIMIT)
    got = node_engine.answers(data, queries, LIMIT)
    found = {q: d for q, a, b in zip(queries, expected, got, strict=True) if (d := differences(a, b))}
    assert not found, f"{len(found)} of {len(queries)} questions differ: {dict(list(found.items())[:5])}"
    assert [paths(a)[:1] for a in got] == [paths(a)[:1] for a in expected]
    with monkeypatch.context() as patch:
        patch.setattr(search.query, "meaning_query", lambda *args: None)
        lexical = python_answers(index, thesaurus, queries, LIMIT)
    changed = sum(paths(a) != paths(b) for a, b in zip(expected, lexical, strict=True))
    first = sum(paths(a)[:1] != paths(b)[:1] for a, b in zip(expected, lexical, strict=True))
    print(f"\n{folder.name}: {len(queries)} questions ranked identically; meaning changed {changed} rankings, {first} first results")
    return changed, first


@pytest.mark.skipif(not (SERVICE_DESK_SET / "queries.jsonl").is_file(), reason="../shared/eval/service-desk is not beside the repository")
def test_service_desk_questions_rank_identically_with_meaning(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed, first = compare(SERVICE_DESK_SET, tmp_path, node_engine, thesaurus, monkeypatch)
    total = len(questions(SERVICE_DESK_SET))
    assert changed >= total // 10 and first >= total // 50


@pytest.mark.skipif(not (DEV_SET / "queries.jsonl").is_file(), reason="../shared/eval/dev is not beside the repository")
def test_dev_questions_rank_identically_with_meaning(
    tmp_path: Path, node_engine: BrowserEngine, thesaurus: Thesaurus, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed, _ = compare(DEV_SET, tmp_path, node_engine, thesaurus, monkeypatch)
    assert changed >= 1


def test_both_engines_name_the_same_meaning_words() -> None:
    """Meaning.words and kb-meaning.js's meaningWords on the same shares: the strongest words in
    query order, words that added little left out, a word typed twice named once."""
    typed = ["is", "it", "safe", "to", "go", "oil", "and", "oil"]
    query = meaning_query(typed, {})
    assert query is not None and query.typed == typed
    cases = [[5, 9, 90, 0, 30, 0, 0, 0], [0, 0, 40, 0, 35, 60, 0, 60], [0] * 8, [1, 1, 1, 1, 1, 1, 1, 1], [7, 0, 0, 0, 0, 0, 0, 21]]
    script = (
        f"const m = require({json.dumps(str(ROOT / 'plugins/kb/assets/kb-meaning.js'))});"
        f"const ranking = {json.dumps(RANKING.as_json())}; const query = {{typed: {json.dumps(typed)}}};"
        f"console.log(JSON.stringify({json.dumps(cases)}.map(s => m.meaningWords({{shares: s}}, query, ranking))));"
    )
    got = json.loads(subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=True).stdout)
    assert got == [Meaning(0.5, shares).words(query) for shares in cases]
    assert got[:3] == [["safe", "go"], ["safe", "go", "oil"], []]
