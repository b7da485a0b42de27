"""Registry of valid and deliberately invalid one-round inputs (scipy's _distr_params pattern)."""

import numpy as np

PEAKED = np.array([[0.97, 0.02, 0.01], [0.9, 0.05, 0.05], [0.01, 0.01, 0.98], [0.6, 0.3, 0.1]])
FLAT = np.array([[0.34, 0.33, 0.33], [0.33, 0.34, 0.33], [1 / 3, 1 / 3, 1 / 3], [0.3, 0.35, 0.35]])
ZEROS = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.2, 0.0, 0.8], [0.25, 0.25, 0.5], [0.1, 0.9, 0.0]])
TIES = np.array([[0.5, 0.5], [0.5, 0.5], [0.7, 0.3], [0.3, 0.7]])


def random_rows(seed, n, vocab, concentration=1.0):
    return np.random.default_rng(seed).dirichlet(np.full(vocab, concentration), size=n)


VALID = [
    # (name, probs, k, alpha)
    ("peaked_k1", PEAKED, 1, 0.5),
    ("peaked_k2", PEAKED, 2, 1.0),
    ("peaked_k3", PEAKED, 3, 3.0),
    ("flat_k2", FLAT, 2, 0.3),
    ("flat_k3", FLAT, 3, 1.0),
    ("zeros_k1", ZEROS, 1, 1.0),
    ("zeros_k2", ZEROS, 2, 0.1),
    ("zeros_k3", ZEROS, 3, 2.0),
    ("ties_k2", TIES, 2, 0.7),
    ("random6_k2", random_rows(11, 6, 2), 2, 0.8),
    ("random6_k3", random_rows(12, 6, 2, 0.3), 3, 0.25),
    ("random5_v3_k3", random_rows(13, 5, 3, 3.0), 3, 5.0),
    ("small_alpha", random_rows(14, 4, 3), 2, 0.02),
    ("large_alpha", random_rows(15, 4, 3), 2, 80.0),
]

_ok = random_rows(0, 4, 3)
_nan = _ok.copy()
_nan[1, 1] = np.nan
_neg = np.array([[1.2, -0.2, 0.0], [0.3, 0.3, 0.4]])
_unnorm = _ok * 1.1

INVALID = [
    # (name, probs, k, alpha, exception, message fragment)
    ("negative", _neg, 1, 1.0, ValueError, "non-negative"),
    ("nan", _nan, 1, 1.0, ValueError, "finite"),
    ("unnormalised", _unnorm, 1, 1.0, ValueError, "sum to 1"),
    ("k_zero", _ok, 0, 1.0, ValueError, "1 <= k"),
    ("k_too_big", _ok, 5, 1.0, ValueError, "n_masked=4"),
    ("k_float", _ok, 1.5, 1.0, TypeError, "integer"),
    ("alpha_negative", _ok, 1, -0.1, ValueError, "alpha >= 0"),
    ("alpha_nan", _ok, 1, float("nan"), ValueError, "NaN"),
    ("one_dim", _ok[0], 1, 1.0, ValueError, "shape"),
    ("three_dim", _ok[None], 1, 1.0, ValueError, "shape"),
    ("vocab_one", np.ones((3, 1)), 1, 1.0, ValueError, "vocab_size >= 2"),
    ("empty", np.zeros((0, 3)), 1, 1.0, ValueError, "at least one row"),
    ("strings", [["a", "b"]], 1, 1.0, TypeError, "real numbers"),
]
