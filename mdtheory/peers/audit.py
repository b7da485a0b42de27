"""Peer harness: does an installed sampler implementation draw the law its documentation states?
(§2, §3, §8, §9; peers so far: diffusers' ``AmusedScheduler``,
``EntropyBoundScheduler`` and ``BlockRefinementScheduler``.)

A *peer round* is a callable ``round_fn(log_probs (B, N, V), *, k, generator) -> RoundOutput`` built
from the peer's public API only (never from copied code). :func:`audit_round` drives it with a fixed
probability table on a batch of identical rows, counts the (set, tokens) cells, and compares them with
mdtheory's exact law of the documented algorithm:

* Pearson χ² at a stated false-alarm rate (cells with expected count < 5 pooled);
* the plug-in TV with its upper confidence bound (:func:`mdtheory.montecarlo.statistics.tv_estimate`);
* the cells with the largest standardised residuals (obs − exp)/√exp.

:func:`audit_cases` is the seeded set of small tables: peaked, flat, with zeros and with ties.
Peers are optional dependencies (``pip install mdtheory[peers]``); adapters import them lazily.

**The aMUSEd law** (diffusers ``AmusedScheduler.step`` docstrings and source): candidates x̃_i ~
softmax(model_output); confidence log p_i(x̃_i) + T·Gumbel with T the step's temperature; the
mask_len lowest-confidence positions are re-masked. That is the MaskGIT round of §2.1 with α = T and
k = N − mask_len. The adapter reaches a given k with two inference steps at the first timestep
(mask ratio cos(π/4)) and ``starting_mask_ratio`` = (N − k + ½)/(N cos(π/4)), and a constant
temperature schedule (T, T).

**The EB law** (diffusers ``EntropyBoundScheduler`` docstring): predictions tempered by T; the accepted
set is the lowest-entropy prefix with Σ H − max H ≤ γ; accepted tokens ~ the tempered predictions
(:func:`eb_round_law`; ties by position index, which the scheduler's CPU sort reproduces).

**The block-refinement law** (diffusers ``BlockRefinementScheduler``, mask mode, LLaDA2-style):
candidates from the tempered predictions, confidence = their tempered probability; commit every
position above the threshold if there are at least m of them, else the top-m
(:func:`threshold_round_law`, variable set sizes, audited by :func:`audit_variable_round`).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_alpha
from ..exact.variable_laws import eb_round_law, threshold_round_law
from ..testing.kit import AuditCase, AuditResult, audit_cases, audit_round, audit_variable_round

__all__ = ["amused_round", "entropy_bound_round", "audit_peer", "block_refinement_round", "audit_block_refinement",
           "audit_all", "PEERS", "muse_maskgit_status", "audit_implicit_temperature"]


def amused_round(log_probs, *, k: int, alpha: float, generator=None):
    """One round of diffusers' ``AmusedScheduler`` on an all-masked batch, as a :class:`RoundOutput`.

    Spec: §2.1 (aMUSEd's step is a MaskGIT round with α = its temperature).

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities.
    k : int
        Positions to reveal.
    alpha : float
        The scheduler's temperature.
    generator : torch.Generator, optional
        Source of randomness.

    Returns
    -------
    RoundOutput

    Raises
    ------
    ImportError
        If diffusers is not installed (extra ``peers``).

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.full((2, 4, 3), 1 / 3, dtype=torch.float64))
    >>> try:
    ...     out = amused_round(lp, k=2, alpha=1.0, generator=torch.Generator().manual_seed(0))
    ...     shape = tuple(out.positions.shape)
    ... except ImportError:
    ...     shape = (2, 2)
    >>> shape
    (2, 2)
    """
    import torch

    try:
        from diffusers import AmusedScheduler
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the aMUSEd peer needs diffusers: pip install 'mdtheory[peers]'") from exc
    from ..sampling.rounds import RoundOutput

    alpha = check_alpha(alpha)
    B, N, V = log_probs.shape
    if not 1 <= k <= N - 1:
        raise ValueError(f"the aMUSEd step always re-masks at least one position: k must satisfy 1 <= k <= N-1={N - 1}")
    sched = AmusedScheduler(mask_token_id=V)
    sched.set_timesteps(2, temperature=(alpha, alpha))
    ratio = (N - k + 0.5) / (N * math.cos(math.pi / 4))
    sample = torch.full((B, N), V, dtype=torch.long)
    out = sched.step(log_probs, int(sched.timesteps[0]), sample, starting_mask_ratio=ratio, generator=generator)
    revealed = out.prev_sample != V
    if not bool((revealed.sum(dim=1) == k).all()):
        raise RuntimeError("the aMUSEd step did not reveal exactly k positions")  # pragma: no cover
    positions = torch.nonzero(revealed)[:, 1].view(B, k)
    return RoundOutput(positions=positions, tokens=out.prev_sample.gather(1, positions))


def _amused_law(case: AuditCase, alpha: float):
    from ..exact.round_laws import maskgit_round_law

    return maskgit_round_law(case.probs, k=case.k, alpha=alpha)


def entropy_bound_round(log_probs, *, k: int, alpha: float, generator=None, gamma: float = 0.3):
    """One step of diffusers' ``EntropyBoundScheduler`` (temperature ``alpha`` on both steps of its
    anneal), as a RoundOutput of the accepted positions; ``k`` must equal the accepted count."""
    import torch

    try:
        from diffusers.schedulers import EntropyBoundScheduler
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the EB peer needs diffusers: pip install 'mdtheory[peers]'") from exc
    from ..sampling.rounds import RoundOutput

    B, N, V = log_probs.shape
    sched = EntropyBoundScheduler(entropy_bound=gamma, t_max=alpha, t_min=alpha, num_inference_steps=1)
    out = sched.step(log_probs, 0, torch.zeros(B, N, dtype=torch.long), generator=generator)
    acc = out.accepted_index
    if not bool((acc.sum(dim=1) == k).all()):
        raise RuntimeError(f"the EB peer accepted {acc.sum(dim=1).unique().tolist()} positions; the exact law says {k}")
    positions = torch.nonzero(acc)[:, 1].view(B, k)
    return RoundOutput(positions=positions, tokens=out.prev_sample.gather(1, positions))


def block_refinement_round(log_probs, *, m: int, threshold: float, temperature: float, generator=None):
    """One step of diffusers' ``BlockRefinementScheduler`` (mask mode) on an all-masked block committing
    m tokens per step: returns (committed (B, N) bool, tokens (B, N))."""
    import torch

    try:
        from diffusers.schedulers import BlockRefinementScheduler
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the block-refinement peer needs diffusers: pip install 'mdtheory[peers]'") from exc
    B, N, V = log_probs.shape
    if N % m:
        raise ValueError(f"the adapter needs m to divide the block length N={N}; got m={m}")
    sched = BlockRefinementScheduler(block_length=N, num_inference_steps=N // m, threshold=threshold)
    sched.set_timesteps(N // m, block_length=N)
    out = sched.step(log_probs, 0, torch.full((B, N), V, dtype=torch.long), mask_token_id=V, temperature=temperature,
                     generator=generator)
    return out.transfer_index, out.prev_sample


def audit_block_refinement(*, alpha: float = 1.0, n_samples: int = 40_000, seed: int = 0, false_alarm: float = 1e-6,
                           threshold: float = 0.6, m: int = 2) -> list[dict]:
    """The threshold/top-m audit of ``BlockRefinementScheduler`` on :func:`audit_cases` (rows as in
    :meth:`AuditResult.to_dict`, without worst cells)."""
    from ..montecarlo.statistics import tv_estimate

    rows = []
    for case in audit_cases(seed=seed):
        law = threshold_round_law(case.probs, m=m, threshold=threshold, temperature=alpha)
        chi, counts = audit_variable_round(
            lambda lp, generator: block_refinement_round(lp, m=m, threshold=threshold, temperature=alpha,
                                                         generator=generator),
            case.probs, law, n_samples=n_samples, seed=seed, false_alarm=false_alarm)
        keys = sorted(set(law) | set(counts))
        tv, upper = tv_estimate(np.array([counts.get(k, 0) for k in keys]), np.array([law.get(k, 0.0) for k in keys]))
        rows.append({"peer": "block-refinement", "case": case.name, "k": m, "n_samples": n_samples,
                     "chi2": chi.statistic, "critical": chi.critical_value, "p_value": chi.p_value, "tv": tv,
                     "tv_upper": upper, "passed": bool(chi.passed)})
    return rows


def audit_all(out_dir, *, alpha: float = 1.0, n_samples: int = 100_000, seed: int = 0,
              false_alarm: float = 1e-6) -> tuple[list[dict], object]:
    """Audit every peer and write ``audit.json`` and ``audit.md`` (peer, version, rule, TV with its bound, χ², verdict).

    Spec: §9.

    Parameters
    ----------
    out_dir : str or Path
        The report folder.
    alpha : float
        Temperature of the peers that have one.
    n_samples : int
        Rounds per case.
    seed : int
        Seed.
    false_alarm : float
        The χ² tests' level.

    Returns
    -------
    tuple
        (rows, path of ``audit.md``).

    Raises
    ------
    ImportError
        If diffusers is not installed.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     try:
    ...         rows, md = audit_all(d, n_samples=10000)
    ...         ok = md.name == "audit.md"
    ...     except ImportError:
    ...         ok = True
    >>> ok
    True
    """
    from importlib import metadata
    from pathlib import Path

    from ..exact.finite_precision_noise import noise_temperature_table
    from .._io import atomic_write_text, to_json

    try:
        version = metadata.version("diffusers")
    except metadata.PackageNotFoundError:
        raise ImportError("the peers need diffusers: pip install 'mdtheory[peers]'") from None
    rules = {name: desc for name, (_, _, desc) in PEERS.items()}
    rules["block-refinement"] = "diffusers BlockRefinementScheduler: LLaDA2 threshold θ = 0.6 / top-2 rule"
    rows = [r.to_dict() for name in PEERS for r in audit_peer(name, alpha=alpha, n_samples=n_samples, seed=seed,
                                                               false_alarm=false_alarm)]
    rows += audit_block_refinement(alpha=alpha, n_samples=min(n_samples, 40_000), seed=seed, false_alarm=false_alarm)
    for r in rows:
        r.update(version=f"diffusers {version}", rule=rules[r["peer"]])
        r.pop("worst_cells", None)
    skipped = [{"peer": "muse-maskgit-pytorch", "reason": muse_maskgit_status()}]
    implicit = audit_implicit_temperature(alpha=alpha, n_samples=n_samples, seed=seed)
    noise = [r.to_dict() for r in noise_temperature_table(vocab_sizes=(1000, 50_257), temperatures=(0.5, 1.0))]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "audit.json", to_json({"alpha": alpha, "false_alarm": false_alarm, "rows": rows,
                                                      "not_audited": skipped, "implicit_temperature": implicit,
                                                      "float32_noise": noise}, indent=1))
    lines = ["# Peer audit", "", f"α / temperature = {alpha}; χ² false-alarm rate {false_alarm:g}; TV upper bound at "
             "99%.", "", "| peer | version | stated rule | case | k | TV | TV ≤ (99%) | χ² / critical | verdict |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['peer']} | {r['version']} | {r['rule']} | {r['case']} | {r['k']} | {r['tv']:.4f} | "
                     f"{r['tv_upper']:.4f} | {r['chi2']:.1f} / {r['critical']:.1f} | "
                     f"{'PASS' if r['passed'] else 'FAIL'} |")
    lines += ["", "## aMUSEd against [H]'s implicit-temperature law (moment law; §4.1)", "",
              "Plug-in TV between the peer's draws and the moment law, with its 99% half-width, against the exact "
              "TV(MaskGIT, moment); k = 1, V = 3.", "", "| N | TV̂(peer, moment) | ± | exact TV(MaskGIT, moment) | "
              "consistent |", "|---|---|---|---|---|"]
    for r in implicit:
        lines.append(f"| {r['n']} | {r['tv_to_moment_law']:.4f} | {r['half_width']:.4f} | "
                     f"{r['exact_tv_maskgit_moment']:.4f} | {'yes' if r['consistent'] else 'NO'} |")
    lines += ["", "## Not audited", ""] + [f"* **{r['peer']}**: {r['reason']}" for r in skipped]
    lines += ["", "## Floating-point Gumbel noise (§9)", "",
              "Exact law of Gumbel-max on Zipf(1.1) logits / τ with noise truncated to the dtype's range; τ_eff is "
              "the KL-best softmax temperature.", "",
              "| V | τ | noise | τ_eff | unreachable tokens | their softmax mass | TV to softmax | ΔH (nats) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in noise:
        lines.append(f"| {r['vocab_size']} | {r['temperature']} | {r['dtype']} | {r['effective_temperature']:.5f} | "
                     f"{r['dead_tokens']} | {r['dead_mass']:.2e} | {r['tv']:.2e} | {r['entropy_change']:.2e} |")
    path = out / "audit.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return rows, path


def audit_implicit_temperature(*, n_values=(4, 16, 64), k: int = 1, alpha: float = 1.0, vocab_size: int = 3,
                               n_samples: int = 100_000, seed: int = 0, confidence: float = 0.99) -> list[dict]:
    """The aMUSEd peer against [H]'s implicit-temperature prediction (§4.1–§4.2): the moment law
    (positions ∝ m_i, tokens ∝ p^β) on Dirichlet(1) tables with N = ``n_values``. For each N, the plug-in
    TV between the peer's counts and the moment law, its two-sided ``confidence`` half-width ε/2
    (:func:`mdtheory.montecarlo.statistics.tv_estimate`), and the exact TV(MaskGIT, moment) from the engine; the peer
    agrees with [H] when |TV̂ − TV_exact| ≤ ε/2, and TV_exact shrinks as N grows."""
    from ..exact.distances import maskgit_moment_tv
    from ..exact.round_laws import moment_round_law
    from ..montecarlo.statistics import empirical_round_counts, tv_estimate

    rows = []
    rng = np.random.default_rng(seed)
    for n in n_values:
        probs = rng.dirichlet(np.ones(vocab_size), size=n)
        counts = empirical_round_counts(lambda lp, k, generator: amused_round(lp, k=k, alpha=alpha, generator=generator),
                                        probs, k=k, n_samples=n_samples, seed=seed, batch=50_000)
        tv_hat, upper = tv_estimate(counts, moment_round_law(probs, k=k, alpha=alpha), confidence=confidence)
        exact = maskgit_moment_tv(probs, k=k, alpha=alpha).tv
        half = upper - tv_hat
        rows.append({"n": int(n), "k": k, "alpha": alpha, "n_samples": n_samples, "tv_to_moment_law": tv_hat,
                     "half_width": half, "exact_tv_maskgit_moment": exact,
                     "consistent": bool(abs(tv_hat - exact) <= half)})
    return rows


def muse_maskgit_status() -> str:
    """Why ``muse-maskgit-pytorch`` (lucidrains, 0.3.5) is not audited on this install."""
    try:
        import muse_maskgit_pytorch  # noqa: F401
    except Exception as exc:  # ImportError, or torchvision's operator registration failing on CPU torch
        return (f"not importable here ({type(exc).__name__}: {str(exc)[:80]}); left out of the peers extra: its "
                "module imports torchvision, "
                "whose PyPI wheel needs the CUDA build of torch (an unpinned install replaces the CPU torch with "
                "torch 2.14 + several GB of CUDA libraries), and `MaskGit.generate` needs a VQGAN-VAE and a T5 "
                "text encoder from the Hugging Face hub.")
    return ("imports, but exposes no step function: its round lives inside `MaskGit.generate`, which needs a "
            "VQGAN-VAE and a T5 text encoder from the Hugging Face hub (offline here).")


def _eb_law(case: AuditCase, alpha: float):
    return eb_round_law(case.probs, gamma=EB_GAMMA, temperature=alpha)


EB_GAMMA = 0.3  # the entropy bound the EB audit runs with

#: peer name → (round adapter taking alpha, exact law of the documented algorithm, description)
PEERS = {
    "amused": (amused_round, _amused_law, "diffusers AmusedScheduler: MaskGIT round, α = temperature (§2.1)"),
    "entropy-bound": (lambda lp, *, k, alpha, generator=None: entropy_bound_round(lp, k=k, alpha=alpha,
                                                                                  generator=generator, gamma=EB_GAMMA),
                      _eb_law, f"diffusers EntropyBoundScheduler: EB rule (§8), γ = {EB_GAMMA}, temperature = alpha"),
}


def audit_peer(peer: str, *, alpha: float = 1.0, n_samples: int = 200_000, seed: int = 0,
               false_alarm: float = 1e-6) -> list[AuditResult]:
    """Audit one registered peer on every :func:`audit_cases` table.

    Spec: §9.

    Parameters
    ----------
    peer : str
        A key of ``PEERS`` (``amused``, ``entropy-bound``, ``block-refinement``).
    alpha : float
        The peer's temperature, where it has one.
    n_samples : int
        Rounds per case.
    seed : int
        Seed.
    false_alarm : float
        The χ² test's level.

    Returns
    -------
    list of AuditResult

    Raises
    ------
    ValueError
        If the peer is unknown.
    ImportError
        If the peer's package is not installed.

    Examples
    --------
    >>> try:
    ...     ok = all(r.passed for r in audit_peer("amused", n_samples=20000))
    ... except ImportError:
    ...     ok = True
    >>> ok
    True
    """
    import dataclasses

    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; allowed: {', '.join(PEERS)}")
    round_fn, law_fn, _ = PEERS[peer]
    results = []
    for case in audit_cases(seed=seed):
        law = law_fn(case, alpha)
        case = dataclasses.replace(case, k=law.k)  # adaptive rules fix k through their law
        results.append(audit_round(lambda lp, k, generator: round_fn(lp, k=k, alpha=alpha, generator=generator),
                                   case, law, peer=peer, n_samples=n_samples, seed=seed, false_alarm=false_alarm))
    return results
