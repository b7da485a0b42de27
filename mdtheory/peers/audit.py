"""Peer harness: does an installed sampler implementation draw the law it states? (§9)

Every peer is a :class:`Peer` in :data:`PEERS`: the package and version, the function audited, what the peer
says it draws (its documentation, or its name where that is all it states), the mdtheory rule of that
statement (:func:`mdtheory.testing.round_rule`), and an adapter (:mod:`mdtheory.peers.adapters`) that drives
the peer's own code in one of the test kit's calling conventions. :func:`audit_peer` runs the kit's audit
(:func:`mdtheory.testing.check_round_law`: the five seeded cases, invariants, Pearson χ², TV with its upper
bound, worst cells); :func:`audit_all` writes the report of every peer, with the reason for each peer that
could not be audited. Peers are optional dependencies; a peer that is not installed is listed with its
install command.

Conventions of the report (also in docs/conventions.md):

* LLaDA-family peers run at temperature :data:`LLM_TEMPERATURE` = 0.7, so that tempered and untempered
  confidences differ; MaskGIT-family peers and the EB scheduler run at the audit's ``alpha``.
* A peer *passes* when every case passes. ``FAIL (ties only)`` marks a peer that fails only the ``ties``
  case, where equal confidences are broken by ``torch.topk``, whose choice is neither uniform (mdtheory's
  rule) nor first-index.
* The block-refinement rule is gated on the installed diffusers version: up to 0.42.1 (audited) the
  confidence is the tempered probability of the candidate; later versions are taken to carry the pending
  change to the raw softmax probability (:func:`block_refinement_rule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from . import adapters

__all__ = ["Peer", "PeerAudit", "PEERS", "LLM_TEMPERATURE", "EB_GAMMA", "audit_peer", "audit_all", "peer_table",
           "block_refinement_rule", "installed_version", "muse_maskgit_status", "audit_implicit_temperature"]

LLM_TEMPERATURE = 0.7  # the token temperature of the LLaDA-family audits
EB_GAMMA = 0.3  # the entropy bound the EB audit runs with
_DIFFUSERS_AUDITED = (0, 42, 1)  # the last diffusers release whose block-refinement confidence is tempered


def _release(version: str) -> tuple:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def block_refinement_rule(version: str, *, temperature: float = LLM_TEMPERATURE):
    """The rule diffusers' ``BlockRefinementScheduler`` states at an installed version.

    Spec: §8, §9. Threshold θ = 0.6 / top-2, candidates from the tempered predictions; confidence = the
    tempered probability up to diffusers 0.42.1, the raw softmax probability after it (a pending change).

    Parameters
    ----------
    version : str
        The installed diffusers version.
    temperature : float
        T.

    Returns
    -------
    RoundRule

    Examples
    --------
    >>> block_refinement_rule("0.42.1").get("confidence"), block_refinement_rule("0.43.0.dev0").get("confidence")
    ('tempered', 'untempered')
    """
    from ..testing.rules import round_rule

    confidence = "tempered" if _release(version) <= _DIFFUSERS_AUDITED else "untempered"
    return round_rule("threshold", m=2, threshold=0.6, temperature=temperature, confidence=confidence)


@dataclass(frozen=True)
class Peer:
    """One audited sampler implementation: where it lives, what it states, and how it is driven."""

    name: str
    distribution: str
    audited: str
    entry: str
    states: str
    rule: Callable  # (installed version, alpha) -> RoundRule
    step: Callable
    convention: str = "round"
    forward: tuple = ()
    install: str = ""
    cases: tuple | None = None
    note: str = ""


def _rule(name: str, **params):
    from ..testing.rules import round_rule

    return lambda version, alpha: round_rule(name, **{k: (alpha if v == "alpha" else v) for k, v in params.items()})


_N4 = ("peaked", "flat", "zeros", "ties")
_T = LLM_TEMPERATURE

#: every audited peer, by name
PEERS = {p.name: p for p in (
    Peer("amused", "diffusers", "0.42.1", "diffusers.AmusedScheduler.step",
         "MUSE/MaskGIT step: candidates from the softmax, the lowest log p + temperature·Gumbel re-masked",
         _rule("maskgit", alpha="alpha"), adapters.amused_round, forward=("alpha",),
         install="pip install 'mdtheory[peers]'"),
    Peer("entropy-bound", "diffusers", "0.42.1", "diffusers.schedulers.EntropyBoundScheduler.step",
         f"EB sampler: the lowest-entropy prefix with ΣH − max H ≤ γ (γ = {EB_GAMMA})",
         _rule("eb", gamma=EB_GAMMA, temperature="alpha"), partial(adapters.entropy_bound_step, gamma=EB_GAMMA),
         forward=("temperature",), install="pip install 'mdtheory[peers]'"),
    Peer("block-refinement", "diffusers", "0.42.1", "diffusers.schedulers.BlockRefinementScheduler.step",
         "LLaDA2 threshold rule: every candidate above θ = 0.6, at least the top 2",
         lambda version, alpha: block_refinement_rule(version), adapters.block_refinement_round,
         forward=("m", "threshold", "temperature"), install="pip install 'mdtheory[peers]'", cases=_N4,
         note="confidence gated on the diffusers version (tempered ≤ 0.42.1)"),
    Peer("maskgit", "maskgit", "0.0.1.dev0", "maskgit.libml.parallel_decode.decode",
         "MaskGIT (Chang et al. 2022): log p(x̃) + choice_temperature·(1 − t/T)·Gumbel, lowest re-masked",
         _rule("maskgit", alpha="alpha"), adapters.maskgit_jax_round, forward=("alpha",),
         install="pip install 'mdtheory[maskgit]'", note="JAX, float32"),
    Peer("dlmserve", "dlmserve", "0.1.1", "dlmserve.sampler.commit_top_k_by_confidence",
         "LLaDA low-confidence remasking: Gumbel-max candidates at T, top k of the raw softmax probability",
         _rule("low_confidence", temperature=_T), adapters.dlmserve_step, "sequence", ("temperature",),
         install="pip install --no-deps dlmserve==0.1.1 && pip install prometheus-client"),
    Peer("dllm-reason", "dllm-reason", "1.6.1", "dllm_reason DiffusionSampler + ConfidenceScheduler",
         "LLaDA default: commit the n highest-confidence masked positions",
         _rule("low_confidence", temperature=_T), adapters.dllm_reason_step, "sequence", ("temperature",),
         install="pip install --no-deps dllm-reason==1.6.1"),
    Peer("dllm-reason-cosine", "dllm-reason", "1.6.1", "dllm_reason MaskGITCosineScheduler.select_positions",
         "its name: MaskGIT's cosine scheduler (Chang et al. 2022), here at α = alpha",
         _rule("maskgit", alpha="alpha"),
         partial(adapters.dllm_reason_step, scheduler="maskgit_cosine", temperature=1.0), "sequence",
         install="pip install --no-deps dllm-reason==1.6.1",
         note="tokens at temperature 1, as in MaskGIT; no Gumbel noise on the confidence: deterministic top-k"),
    Peer("dllm-reason-cosine-topk", "dllm-reason", "1.6.1", "dllm_reason MaskGITCosineScheduler.select_positions",
         "its docstring: within each step, positions are selected by highest confidence",
         _rule("low_confidence", temperature=_T), partial(adapters.dllm_reason_step, scheduler="maskgit_cosine"),
         "sequence", ("temperature",), install="pip install --no-deps dllm-reason==1.6.1"),
    Peer("bitnet-dllm", "bitnet-dllm", "1.3.0", "bitnet_dllm.sampler.MDLMAncestralSampler (first of 2 steps)",
         "MDLM ancestral: each masked position revealed with probability (α_s − α_t)/(1 − α_t) = ½",
         _rule("mdlm", rate=0.5), adapters.bitnet_mdlm_step, "sequence", ("rate",),
         install="pip install --no-deps bitnet-dllm==1.3.0 && pip install accelerate"),
    Peer("bitnet-dllm-last", "bitnet-dllm", "1.3.0", "bitnet_dllm.sampler.MDLMAncestralSampler (its last step)",
         "MDLM ancestral, last step: every masked position revealed, tokens from the predictions",
         _rule("mdlm", rate=1.0), adapters.bitnet_mdlm_step, "sequence", ("rate",),
         install="pip install --no-deps bitnet-dllm==1.3.0 && pip install accelerate",
         note="the last step takes the argmax (MDLM's noise-removal convention)"),
    Peer("hedgehog-dlm", "hedgehog-dlm", "0.2.0", "hedgehog.samplers.DDPMSampler (step 2 of 3)",
         "its docstring: ancestral sampling, iteratively denoising from fully masked to clean tokens",
         _rule("mdlm", rate=0.5), adapters.hedgehog_ddpm_step, "sequence", ("rate",),
         install="pip install --no-deps hedgehog-dlm==0.2.0"),
    Peer("dfastllm", "dfastllm", "0.0.4", "dfastllm.engine.diffusion_sampler.diffusion_generate",
         "the LLaDA algorithm: Gumbel-max candidates at T (float64 noise), top k of the softmax probability",
         _rule("low_confidence", temperature=_T), adapters.dfastllm_round, forward=("temperature",),
         install="pip install --no-deps dfastllm==0.0.4"),
    Peer("dfastllm-float32", "dfastllm", "0.0.4", "diffusion_generate(use_float32_gumbel=True)",
         "the same rule with float32 Gumbel noise ('slight quality tradeoff')",
         _rule("low_confidence", temperature=_T), partial(adapters.dfastllm_round, float32_gumbel=True),
         forward=("temperature",), install="pip install --no-deps dfastllm==0.0.4"),
)}


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution, or None."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@dataclass(frozen=True)
class PeerAudit:
    """One peer's audit: its version, stated rule, and the kit's :class:`~mdtheory.testing.RuleAudit` (None
    when the peer could not be run, with the reason in ``skipped``)."""

    peer: Peer
    version: str | None
    rule: object = None
    audit: object = None
    skipped: str | None = None
    rows: list = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.audit is None:
            return "not audited"
        if self.audit.invariant is not None:
            return "FAIL (invariant)"
        failed = [r.case for r in self.audit.results if not r.passed]
        if not failed:
            return "PASS"
        return "FAIL (ties only)" if failed == ["ties"] else "FAIL"

    @property
    def passed(self) -> bool:
        return self.audit is not None and self.audit.passed

    def to_dict(self) -> dict:
        p = self.peer
        out = {"peer": p.name, "package": p.distribution, "version": self.version, "entry": p.entry,
               "states": p.states, "rule": None if self.rule is None else self.rule.describe(),
               "verdict": self.verdict, "passed": self.passed, "note": p.note, "skipped": self.skipped,
               "install": p.install}
        if self.audit is not None:
            out.update(invariant=self.audit.invariant, failures=self.audit.failures,
                       cases=[r.to_dict() for r in self.audit.results])
        return out


def audit_peer(peer: str, *, alpha: float = 1.0, n_samples: int | None = None, seed: int = 0,
               false_alarm: float = 1e-6) -> PeerAudit:
    """Audit one registered peer on the test kit's cases against the rule it states.

    Spec: §9.

    Parameters
    ----------
    peer : str
        A key of :data:`PEERS`.
    alpha : float
        The Gumbel scale / temperature of the MaskGIT-family and EB peers.
    n_samples : int, optional
        Rounds per case (default: the kit's, 100,000 or what the case needs).
    seed : int
        Seed.
    false_alarm : float
        The χ² test's level, per case.

    Returns
    -------
    PeerAudit
        ``verdict``, ``passed``, the stated ``rule`` and the kit's audit; ``skipped`` says why a peer that is
        not installed (or not importable) was not run.

    Raises
    ------
    ValueError
        If the peer is unknown.

    Examples
    --------
    >>> a = audit_peer("amused", n_samples=30_000)
    >>> a.verdict in ("PASS", "not audited")
    True
    """
    import warnings

    from .._validation import check_alpha, check_positive_int
    from ..testing.kit import check_round_law

    if n_samples is not None:  # 0 is refused, never read as the default
        n_samples = check_positive_int(n_samples, name="n_samples")

    if peer not in PEERS:
        raise ValueError(f"unknown peer {peer!r}; allowed: {', '.join(PEERS)}")
    alpha = check_alpha(alpha)
    p = PEERS[peer]
    version = installed_version(p.distribution)
    if version is None:
        return PeerAudit(p, None, skipped=f"not installed; to audit it: {p.install}")
    rule = p.rule(version, alpha)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skipped cases are reported in the audit
            audit = check_round_law(p.step, rule, cases=p.cases, n_samples=n_samples, seed=seed,
                                    false_alarm=false_alarm, convention=p.convention, forward=p.forward)
    except adapters.PeerNotInstalled as exc:
        return PeerAudit(p, version, rule, skipped=str(exc))
    return PeerAudit(p, version, rule, audit)


def audit_all(out_dir, *, alpha: float = 1.0, n_samples: int | None = None, seed: int = 0,
              false_alarm: float = 1e-6, peers=None) -> tuple[list[PeerAudit], object]:
    """Audit every peer and write ``audit.json`` and ``audit.md``: one table of every peer (package, version,
    stated rule, worst TV with its bound, worst χ², verdict), the per-case table, the peers not audited and why,
    [H]'s implicit-temperature check of aMUSEd, and the floating-point Gumbel noise table.

    Spec: §9.

    Parameters
    ----------
    out_dir : str or Path
        The report folder.
    alpha : float
        Gumbel scale / temperature of the MaskGIT-family and EB peers.
    n_samples : int, optional
        Rounds per case (default: the kit's).
    seed : int
        Seed.
    false_alarm : float
        The χ² tests' level, per case.
    peers : sequence of str, optional
        A subset of :data:`PEERS` (default: all).

    Returns
    -------
    tuple
        (list of PeerAudit, path of ``audit.md``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     audits, md = audit_all(d, n_samples=30_000, peers=["amused"])
    ...     ok = md.name == "audit.md" and len(audits) == 1
    >>> ok
    True
    """
    from pathlib import Path

    from .._io import atomic_write_text, to_json
    from ..exact.finite_precision_noise import noise_temperature_table

    names = list(PEERS) if peers is None else list(peers)
    audits = [audit_peer(name, alpha=alpha, n_samples=n_samples, seed=seed, false_alarm=false_alarm)
              for name in names]
    skipped = [{"peer": "muse-maskgit-pytorch", "reason": muse_maskgit_status()}]
    have_amused = any(a.peer.name == "amused" and a.audit is not None for a in audits)
    implicit = audit_implicit_temperature(alpha=alpha, n_samples=100_000 if n_samples is None else n_samples, seed=seed) \
        if have_amused else []
    noise = [r.to_dict() for r in noise_temperature_table(vocab_sizes=(1000, 50_257), temperatures=(0.5, 1.0))]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "audit.json", to_json({"alpha": alpha, "llm_temperature": LLM_TEMPERATURE,
                                                      "false_alarm": false_alarm,
                                                      "peers": [a.to_dict() for a in audits],
                                                      "not_audited": skipped, "implicit_temperature": implicit,
                                                      "float32_noise": noise}, indent=1))
    path = out / "audit.md"
    atomic_write_text(path, _report(audits, skipped, implicit, noise, alpha=alpha, false_alarm=false_alarm))
    return audits, path


def peer_table(audits) -> list[str]:
    """The summary table of a list of :class:`PeerAudit`, as markdown lines (one row per peer)."""
    lines = ["| peer | package | stated rule | cases passed | worst TV (≤ 99% bound) | worst χ² / critical | "
             "verdict |", "|---|---|---|---|---|---|---|"]
    for a in audits:
        pkg = f"{a.peer.distribution} {a.version}" if a.version else f"{a.peer.distribution} (not installed)"
        rule = f"`{a.rule.describe()}`" if a.rule is not None else "—"
        if a.audit is None or not a.audit.results:
            why = a.skipped if a.audit is None else a.audit.invariant
            lines.append(f"| {a.peer.name} | {pkg} | {rule} | — | — | — | {a.verdict}: {why} |")
            continue
        rs = a.audit.results
        worst = max(rs, key=lambda r: r.tv)
        chi = max(rs, key=lambda r: r.chi2.statistic / r.chi2.critical_value)
        verdict = a.verdict + (f": {a.audit.invariant}" if a.audit.invariant else "")
        lines.append(f"| {a.peer.name} | {pkg} | {rule} | {sum(r.passed for r in rs)}/{len(rs)} | "
                     f"{worst.tv:.4f} (≤ {worst.tv_upper:.4f}, {worst.case}) | {chi.chi2.statistic:.1f} / "
                     f"{chi.chi2.critical_value:.1f} ({chi.case}) | {verdict} |")
    return lines


def _report(audits, skipped, implicit, noise, *, alpha: float, false_alarm: float) -> str:
    lines = ["# Peer audit", "",
             f"Each peer's own code, driven on the test kit's five seeded cases, against the exact law of what it "
             f"states. α = {alpha} for the MaskGIT-family and EB peers, temperature {LLM_TEMPERATURE} for the "
             f"LLaDA-family ones; χ² false-alarm rate {false_alarm:g} per case; TV upper bound at 99%.", ""]
    lines += peer_table(audits)
    lines += ["", "## What each peer states, and notes", ""]
    for a in audits:
        note = f" *{a.peer.note}.*" if a.peer.note else ""
        lines.append(f"* **{a.peer.name}** (`{a.peer.entry}`): {a.peer.states}.{note}")
    lines += ["", "## Every case", "", "| peer | case | k | TV | TV ≤ (99%) | χ² / critical | verdict |",
              "|---|---|---|---|---|---|---|"]
    for a in audits:
        for r in (a.audit.results if a.audit is not None else []):
            lines.append(f"| {a.peer.name} | {r.case} | {r.k} | {r.tv:.4f} | {r.tv_upper:.4f} | "
                         f"{r.chi2.statistic:.1f} / {r.chi2.critical_value:.1f} | {'PASS' if r.passed else 'FAIL'} |")
    skipped_cases = [(a.peer.name, w) for a in audits if a.audit is not None for w in a.audit.skipped]
    if skipped_cases:
        lines += ["", "Cases not run (too many cells to resolve a TV of 0.05): "
                  + "; ".join(f"{name}, {why}" for name, why in skipped_cases) + "."]
    failures = [(a.peer.name, f) for a in audits if a.audit is not None for f in a.audit.failures]
    if failures:
        lines += ["", "## Failing cases, with reproductions", ""]
        lines += [f"* **{name}**: {f}".replace("\n    reproduce: ", " — reproduce: `") + "`" for name, f in failures]
    if implicit:
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
    return "\n".join(lines) + "\n"


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
        counts = empirical_round_counts(lambda lp, k, generator: adapters.amused_round(lp, k=k, alpha=alpha, generator=generator),
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


