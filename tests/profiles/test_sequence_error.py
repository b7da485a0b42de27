"""Per-token vs whole-sequence error (§10.3) on the bigram chain with forbidden transitions. References: the
chain's table (its zeros are the forbidden transitions), SER summed here over the output table, and the
exact curve by enumeration (information_profile) against the closed-form chain curve."""

import numpy as np
import pytest

from mdtheory import CTS, output_law
from mdtheory.profiles import ccl_expected_kl, constant_schedule, information_profile, markov_transition_profile, per_token_curve, sequence_error_table, steps_for_sequence_kl
from mdtheory.targets import MarkovChain, bigram_chain, forbidden_bigram_transition


def test_forbidden_transitions_have_probability_zero():
    P = forbidden_bigram_transition(3, allowed=2, seed=0)
    t = bigram_chain(5)
    for x in np.ndindex(*t.table.shape):
        allowed = all(P[a, b] > 0 for a, b in zip(x[:-1], x[1:]))
        assert (t.table[x] > 0) == allowed
    assert np.allclose(forbidden_bigram_transition(4, allowed=4, seed=1).astype(bool), True)
    with pytest.raises(ValueError, match="allowed"):
        forbidden_bigram_transition(3, allowed=4)


def test_table_against_the_output_law_and_directions():
    t = bigram_chain(5)
    rows = sequence_error_table(t, [1, 2, 5])
    for r in rows:
        law = output_law(t, CTS(), constant_schedule(5, r["K"]))
        ser = float(law.table[t.table == 0].sum()) + max(0.0, 1 - float(law.table.sum()))
        assert abs(r["ser"] - ser) < 1e-12
        assert r["ser"] <= r["tv"] + 1e-12 <= r["pinsker"] + 2e-12
        assert (r["kl_reverse"] == float("inf")) == (r["ser"] > 0)
    assert rows[-1]["kl"] < 1e-12 and rows[-1]["ser"] < 1e-15  # one at a time: exact


def test_closed_form_curve_equals_enumeration_for_a_sparse_chain():
    P = forbidden_bigram_transition(3)
    a, b = information_profile(bigram_chain(7)), markov_transition_profile(7, P)
    assert np.abs(a.Z - b.Z).max() < 1e-12
    for K in (1, 3, 7):
        assert abs(ccl_expected_kl(a, constant_schedule(7, K)) - ccl_expected_kl(b, constant_schedule(7, K))) < 1e-12


def test_per_token_is_flat_in_n_and_sequence_needs_k_linear_in_n():
    P = forbidden_bigram_transition(3)
    rows = {(r["n"], r["K"]): r["kl_per_token"] for r in per_token_curve(P, (2000, 10_000), (8,))}
    assert abs(rows[(10_000, 8)] / rows[(2000, 8)] - 1) < 0.01
    k1, k2 = steps_for_sequence_kl(P, 1000, 0.5), steps_for_sequence_kl(P, 4000, 0.5)
    assert 3.5 < k2 / k1 < 4.5
    pr = markov_transition_profile(1000, P)
    assert ccl_expected_kl(pr, constant_schedule(1000, k1)) <= 0.5 < ccl_expected_kl(pr, constant_schedule(1000, k1 - 1))


def test_markov_chain_nearest_convention():
    P = forbidden_bigram_transition(3)
    strict, lenient = MarkovChain(P, 4), MarkovChain(P, 4, on_impossible="nearest")
    a = next(a for a in range(3) for b in range(3) if P[a, b] == 0)
    b = next(b for b in range(3) if P[a, b] == 0)
    values, revealed = np.array([[a, b, 0, 0]]), np.array([[True, True, False, False]])
    with pytest.raises(ValueError, match="probability 0"):
        strict.conditionals_batch(values, revealed)
    got = lenient.conditionals_batch(values, revealed)[0]
    assert np.allclose(got[2], P[b]) and np.allclose(got.sum(axis=1), 1)
    with pytest.raises(ValueError, match="on_impossible"):
        MarkovChain(P, 4, on_impossible="skip")


def test_per_token_curve_refuses_more_steps_than_positions():
    with pytest.raises(ValueError, match="1 <= K <= N=10"):
        per_token_curve(forbidden_bigram_transition(3), [10], [4, 11])


def test_each_row_reports_the_pinsker_bound_of_its_own_kl():
    # Pinsker: TV ≤ √(KL/2); the row's "pinsker" is that bound, computed from the row's KL (in nats)
    for r in sequence_error_table(bigram_chain(4), [1, 2, 4]):
        assert r["pinsker"] == pytest.approx(np.sqrt(r["kl"] / 2), rel=1e-12)
        assert r["tv"] <= r["pinsker"] + 1e-12
    assert sequence_error_table(bigram_chain(4), [1])[0]["kl"] > 0.1  # a KL where √KL and √(KL/2) differ
