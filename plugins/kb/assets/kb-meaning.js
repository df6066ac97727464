/* The meaning signal in the browser: search/meaning.py's meaning_query, meanings, Meaning.words
 * and fused, step for step, over the meaning shards that search/export_meaning.py writes (each
 * word: [weight, its vector's squared length, its postings as [docid delta, dot product, ...]]).
 * Everything but square roots of integers and the one division of a closeness is integer
 * arithmetic, exact in doubles, and the
 * floating-point operations come in the order Python does them, so both engines compute the same
 * numbers. Every parameter is the manifest's `ranking` (search/ranking.py). kb-engine.js uses it. */
(function (root) {
  "use strict";

  // A shard's entry for a word -> {weight, squared, docs, products}, the postings by ascending docid.
  function decodeEntry(entry) {
    var flat = entry[2], count = flat.length / 2, docs = new Int32Array(count), products = new Float64Array(count), doc = 0;
    for (var i = 0; i < count; i++) {
      doc += flat[2 * i];
      docs[i] = doc;
      products[i] = flat[2 * i + 1];
    }
    return { weight: entry[0], squared: entry[1], docs: docs, products: products };
  }

  // search/meaning.py's meaning_query: each query word the table knows (or, when it does not, its
  // typo correction), in order. `entryOf(word)` is the word's decoded entry or null. -> {typed,
  // entries, length} or null when no word is known; `length` is the sum of weight times vector
  // length over them, added in query order as Python's sum() does.
  function meaningQuery(queryWords, corrections, entryOf) {
    var typed = [], entries = [];
    queryWords.forEach(function (word) {
      var entry = entryOf(word);
      if (!entry && Object.prototype.hasOwnProperty.call(corrections, word)) entry = entryOf(corrections[word]);
      if (entry) {
        typed.push(word);
        entries.push(entry);
      }
    });
    if (!entries.length) return null;
    var length = 0;
    entries.forEach(function (entry) { length += entry.weight * Math.sqrt(entry.squared); });
    return length ? { typed: typed, entries: entries, length: length } : null;
  }

  // search/meaning.py's meanings: each document in some word's postings -> {closeness, shares}, a
  // share per query word (its weight times the dot product, 0 outside its postings).
  function meanings(query, ranking) {
    var shares = new Map(), size = query.entries.length;
    query.entries.forEach(function (entry, position) {
      for (var i = 0; i < entry.docs.length; i++) {
        var parts = shares.get(entry.docs[i]);
        if (!parts) {
          parts = new Array(size).fill(0);
          shares.set(entry.docs[i], parts);
        }
        parts[position] += entry.weight * entry.products[i];
      }
    });
    var scale = query.length * ranking.meaning_scale, found = new Map();
    shares.forEach(function (parts, doc) {
      var sum = 0;
      for (var i = 0; i < parts.length; i++) sum += parts[i];
      found.set(doc, { closeness: sum / scale, shares: parts });
    });
    return found;
  }

  // search/meaning.py's Meaning.words: the query words that brought the document closest, in
  // query order: at most ranking.meaning_words_shown, each once, and only those whose share is at
  // least 1/ranking.meaning_word_share of the largest. What a "meaning: ..." line names.
  function meaningWords(meaning, query, ranking) {
    var shares = meaning.shares;
    var best = shares.map(function (_, position) { return position; }).sort(function (a, b) {
      return shares[b] - shares[a] || a - b;
    });
    var largest = best.length ? shares[best[0]] : 0;
    var named = new Map();
    for (var k = 0; k < best.length; k++) {
      var share = shares[best[k]];
      if (named.size === ranking.meaning_words_shown || share <= 0 || share * ranking.meaning_word_share < largest) break;
      if (!named.has(query.typed[best[k]])) named.set(query.typed[best[k]], best[k]);
    }
    return Array.from(named.keys()).sort(function (a, b) { return named.get(a) - named.get(b); });
  }

  // search/meaning.py's fused, the same expression in the same order.
  function fused(lexical, meaning, strongest, uncovered, ranking) {
    if (meaning <= ranking.meaning_threshold || uncovered <= 0) return lexical;
    if (lexical <= 0 && meaning <= ranking.meaning_admission) return lexical;
    return lexical + ranking.meaning_weight * Math.max(strongest, 1.0) * (meaning - ranking.meaning_threshold) * uncovered;
  }

  var api = { decodeEntry: decodeEntry, meaningQuery: meaningQuery, meanings: meanings, meaningWords: meaningWords, fused: fused };
  root.KbMeaning = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
