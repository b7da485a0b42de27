"""Oracle-posterior correctness (§10.4): the exact table against statistics computed here from the output law,
and the Monte Carlo table against the exact one (99% intervals, fixed seeds)."""

import numpy as np
import pytest

from mdtheory import CTS, output_law
from mdtheory.profiles import constant_schedule
from mdtheory.targets import MarkovChain, bigram_chain, forbidden_bigram_transition
from mdtheory.models.predictors import target_predictor
from mdtheory.montecarlo.oracle_posterior import chain_pair_law, oracle_exact_table, oracle_monte_carlo_table


def test_exact_table_against_the_output_law():
    P = forbidden_bigram_transition(3)
    t = bigram_chain(5)
    rows = oracle_exact_table(t, P, [2, 5])
    law = output_law(t, CTS(), constant_schedule(5, 2)).table
    pair = np.zeros((3, 3))
    for x in np.ndindex(*law.shape):
        for i in range(4):
            pair[x[i], x[i + 1]] += law[x] / 4
    ref = chain_pair_law(P)
    r = next(r for r in rows if r["sampler"] == "uniform" and r["K"] == 2)
    assert abs(r["pair_tv"] - 0.5 * np.abs(pair - ref).sum()) < 1e-12
    assert abs(r["forbidden_rate"] - pair[P == 0].sum()) < 1e-12
    assert all(r["pair_tv"] < 1e-12 for r in rows if r["K"] == 5 and r["sampler"] in ("uniform", "confidence"))


def test_monte_carlo_agrees_with_the_exact_law():
    # N = 6, one token at a time (no sampler leaves the support): 4000 sequences per sampler; every cell of the
    # averaged pair law within its normal interval at 99.9%/9 (Bonferroni over the 9 cells) of the exact one
    from scipy.stats import norm

    from mdtheory import MaskGIT, Moment

    P = forbidden_bigram_transition(3)
    t = bigram_chain(6)
    z = norm.isf(1e-3 / 2 / 9)
    mc = oracle_monte_carlo_table(target_predictor(MarkovChain(P, 6)), P, 6, [6], n_samples=4000, seed=4, n_boot=20,
                                  z=z)
    samplers = {"maskgit": MaskGIT(1.0), "moment": Moment(1.0), "uniform": CTS(), "confidence": None}
    for r in mc:
        if samplers[r["sampler"]] is None:
            continue
        law = output_law(t, samplers[r["sampler"]], constant_schedule(6, 6)).table
        pair = sum(law.sum(axis=tuple(a for a in range(6) if a not in (i, i + 1))) for i in range(5)) / 5
        assert r["forbidden_rate"] == 0
        assert np.all(np.abs(np.array(r["pair"]) - pair) <= np.array(r["pair_hw"]) + 1e-12), r["sampler"]


def test_bad_arguments_are_refused():
    import pytest

    P = forbidden_bigram_transition(3)
    predict = target_predictor(MarkovChain(P, 8))
    for kwargs, match in ((dict(n_samples=1), "n_samples"), (dict(n_boot=0), "n_boot"), (dict(z=-1.0), "z must"),
                          (dict(samplers=["halton"]), "samplers must")):
        with pytest.raises(ValueError, match=match):
            oracle_monte_carlo_table(predict, P, 8, [8], **kwargs)


@pytest.mark.parametrize("q, allowed", [(2, 2), (3, 2), (4, 2), (5, 3), (6, 2)])
def test_every_token_may_stay_or_step_to_the_next_so_the_chain_is_irreducible(q, allowed):
    for seed in range(3):
        P = forbidden_bigram_transition(q, allowed=allowed, seed=seed)
        for a in range(q):
            assert P[a, a] > 0 and P[a, (a + 1) % q] > 0  # the documented convention
            assert np.count_nonzero(P[a]) == allowed
