// Answers batches of queries with the browser engine (plugins/kb/assets/kb-engine.js) under Node,
// one process for many collections: each stdin line is a request
//   {"dir": EXPORT_DIR, "queries": [...], "limit": N}
// and gets one stdout line {"answers": [...]}, each answer {q, results: [{path, score, matched}],
// did_you_mean, corrections}. Every request gets a fresh engine, and its queries run one after
// another in the order given. Used by tests/parity.py.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const assets = path.join(__dirname, "..", "..", "plugins", "kb", "assets");
globalThis.kbStem = require(path.join(assets, "kb-stemmer.js"));
globalThis.KbMeaning = require(path.join(assets, "kb-meaning.js"));
const { Engine } = require(path.join(assets, "kb-engine.js"));

async function answer(request) {
  const dir = request.dir;
  const engine = new Engine(dir, (url) => {
    const file = url.slice(dir.length).replace(/^\//, "").replace(/\?.*$/, "");
    return Promise.resolve(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
  });
  const answers = [];
  for (const q of request.queries) {
    const response = await engine.search(q, request.limit);
    answers.push({
      q,
      results: response.results.map((r) => ({ path: r.path, score: r.score, matched: r.matched })),
      did_you_mean: response.didYouMean || null,
      corrections: response.corrections,
    });
  }
  return { answers };
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(() => answer(JSON.parse(line)))
    .catch((error) => ({ error: String(error && error.stack || error) }))
    .then((reply) => { process.stdout.write(JSON.stringify(reply) + "\n"); });
});
