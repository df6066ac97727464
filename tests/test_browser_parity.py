"""The browser engine (kb-engine.js, run under Node) ranks exactly as `kb search`.

The same search data a site serves is exported from the index; the JavaScript engine answers
the judged queries from it, and its rankings are compared with the command line's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from search.export import fnv1a32, write_search_data
from search.index import SearchIndex

from .conftest import DEV_SET, ROOT, SAMPLE_PROCEDURES, run_kb

NODE = shutil.which("node")
HARNESS = ROOT / "tests" / "js" / "search_cli.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is needed to run the browser engine outside a browser")


def node(args: list[str], stdin: str) -> list[dict]:
    done = subprocess.run([NODE, *args], input=stdin, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def compare(procedures: Path, queries: list[str], tmp_path: Path, limit: int = 10) -> tuple[list[dict], list[dict]]:
    index_dir, export_dir = tmp_path / "idx", tmp_path / "site-data"
    index = SearchIndex(procedures, index_dir)
    index.refresh()
    write_search_data(index, export_dir)
    stdin = "".join(q.replace("\n", " ") + "\n" for q in queries)
    browser = node([str(HARNESS), str(export_dir), str(limit)], stdin)
    cli = run_kb("--procedures", str(procedures), "--index-dir", str(index_dir), "search", "--limit", str(limit), "-", stdin=stdin)
    assert cli.returncode == 0, cli.stderr
    return browser, [json.loads(line) for line in cli.stdout.splitlines()]


def paths(answer: dict) -> list[str]:
    return [r["path"] for r in answer["results"]]


@pytest.mark.skipif(not (DEV_SET / "queries.jsonl").is_file(), reason="../shared/eval/dev is not beside the repository")
def test_dev_queries_rank_identically_in_browser_and_cli(tmp_path: Path) -> None:
    queries = [json.loads(line)["q"] for line in (DEV_SET / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    browser, cli = compare(DEV_SET / "procedures", queries, tmp_path)
    assert len(browser) == len(cli) == len(queries)
    same_first = sum(paths(b)[:1] == paths(c)[:1] for b, c in zip(browser, cli, strict=True))
    assert same_first / len(queries) >= 0.95
    # In practice the whole ranking and the "matched" descriptions agree too.
    assert [paths(b) for b in browser] == [paths(c) for c in cli]
    assert [[r["matched"] for r in b["results"]] for b in browser] == [[r["matched"] for r in c["results"]] for c in cli]


def test_sample_and_odd_queries_rank_identically(tmp_path: Path) -> None:
    queries = [json.loads(line)["q"] for line in (ROOT / "tests" / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    queries += [
        "Complaint",
        "complaint:",
        "IT: Password Reset",
        "refnd",
        "passw",
        "xqzv",
        "",
        "AND OR NOT",
        "Muñoz",
        "“smart quotes”",
        "1,000",
    ]
    browser, cli = compare(SAMPLE_PROCEDURES, queries, tmp_path)
    assert [paths(b) for b in browser] == [paths(c) for c in cli]


def test_fragments_tags_and_suggestions_agree_in_full(tmp_path: Path) -> None:
    """Fragments (also one whose stem is a collection term), typos, exact tags with their category
    after them, and did-you-mean: the same 30 results, scores and suggestions in both engines."""
    queries = ["late deliv", "deliv", "late delivery", "refu", "refnd late", "shipmnt", "Complaint: Late Delivery", "complaint"]
    queries += ["asdf qwerty zzzz", "kitchn blendr", "paswrd", "recieve pasword", "athorisaton zzqx", "warrentee zzqx"]
    browser, cli = compare(SAMPLE_PROCEDURES, queries, tmp_path, limit=30)
    assert [paths(b) for b in browser] == [paths(c) for c in cli]
    assert [[round(r["score"], 4) for r in b["results"]] for b in browser] == [[r["score"] for r in c["results"]] for c in cli]
    assert [b.get("did_you_mean") for b in browser] == [c.get("did_you_mean") for c in cli]
    assert paths(cli[0])[0] == "complaints/late-delivery.md"


def test_stemmer_matches_python_on_collection_words(tmp_path: Path) -> None:
    import Stemmer

    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "idx")
    index.refresh()
    words = sorted(set(index.vocabulary()) | set(list(index.english_words())[:20000]))
    script = (
        "const stem = require(process.argv[1]); const words = require('fs').readFileSync(0, 'utf8').split('\\n');"
        "process.stdout.write(JSON.stringify(words.map(stem)) + '\\n');"
    )
    got = node(["-e", script, str(ROOT / "plugins" / "kb" / "assets" / "kb-stemmer.js")], "\n".join(words))[0]
    expected = Stemmer.Stemmer("english").stemWords(words)
    mismatches = [(w, e, g) for w, e, g in zip(words, expected, got, strict=True) if e != g]
    assert len(mismatches) <= len(words) // 2000, mismatches[:20]


def test_shard_hash_is_the_same_in_both_languages() -> None:
    words = ["refund", "late shipment", "muñoz", "日本", ""]
    script = (
        "const {fnv1a32} = require(process.argv[1]); const words = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(words.map(fnv1a32)) + '\\n');"
    )
    got = node(["-e", script, str(ROOT / "plugins" / "kb" / "assets" / "kb-engine.js")], json.dumps(words))[0]
    assert got == [fnv1a32(w) for w in words]


def test_name_like_words_are_the_same_in_both_languages() -> None:
    from search.analysis import name_like

    queries = [
        "there's something on my Visa statement I can't place",
        "she paid with Amex, then PayPal's refund came",
        "Late Delivery Refund",
        "UPS says DELIVERED but nothing here",
        "Müller's café order from Zürich",
        "1,000 units for O'Brien",
        "straße Straße ß",
        "",
        "  Complaint: Late Shipment ",
    ]
    script = (
        "const {nameLike} = require(process.argv[1]); const queries = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(queries.map(nameLike)) + '\\n');"
    )
    got = node(["-e", script, str(ROOT / "plugins" / "kb" / "assets" / "kb-engine.js")], json.dumps(queries))[0]
    assert got == [name_like(q) for q in queries]


# Serves each document as a file of its own (doc_chunk 1) and holds each one back until the script
# releases it: stdin gives the ranked paths and the ranks in the order their files arrive.
PROGRESSIVE_SCRIPT = r"""
const fs = require("fs"), path = require("path");
const [assets, dir, query] = process.argv.slice(1);
globalThis.kbStem = require(path.join(assets, "kb-stemmer.js"));
globalThis.KbMeaning = require(path.join(assets, "kb-meaning.js"));
const { Engine } = require(path.join(assets, "kb-engine.js"));
const read = (name) => JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
const allDocs = fs.readdirSync(path.join(dir, "docs")).sort().flatMap((name) => read("docs/" + name));
const held = new Map();
const engine = new Engine(dir, (url) => {
  const name = url.slice(dir.length).replace(/^\//, "").replace(/\?.*$/, "");
  if (name === "manifest.json") return Promise.resolve(Object.assign(read(name), { doc_chunk: 1 }));
  if (!name.startsWith("docs/")) return Promise.resolve(read(name));
  const doc = Number(name.slice(5, -5));
  return new Promise((resolve) => held.set(doc, () => resolve([allDocs[doc]])));
});
const { ranked, release } = JSON.parse(fs.readFileSync(0, "utf8"));
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
(async () => {
  const shown = [];
  const done = engine.search(query, ranked.length, (partial) => shown.push(partial.results.map((r) => r.path)));
  while (held.size < ranked.length) await tick();
  for (const rank of release) {
    held.get(allDocs.findIndex((d) => d.path === ranked[rank]))();
    await tick();
  }
  const response = await done;
  process.stdout.write(JSON.stringify({ shown, final: response.results.map((r) => r.path) }) + "\n");
})();
"""


@pytest.mark.parametrize(
    ("release", "expected_prefixes"),
    [
        ([0, 1, 2, 3], [1, 2, 3]),  # in rank order: the list grows one result at a time
        ([3, 2, 1, 0], []),  # the best result last: nothing to show before all are there
        ([1, 0, 3, 2], [2]),  # the first two together, then the rest
    ],
)
def test_results_are_shown_as_soon_as_the_best_ones_have_their_data(
    tmp_path: Path, release: list[int], expected_prefixes: list[int]
) -> None:
    index = SearchIndex(SAMPLE_PROCEDURES, tmp_path / "idx")
    index.refresh()
    write_search_data(index, tmp_path / "data")
    query = "refund"
    cli = run_kb("--procedures", str(SAMPLE_PROCEDURES), "--index-dir", str(tmp_path / "idx"), "search", "--json", "--limit", "4", query)
    ranked = [r["path"] for r in json.loads(cli.stdout)["results"]]
    assert len(ranked) == 4, "the sample needs 4 results for 'refund' for this test"
    assets = ROOT / "plugins" / "kb" / "assets"
    stdin = json.dumps({"ranked": ranked, "release": release})
    got = node(["-e", PROGRESSIVE_SCRIPT, str(assets), str(tmp_path / "data"), query], stdin)[0]
    assert got["final"] == ranked
    assert got["shown"] == [ranked[:count] for count in expected_prefixes]
