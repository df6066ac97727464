/* Service KB search engine for the browser: the same query semantics and the same numbers as
 * `kb search` (search/query.py), read from the static files that search/export.py writes.
 * Step for step a port of QueryEngine; when one changes, so must the other. Every weight, limit
 * and rule parameter comes from the manifest's `ranking` (search/ranking.py), never from a literal
 * here. tests/test_golden_rankings.py and tests/test_engine_parity.py hold the two engines to the
 * same rankings. */
(function (root) {
  "use strict";

  var stem = root.kbStem || (typeof require === "function" ? require("./kb-stemmer.js") : null);
  var meaningSignal = root.KbMeaning || (typeof require === "function" ? require("./kb-meaning.js") : null);

  // ---- analysis (search/analysis.py) ---------------------------------------------------
  var TOKEN = /[a-z0-9]+(?:'[a-z]+)*/g;
  var THOUSANDS = /(\d),(?=\d{3}\b)/g;
  var COMBINING = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/g;

  function fold(text) {
    if (/^[\x00-\x7f]*$/.test(text)) return text.toLowerCase().replace(/`/g, "'");
    return text.normalize("NFKD").replace(COMBINING, "").toLowerCase().replace(/\u00df/g, "ss")
      .replace(/[\u2019\u2018`]/g, "'");
  }

  function squash(text) { return text.split(/\s+/).filter(Boolean).join(" "); }

  function words(text) {
    return wordTokens(TOKEN, fold(text));
  }

  // The words `pattern` finds, without possessive 's or apostrophes; single letters dropped.
  function wordTokens(pattern, text) {
    var out = [], match;
    var cleaned = text.replace(THOUSANDS, "$1");
    pattern.lastIndex = 0;
    while ((match = pattern.exec(cleaned)) !== null) {
      var token = match[0];
      if (token.slice(-2).toLowerCase() === "'s") token = token.slice(0, -2);
      token = token.replace(/'/g, "");
      if (token.length > 1 || /^[0-9]+$/.test(token)) out.push(token);
    }
    return out;
  }

  // As search/analysis.py's name_like: a word written like a name (a capital letter after the
  // first word, in a query mostly in lower case) is not read as the common word it also spells.
  var CASED_TOKEN = /[A-Za-z0-9]+(?:'[A-Za-z]+)*/g;
  function nameLike(text) {
    var found = words(text);
    var tokens = wordTokens(CASED_TOKEN, text.normalize("NFKD").replace(COMBINING, "").replace(/[\u2019\u2018`]/g, "'"));
    var capital = tokens.map(function (t) { return /^[A-Z]/.test(t); });
    var capitals = capital.filter(Boolean).length;
    if (tokens.length !== found.length || capitals * 2 > tokens.length) return found.map(function () { return false; });
    return capital.map(function (isCapital, position) { return position > 0 && isCapital; });
  }

  var stemCache = Object.create(null);
  function stemWord(word) {
    if (word.length < 3 || !/^[a-z]+$/.test(word)) return word;
    if (!(word in stemCache)) stemCache[word] = stem(word);
    return stemCache[word];
  }

  function baseForm(word) {
    if (word.length <= 3 || !/^[a-z]+$/.test(word)) return word;
    var rules = [["ies", "y"], ["ied", "y"], ["sses", "ss"], ["xes", "x"], ["ches", "ch"], ["shes", "sh"]];
    for (var i = 0; i < rules.length; i++) {
      var suffix = rules[i][0], replacement = rules[i][1];
      if (word.slice(-suffix.length) === suffix && word.length > suffix.length + 2) {
        var cut = word.slice(0, -suffix.length) + replacement;
        return replacement !== "y" ? baseForm(cut) : cut;
      }
    }
    var endings = ["ing", "ed", "s"];
    for (var j = 0; j < endings.length; j++) {
      var end = endings[j];
      if (word.slice(-end.length) === end && word.length - end.length >= 3 &&
          !/(ss|us|is)$/.test(word)) {
        word = word.slice(0, -end.length);
        break;
      }
    }
    if (word.slice(-1) === "e" && word.length > 3) word = word.slice(0, -1);
    return word.replace(/([b-df-hj-np-tv-z])\1$/, "$1");
  }

  // Python's str.casefold: each character's lower case, unless `folding` (the manifest's
  // case_folding, from search/analysis.py's casefold_exceptions) folds it otherwise (`ß` -> `ss`).
  function caseFold(text, folding) {
    if (/^[\x00-\x7f]*$/.test(text) || !folding) return text.toLowerCase();
    return Array.from(text, function (character) {
      return Object.prototype.hasOwnProperty.call(folding, character) ? folding[character] : character.toLowerCase();
    }).join("");
  }

  // As search/analysis.py's tag_key; `folding` as caseFold's.
  function tagKey(text, folding) {
    var colon = text.indexOf(":");
    if (colon >= 0) {
      var category = caseFold(squash(text.slice(0, colon)), folding);
      var subject = caseFold(squash(text.slice(colon + 1)), folding);
      return subject ? category + ":" + subject : category;
    }
    return caseFold(squash(text), folding);
  }

  // As search/analysis.py's edit_limit; `ranking` is the manifest's (search/ranking.py).
  function editLimit(word, ranking) {
    if (word.length < ranking.typo_min_length || /^[0-9]+$/.test(word)) return 0;
    return word.length < ranking.two_typos_min_length ? 1 : 2;
  }

  // As search/analysis.py's suggestion_limit: a suggestion may be further than a typo correction,
  // but at most a third of the word's letters away.
  function suggestionLimit(word, ranking) {
    var limit = editLimit(word, ranking);
    return limit ? Math.max(limit, Math.floor(word.length / ranking.suggestion_divisor)) : 0;
  }

  // Optimal string alignment distance (adjacent transpositions count as one edit), as rapidfuzz's
  // OSA, when it is at most `limit`; otherwise more than `limit`. Typo search compares a word with
  // every collection word, so only the band |i - j| <= limit of the table is computed (an
  // alignment that leaves it costs more than the limit), in three reused rows.
  var OUT_OF_BAND = 1 << 30;
  var osaRows = [new Int32Array(32), new Int32Array(32), new Int32Array(32)];
  function osa(a, b, limit) {
    var n = a.length, m = b.length, i, j;
    if (Math.abs(n - m) > limit) return limit + 1;
    if (osaRows[0].length <= m + 1) osaRows = [new Int32Array(2 * m + 2), new Int32Array(2 * m + 2), new Int32Array(2 * m + 2)];
    var beforePrevious = osaRows[0], previous = osaRows[1], current = osaRows[2];
    for (j = 0; j <= m + 1; j++) previous[j] = j <= limit ? j : OUT_OF_BAND;
    for (i = 1; i <= n; i++) {
      var lo = Math.max(1, i - limit), hi = Math.min(m, i + limit);
      var ai = a.charCodeAt(i - 1), aBefore = i > 1 ? a.charCodeAt(i - 2) : -1;
      var best = current[lo - 1] = lo === 1 && i <= limit ? i : OUT_OF_BAND;
      for (j = lo; j <= hi; j++) {
        var bj = b.charCodeAt(j - 1);
        var value = previous[j - 1] + (ai === bj ? 0 : 1);
        if (previous[j] + 1 < value) value = previous[j] + 1;
        if (current[j - 1] + 1 < value) value = current[j - 1] + 1;
        if (j > 1 && ai === b.charCodeAt(j - 2) && aBefore === bj && beforePrevious[j - 2] + 1 < value) value = beforePrevious[j - 2] + 1;
        current[j] = value;
        if (value < best) best = value;
      }
      current[hi + 1] = OUT_OF_BAND;
      // No row has a smaller minimum than the row before it, transpositions included.
      if (best > limit) return limit + 1;
      var reused = beforePrevious;
      beforePrevious = previous;
      previous = current;
      current = reused;
    }
    return previous[m];
  }

  // FNV-1a of the UTF-8 bytes (search/shards.py's fnv1a32). A query hashes each of its terms
  // several times, so ASCII text, whose characters are its bytes, is not encoded first.
  function fnv1a32(text) {
    var h = 0x811c9dc5, i;
    for (i = 0; i < text.length && text.charCodeAt(i) < 0x80; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    if (i < text.length) {
      var bytes = new TextEncoder().encode(text);
      h = 0x811c9dc5;
      for (i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    }
    return h >>> 0;
  }

  // Python's str.strip(chars) for a set of characters.
  function stripChars(text, chars) {
    var start = 0, end = text.length;
    while (start < end && chars.indexOf(text[start]) >= 0) start++;
    while (end > start && chars.indexOf(text[end - 1]) >= 0) end--;
    return text.slice(start, end);
  }

  // ---- data loading --------------------------------------------------------------------
  function Engine(base, fetcher) {
    this.base = base.replace(/\/?$/, "/");
    this.fetcher = fetcher || function (url) {
      return fetch(url).then(function (r) {
        if (!r.ok) throw new Error("cannot load " + url + ": " + r.status);
        return r.json();
      });
    };
    this.cache = Object.create(null);
    this.ready = null;
  }

  Engine.prototype.file = function (name) {
    var self = this;
    if (!(name in this.cache)) {
      var version = this.manifest ? "?v=" + this.manifest.version : "";
      this.cache[name] = this.fetcher(this.base + name + version).catch(function (error) {
        delete self.cache[name];
        throw error;
      });
    }
    return this.cache[name];
  };

  Engine.prototype.load = function () {
    var self = this;
    if (!this.ready) {
      this.ready = this.fetcher(this.base + "manifest.json?t=" + Date.now()).then(function (manifest) {
        self.manifest = manifest;
        self.stopwords = new Set(manifest.stopwords);
        return self.file("thesaurus.json");
      }).then(function (thesaurus) {
        self.thesaurus = thesaurus;
        self.noExpansions = new Set(thesaurus.no_expansions);
        self.prefetch();
        return self;
      }).catch(function (error) {
        self.ready = null;
        throw error;
      });
    }
    return this.ready;
  };

  // Files nearly every query, or every keystroke of one, asks for: the tag shards (each partial
  // query is looked up as a tag) and the vocabulary (any word not in the collection). Fetched in
  // the background once the engine is ready, so typing does not wait for them one by one.
  Engine.prototype.prefetch = function () {
    var ignore = function () { /* a failed prefetch is retried when the file is needed */ };
    for (var n = 0; n < this.manifest.tag_shards; n++) this.file("tags/" + pad(n, 2) + ".json").catch(ignore);
    this.vocabulary().catch(ignore);
  };

  function pad(number, width) { var s = String(number); while (s.length < width) s = "0" + s; return s; }

  Engine.prototype.termShard = function (term) {
    return this.file("terms/" + pad(fnv1a32(term) % this.manifest.term_shards, 4) + ".json");
  };

  // The value of `key` in a JSON object that has it as its own key, else `missing`.
  function ownValue(object, key, missing) {
    return object && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : missing;
  }

  // [docid delta, value, ...] (search/export.py's delta_encoded) -> {docs, values} as typed arrays,
  // the documents ascending, each value divided by `scale`.
  function decodePairs(flat, ValueArray, scale) {
    var count = flat.length / 2, docs = new Int32Array(count), values = new ValueArray(count), doc = 0;
    for (var i = 0; i < count; i++) {
      doc += flat[2 * i];
      docs[i] = doc;
      values[i] = flat[2 * i + 1] / scale;
    }
    return { docs: docs, values: values };
  }

  // The first position in ascending `docs` whose document is not before `doc`.
  function firstAtOrAfter(docs, doc) {
    var lo = 0, hi = docs.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (docs[mid] < doc) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // term -> {docs, values}: its documents in ascending order and their impacts, as typed arrays
  // (scoring adds them into dense per-document arrays); null when the collection lacks the term.
  // Each impact is exactly the double Python rounded it to. Where the term is in each document
  // (placeLists) is decoded only if the term matches a result (places).
  Engine.prototype.impacts = function (term) {
    var self = this;
    this.postings = this.postings || Object.create(null);
    if (term in this.postings) return Promise.resolve(this.postings[term]);
    var scale = Math.pow(10, this.manifest.ranking.impact_digits);
    return this.termShard(term).then(function (shard) {
      var flat = ownValue(shard, term, null), postings = null;
      if (flat) {
        postings = decodePairs(flat, Float64Array, scale);
        postings.placeLists = [ownValue(shard[" fields"], term, []), ownValue(shard[" alternates"], term, [])];
      }
      self.postings[term] = postings;
      return postings;
    });
  };

  function impactOf(postings, doc) {
    var at = firstAtOrAfter(postings.docs, doc);
    return at < postings.docs.length && postings.docs[at] === doc ? postings.values[at] : -1;
  }

  // Where a collection term is in each document (search/export.py's match_places): {fields:
  // {docs, values: bit masks of manifest.match_fields}, alternates: {docs, values: indexes}}.
  Engine.prototype.places = function (term) {
    var postings = this.postings[term];
    if (!postings.places) {
      postings.places = { fields: decodePairs(postings.placeLists[0], Int32Array, 1), alternates: decodePairs(postings.placeLists[1], Int32Array, 1) };
    }
    return postings.places;
  };

  // A word's entry in the meaning shards (search/export_meaning.py), decoded by kb-meaning.js;
  // null when the word-vector table lacks it or the export has no meaning data.
  Engine.prototype.meaningEntry = function (word) {
    var self = this, meaning = this.manifest.meaning;
    this.meaningEntries = this.meaningEntries || new Map();
    if (!meaning) return Promise.resolve(null);
    if (this.meaningEntries.has(word)) return Promise.resolve(this.meaningEntries.get(word));
    return this.file("meaning/" + pad(fnv1a32(word) % meaning.shards, 4) + ".json").then(function (shard) {
      var entry = ownValue(shard, word, null);
      if (!self.meaningEntries.has(word)) self.meaningEntries.set(word, entry ? meaningSignal.decodeEntry(entry) : null);
      return self.meaningEntries.get(word);
    });
  };

  Engine.prototype.tagDocs = function (key) {
    return this.file("tags/" + pad(fnv1a32(key) % this.manifest.tag_shards, 2) + ".json").then(function (shard) {
      return ownValue(shard, key, []);
    });
  };

  Engine.prototype.vocabulary = function () {
    var self = this;
    if (!this.vocab) {
      this.vocab = this.file("vocab.json").then(function (data) {
        var df = new Map();
        for (var i = 0; i < data.words.length; i++) df.set(data.words[i], data.df[i]);
        self.vocabLoaded = { words: data.words.slice().sort(), df: df };
        return self.vocabLoaded;
      }).catch(function (error) {
        self.vocab = self.vocabLoaded = null;
        throw error;
      });
    }
    return this.vocab;
  };

  // What the shard of a missing word's stem says about the word (search/export.py): whether it
  // is everyday English, and the collection terms WordNet relates to it, chosen as
  // search/query.py's related_candidates chooses them.
  Engine.prototype.isEnglish = function (word) {
    return this.termShard(stemWord(word)).then(function (shard) {
      return (shard[" english"] || []).indexOf(word) >= 0;
    });
  };

  Engine.prototype.relatedTerms = function (word) {
    return this.termShard(stemWord(word)).then(function (shard) {
      return ownValue(shard[" related"], word, []);
    });
  };

  // ---- query semantics (search/query.py) -----------------------------------------------
  // Every weight, limit and rule parameter is the manifest's `ranking` (search/ranking.py).

  function nearestWords(word, vocab, limit) {
    var found = [];
    for (var i = 0; i < vocab.words.length; i++) {
      var candidate = vocab.words[i];
      var d = osa(word, candidate, limit);
      if (d <= limit) found.push([candidate, d]);
    }
    found.sort(function (a, b) {
      return a[1] - b[1] || vocab.df.get(b[0]) - vocab.df.get(a[0]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    });
    return found;
  }

  function wordsStartingWith(vocab, prefix) {
    var list = vocab.words, lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid] <= prefix) lo = mid + 1; else hi = mid; }
    var out = [];
    for (var i = lo; i < list.length && list[i].lastIndexOf(prefix, 0) === 0; i++) out.push(list[i]);
    return out;
  }

  // Real English words are not typos, and are completed only as the last word (still being typed).
  Engine.prototype.repairs = function (word, last) {
    var self = this, r = this.manifest.ranking;
    var english = word.length >= r.fragment_min_length ? this.isEnglish(word) : Promise.resolve(false);
    return Promise.all([this.vocabulary(), english]).then(function (got) {
      var vocab = got[0], english = got[1], repairs = [];
      var limit = editLimit(word, r);
      if (limit && !english) {
        var closest = nearestWords(word, vocab, limit);
        if (closest.length) {
          var best = closest[0][1];
          closest.filter(function (c) { return c[1] === best; }).slice(0, r.typo_candidates).forEach(function (c) {
            repairs.push({ terms: [stemWord(c[0])], weight: r.typo_weights[String(c[1])], kind: "typo", text: c[0], reading: true });
          });
        }
      }
      if (word.length >= r.fragment_min_length && (last || !english)) repairs.push.apply(repairs, self.completionReadings(vocab, word));
      return repairs;
    });
  };

  // A fragment's completions as readings of it (search/query.py's _completions).
  Engine.prototype.completionReadings = function (vocab, word) {
    var weight = this.manifest.ranking.prefix_weight;
    return this.completions(vocab, word).map(function (c) {
      return { terms: [stemWord(c)], weight: weight, kind: "prefix", text: c, reading: true };
    });
  };

  // search/query.py's _fragment_completions: a last word that is no collection word although its
  // stem is a term (`deliv`, the stem of `delivered`) is a fragment when it completes to a word of
  // another stem than its own.
  Engine.prototype.fragmentCompletions = function (word, ownTerm) {
    var self = this;
    if (word.length < this.manifest.ranking.fragment_min_length) return Promise.resolve([]);
    return this.vocabulary().then(function (vocab) {
      if (vocab.df.has(word)) return [];
      var completions = self.completionReadings(vocab, word);
      return completions.some(function (c) { return c.terms[0] !== ownTerm; }) ? completions : [];
    });
  };

  // The collection words a fragment may be the start of, commonest first, as search/query.py picks them.
  Engine.prototype.completions = function (vocab, word) {
    return wordsStartingWith(vocab, word).filter(function (w) { return w !== word; }).sort(function (a, b) {
      return vocab.df.get(b) - vocab.df.get(a) || (a < b ? -1 : a > b ? 1 : 0);
    }).slice(0, this.manifest.ranking.prefix_candidates);
  };

  Engine.prototype.matchRule = function (bases, start) {
    var rules = this.thesaurus.rules;
    for (var length = Math.min(this.thesaurus.longest, bases.length - start); length > 0; length--) {
      var key = bases.slice(start, start + length).join(" ");
      if (Object.prototype.hasOwnProperty.call(rules, key)) return [length, rules[key]];
    }
    return [0, []];
  };

  // A collection term's everyday-English rate (0 when unknown), from the term's shard.
  Engine.prototype.englishRate = function (term) {
    return this.termShard(term).then(function (shard) {
      return ownValue(shard[" rates"], term, 0);
    });
  };

  // A term's everyday-English rate when the collection has the term, else 0 (no background prior).
  Engine.prototype.backgroundRate = function (term) {
    var self = this;
    return this.impacts(term).then(function (postings) { return postings ? self.englishRate(term) : 0; });
  };

  // Starts, without waiting for them, the fetches a query will need after its words' postings:
  // its synonyms' postings and, when the last word is not a collection word (a fragment being
  // typed), its completions' postings. Results do not depend on it; it saves a round trip.
  Engine.prototype.prefetchFor = function (queryWords, bases) {
    var self = this, ignore = function () { /* fetched again when needed */ };
    var prefetch = function (term) { self.termShard(term).catch(ignore); };
    for (var position = 0; position < bases.length; position++) {
      this.matchRule(bases, position)[1].forEach(function (e) { e[0].forEach(prefetch); });
    }
    var last = queryWords[queryWords.length - 1];
    if (this.vocabLoaded && last && last.length >= this.manifest.ranking.fragment_min_length && !this.stopwords.has(last) && !this.vocabLoaded.df.has(last)) {
      this.completions(this.vocabLoaded, last).map(stemWord).forEach(prefetch);
    }
  };

  Engine.prototype.concepts = function (queryWords, parsed) {
    var self = this, r = this.manifest.ranking;
    // Background prior (search/query.py): the chance a document of everyday English has the word.
    function backgroundSetter(concept) {
      return function (rate) { concept.background = rate > 0 ? 1 - Math.exp(-r.background_doc_words * rate) : 0; };
    }
    var stems = queryWords.map(stemWord);
    var bases = queryWords.map(baseForm);
    var ownWeight = queryWords.map(function () { return 1.0; });
    var repairs = {}, related = {};
    // The words' own postings first (what they lead to is requested when they arrive); stop
    // words are never indexed, so they are not looked up.
    var own = stems.map(function (s, i) { return self.stopwords.has(queryWords[i]) ? null : self.impacts(s); });
    this.prefetchFor(queryWords, bases);
    return Promise.all(own).then(function (found) {
      var pending = [];
      queryWords.forEach(function (word, position) {
        var isStop = self.stopwords.has(word);
        var known = found[position] !== null;
        var isRule = Object.prototype.hasOwnProperty.call(self.thesaurus.rules, bases[position]) || self.noExpansions.has(bases[position]);
        var last = position === queryWords.length - 1;
        if (isStop || isRule) return;
        if (known) {
          if (!last) return;
          // Its own stem is only one of the words it may become: no stronger than the others.
          pending.push(self.fragmentCompletions(word, stems[position]).then(function (list) {
            if (list.length) { repairs[position] = list; ownWeight[position] = r.prefix_weight; }
          }));
          return;
        }
        pending.push(self.relatedTerms(word).then(function (list) { related[position] = list; }));
        pending.push(self.repairs(word, last).then(function (list) {
          if (!list.length) return;
          repairs[position] = list;
          var typo = list.filter(function (a) { return a.kind === "typo"; })[0];
          if (typo) {
            parsed.corrections[word] = typo.text;
            bases[position] = baseForm(typo.text);
            stems[position] = typo.terms[0];
            ownWeight[position] = typo.weight;
          }
        }));
      });
      return Promise.all(pending);
    }).then(function () {
      var concepts = [], position = 0, pendingRates = [];
      while (position < queryWords.length) {
        var matched = self.matchRule(bases, position);
        var length = matched[0], expansions = matched[1];
        var spanLength = Math.max(length, 1);
        var content = [];
        for (var i = position; i < position + spanLength; i++) if (!self.stopwords.has(queryWords[i])) content.push(i);
        var alternatives = [];
        var ownTerms = content.map(function (i) { return stems[i]; });
        if (ownTerms.length) {
          var weight = Math.min.apply(null, content.map(function (i) { return ownWeight[i]; }));
          // A word with repairs is one reading among them (search/query.py's Alternative.reading).
          var reading = spanLength === 1 && Object.prototype.hasOwnProperty.call(repairs, position);
          alternatives.push({ terms: ownTerms, weight: weight, kind: "word", text: content.map(function (i) { return queryWords[i]; }).join(" "), reading: reading });
        }
        expansions.forEach(function (e) { alternatives.push({ terms: e[0], weight: r.synonym_weight, kind: "synonym", text: e[1] }); });
        if (spanLength === 1) {
          (repairs[position] || []).forEach(function (r) {
            if (r.terms.join(" ") !== ownTerms.join(" ")) alternatives.push(r);
          });
          // Words the thesaurus knows keep its curated expansions only; corrected words, their
          // correction; names (`Visa`) are not the common word they spell.
          var word = queryWords[position];
          if (!length && ownTerms.length && !Object.prototype.hasOwnProperty.call(parsed.corrections, word) && !parsed.names[position]) {
            var have = alternatives.map(function (a) { return a.terms.join(" "); });
            (related[position] || []).forEach(function (term) {
              if (have.indexOf(term) < 0) alternatives.push({ terms: [term], weight: r.related_weight, kind: "related", text: term });
            });
          }
        }
        if (alternatives.length && (ownTerms.length || length)) {
          var concept = { text: queryWords.slice(position, position + spanLength).join(" "), alternatives: alternatives, background: 0 };
          // As has_term in search/query.py: whether the collection has the term, from its postings,
          // which a corrected word's term may not have loaded yet (never from what happens to be loaded).
          if (!length && ownTerms.length === 1) {
            pendingRates.push(self.backgroundRate(ownTerms[0]).then(backgroundSetter(concept)));
          }
          concepts.push(concept);
        }
        position += spanLength;
      }
      return Promise.all(pendingRates).then(function () { return concepts; });
    });
  };

  Engine.prototype.parse = function (query) {
    var self = this;
    var text = query.split(/\s+/).filter(Boolean).join(" ");
    var parsed = { text: text, tagKey: null, categoryKey: null, concepts: [], corrections: {} };
    var key = stripChars(text, ": ") ? tagKey(stripChars(stripChars(text, ":"), " "), this.manifest.case_folding) : "";
    var lookups = [];
    if (key) {
      lookups.push(this.tagDocs("tag:" + key).then(function (docs) {
        if (!docs.length) return null;
        parsed.tagKey = key;
        parsed.tagDocs = docs;
        // A whole tag lists the rest of its category next (search/query.py's _search).
        if (key.indexOf(":") < 0) return null;
        return self.tagDocs("category:" + key.slice(0, key.indexOf(":"))).then(function (peers) { parsed.categoryDocs = peers; });
      }));
      if (key.indexOf(":") < 0) {
        lookups.push(this.tagDocs("category:" + key).then(function (docs) { if (docs.length) { parsed.categoryKey = key; parsed.categoryDocs = docs; } }));
        // A tag's subject without its category names the tag as well (search/query.py's _search).
        lookups.push(this.tagDocs("subject:" + key).then(function (docs) { if (docs.length) parsed.subjectDocs = docs; }));
      }
    }
    var queryWords = words(text).slice(0, this.manifest.ranking.query_words);
    parsed.names = nameLike(text).slice(0, this.manifest.ranking.query_words);
    // The tag lookups and the words' postings do not depend on each other: fetch them together.
    return Promise.all([Promise.all(lookups), this.concepts(queryWords, parsed)]).then(function (done) {
      parsed.concepts = done[1];
      return parsed;
    });
  };

  // Adds one alternative's postings to a concept's per-document sums (`sums`: tf, bestReading,
  // present, matched, as Engine.score keeps them); -> whether it matched a document. `perTerm`
  // holds the postings of its terms: a document counts when every term has it, by the smallest
  // impact. A reading counts by the best of the word's readings, any other alternative adds up.
  // One plain loop per alternative, with no function call per posting: at 10,000 procedures the
  // postings of a query's alternatives run to tens of thousands.
  function addAlternative(perTerm, weight, reading, sums) {
    var docs = perTerm[0].docs, values = perTerm[0].values, found = false, i, j;
    var tf = sums.tf, best = sums.bestReading, present = sums.present, matched = sums.matched;
    // The documents come in ascending order, so the other terms' postings are each read once.
    var cursors = perTerm.length > 1 ? new Int32Array(perTerm.length) : null;
    for (i = 0; i < docs.length; i++) {
      var doc = docs[i], lowest = values[i];
      for (j = 1; j < perTerm.length && lowest >= 0; j++) {
        var otherDocs = perTerm[j].docs, at = cursors[j];
        while (at < otherDocs.length && otherDocs[at] < doc) at++;
        cursors[j] = at;
        lowest = at < otherDocs.length && otherDocs[at] === doc ? Math.min(lowest, perTerm[j].values[at]) : -1;
      }
      if (cursors && lowest < 0) continue;
      var value = weight * lowest;
      found = true;
      if (!present[doc]) { present[doc] = 1; matched.push(doc); }
      if (!reading) tf[doc] += value;
      else if (value > best[doc]) best[doc] = value;
    }
    return found;
  }

  // Per-document sums in dense arrays (a Map per concept was the slowest part of a query at 10,000
  // procedures); each document's additions happen in the order of search/query.py's, so the
  // floating-point results are the same. -> {totals, scored (a flag per document), docs (those scored)}
  Engine.prototype.score = function (concepts) {
    var self = this, r = this.manifest.ranking, k1 = r.k1, count = this.manifest.documents;
    var terms = [];
    concepts.forEach(function (c) { c.alternatives.forEach(function (a) { a.terms.forEach(function (t) { terms.push(t); }); }); });
    return Promise.all(terms.map(function (t) { return self.impacts(t); })).then(function () {
      var totals = new Float64Array(count), scored = new Uint8Array(count), scoredDocs = [], missing = 0;
      var sums = { tf: new Float64Array(count), bestReading: new Float64Array(count), present: new Uint8Array(count), matched: null };
      concepts.forEach(function (concept) {
        var matched = sums.matched = [];
        var foundDirectly = false; // by the word, a synonym, a correction or a completion
        concept.alternatives.forEach(function (alternative) {
          var perTerm = alternative.terms.map(function (t) { return self.postings[t]; });
          if (perTerm.some(function (p) { return !p; })) return;
          if (addAlternative(perTerm, alternative.weight, !!alternative.reading, sums) && alternative.kind !== "related") foundDirectly = true;
        });
        if (!foundDirectly) missing++;
        var prior = r.background_prior;
        var documents = Math.max(matched.length, (matched.length + prior * count * concept.background) / (1 + prior));
        var idf = Math.log(1 + (count - documents + 0.5) / (documents + 0.5));
        var tf = sums.tf, bestReading = sums.bestReading, present = sums.present;
        for (var i = 0; i < matched.length; i++) {
          var doc = matched[i], value = tf[doc] + bestReading[doc];
          if (!scored[doc]) { scored[doc] = 1; scoredDocs.push(doc); }
          totals[doc] += idf * value * (k1 + 1) / (k1 + value);
          tf[doc] = 0;
          bestReading[doc] = 0;
          present[doc] = 0;
        }
      });
      // The share of the concepts no procedure contains (search/query.py's ConceptScorer.uncovered).
      var uncovered = concepts.length ? missing / concepts.length : 0;
      return { totals: totals, scored: scored, docs: scoredDocs, uncovered: uncovered };
    });
  };

  // search/query.py's _add_meaning: adds the meaning signal to the lexical scores (a document it
  // finds alone becomes a scored one); -> Map of the documents meaning carried (it gave them more
  // than their own words did) to their "meaning: ..." line.
  Engine.prototype.addMeaning = function (parsed, scored) {
    var self = this, r = this.manifest.ranking, meaning = this.manifest.meaning, carried = new Map();
    if (!meaning || !(scored.uncovered > 0)) return Promise.resolve(carried);
    var queryWords = words(parsed.text).slice(0, r.query_words);
    // Fetched only now that the query is known to need them: fetched with every query, they
    // competed with the postings that every query needs.
    var lookups = queryWords.map(function (word) {
      var own = self.meaningEntry(word);
      // Requested together with the word's own entry: it is needed only when the table lacks the word.
      var corrected = Object.prototype.hasOwnProperty.call(parsed.corrections, word) ? self.meaningEntry(parsed.corrections[word]) : null;
      return Promise.all([own, corrected]);
    });
    return Promise.all(lookups).then(function () {
      var query = meaningSignal.meaningQuery(queryWords, parsed.corrections, function (word) {
        return self.meaningEntries.get(word) || null;
      });
      if (!query) return carried;
      var strongest = 0.0;
      for (var i = 0; i < scored.docs.length; i++) {
        if (i === 0 || scored.totals[scored.docs[i]] > strongest) strongest = scored.totals[scored.docs[i]];
      }
      meaningSignal.meanings(query, r).forEach(function (found, doc) {
        var lexical = scored.scored[doc] ? scored.totals[doc] : 0.0;
        var score = meaningSignal.fused(lexical, found.closeness, strongest, scored.uncovered, r);
        if (score > lexical) {
          scored.totals[doc] = score;
          if (!scored.scored[doc]) { scored.scored[doc] = 1; scored.docs.push(doc); }
          if (score - lexical > lexical) carried.set(doc, ["meaning: " + meaningSignal.meaningWords(found, query, r).join(" ")]);
        }
      });
      return carried;
    });
  };

  Engine.prototype.matchedTerms = function (concepts, doc) {
    var self = this, found = new Set();
    concepts.forEach(function (c) {
      c.alternatives.forEach(function (a) {
        if (a.terms.every(function (t) { return self.postings[t] && impactOf(self.postings[t], doc) >= 0; })) {
          a.terms.forEach(function (t) { found.add(t); });
        }
      });
    });
    return found;
  };

  // Where a document matched, as far as the term shards tell: {fields: bit mask of the
  // manifest's match_fields holding a matched term, body: whether one is in none of them nor in an
  // alternate method, alternates: flags by the index of the alternate methods holding one}.
  Engine.prototype.matchPlaces = function (doc, terms) {
    var self = this, found = { fields: 0, body: false, alternates: [] };
    terms.forEach(function (term) {
      var places = self.places(term), fields = places.fields, alternates = places.alternates;
      var at = firstAtOrAfter(fields.docs, doc), explained = at < fields.docs.length && fields.docs[at] === doc;
      if (explained) found.fields |= fields.values[at];
      for (at = firstAtOrAfter(alternates.docs, doc); at < alternates.docs.length && alternates.docs[at] === doc; at++) {
        found.alternates[alternates.values[at]] = explained = true;
      }
      if (!explained) found.body = true;
    });
    return found;
  };

  // search/query.py's describe_match: the fields that hold a matched term, "body" when one is in
  // none of them, then the alternate methods that hold one, by their titles.
  function describeMatch(places, exactTag, fieldNames, alternateTitles) {
    var described = exactTag ? ["tag"] : [];
    fieldNames.forEach(function (name, bit) { if (places.fields & (1 << bit)) described.push(name); });
    if (places.body) described.push("body");
    alternateTitles.forEach(function (title, index) { if (places.alternates[index]) described.push("alternate method: " + title); });
    return described;
  }

  Engine.prototype.didYouMean = function (parsed) {
    var self = this;
    return this.vocabulary().then(function (vocab) {
      var suggestion = [], changed = false;
      words(parsed.text).slice(0, self.manifest.ranking.query_words).forEach(function (word) {
        if (vocab.df.has(word) || self.stopwords.has(word)) { suggestion.push(word); return; }
        var closest = nearestWords(word, vocab, suggestionLimit(word, self.manifest.ranking));
        if (closest.length) { suggestion.push(closest[0][0]); changed = true; }
      });
      return changed ? suggestion.join(" ") : null;
    });
  };

  // MkDocs' directory URL of a page, as search/export.py's default_url: `area/name.md` -> `area/name/`.
  function defaultUrl(path) {
    var stem = path.slice(-3) === ".md" ? path.slice(0, -3) : path;
    return stem === "index" || stem.slice(-6) === "/index" ? stem.slice(0, -5) : stem + "/";
  }

  Engine.prototype.docData = function (docid) {
    var chunkSize = this.manifest.doc_chunk, chunk = Math.floor(docid / chunkSize);
    return this.file("docs/" + pad(chunk, 4) + ".json").then(function (docs) { return docs[docid - chunk * chunkSize]; });
  };

  // The `limit` best candidates, best first: by tier, then score at the ranking's score_decimals
  // (rounded as search/query.py's rank), then path. Document ids follow the paths' sorted order, so the id
  // breaks ties, and the cut is found in one pass over the candidates instead of sorting them all.
  function topDocuments(candidates, tier, totals, limit, scoreDecimals) {
    var top = [], topTier = [], topScore = [], scale = Math.pow(10, scoreDecimals);
    for (var i = 0; i < candidates.length; i++) {
      var doc = candidates[i], docTier = tier[doc], score = Math.round(totals[doc] * scale);
      var at = top.length;
      // Candidates come in no particular order, so an equal rank goes after a smaller id only.
      while (at > 0 && (docTier > topTier[at - 1] || (docTier === topTier[at - 1] &&
        (score > topScore[at - 1] || (score === topScore[at - 1] && doc < top[at - 1]))))) at--;
      if (at >= limit) continue;
      top.splice(at, 0, doc);
      topTier.splice(at, 0, docTier);
      topScore.splice(at, 0, score);
      if (top.length > limit) { top.pop(); topTier.pop(); topScore.pop(); }
    }
    return top;
  }

  // `shown`, when given, is called with the response so far each time more of the ranked results,
  // from the first on, have their display data: the box shows the best result as soon as its
  // file arrives instead of waiting for every result's. The Promise is of the whole response.
  Engine.prototype.search = function (query, limit, shown) {
    var self = this;
    limit = limit || 10;
    return this.load().then(function () { return self.parse(String(query)); }).then(function (parsed) {
      return self.score(parsed.concepts).then(function (scored) {
        return self.addMeaning(parsed, scored).then(function (carried) { return [scored, carried]; });
      }).then(function (done) {
        var scored = done[0], carried = done[1];
        var r = self.manifest.ranking, candidates = scored.docs.slice();
        var tier = new Uint8Array(self.manifest.documents).fill(r.tier_text);
        var addTier = function (value) {
          return function (doc) {
            if (!scored.scored[doc] && tier[doc] === r.tier_text) candidates.push(doc);
            tier[doc] = value;
          };
        };
        (parsed.categoryDocs || []).forEach(addTier(r.tier_category));
        (parsed.subjectDocs || []).forEach(addTier(r.tier_exact_tag));
        (parsed.tagDocs || []).forEach(addTier(r.tier_exact_tag));
        var head = topDocuments(candidates, tier, scored.totals, limit, r.score_decimals);
        var results = new Array(head.length), ready = 0;
        var respond = function (list) {
          return { query: String(query), results: list, total: candidates.length, corrections: parsed.corrections, didYouMean: null };
        };
        // Where the results matched is worked out while their display data loads.
        var places = head.map(function (doc) { return self.matchPlaces(doc, self.matchedTerms(parsed.concepts, doc)); });
        var loading = head.map(function (doc, i) {
          return self.docData(doc).then(function (data) {
            results[i] = {
              path: data.path, url: "url" in data ? data.url : defaultUrl(data.path), title: data.title, tags: data.tags, summary: data.summary,
              score: scored.totals[doc],
              matched: describeMatch(places[i], tier[doc] === r.tier_exact_tag, self.manifest.match_fields, data.alternates).concat(carried.get(doc) || [])
            };
            var before = ready;
            while (ready < results.length && results[ready]) ready++;
            if (shown && ready > before && ready < results.length) shown(respond(results.slice(0, ready)));
          });
        });
        return Promise.all(loading).then(function () {
          var response = respond(results);
          if (candidates.length) return response;
          return self.didYouMean(parsed).then(function (suggestion) { response.didYouMean = suggestion; return response; });
        });
      });
    });
  };

  var api = { Engine: Engine, words: words, nameLike: nameLike, fold: fold, baseForm: baseForm, tagKey: tagKey, osa: osa, fnv1a32: fnv1a32 };
  root.KbEngine = api;
  if (typeof module !== "undefined" && module.exports) module.exports = api;
})(typeof window !== "undefined" ? window : globalThis);
