// Runs the browser engine (plugins/kb/assets/kb-engine.js) under Node over exported search data:
//   node tests/js/search_cli.js EXPORT_DIR < queries.txt  ->  one JSON line per query
// Used by tests/test_browser_parity.py to compare the browser's ranking with `kb search`.
"use strict";
const fs = require("fs");
const path = require("path");
const assets = path.join(__dirname, "..", "..", "plugins", "kb", "assets");
globalThis.kbStem = require(path.join(assets, "kb-stemmer.js"));
globalThis.KbMeaning = require(path.join(assets, "kb-meaning.js"));
const { Engine } = require(path.join(assets, "kb-engine.js"));

const dir = process.argv[2];
const engine = new Engine(dir, (url) => {
  const file = url.slice(dir.length).replace(/^\//, "").replace(/\?.*$/, "");
  return Promise.resolve(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
});
const limit = Number(process.argv[3] || 10);
const queries = fs.readFileSync(0, "utf8").split("\n");
if (queries.length && queries[queries.length - 1] === "") queries.pop();
(async () => {
  for (const q of queries) {
    const response = await engine.search(q, limit);
    const answer = { q, results: response.results.map((r) => ({ path: r.path, score: r.score, matched: r.matched })) };
    if (response.didYouMean) answer.did_you_mean = response.didYouMean;
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
})().catch((error) => { console.error(error); process.exit(1); });
