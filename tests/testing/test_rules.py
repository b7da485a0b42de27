"""The stated rules' exact laws, each against a brute-force oracle or a closed form written here (§2.5, §3.4)."""

import itertools
import math

import numpy as np
import pytest

from mdtheory.exact.oracle import mdlm_round_law_bruteforce, sample_then_choose_law_bruteforce
from mdtheory.exact.variable_laws import mdlm_round_law, threshold_round_law
from mdtheory.testing import RULE_NAMES, round_rule, truncated

RNG = np.random.default_rng(5)
P = RNG.dirichlet(np.ones(3), size=4)
TIED = np.tile(RNG.dirichlet(np.ones(3)), (4, 1))


def _dict(law):
    tuples = law.token_tuples()
    return {(tuple(int(i) for i in K), tuple(int(t) for t in tuples[j])): float(law.probs[c, j])
            for c, K in enumerate(law.sets) for j in range(law.probs.shape[1]) if law.probs[c, j] > 0}


def _close(a: dict, b: dict, tol=1e-12):
    keys = set(a) | set(b)
    return max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys) < tol


@pytest.mark.parametrize("ties", ["uniform", "first"])
@pytest.mark.parametrize("probs", [P, TIED], ids=["random", "tied"])
def test_deterministic_sample_then_choose_matches_the_oracle(probs, ties):
    # LLaDA: candidates from the tempered law, scored by the untempered probability
    q = probs ** 2 / (probs ** 2).sum(axis=1, keepdims=True)
    law = round_rule("low_confidence", temperature=0.5, ties=ties).law(probs, 2)
    oracle = sample_then_choose_law_bruteforce(q, np.log(probs), k=2, noise=0.0, ties=ties)
    assert np.abs(law.probs - oracle.probs).max() < 1e-12


def test_first_index_ties_differ_from_uniform_ties_on_tied_rows():
    uniform = round_rule("confidence").law(TIED, 1)
    first = round_rule("confidence", ties="first").law(TIED, 1)
    assert np.allclose(uniform.probs.sum(axis=1), 0.25)  # each of the four tied positions equally
    assert first.probs.sum(axis=1).tolist() == [1.0, 0.0, 0.0, 0.0]  # the lowest index always


def test_dream_is_plackett_luce_on_exp_confidence_over_alg_temp():
    # the oracle enumerates candidates and orders: PL with weights exp(q(x̃)/τ)
    law = round_rule("dream", alg_temp=0.3, temperature=0.7).law(P, 2)
    q = P ** (1 / 0.7) / (P ** (1 / 0.7)).sum(axis=1, keepdims=True)
    oracle = sample_then_choose_law_bruteforce(q, q, k=2, noise=0.3)
    assert np.abs(law.probs - oracle.probs).max() < 1e-9 and law.quad_error < 1e-9


def test_cts_laws_are_set_law_times_tempered_tokens():
    # the confidence rule without noise: the top-k of max_s p_i(s) (this table has no ties), tokens ∝ p^{1/T}
    law = round_rule("confidence", temperature=0.5).law(P, 2)
    top = tuple(sorted(np.argsort(-P.max(axis=1))[:2].tolist()))
    q = P ** 2 / (P ** 2).sum(axis=1, keepdims=True)
    expected = {(top, (a, b)): q[top[0], a] * q[top[1], b] for a in range(3) for b in range(3)}
    assert _close(_dict(law), expected)


def test_top_k_and_top_p_truncation():
    p = np.array([[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]])
    assert truncated(p, top_k=2)[0].tolist() == pytest.approx([4 / 7, 3 / 7, 0, 0])
    assert truncated(p, top_k=2)[1].tolist() == pytest.approx([0.25] * 4)  # tied with the 2nd largest: kept
    assert truncated(p, top_p=0.65)[0].tolist() == pytest.approx([4 / 7, 3 / 7, 0, 0])  # 0.4 + 0.3 reaches 0.65
    assert truncated(p, top_p=0.75)[0].tolist() == pytest.approx([4 / 9, 3 / 9, 2 / 9, 0])
    assert truncated(p, top_p=0.5)[1].tolist() == pytest.approx([0.5, 0.5, 0, 0])  # ties: lower ids first
    law = round_rule("low_confidence", top_k=1).law(P, 1)  # greedy candidates: the argmax token of each row
    cells = _dict(law)
    assert all(t[0] == int(np.argmax(P[K[0]])) for K, t in cells)


def test_mdlm_law_matches_its_oracle_and_the_binomial_sizes():
    law, oracle = mdlm_round_law(P, rate=0.3), mdlm_round_law_bruteforce(P, rate=0.3)
    assert _close(law, oracle)
    for size in range(5):
        mass = sum(v for (K, _), v in law.items() if len(K) == size)
        assert abs(mass - math.comb(4, size) * 0.3 ** size * 0.7 ** (4 - size)) < 1e-12


def test_threshold_law_sums_to_one_and_commits_every_confident_candidate():
    law = threshold_round_law(P, m=1, threshold=0.5)
    assert abs(sum(law.values()) - 1) < 1e-12
    for (K, x), pr in law.items():
        if len(K) > 1:  # more than m committed: every member above θ
            assert all(P[i, t] > 0.5 for i, t in zip(K, x))
    # brute force over candidate vectors: commit those above θ if ≥ m, else the argmax confidence (no ties here)
    brute: dict = {}
    for cand in itertools.product(range(3), repeat=4):
        pr = float(np.prod([P[i, c] for i, c in enumerate(cand)]))
        conf = [P[i, c] for i, c in enumerate(cand)]
        K = tuple(i for i in range(4) if conf[i] > 0.5) or (int(np.argmax(conf)),)
        brute[(K, tuple(cand[i] for i in K))] = brute.get((K, tuple(cand[i] for i in K)), 0.0) + pr
    assert _close(law, brute)


@pytest.mark.parametrize("name, params, match", [
    ("nope", {}, "rule must be one of"),
    ("maskgit", {}, "needs alpha"),
    ("maskgit", {"alpha": -1}, "alpha must be >= 0"),
    ("moment", {"alpha": 1.0, "gamma": 0.1}, "unknown parameter"),
    ("low_confidence", {"confidence": "raw"}, "confidence must be"),
    ("threshold", {"m": 0, "threshold": 0.5}, "m must be an integer"),
    ("mdlm", {"rate": 1.5}, "rate must be"),
    ("confidence", {"ties": "last"}, "ties must be"),
])
def test_rules_refuse_bad_parameters(name, params, match):
    with pytest.raises(ValueError, match=match):
        round_rule(name, **params)


def test_every_rule_has_a_law_that_sums_to_one():
    from mdtheory.rules.registry import example_params

    for name in RULE_NAMES:
        rule = round_rule(name, **example_params(name, len(P)))
        law = rule.law(P, None if rule.variable else 2)
        total = sum(law.values()) if rule.variable else float(law.probs.sum())
        assert abs(total - 1) < 1e-9, name


@pytest.mark.parametrize("temperature,confidence", [(1.0, "tempered"), (0.6, "tempered"), (0.6, "untempered"),
                                                    (1.7, "untempered")])
def test_threshold_law_against_enumeration(temperature, confidence):
    # independent check of the closed form: enumerate every candidate vector and apply the rule literally
    import itertools

    from mdtheory.exact.variable_laws import threshold_round_law

    P = np.random.default_rng(1).dirichlet(np.ones(3), size=3)
    Q = P ** (1 / temperature)
    Q /= Q.sum(axis=1, keepdims=True)
    C = Q if confidence == "tempered" else P
    m, theta = 2, 0.5
    ref: dict = {}
    for cand in itertools.product(range(3), repeat=3):
        pr = np.prod([Q[i, c] for i, c in enumerate(cand)])
        conf = np.array([C[i, c] for i, c in enumerate(cand)])
        above = [i for i in range(3) if conf[i] > theta]
        if len(above) >= m:
            sets = [(tuple(above), 1.0)]
        else:
            order = sorted(range(3), key=lambda i: -conf[i])
            sets = [(tuple(sorted(order[:m])), 1.0)]  # tie-free table
        for K, w in sets:
            key = (K, tuple(cand[i] for i in K))
            ref[key] = ref.get(key, 0.0) + pr * w
    law = threshold_round_law(P, m=m, threshold=theta, temperature=temperature, confidence=confidence)
    assert set(law) == {k for k, v in ref.items() if v > 0}
    assert max(abs(law[k] - ref[k]) for k in law) < 1e-14
