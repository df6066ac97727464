"""Text analysis shared by indexing and querying: folding, tokens, stems, synonyms.

Everything that turns text into terms lives here, so the index, the query and the browser
export agree on what a term is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import Stemmer

from .ranking import RANKING

BUILTIN_SYNONYMS = Path(__file__).parent / "data" / "synonyms.txt"
RELATED_WORDS = Path(__file__).parent / "data" / "related.txt"

# Function words that carry no meaning in a procedure search. Kept short on purpose: words such
# as "not", "never", "off", "out", "up", "back" and "down" change meaning in support talk
# ("log out", "charged back") and stay searchable.
STOPWORDS = frozenset(
    """
    a about above after again am an and any are as at be been before being below between both but by
    can could did do does doing dont during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself of on
    once only or other our ours ourselves own same she should so some such than that the their theirs
    them themselves then there these they this those through to too under until very was we were what
    when where which while who whom why will with would you your yours yourself yourselves im ive id
    youre hes shes theyre weve wasnt isnt arent didnt doesnt wont cant couldnt shouldnt wouldnt hasnt
    havent hadnt thats theres whats lets also please hi hello thanks thank may might must shall get got
    gets getting want wants wanted need needs needed say says said tell told ask asks asked
    """.split()
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
# The comma first: a pattern that starts with a literal is searched for it, not tried at every position.
_THOUSANDS = re.compile(r",(?<=\d,)(?=\d{3}\b)")
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
_stemmer = Stemmer.Stemmer("english")


def fold(text: str) -> str:
    """Case- and accent-insensitive form: `Muñoz` and `MUNOZ` both become `munoz`."""
    if text.isascii():
        return text.lower().replace("`", "'")
    return _strip_accents(text).casefold().translate(_APOSTROPHES)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _squash(text: str) -> str:
    return " ".join(text.split())


def tag_key(text: str) -> str:
    """The matching key of a tag or tag-like query: case and spacing around words and colon ignored."""
    if ":" in text:
        category, _, subject = text.partition(":")
        category, subject = _squash(category).casefold(), _squash(subject).casefold()
        return f"{category}:{subject}" if subject else category
    return _squash(text).casefold()


@lru_cache(maxsize=1)
def casefold_exceptions() -> dict[str, str]:
    """The characters whose case folding (str.casefold, which `tag_key` uses) is not their lower
    case: `ß` -> `ss`, `ﬁ` -> `fi`, `ς` -> `σ`, ... All are in the Basic Multilingual Plane. The
    browser engine lower-cases a character unless this table says otherwise (search/export.py)."""
    found = {}
    for code in range(0x80, 0x10000):
        character = chr(code)
        folded = character.casefold()
        if folded != character.lower():
            found[character] = folded
    return found


def words(text: str) -> list[str]:
    """Folded words in order, stop words included (phrases need them)."""
    return _word_tokens(_TOKEN, fold(text))


def _word_tokens(pattern: re.Pattern[str], text: str) -> list[str]:
    """The words `pattern` finds, without possessive `'s` or apostrophes; single letters dropped."""
    if "," in text:
        text = _THOUSANDS.sub("", text)
    tokens = pattern.findall(text)
    if "'" in text:
        tokens = [_without_apostrophes(token) if "'" in token else token for token in tokens]
    return [token for token in tokens if len(token) > 1 or token.isdigit()]


def _without_apostrophes(token: str) -> str:
    if token[-2:].lower() == "'s":
        token = token[:-2]
    return token.replace("'", "")


_CASED_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)*")


def name_like(text: str) -> list[bool]:
    """For each of `words(text)`: whether it is written like a name (a capital letter after the
    first word, in a query mostly in lower case: `Visa`, `UPS`), so that it is not read as the
    common word it also spells. All False when the query gives no such signal."""
    found = words(text)
    tokens = _word_tokens(_CASED_TOKEN, _strip_accents(text).translate(_APOSTROPHES))
    capital = [t[0].isupper() for t in tokens]
    if len(tokens) != len(found) or sum(capital) * 2 > len(tokens):
        return [False] * len(found)
    return [position > 0 and is_capital for position, is_capital in enumerate(capital)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    if len(word) < 3 or not word.isalpha():
        return word
    return _stemmer.stemWord(word)


def stem_all(words: list[str]) -> list[str]:
    """`stem` of each word, in one call to the stemmer (for tens of thousands of words)."""
    return [word if len(word) < 3 or not word.isalpha() else term for word, term in zip(words, _stemmer.stemWords(words), strict=True)]


_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1$")


@lru_cache(maxsize=65536)
def base_form(word: str) -> str:
    """A light, inflection-only normal form for synonym matching.

    The Snowball stem is too eager for this: it maps both `customer` and `customs` to `custom`.
    Here only plurals, `-ed`, `-ing` and a final `e` or doubled consonant go, so `charged`,
    `charges` and `charge` meet, and so do `cancelled` and `cancel`.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return base_form(word[: -len(suffix)] + replacement) if replacement != "y" else word[: -len(suffix)] + "y"
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            word = word[: -len(suffix)]
            break
    word = word[:-1] if word.endswith("e") and len(word) > 3 else word
    return _DOUBLED.sub(r"\1", word)


def is_stopword(word: str) -> bool:
    return word in STOPWORDS


def terms(text: str) -> list[str]:
    """The index terms of a text: stems of its words, stop words removed."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def content_words(text: str) -> Iterator[str]:
    """Folded words without stop words; the surface vocabulary that typo correction draws on."""
    return (w for w in words(text) if w not in STOPWORDS)


@dataclass(frozen=True)
class Expansion:
    """Terms a matched phrase may also be searched as."""

    terms: tuple[str, ...]
    text: str


@dataclass
class Thesaurus:
    """Synonym rules keyed by phrases of `base_form`s (stop words kept, so phrases stay phrases).

    `a, b, c` makes each member expand to the others; `x, y => a, b` expands x and y to a and b
    only, for customer wording that must not be reached from the formal term.
    """

    rules: dict[tuple[str, ...], list[Expansion]] = field(default_factory=dict)
    longest: int = 1

    def add(self, left: Iterable[str], right: Iterable[str]) -> None:
        expansions = [Expansion(tuple(terms(text)), text) for text in right]
        for text in left:
            key = tuple(base_form(w) for w in words(text))
            if not key:
                continue
            known = self.rules.setdefault(key, [])
            for expansion in expansions:
                if expansion.terms and expansion.terms != _content(key) and expansion not in known:
                    known.append(expansion)
            self.longest = max(self.longest, len(key))

    def match(self, bases: list[str], start: int) -> tuple[int, list[Expansion]]:
        """The longest rule starting at `start` of a list of `base_form`s: (length, expansions), or (0, [])."""
        for length in range(min(self.longest, len(bases) - start), 0, -1):
            found = self.rules.get(tuple(bases[start : start + length]))
            if found:
                return length, found
        return 0, []

    def __len__(self) -> int:
        return len(self.rules)


def _content(key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stem(t) for t in key if t not in STOPWORDS)


class SynonymFileError(ValueError):
    """A line of a synonyms file that cannot be read; carries path and line for the message."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: error: {message}")
        self.path, self.line = path, line


def parse_synonym_lines(lines: Iterable[str], path: Path, thesaurus: Thesaurus) -> None:
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise SynonymFileError(path, number, "a rule has at most one '=>'")
        left, arrow, right = line.partition("=>")
        members = [m.strip() for m in left.split(",") if m.strip()]
        targets = [m.strip() for m in right.split(",") if m.strip()] if arrow else members
        if not members or not targets or (not arrow and len(members) < 2):
            raise SynonymFileError(path, number, "write 'a, b, c' (same meaning) or 'a, b => c, d' (a and b also search for c and d)")
        thesaurus.add(members, targets)


def load_thesaurus(extra: Path | None = None, cache_dir: Path | None = None) -> Thesaurus:
    """The built-in synonyms plus an editor-maintained file, if given.

    Parsing stems a few thousand words; with `cache_dir` the result is pickled there and reused
    while the synonym files keep their size and modification time. The built-in part alone is
    an installed table (`installed_table`).
    """
    sources = [path for path in (BUILTIN_SYNONYMS, extra) if path is not None]
    try:
        signature = [(str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in sources]
    except OSError as exc:
        raise SynonymFileError(Path(exc.filename or sources[-1]), 1, f"cannot read synonyms file: {exc.strerror}") from exc
    cache = cache_dir / "thesaurus.pickle" if cache_dir else None
    if cache is not None:
        try:
            with open(cache, "rb") as handle:
                cached_signature, thesaurus = pickle.load(handle)
            if cached_signature == signature and isinstance(thesaurus, Thesaurus):
                return thesaurus
        except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError):
            pass
    thesaurus = installed_table("thesaurus", lambda: _parse_synonym_file(BUILTIN_SYNONYMS, Thesaurus()))
    if extra is not None:
        _parse_synonym_file(extra, thesaurus)
    if cache is not None and cache.parent.is_dir():
        tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
        try:
            with open(tmp, "wb") as handle:
                pickle.dump((signature, thesaurus), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except OSError:  # a cache that cannot be written is only slower; the removal may fail the same way
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
    return thesaurus


def _parse_synonym_file(path: Path, thesaurus: Thesaurus) -> Thesaurus:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymFileError(path, 1, f"cannot read synonyms file: {exc}") from exc
    parse_synonym_lines(text.splitlines(), path, thesaurus)
    return thesaurus


def user_cache_dir() -> Path:
    """Where Service KB keeps what it can derive again: `$XDG_CACHE_HOME/service-kb`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "service-kb"


Table = TypeVar("Table")


def installed_table(name: str, derive: Callable[[], Table]) -> Table:
    """A table derived from installed data only (pyspellchecker's word counts, the shipped
    related words and synonyms), kept once per machine in the user's cache folder.

    Deriving them all took about a second of every cold index build and export; reading them,
    a tenth of that. The file name carries a digest of what they are derived from, the code of
    this module and of `derive`'s included, so a change to any of it derives them again; where the
    cache folder cannot be written they are derived each time. Each call returns a fresh object,
    free to modify.
    """
    folder = user_cache_dir() / "tables"
    path = folder / f"{name}.{_installed_data_digest(derive.__code__.co_filename)}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError, AttributeError):
        pass
    table = derive()
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            pickle.dump(table, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for stale in folder.glob(f"{name}.*.pickle"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return table


@lru_cache(maxsize=4)
def _installed_data_digest(deriving_module: str) -> str:
    """Size and modification time of each source of the installed tables, and the code of this
    module and of the one deriving the table."""
    digest = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=10)
    with contextlib.suppress(OSError):
        digest.update(Path(deriving_module).read_bytes())
    for source in (_english_counts_resource(), Stemmer.__file__, RELATED_WORDS, BUILTIN_SYNONYMS):
        try:
            stat = os.stat(source)
            digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        except (OSError, TypeError):
            digest.update(f"{source}\0-\n".encode())
    return digest.hexdigest()


COMMON_WORD_MIN_COUNT = 100


def _english_counts_resource() -> Any:
    from importlib.resources import files

    return files("spellchecker").joinpath("resources/en.json.gz")


@lru_cache(maxsize=1)
def _english_counts() -> dict[str, int]:
    """pyspellchecker's English word counts: a 650 kB resource, parsed once for both tables below."""
    import gzip
    import json

    with gzip.open(_english_counts_resource().open("rb")) as handle:
        return json.load(handle)


def common_english_words() -> list[str]:
    """Everyday English words (pyspellchecker's frequency list), so real words are not 'corrected'.
    An installed table."""
    return installed_table("english-words", _common_english_words)


def _common_english_words() -> list[str]:
    counts = _english_counts()
    return sorted(w for w, n in counts.items() if n >= COMMON_WORD_MIN_COUNT and len(w) > 2 and w.isascii() and w.isalpha())


def english_word_stems() -> dict[str, str]:
    """The stem of each of `common_english_words()`. An installed table."""
    return installed_table("english-stems", _english_word_stems)


def _english_word_stems() -> dict[str, str]:
    common = _common_english_words()
    return dict(zip(common, stem_all(common), strict=True))


def english_term_rates() -> dict[str, float]:
    """How often each term (stem) occurs in everyday English, per word of running text.

    From pyspellchecker's frequency list: the counts of the words sharing a stem are summed
    (`show`, `shows`, `showed` all count for `show`). An installed table.
    """
    return installed_table("english-rates", _english_term_rates)


def _english_term_rates() -> dict[str, float]:
    counts = _english_counts()
    total = sum(counts.values())
    common = [word for word, count in counts.items() if count >= COMMON_WORD_MIN_COUNT and word.isascii() and word.isalpha()]
    rates: dict[str, float] = {}
    for word, term in zip(common, stem_all(common), strict=True):
        rates[term] = rates.get(term, 0.0) + counts[word] / total
    return {term: float(f"{rate:.4g}") for term, rate in sorted(rates.items())}


def edit_limit(word: str) -> int:
    """How many typing mistakes a word of this length may carry and still be recognised."""
    if len(word) < RANKING.typo_min_length or word.isdigit():
        return 0
    return 1 if len(word) < RANKING.two_typos_min_length else 2


def suggestion_limit(word: str) -> int:
    """How many edits a "Did you mean" suggestion may be from a word.

    More than typo correction searches with (`athuenticatr` -> `authenticator`): the rep
    chooses whether to follow a suggestion. But no more than a third of the word's letters, so
    that a short word is not "corrected" into an unrelated one (`asdf` is not `add`), and none
    for a word too short for typo correction.
    """
    limit = edit_limit(word)
    return max(limit, len(word) // RANKING.suggestion_divisor) if limit else 0
