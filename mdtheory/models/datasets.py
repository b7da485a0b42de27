"""Training data for the real models: shipped or generated, never downloaded.

* ``digits`` — scikit-learn's ``load_digits``: 1,797 8×8 images with grey levels 0..16, so N = 64,
  V = 17, 2-D positions (8, 8).
* ``text`` — **convention**: the documentation text in CPython's ``pydoc_data.topics`` (~465k characters,
  ships with every CPython), character level. Characters are NFKD-folded to ASCII; the vocabulary is
  newline plus printable ASCII 32..126 (V = 96); anything else becomes a space. Sequences are
  consecutive non-overlapping windows of ``seq_len`` characters (64 by default, 64..128 allowed).
* ``markov`` — a symmetric 3-state Markov chain (stay probability 0.8) of length 32, sampled exactly
  from :class:`mdtheory.multiround.targets.MarkovChain`; π and its conditionals are known exactly.
* ``ising`` — a 4×4 Ising grid (coupling 0.4, field 0.1) sampled from its exact table.

Splits are deterministic: the last ``held_out`` fraction (10%) of the sequences (digits, text) or an
independent seeded draw (markov, ising) is the held-out set.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "load_dataset", "DATASETS", "text_vocabulary", "encode_text", "decode_text",
           "known_law_target"]

DATASETS = ("digits", "text", "markov", "ising")
_TEXT_CHARS = "\n" + "".join(chr(c) for c in range(32, 127))


@dataclass(frozen=True)
class Dataset:
    """Integer sequences (n, N) with values in 0..V−1, train and held-out, plus their geometry."""

    name: str
    train: np.ndarray
    held_out: np.ndarray
    vocab_size: int
    grid: tuple[int, int] | None = None
    target: object = None  # the exact law, for the known-law data sets

    @property
    def seq_len(self) -> int:
        return int(self.train.shape[1])


def text_vocabulary() -> str:
    """The V = 96 characters of the text data set, in token-id order."""
    return _TEXT_CHARS


def encode_text(s: str) -> np.ndarray:
    """Characters → token ids (NFKD-folded to ASCII; unknown characters become a space)."""
    folded = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    lut = np.full(128, _TEXT_CHARS.index(" "), dtype=np.int64)
    for i, ch in enumerate(_TEXT_CHARS):
        lut[ord(ch)] = i
    codes = np.frombuffer(folded.encode("ascii"), dtype=np.uint8).astype(np.int64)
    return lut[codes]


def decode_text(ids) -> str:
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= len(_TEXT_CHARS)):
        raise ValueError(f"text token ids must lie in 0..{len(_TEXT_CHARS) - 1}")
    return "".join(_TEXT_CHARS[int(i)] for i in ids.ravel())


def known_law_target(name: str):
    """The exact law behind the ``markov`` and ``ising`` data sets."""
    from ..multiround.targets import MarkovChain, ising_grid

    if name == "markov":
        q, stay = 3, 0.8
        P = np.full((q, q), (1 - stay) / (q - 1))
        np.fill_diagonal(P, stay)
        return MarkovChain(P, 32)
    if name == "ising":
        return ising_grid(4, 4, coupling=0.4, field=0.1)
    raise ValueError(f"no known law for data set {name!r}; known-law sets are 'markov' and 'ising'")


def load_dataset(name: str, *, seq_len: int = 64, n_samples: int = 20_000, held_out: float = 0.1,
                 seed: int = 0) -> Dataset:
    """One of :data:`DATASETS` (module doc). ``seq_len`` applies to text, ``n_samples`` to markov/ising."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; allowed: {', '.join(DATASETS)}")
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be in (0, 1); got {held_out!r}")
    if name == "digits":
        from sklearn.datasets import load_digits

        x = load_digits().images.reshape(-1, 64).astype(np.int64)
        cut = int(round(len(x) * (1 - held_out)))
        return Dataset("digits", x[:cut], x[cut:], 17, (8, 8))
    if name == "text":
        if not 64 <= seq_len <= 128:
            raise ValueError(f"seq_len for text must be in 64..128; got {seq_len}")
        from pydoc_data.topics import topics

        ids = encode_text("".join(topics[k] for k in sorted(topics)))
        n = len(ids) // seq_len
        x = ids[: n * seq_len].reshape(n, seq_len)
        cut = int(round(n * (1 - held_out)))
        return Dataset("text", x[:cut], x[cut:], len(_TEXT_CHARS))
    if isinstance(n_samples, bool) or int(n_samples) < 10:
        raise ValueError(f"n_samples must be an integer >= 10; got {n_samples!r}")
    target = known_law_target(name)
    rng = np.random.default_rng(seed)
    n_held = max(1, int(round(n_samples * held_out)))
    train = np.asarray(target.sample(int(n_samples), rng=rng), dtype=np.int64)
    test = np.asarray(target.sample(n_held, rng=rng), dtype=np.int64)
    grid = (4, 4) if name == "ising" else None
    return Dataset(name, train, test, int(target.q), grid, target)
