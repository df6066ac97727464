"""The browser engine answers a query the same whatever it was asked before.

The engine loads its data lazily and keeps what it loaded; a query's ranking must not depend on
which files or postings happen to be loaded already. Each query is answered by a fresh engine,
by one engine that answered the other queries first (in two orders), and by an engine that got
every prefix of the query at once, as typing does; the full rankings, scores and "matched"
descriptions must be the same.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from search.export import write_search_data
from search.index import SearchIndex

from .conftest import DEV_SET, ROOT, SAMPLE_PROCEDURES
from .test_browser_parity import node

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed to run the browser engine outside a browser")

# stdin: a JSON list of queries; stdout: one JSON line {fresh, forward, backward, typed}, each a
# list (one per query) of the ranking [[path, score, matched], ...].
ORDERS_SCRIPT = r"""
const fs = require("fs"), path = require("path");
const [assets, dir, limit] = process.argv.slice(1);
globalThis.kbStem = require(path.join(assets, "kb-stemmer.js"));
globalThis.KbMeaning = require(path.join(assets, "kb-meaning.js"));
const { Engine } = require(path.join(assets, "kb-engine.js"));
const read = (url) => {
  const name = url.slice(dir.length).replace(/^\//, "").replace(/\?.*$/, "");
  // Files arrive after a delay that differs between them, as over a network.
  const text = fs.readFileSync(path.join(dir, name), "utf8");
  return new Promise((resolve) => setTimeout(() => resolve(JSON.parse(text)), text.length % 5));
};
const queries = JSON.parse(fs.readFileSync(0, "utf8"));
const ranking = (response) => response.results.map((r) => [r.path, r.score, r.matched]);
const prefixes = (query) => Array.from({ length: query.length }, (_, i) => query.slice(0, i + 1));
(async () => {
  const fresh = [];
  for (const q of queries) fresh.push(ranking(await new Engine(dir, read).search(q, Number(limit))));
  const forward = [], shared = new Engine(dir, read);
  for (const q of queries) forward.push(ranking(await shared.search(q, Number(limit))));
  const backward = [], reversed = new Engine(dir, read);
  for (const q of queries.slice().reverse()) backward.unshift(ranking(await reversed.search(q, Number(limit))));
  const typed = [];
  for (const q of queries) {
    const engine = new Engine(dir, read);
    const answers = await Promise.all(prefixes(q).map((p) => engine.search(p, Number(limit))));
    typed.push(ranking(answers[answers.length - 1]));
  }
  process.stdout.write(JSON.stringify({ fresh, forward, backward, typed }) + "\n");
})().catch((error) => { console.error(error); process.exit(1); });
"""


def typo_variants(query: str) -> list[str]:
    """Misspellings a rep makes: a letter dropped, two swapped, one doubled, in the query's longest word."""
    words = query.split()
    if not words:
        return []
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 5:
        return []
    middle = len(word) // 2
    spelled = [
        word[:middle] + word[middle + 1 :],
        word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :],
        word[:middle] + word[middle] + word[middle:],
    ]
    return [" ".join([*words[:longest], variant, *words[longest + 1 :]]) for variant in spelled]


def answers_in_every_order(procedures: Path, queries: list[str], tmp_path: Path) -> dict[str, list]:
    index = SearchIndex(procedures, tmp_path / "idx")
    index.refresh()
    write_search_data(index, tmp_path / "data")
    assets = ROOT / "plugins" / "kb" / "assets"
    return node(["-e", ORDERS_SCRIPT, str(assets), str(tmp_path / "data"), "20"], json.dumps(queries))[0]


def assert_same_in_every_order(answers: dict[str, list], queries: list[str]) -> None:
    for order in ("forward", "backward", "typed"):
        differ = [q for q, fresh, other in zip(queries, answers["fresh"], answers[order], strict=True) if fresh != other]
        assert not differ, f"{len(differ)} of {len(queries)} queries rank differently ({order}) than in a fresh engine: {differ[:10]}"


@pytest.mark.skipif(not (DEV_SET / "queries.jsonl").is_file(), reason="../shared/eval/dev is not beside the repository")
def test_dev_queries_and_their_typos_rank_the_same_whatever_came_before(tmp_path: Path) -> None:
    queries = [json.loads(line)["q"] for line in (DEV_SET / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries += [variant for q in queries for variant in typo_variants(q)]
    queries += ["matress oike", "refnd", "pasword resett", "my parcel never showed up", "parcel nevr showd"]
    answers = answers_in_every_order(DEV_SET / "procedures", queries, tmp_path)
    assert_same_in_every_order(answers, queries)


def test_sample_queries_and_their_typos_rank_the_same_whatever_came_before(tmp_path: Path) -> None:
    queries = [json.loads(line)["q"] for line in (ROOT / "tests" / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries += [variant for q in queries for variant in typo_variants(q)]
    queries += ["refnd", "late delivry refund", "pasword", "my parcel never showd up", "warrentee claim"]
    answers = answers_in_every_order(SAMPLE_PROCEDURES, queries, tmp_path)
    assert_same_in_every_order(answers, queries)
