"""How each installed peer sampler is driven on fixed predictions, in a calling convention of the test kit
(:mod:`mdtheory.testing.kit`). Spec: §9.

Every adapter imports its peer lazily from the package index install (never from copied code) and calls the
peer's own function. Peers whose round sits inside a generation loop are driven through that loop with a
*scripted model*: a stand-in network that returns the audit table's logits on its first call and, on the
next call, records the sequence it was given (the state after the audited step) and stops the loop. The
audited step therefore runs in the peer's code, unchanged.

Peers that draw from torch's global generator (bitnet-dllm, hedgehog-dlm, dllm-reason, dfastllm) run inside
``torch.random.fork_rng`` seeded from the audit's generator, so an audit is reproducible and leaves the global
state as it found it.

| adapter | peer (audited version) | convention |
|---|---|---|
| :func:`amused_round` | diffusers ``AmusedScheduler.step`` | round |
| :func:`entropy_bound_step` | diffusers ``EntropyBoundScheduler.step`` | round (variable size) |
| :func:`block_refinement_round` | diffusers ``BlockRefinementScheduler.step`` | round (variable size) |
| :func:`maskgit_jax_round` | ``maskgit`` (JAX) ``parallel_decode.decode`` | round |
| :func:`dlmserve_step` | ``dlmserve.sampler.commit_top_k_by_confidence`` | sequence |
| :func:`dllm_reason_step` | ``dllm_reason`` ``DiffusionSampler`` with a ``select_positions`` scheduler | sequence |
| :func:`bitnet_mdlm_step` | ``bitnet_dllm.sampler.MDLMAncestralSampler`` | sequence (variable size) |
| :func:`hedgehog_ddpm_step` | ``hedgehog.samplers.DDPMSampler`` | sequence (variable size) |
| :func:`dfastllm_round` | ``dfastllm.engine.diffusion_sampler.diffusion_generate`` | round |
"""

from __future__ import annotations

import math

import numpy as np

from ..testing.scripted import ScriptStop, first_step_count, scripted_model

__all__ = ["amused_round", "entropy_bound_step", "block_refinement_round", "maskgit_jax_round", "dlmserve_step",
           "dllm_reason_step", "bitnet_mdlm_step", "hedgehog_ddpm_step", "dfastllm_round", "PeerNotInstalled"]


class PeerNotInstalled(ImportError):
    """A peer's package (or one of the modules its sampler imports) is not installed here."""


def _need(module: str, install: str):
    import importlib
    import logging

    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # some peers log warnings about optional accelerators at import
    try:
        return importlib.import_module(module)
    except Exception as exc:  # ImportError, or a peer module failing at import time
        raise PeerNotInstalled(f"{module} is not importable ({type(exc).__name__}: {str(exc)[:120]}); "
                               f"install it with: {install}") from exc
    finally:
        logging.disable(previous)


def _global_rng_from(generator):
    """Run a peer that draws from the global RNGs on a seed taken from ``generator`` (the test kit's recipe)."""
    from ..testing.conventions import seeded_global_rngs

    return seeded_global_rngs(generator)


def _check_revealed(revealed, k: int, who: str) -> None:
    from ..testing.conventions import RoundAuditError

    counts = sorted(set(revealed.sum(dim=1).tolist()))
    if counts != [k]:
        raise RoundAuditError(f"{who} revealed {counts} positions in a round, not k={k}")


# --- diffusers -----------------------------------------------------------------------------------------


def amused_round(log_probs, *, k: int, alpha: float, generator=None):
    """One round of diffusers' ``AmusedScheduler`` on an all-masked batch, as a :class:`RoundOutput`.

    Spec: §2.1 (aMUSEd's step is a MaskGIT round with α = its temperature). The adapter reaches a given k with
    two inference steps at the first timestep (mask ratio cos(π/4)), ``starting_mask_ratio`` =
    (N − k + ½)/(N cos(π/4)), and a constant temperature schedule (α, α).

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

    from .._validation import check_alpha
    from ..sampling.rounds import RoundOutput

    alpha = check_alpha(alpha)
    B, N, V = log_probs.shape
    if not 1 <= k <= N - 1:
        raise ValueError(f"the aMUSEd step always re-masks at least one position: k must satisfy 1 <= k <= N-1={N - 1}")
    revealed, prev = amused_step(log_probs, k=k, alpha=alpha, masked=torch.ones(B, N, dtype=torch.bool),
                                 generator=generator)
    _check_revealed(revealed, k, "the aMUSEd step")
    positions = torch.nonzero(revealed)[:, 1].view(B, k)
    return RoundOutput(positions=positions, tokens=prev.gather(1, positions))


def amused_step(log_probs, *, k: int, alpha: float, masked, generator=None):
    """One ``AmusedScheduler`` step revealing k of the M masked positions of every row: returns (newly revealed
    (B, N) bool, prev_sample (B, N)). Two inference steps at constant temperature α; k < M uses the first
    timestep with ``starting_mask_ratio`` = (M − k + ½)/(N cos(π/4)), k = M the last one (the peer always
    re-masks a position before it)."""
    import torch

    diffusers = _need("diffusers", "pip install 'mdtheory[peers]'")
    B, N, V = log_probs.shape
    M = int(masked[0].sum())
    sched = diffusers.AmusedScheduler(mask_token_id=V)
    sched.set_timesteps(2, temperature=(alpha, alpha))
    sample = torch.where(masked, V, 0)
    if k == M:
        out = sched.step(log_probs, 0, sample, generator=generator)
    else:
        ratio = (M - k + 0.5) / (N * math.cos(math.pi / 4))
        out = sched.step(log_probs, int(sched.timesteps[0]), sample, starting_mask_ratio=ratio, generator=generator)
    return masked & (out.prev_sample != V), out.prev_sample


def entropy_bound_step(log_probs, *, gamma: float, temperature: float = 1.0, generator=None):
    """One step of diffusers' ``EntropyBoundScheduler`` (temperature on both ends of its anneal): returns
    (accepted (B, N) bool, tokens (B, N)), the kit's variable-size round convention."""
    import torch

    schedulers = _need("diffusers.schedulers", "pip install 'mdtheory[peers]'")
    B, N, V = log_probs.shape
    sched = schedulers.EntropyBoundScheduler(entropy_bound=gamma, t_max=temperature, t_min=temperature,
                                             num_inference_steps=1)
    out = sched.step(log_probs, 0, torch.zeros(B, N, dtype=torch.long), generator=generator)
    return out.accepted_index, out.prev_sample


def block_refinement_round(log_probs, *, m: int, threshold: float, temperature: float, generator=None):
    """One step of diffusers' ``BlockRefinementScheduler`` (mask mode) on an all-masked block committing
    m tokens per step: returns (committed (B, N) bool, tokens (B, N))."""
    import torch

    schedulers = _need("diffusers.schedulers", "pip install 'mdtheory[peers]'")
    B, N, V = log_probs.shape
    if N % m:
        raise ValueError(f"the adapter needs m to divide the block length N={N}; got m={m}")
    sched = schedulers.BlockRefinementScheduler(block_length=N, num_inference_steps=N // m, threshold=threshold)
    sched.set_timesteps(N // m, block_length=N)
    out = sched.step(log_probs, 0, torch.full((B, N), V, dtype=torch.long), mask_token_id=V, temperature=temperature,
                     generator=generator)
    return out.transfer_index, out.prev_sample


# --- maskgit (JAX, the official decoding code) ----------------------------------------------------------


def _maskgit_jax_schedule(N: int, k: int) -> tuple[int, float]:
    """(num_iter, ratio) such that the first of ``num_iter`` cosine rounds keeps k of N tokens, with N·cos(π r/2)
    at least 1e-3 from an integer (the count is computed in float32)."""
    for n_iter in range(2, 257):
        ratio = 1.0 / n_iter
        kept = N * math.cos(math.pi / 2 * ratio)
        mask_len = min(max(1, math.floor(kept)), N - 1)
        if N - mask_len == k and abs(kept - round(kept)) > 1e-3:
            return n_iter, ratio
    raise ValueError(f"no cosine schedule of up to 256 rounds reveals k={k} of N={N} in its first round")


def maskgit_jax_round(log_probs, *, k: int, alpha: float, generator=None):
    """The first round of the official MaskGIT decoder (``maskgit.libml.parallel_decode.decode``, JAX).

    Spec: §2.1. ``decode`` runs ``num_iter`` cosine rounds from an all-masked batch with
    ``tokens_to_logits`` as the network. The adapter picks ``num_iter`` so that the first round reveals k
    positions, and ``choice_temperature`` = α/(1 − 1/num_iter), so that the round's Gumbel scale
    ``choice_temperature·(1 − ratio)`` is α. The network returns the table on the all-masked first call and,
    on later calls, a point mass on a sentinel token V at every still-masked position, so the second
    round's draws (``final_seqs[:, 1]``) show which positions the first round kept.

    Parameters
    ----------
    log_probs : torch.Tensor, shape (B, N, V)
        Log-probabilities (cast to float32, JAX's default).
    k : int
        Positions to reveal, 1 ≤ k ≤ N − 1.
    alpha : float
        The Gumbel scale of the round.
    generator : torch.Generator, optional
        Seeds the JAX key.

    Returns
    -------
    RoundOutput

    Raises
    ------
    ImportError
        If jax, flax or maskgit is not installed (extra ``maskgit``).

    Examples
    --------
    >>> import torch
    >>> lp = torch.log(torch.full((2, 4, 3), 1 / 3, dtype=torch.float64))
    >>> try:
    ...     shape = tuple(maskgit_jax_round(lp, k=2, alpha=1.0).positions.shape)
    ... except ImportError:
    ...     shape = (2, 2)
    >>> shape
    (2, 2)
    """
    import torch

    from ..sampling.rounds import RoundOutput

    decode = _need("maskgit.libml.parallel_decode", "pip install 'mdtheory[maskgit]'").decode
    jax = _need("jax", "pip install 'mdtheory[maskgit]'")
    jnp = jax.numpy
    B, N, V = log_probs.shape
    n_iter, ratio = _maskgit_jax_schedule(N, k)
    mask_id = V + 1
    table = jnp.concatenate([jnp.asarray(log_probs.cpu().numpy(), dtype=jnp.float32),
                             jnp.full((B, N, 1), -jnp.inf, dtype=jnp.float32)], axis=-1)
    sentinel = jnp.where(jnp.arange(V + 1) == V, 0.0, -jnp.inf).astype(jnp.float32)

    def tokens_to_logits(ids):
        first = jnp.all(ids == mask_id, axis=1)[:, None, None]
        return jnp.where(first, table, sentinel)

    seed = int(torch.randint(0, 2 ** 31, (1,), generator=generator)) if generator is not None else 0
    seqs = decode(jnp.full((B, N), mask_id, dtype=jnp.int32), jax.random.PRNGKey(seed), tokens_to_logits,
                  mask_token_id=mask_id, num_iter=n_iter, choice_temperature=alpha / (1 - ratio))
    kept = torch.tensor(np.array(seqs[:, 1]), dtype=torch.long)
    revealed = kept != V
    _check_revealed(revealed, k, "the MaskGIT round")
    positions = torch.nonzero(revealed)[:, 1].view(B, k)
    return RoundOutput(positions=positions, tokens=kept.gather(1, positions))


# --- LLaDA-family serving and research code -------------------------------------------------------------


def dlmserve_step(tokens, logits, *, k: int, mask_id: int, temperature: float = 1.0, generator=None):
    """One commit step of ``dlmserve`` (``commit_top_k_by_confidence``, LLaDA rule, float64 Gumbel noise) on
    sequences (B, L) with ``mask_id`` at the pending positions: the kit's sequence convention."""
    import torch

    sampler = _need("dlmserve.sampler", "pip install --no-deps dlmserve==0.1.1 && pip install prometheus-client")
    B = tokens.shape[0]
    return sampler.commit_top_k_by_confidence(tokens, logits, tokens == mask_id, torch.full((B,), k),
                                              temperature=temperature, generator=generator)


def dllm_reason_step(tokens, logits, *, k: int, mask_id: int, temperature: float = 1.0, generator=None,
                     scheduler: str = "confidence"):
    """The first sub-step of ``dllm_reason``'s ``DiffusionSampler`` (LLaDA-style loop, one block) with the
    registered position scheduler ``scheduler`` (``"confidence"`` or ``"maskgit_cosine"``), on sequences (B, L).

    The loop's step count is chosen so that the scheduler commits k positions in its first sub-step (the
    confidence scheduler commits ⌈N/S⌉, the cosine one round(L·sin(π/2S))); the scripted model stops the loop
    after that sub-step."""
    import torch

    hint = "pip install --no-deps dllm-reason==1.6.1"
    loop = _need("dllm_reason.inference.sampler", hint)
    modules = {"confidence": ("dllm_reason.scheduler.confidence_scheduler", "ConfidenceScheduler"),
               "maskgit_cosine": ("dllm_reason.scheduler.maskgit_scheduler", "MaskGITCosineScheduler")}
    if scheduler not in modules:
        raise ValueError(f"scheduler must be one of {', '.join(modules)}; got scheduler={scheduler!r}")
    picker = getattr(_need(modules[scheduler][0], hint), modules[scheduler][1])()
    B, L = tokens.shape
    n_masked = int((tokens[0] == mask_id).sum())
    if scheduler == "confidence":
        steps = first_step_count(lambda s: -(-n_masked // s), k, "the confidence scheduler")
    else:
        steps = first_step_count(lambda s: max(1, int(round(math.sin(math.pi / (2 * s)) * L))), k,
                                  "the MaskGIT cosine scheduler")
    model = scripted_model([lambda x: logits], wrap=lambda t: _Namespace(logits=t), mask_token_id=mask_id)
    config = loop.SamplingConfig(num_steps=steps, block_length=L, temperature=temperature,
                                 remasking="low_confidence", show_progress=False)
    with _global_rng_from(generator):
        try:
            return loop.DiffusionSampler(model, picker, config).sample(
                tokens.clone(), torch.zeros(B, L, dtype=torch.bool), gen_length=L, device="cpu").sequences
        except ScriptStop as stop:
            return stop.tokens


class _Namespace:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def bitnet_mdlm_step(tokens, logits, *, mask_id: int, rate: float, temperature: float = 1.0, generator=None):
    """The first step of ``bitnet_dllm``'s ``MDLMAncestralSampler`` with S = 1/rate steps (no top-p), on
    sequences (B, L); revealed positions are frozen, as its ``fill_mask`` does.

    Its first step reveals each masked position with probability (α_s − α_t)/(1 − α_t) = 1/S. With S = 1 the
    only step is its last, which takes the argmax (MDLM's noise-removal step)."""
    steps = round(1 / rate)
    if abs(steps * rate - 1) > 1e-12:
        raise ValueError(f"the adapter needs 1/rate to be an integer number of steps; got rate={rate!r}")
    sampler = _need("bitnet_dllm.sampler", "pip install --no-deps bitnet-dllm==1.3.0 && pip install accelerate")
    V = logits.shape[-1]
    model = scripted_model([lambda x: logits], wrap=lambda t: {"logits": t}, config=_Namespace(vocab_size=V))
    peer = sampler.MDLMAncestralSampler(model, _Namespace(mask_token_id=mask_id), device="cpu")
    with _global_rng_from(generator):
        try:
            return peer._denoise_loop(tokens.clone(), tokens != mask_id, steps, temperature, 1.0, None)
        except ScriptStop as stop:
            return stop.tokens


def hedgehog_ddpm_step(tokens, logits, *, mask_id: int, rate: float = 0.5, temperature: float = 1.0,
                       generator=None):
    """Step 2 of 3 of ``hedgehog``'s ``DDPMSampler`` (ancestral sampling, by its docstring), on sequences (B, L).

    ``DDPMSampler.sample`` starts from an all-masked sequence, so its first step is scripted to land exactly
    on the given sequence (a point mass on each position's token, or on the mask id); the second step, from
    t = 2/3 to 1/3 (an ancestral reveal rate of ½), is the audited one, run on the table's logits with the mask
    token's logit at −∞."""
    import torch

    if abs(rate - 0.5) > 1e-12 or temperature != 1.0:
        raise ValueError("the hedgehog adapter audits step 2 of 3 at temperature 1: rate must be 0.5")
    samplers = _need("hedgehog.samplers", "pip install --no-deps hedgehog-dlm==0.2.0")
    B, L, V = logits.shape
    width = max(V, mask_id + 1)
    start = torch.full((B, L, width), -torch.inf, dtype=logits.dtype)
    start.scatter_(2, tokens.clamp(max=width - 1)[..., None], 0.0)
    table = torch.full((B, L, width), -torch.inf, dtype=logits.dtype)
    table[..., :V] = logits
    table[..., mask_id] = -torch.inf
    model = scripted_model([lambda x: start, lambda x: table])
    peer = samplers.DDPMSampler(_Namespace(num_timesteps=3), model, mask_id)
    peer.vocab_size = width  # DDPMSampler reads it but does not set it
    with _global_rng_from(generator):
        try:
            return peer.sample(B, L, device="cpu")
        except ScriptStop as stop:
            return stop.tokens


def dfastllm_round(log_probs, *, k: int, temperature: float = 1.0, float32_gumbel: bool = False, generator=None):
    """The first step of ``dfastllm``'s ``diffusion_generate`` (LLaDA rule, optional float32 Gumbel noise) on an
    all-masked block of N positions with no prompt, as a RoundOutput; the step count S makes the first step
    commit ⌈N/S⌉ = k positions."""
    import torch

    from ..sampling.rounds import RoundOutput

    engine = _need("dfastllm.engine.diffusion_sampler", "pip install --no-deps dfastllm==0.0.4")
    B, N, V = log_probs.shape
    steps = first_step_count(lambda s: -(-N // s), k, "dfastllm's linear schedule", limit=N)
    model = scripted_model([lambda x: log_probs])
    with _global_rng_from(generator):
        try:
            x = engine.diffusion_generate(model, torch.zeros(B, 0, dtype=torch.long), steps=steps, gen_length=N,
                                          block_length=N, temperature=temperature, mask_id=V,
                                          use_float32_gumbel=float32_gumbel, use_mixed_precision=False)
        except ScriptStop as stop:
            x = stop.tokens
    revealed = x != V
    _check_revealed(revealed, k, "dfastllm's step")
    positions = torch.nonzero(revealed)[:, 1].view(B, k)
    return RoundOutput(positions=positions, tokens=x.gather(1, positions))
