"""The test kit on user-style rounds written here from their rules' definitions: correct rounds pass, and each
planted one-line bug fails with a named cell (or a named invariant)."""

import functools

import numpy as np
import pytest
import torch

from mdtheory.testing import AuditCase, RoundAuditError, assert_round_law, check_round_law, round_rule


def gumbel(shape, g):
    u = torch.rand(shape, generator=g, dtype=torch.float64)
    return -torch.log(-torch.log(u.clamp_min(1e-300)))


def draw(log_probs, g):
    return (log_probs + gumbel(log_probs.shape, g)).argmax(-1)


def my_maskgit(log_probs, *, k, alpha, generator=None, noise_scale=None, skip_last=False):
    """MaskGIT as a sampler author would write it: candidates, confidence log p(x̃) + α·Gumbel, top k."""
    x = draw(log_probs, generator)
    scale = alpha if noise_scale is None else noise_scale(alpha)
    conf = log_probs.gather(-1, x[..., None])[..., 0] + scale * gumbel(x.shape, generator)
    if skip_last:
        conf[:, -1] = -torch.inf
    positions = conf.topk(k, dim=1).indices
    return positions, x.gather(1, positions)


def my_confidence(log_probs, *, k, generator=None, tie_break="random"):
    """Confidence-first CTS: the top k of max_s p_i(s), then a token from each chosen row."""
    score = log_probs.amax(-1)
    if tie_break == "random":
        positions = (score + 1e-9 * torch.rand(score.shape, generator=generator, dtype=torch.float64)).topk(k).indices
    elif tie_break == "stable":
        positions = torch.sort(score, dim=1, descending=True, stable=True).indices[:, :k]
    else:
        positions = score.topk(k, dim=1).indices
    rows = log_probs.gather(1, positions[..., None].expand(-1, -1, log_probs.shape[-1]))
    return positions, draw(rows, generator)


def my_llada(log_probs, *, k, generator=None, temperature=0.5, confidence_from="untempered"):
    """LLaDA low-confidence remasking: tempered candidates, confidence = untempered p(x̃), top k."""
    q = torch.log_softmax(log_probs / temperature, -1)
    x = draw(q, generator)
    conf = (log_probs if confidence_from == "untempered" else q).gather(-1, x[..., None])[..., 0]
    positions = (conf + 1e-9 * torch.rand(conf.shape, generator=generator, dtype=torch.float64)).topk(k).indices
    return positions, x.gather(1, positions)


def my_sequence_step(tokens, logits, *, k, mask_id, generator=None, alpha=1.0, redraw_revealed=False):
    """A MaskGIT step on whole sequences, leaving revealed positions alone."""
    masked = tokens == mask_id
    lp = torch.log_softmax(logits, -1)
    x = draw(lp, generator)
    conf = (lp.gather(-1, x[..., None])[..., 0] + alpha * gumbel(x.shape, generator)).masked_fill(~masked, -torch.inf)
    positions = conf.topk(k, dim=1).indices
    out = tokens.clone()
    if redraw_revealed:
        out[~masked] = x[~masked]
    return out.scatter(1, positions, x.gather(1, positions))


def my_mdlm(log_probs, *, generator=None, rate=0.3):
    """One MDLM ancestral step: each masked position revealed with probability `rate`, token from p."""
    x = draw(log_probs, generator)
    selected = torch.rand(x.shape, generator=generator, dtype=torch.float64) < rate
    return selected, x


def maskgit_with_inverse_noise(log_probs, *, k, alpha, generator=None):
    """A planted bug, importable by name: Gumbel noise scaled by 1/α instead of α."""
    return my_maskgit(log_probs, k=k, alpha=alpha, generator=generator, noise_scale=lambda a: 1 / a)


def _fails(step, rule, match=None, **kw):
    with pytest.raises(RoundAuditError) as info:
        assert_round_law(step, rule, **kw)
    text = str(info.value)
    if match:
        assert match in text, text
    return text


def test_correct_rounds_pass():
    assert all(r.passed for r in assert_round_law(my_maskgit, round_rule("maskgit", alpha=0.5)))
    assert len(assert_round_law(my_confidence, round_rule("confidence"), forward=())) == 5
    assert_round_law(functools.partial(my_confidence, tie_break="stable"), round_rule("confidence", ties="first"),
                     forward=(), cases=["ties", "peaked"])
    assert_round_law(my_llada, round_rule("low_confidence", temperature=0.5), forward=())
    assert_round_law(my_sequence_step, round_rule("maskgit", alpha=1.0), convention="sequence")
    assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), convention="logits", cases=["peaked", "flat"])
    assert_round_law(my_mdlm, round_rule("mdlm", rate=0.3), forward=(), cases=["peaked", "zeros"], n_samples=50_000)


def test_noise_scaled_by_one_over_alpha_fails_with_a_named_cell():
    text = _fails(functools.partial(my_maskgit, noise_scale=lambda a: 1 / a), round_rule("maskgit", alpha=0.5))
    assert "case peaked" in text and "worst cells: positions [" in text and "χ² = " in text and "TV ≈ " in text


def test_never_committing_the_last_position_fails_on_its_cells():
    text = _fails(functools.partial(my_maskgit, skip_last=True), round_rule("maskgit", alpha=0.5), cases=["flat"])
    assert "positions [2, 3]" in text and "observed 0" in text  # the cells holding the last position, never drawn


def test_index_tie_breaking_under_the_uniform_rule_fails_on_tied_rows():
    for tie_break in ("stable", "topk"):
        text = _fails(functools.partial(my_confidence, tie_break=tie_break), round_rule("confidence"), forward=(),
                      cases=["ties", "peaked"])
        assert "1 of 2 cases" in text and "case ties" in text
    # torch.topk is not first-index either: which of equal scores it returns is its own business
    _fails(functools.partial(my_confidence, tie_break="topk"), round_rule("confidence", ties="first"), forward=(),
           cases=["ties"], n_samples=20_000)


def test_tempered_confidence_fails_against_the_untempered_rule():
    text = _fails(functools.partial(my_llada, confidence_from="tempered"), round_rule("low_confidence", temperature=0.5),
                  forward=())
    assert "low_confidence(temperature=0.5, confidence=untempered" in text


def test_redrawing_revealed_tokens_is_named():
    _fails(functools.partial(my_sequence_step, redraw_revealed=True), round_rule("maskgit", alpha=1.0),
           match="a revealed token was re-drawn: row 0, position 0", convention="sequence")


def test_a_wrong_mdlm_rate_fails_on_the_set_sizes():
    text = _fails(functools.partial(my_mdlm, rate=0.35), round_rule("mdlm", rate=0.3), forward=(), cases=["flat"],
                  n_samples=50_000)
    assert "positions [] tokens []" in text  # the empty set: (1 − r)^N is the sharpest cell


@pytest.mark.parametrize("bad, match", [
    (lambda lp, *, k, alpha, generator=None: (torch.zeros(lp.shape[0], k, dtype=torch.long),) * 2,
     "a position chosen twice"),
    (lambda lp, *, k, alpha, generator=None: (torch.full((lp.shape[0], k), 9), torch.zeros(lp.shape[0], k).long()),
     "position out of range"),
    (lambda lp, *, k, alpha, generator=None: (torch.arange(k).expand(lp.shape[0], k), torch.full((lp.shape[0], k),
                                                                                                lp.shape[-1])),
     "a token outside the vocabulary"),
    (lambda lp, *, k, alpha, generator=None: torch.zeros(lp.shape[0], k), "must return (positions, tokens)"),
    (lambda lp, *, k, alpha, generator=None: (torch.zeros(lp.shape[0], k + 1, dtype=torch.long),) * 2,
     "must have shape"),
])
def test_invariants_are_checked_before_counting(bad, match):
    _fails(bad, round_rule("maskgit", alpha=1.0), match=match, cases=["flat"])


def test_sequence_steps_must_reveal_exactly_k():
    def lazy(tokens, logits, *, k, mask_id, generator=None, alpha=1.0):
        return tokens  # reveals nothing
    _fails(lazy, round_rule("maskgit", alpha=1.0), match="must reveal exactly k=2", convention="sequence",
           cases=["flat"])


def test_the_reproduction_line_runs_the_same_audit():
    text = _fails(functools.partial(my_maskgit, skip_last=True), round_rule("maskgit", alpha=0.5), cases=["peaked"])
    assert "reproduce: assert_round_law(<the step>, round_rule('maskgit', alpha=0.5" in text
    text = _fails(maskgit_with_inverse_noise, round_rule("maskgit", alpha=0.25), cases=["peaked"])
    line = text.split("reproduce: ")[1]
    assert line.startswith("mdtheory audit --round tests.testing.test_kit:maskgit_with_inverse_noise --rule maskgit "
                           "--param alpha=0.25")


def test_own_cases_and_bad_arguments():
    case = AuditCase("mine", np.array([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]]), 1)
    assert assert_round_law(my_maskgit, round_rule("maskgit", alpha=2.0), cases=[case])[0].case == "mine"
    with pytest.raises(ValueError, match="cases must name"):
        assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), cases=["nope"])
    with pytest.raises(ValueError, match="convention must be"):
        assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), convention="jax")
    with pytest.raises(TypeError, match="set_timesteps and step"):
        assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), convention="diffusers")
    with pytest.raises(ValueError, match="n_samples must be an integer >= "):
        assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), cases=["large_vocab"], n_samples=100)
    with pytest.raises(ValueError, match="forward names parameters"):
        assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), forward=("temperature",))


class RedrawingScheduler:
    """A diffusers-style scheduler wrapper with a planted bug: it re-draws one revealed token per row."""

    def __init__(self, inner):
        self.inner, self.mask_token_id = inner, inner.mask_token_id

    def set_timesteps(self, n):
        self.inner.set_timesteps(n)
        self.timesteps = self.inner.timesteps

    def step(self, logits, t, sample, generator=None):
        prev = self.inner.step(logits, t, sample, generator=generator).prev_sample.clone()
        first = (sample != self.mask_token_id).float().argmax(dim=1)
        prev[torch.arange(len(prev)), first] = (prev[torch.arange(len(prev)), first] + 1) % logits.shape[-1]
        return (prev,)


def test_a_diffusers_scheduler_is_audited_at_the_k_it_reveals():
    from mdtheory import MaskGIT
    from mdtheory.peers import MdtheoryScheduler
    from mdtheory.testing import check_round_law

    sched = MdtheoryScheduler(MaskGIT(1.0), mask_token_id=99)
    results = assert_round_law(sched, round_rule("maskgit", alpha=1.0), convention="diffusers", forward=(),
                               cases=["peaked", "flat"], n_samples=20_000)
    assert [r.k for r in results] == [2, 2] and all(r.passed for r in results)  # cosine, 2 steps, N = 4
    # the stated α is not the one the scheduler runs: a named cell fails
    audit = check_round_law(MdtheoryScheduler(MaskGIT(4.0), mask_token_id=99), round_rule("maskgit", alpha=0.25),
                            convention="diffusers", forward=(), cases=["peaked"], n_samples=20_000)
    assert not audit.passed and audit.invariant is None and "worst cells: positions" in audit.failures[0]
    with pytest.raises(RoundAuditError, match="a revealed token was re-drawn"):
        assert_round_law(RedrawingScheduler(sched), round_rule("maskgit", alpha=1.0), convention="diffusers",
                         forward=(), cases=["peaked"], n_samples=20_000)


def test_a_failing_step_is_named_by_its_import_path_or_its_own_name():
    text = _fails(maskgit_with_inverse_noise, round_rule("maskgit", alpha=0.5), cases=["peaked"])
    assert text.startswith(f"{__name__}:maskgit_with_inverse_noise does not draw"), text[:120]
    anonymous = lambda log_probs, *, k, alpha, generator=None: maskgit_with_inverse_noise(  # noqa: E731
        log_probs, k=k, alpha=alpha, generator=generator)
    text = _fails(anonymous, round_rule("maskgit", alpha=0.5), cases=["peaked"])
    assert text.startswith("<lambda> does not draw"), text[:120]


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1, 1.0, 1.5])
def test_false_alarm_and_confidence_lie_strictly_inside_the_unit_interval(bad):
    for name in ("false_alarm", "confidence"):
        with pytest.raises(ValueError, match=f"{name} must lie in \\(0, 1\\)"):
            assert_round_law(my_maskgit, round_rule("maskgit", alpha=1.0), cases=["peaked"], **{name: bad})


@pytest.mark.parametrize("bad", [0.0, -0.1])
def test_a_bad_level_is_refused_before_the_sampler_runs(bad):
    # a level outside (0, 1) is caught downstream too, but only after the whole sampling budget is spent
    def never_called(log_probs, *, k, alpha, generator=None):
        raise AssertionError("the sampler ran before its arguments were checked")

    for name in ("false_alarm", "confidence"):
        for kwargs in ({}, {"forward": (), "n_samples": 50_000}):
            with pytest.raises(ValueError, match=f"{name} must lie in \\(0, 1\\)"):
                check_round_law(never_called, round_rule("maskgit", alpha=1.0), cases=["peaked"],
                                **kwargs, **{name: bad})


def test_a_cell_of_probability_zero_never_seen_has_z_zero_not_nan():
    from mdtheory.testing.audit import _audit_dict

    law = {((0,), (0,)): 0.5, ((0,), (1,)): 0.5, ((1,), (0,)): 0.0}  # the last cell: impossible, never drawn
    counts = {((0,), (0,)): 500, ((0,), (1,)): 500}
    r = _audit_dict(counts, law, peer="p", case="c", n_samples=1000, false_alarm=1e-6, confidence=0.99, n_worst=3)
    z = {tuple(w["positions"]) + tuple(w["tokens"]): w["z"] for w in r.worst_cells}
    assert z[(1, 0)] == 0.0 and not any(np.isnan(v) for v in z.values())
    seen = _audit_dict({**counts, ((1,), (0,)): 1}, law, peer="p", case="c", n_samples=1001, false_alarm=1e-6,
                       confidence=0.99, n_worst=1)
    assert seen.worst_cells[0]["z"] == np.inf and seen.worst_cells[0]["positions"] == [1]  # an impossible cell drawn


def _maskgit_from(g, log_probs, k, alpha):
    """my_maskgit's draws, from the generator ``g`` (None: torch's global one)."""
    B, N, V = log_probs.shape
    u = torch.rand(log_probs.shape, generator=g, dtype=torch.float64)
    tok = torch.argmax(log_probs - torch.log(-torch.log(u.clamp_min(1e-300))), dim=-1)
    conf = torch.gather(log_probs, -1, tok[..., None])[..., 0]
    v = torch.rand((B, N), generator=g, dtype=torch.float64)
    pos = torch.topk(conf - alpha * torch.log(-torch.log(v.clamp_min(1e-300))), k, dim=-1).indices
    return pos, torch.gather(tok, 1, pos)


def global_rng_maskgit(log_probs, *, k, alpha, generator=None):
    return _maskgit_from(None, log_probs, k, alpha)  # the upstream habit: the global RNG


def fixed_seed_maskgit(log_probs, *, k, alpha, generator=None):
    return _maskgit_from(torch.Generator().manual_seed(0), log_probs, k, alpha)  # a seed of its own


def wrapped_maskgit(log_probs, *, k, alpha, generator=None):
    from mdtheory.testing import seeded_global_rngs

    with seeded_global_rngs(generator):
        return global_rng_maskgit(log_probs, k=k, alpha=alpha)


def test_a_step_drawing_from_the_global_rng_breaks_the_seed_contract():
    from mdtheory.testing import check_round_law

    audit = check_round_law(global_rng_maskgit, round_rule("maskgit", alpha=1.0), cases=["flat"], n_samples=20_000)
    assert not audit.passed and "not a function of its generator" in audit.invariant
    assert "seeded_global_rngs" in audit.invariant


def test_a_step_with_a_seed_of_its_own_ignores_its_generator_and_is_told_so():
    from mdtheory.testing import check_round_law

    audit = check_round_law(fixed_seed_maskgit, round_rule("maskgit", alpha=1.0), cases=["flat"], n_samples=20_000)
    assert not audit.passed and audit.invariant is None  # reproducible, so the counts are still reported
    assert audit.failures[0].startswith("case flat: the step ignores its generator: generators seeded 0 and 1")


def test_the_global_rng_recipe_makes_the_same_step_pass_and_restores_the_global_state():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    np.random.seed(7)
    np_before = np.random.get_state()[1].copy()
    assert_round_law(wrapped_maskgit, round_rule("maskgit", alpha=1.0), cases=["flat", "peaked"], n_samples=20_000)
    assert torch.equal(torch.get_rng_state(), before) and np.array_equal(np.random.get_state()[1], np_before)


def test_a_case_with_one_possible_outcome_is_not_asked_for_other_draws_under_another_seed():
    # every position revealed, one-hot rows: the round's law is one cell, so every seed rightly draws the same
    case = AuditCase("certain", np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), 2)
    assert_round_law(fixed_seed_maskgit, round_rule("maskgit", alpha=1.0), cases=[case], n_samples=20_000)


def test_a_sequence_step_emitting_a_token_outside_the_vocabulary_is_named():
    def wild(tokens, logits, *, k, mask_id, generator=None, alpha=1.0):
        out = my_sequence_step(tokens, logits, k=k, mask_id=mask_id, generator=generator, alpha=alpha)
        out[0, (tokens[0] == mask_id).nonzero()[0, 0]] = logits.shape[-1] + 1  # V + 1 at a masked position
        return out

    _fails(wild, round_rule("maskgit", alpha=1.0), match="a token outside the vocabulary", convention="sequence",
           cases=["peaked"], n_samples=20_000)


def greedy_llada(log_probs, *, k, generator=None, last_index=False):
    """LLaDA at temperature 0: argmax tokens (torch.argmax, first index), the k most confident positions."""
    lp = log_probs.flip(-1) if last_index else log_probs
    x0 = torch.argmax(lp, dim=-1)
    if last_index:
        x0 = log_probs.shape[-1] - 1 - x0
    conf = torch.gather(log_probs, -1, x0[..., None])[..., 0]
    pos = torch.topk(conf, k, dim=-1).indices
    return pos, torch.gather(x0, 1, pos)


# row 0 is the most confident and its top two tokens tie: the first index must win it
TIED_TOKENS = AuditCase("tied_tokens", np.array([[0.48, 0.48, 0.04], [0.4, 0.3, 0.3], [0.2, 0.35, 0.45]]), 2)


def test_a_greedy_step_passes_at_temperature_zero_and_the_wrong_argmax_tie_fails():
    rule = round_rule("low_confidence", temperature=0.0)
    assert_round_law(greedy_llada, rule, cases=[TIED_TOKENS], n_samples=20_000, forward=())
    text = _fails(functools.partial(greedy_llada, last_index=True), rule, cases=[TIED_TOKENS], n_samples=20_000,
                  forward=())
    assert "tied_tokens" in text


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.0])
def test_a_variable_size_audit_checks_its_levels_itself(bad):
    # the fixed-size route checks its levels again downstream; a variable-size one has only this check
    for name in ("false_alarm", "confidence"):
        with pytest.raises(ValueError, match=f"{name} must lie in \\(0, 1\\)"):
            check_round_law(my_mdlm, round_rule("mdlm", rate=0.3), forward=(), cases=["flat"], n_samples=50_000,
                            **{name: bad})


def test_adversarial_tables_straddle_the_threshold_and_find_a_capped_round():
    from mdtheory.testing.cases import adversarial_cases

    rule = round_rule("threshold", m=1, threshold=0.6)
    cases = {c.name: c for c in adversarial_cases(rule, draws=2, seed=3)}
    assert sorted(cases) == sorted(f"{k}#{d}" for k in ("straddle", "many_above", "crossing", "near_ties", "two_left")
                                   for d in (0, 1))
    top = cases["straddle#0"].probs.max(axis=1)
    assert (top > 0.6).sum() == 2 and (top < 0.6).sum() == 2 and np.all(np.abs(top - 0.6) <= 0.03)
    assert np.all(cases["many_above#1"].probs.max(axis=1) > 0.6)
    for c in cases.values():
        assert np.allclose(c.probs.sum(axis=1), 1.0) and np.all(c.probs >= 0)

    audit = check_round_law(threshold_step, rule, forward=(), cases=["straddle#0", "many_above#0", "two_left#0"],
                            n_samples=50_000)
    assert audit.passed, audit.failures
    capped = functools.partial(threshold_step, cap=3)  # the planted bug: at most three positions per round
    audit = check_round_law(capped, rule, forward=(), adversarial=1, n_samples=50_000)
    assert not audit.passed and any(f.startswith("case many_above#0") for f in audit.failures), audit.failures
    assert not any(f.startswith("case straddle#0") for f in audit.failures)  # two above θ there: the cap is idle


def threshold_step(log_probs, *, generator=None, cap=None):
    """Threshold/top-1 at θ = 0.6 on the tempered (here untempered) law: every candidate above θ, else the best."""
    p = log_probs.exp()
    B, N, V = p.shape
    tok = torch.multinomial(p.reshape(-1, V), 1, generator=generator).view(B, N)
    conf = torch.gather(p, -1, tok[..., None])[..., 0]
    sel = conf > 0.6
    if cap is not None:  # the planted bug: at most `cap` positions per round
        keep = torch.topk(conf.masked_fill(~sel, -1.0), min(cap, N), dim=1).indices
        sel = sel & torch.zeros_like(sel).scatter(1, keep, True)
    none = ~sel.any(dim=1)
    # the fallback's ties (straddle#0 has two rows at exactly the same top probability) split uniformly
    key = conf + 1e-9 * torch.rand(conf.shape, generator=generator, dtype=conf.dtype)
    sel[none, key.argmax(dim=1)[none]] = True
    return sel, tok
