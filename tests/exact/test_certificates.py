"""Confidence certificates (§10.5) against statements computed literally here: the joint's mode found by a
scan of every cell, marginals by explicit sums, and the witnesses' closed forms."""

import itertools

import numpy as np
import pytest

from mdtheory import certificate
from mdtheory.exact import argmax_witness, frechet_witness, tv_witness


def _literal(p):
    n, q = p.ndim, p.shape[0]
    cells = list(itertools.product(range(q), repeat=n))
    marg = [[sum(p[c] for c in cells if c[j] == v) for v in range(q)] for j in range(n)]
    star = tuple(int(np.argmax(m)) for m in marg)
    mode = max(cells, key=lambda c: p[c])
    prod = {c: np.prod([marg[j][c[j]] for j in range(n)]) for c in cells}
    tv = 0.5 * sum(abs(p[c] - prod[c]) for c in cells)
    deficits = [1 - marg[j][star[j]] for j in range(n)]
    return star, mode, tv, deficits


@pytest.mark.parametrize("seed", range(8))
def test_the_three_statements_on_random_confident_joints(seed):
    rng = np.random.default_rng(seed)
    n, q = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    p = rng.dirichlet(np.full(q ** n, 0.3)).reshape((q,) * n) * rng.uniform(0.02, 0.4)
    p[tuple(rng.integers(0, q, n))] += 1 - p.sum()
    star, mode, tv, deficits = _literal(p)
    c = certificate(p)
    assert c.argmax_product == star and abs(c.tv_product - tv) < 1e-12
    assert abs(c.tv_bound - sum(deficits)) < 1e-12 and abs(c.frechet_bound - (1 - sum(deficits))) < 1e-12 and c.holds
    assert abs(c.p_argmax - p[star]) < 1e-15 and c.argmax_joint == mode
    if (n + 1) * max(deficits) <= 1:
        assert mode == star
    assert p[star] >= 1 - sum(deficits) - 1e-12 and tv <= sum(deficits) + 1e-12


def test_witnesses_are_sharp():
    d = [0.05, 0.1, 0.2]
    c = certificate(frechet_witness(d))
    assert abs(c.p_argmax - (1 - sum(d))) < 1e-15  # equality
    for n, delta in ((2, 1e-3), (5, 1e-6)):
        c = certificate(tv_witness(n, delta))
        assert abs(c.tv_product - (1 - (1 - delta) ** n - delta ** n)) < 1e-12
        assert c.tv_product / c.tv_bound > 1 - n * delta  # → 1 as δ → 0
    for n in (2, 3, 5):
        w = 1 / (n + 1)
        below, above = certificate(argmax_witness(n, w - 1e-4)), certificate(argmax_witness(n, w + 1e-4))
        assert below.argmax_condition and below.argmax_joint == below.argmax_product
        assert not above.argmax_condition and above.argmax_joint != above.argmax_product


def test_bad_joints_are_refused():
    with pytest.raises(ValueError, match="summing to 1"):
        certificate(np.full((2, 2), 0.3))
    with pytest.raises(ValueError, match="shape"):
        certificate(np.full((2, 3), 1 / 6))
    with pytest.raises(ValueError):
        frechet_witness([0.7, 0.6])


@pytest.mark.parametrize("weight", [-0.01, 0.34, 0.5, 1.0])
def test_argmax_witness_weights_lie_in_zero_to_one_over_n(weight):
    from mdtheory.exact.certificates import argmax_witness

    with pytest.raises(ValueError, match="0 <= weight <= 1/n"):
        argmax_witness(3, weight)
    assert argmax_witness(3, 1 / 3) is not None and argmax_witness(3, 0.0) is not None  # the ends are allowed
