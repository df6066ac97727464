"""Snippets: the stretch of a procedure's text that best shows why it matched a search, and the
matched words in any text (for highlighting).

Promises: a word matches when it stems to one of the search's matched terms, as the index reads
it (search/analysis.py); a snippet is at most about `width` characters, cut at spaces, with `…`
where text was left out; an unreadable file gives an empty snippet, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

WORD = re.compile(r"\w+(?:['’]\w+)*")


def snippet(path: Path, stems: set[str], width: int = 150) -> str:
    """The stretch of the procedure's text with the most matched words."""
    from .parsing import read_body

    if not stems:
        return ""
    main_text, alternates = read_body(path)
    lines = "\n".join([main_text, *(f"{a.title}: {a.text}" for a in alternates)]).split("\n")
    # Each line of plain text is a heading, a list item or a paragraph: end each like a sentence.
    text = " ".join(line if line[-1:] in ".:?!;," else f"{line}." for line in lines if line)
    hits = [m.start() for m in WORD.finditer(text) if is_match(m.group(), stems)]
    if not hits:
        return ""
    best_start, best_count = hits[0], 0
    for i, start in enumerate(hits):
        count = sum(1 for h in hits[i:] if h - start < width - 20)
        if count > best_count:
            best_start, best_count = start, count
    begin = max(0, text.rfind(" ", 0, max(0, best_start - 30)) + 1)
    end = text.find(" ", min(len(text), begin + width))
    end = len(text) if end == -1 else end
    return ("…" if begin > 0 else "") + text[begin:end].strip() + ("…" if end < len(text) else "")


def is_match(word: str, stems: set[str]) -> bool:
    """Whether a word of the text stems to a matched term; stems share their first letters with
    their words, so most words are ruled out without running the stemmer."""
    from .analysis import fold, stem

    folded = fold(word)
    return folded[:2] in {s[:2] for s in stems} and stem(folded) in stems


def highlight(text: str, stems: set[str], mark: Callable[[str], str]) -> str:
    """The text with each matched word replaced by `mark(word)`."""
    return WORD.sub(lambda m: mark(m.group()) if is_match(m.group(), stems) else m.group(), text)
