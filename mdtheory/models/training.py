"""Training of the masked-diffusion denoisers (§2, §5.3).

**Objective (convention).** Each training sequence draws a masking ratio t ~ U(0, 1); every position is
masked independently with probability t (a row with nothing masked gets one uniformly chosen position
masked). The loss is the cross-entropy of the true tokens at the masked positions, averaged uniformly
over all masked tokens of the batch — MaskGIT's weighting. MDLM's ELBO weights a sequence by 1/t
instead; both are proper scores for the same conditionals p(x_i | x_revealed), and the uniform weight
has lower variance at small t. Optimiser: AdamW, linear warm-up then cosine decay to 10%.

**Determinism and resume.** The batch indices of step s come from ``numpy.random.default_rng([seed, s])``
and the masks from a torch generator seeded with (seed, s), so a run interrupted after any checkpoint
and resumed reproduces the uninterrupted run exactly (same weights bit for bit on the same machine).
Checkpoints (every ``checkpoint_every`` steps, written atomically) hold the weights, the AdamW moments
and the step. The final model is written in the project format (:func:`mdtheory.models.denoiser.save_denoiser`)
with the training config, the reproducing command, held-out loss and the SHA-256 of the weights.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .._validation import check_positive_int, check_work
from .datasets import DATASETS, load_dataset
from .denoiser import DenoiserConfig, MaskedDenoiser, load_denoiser, save_denoiser, weights_sha256
from .._io import atomic_write_text, to_json

__all__ = ["TrainConfig", "TRAIN_PRESETS", "masked_ce_loss", "random_mask", "train", "training_footprint",
           "weights_sha256", "held_out_loss"]


@dataclass(frozen=True)
class TrainConfig:
    """One training run: data set, optimisation and architecture.

    Spec: §2, §5.3. **Convention:** masking ratio t ~ U(0, 1) per sequence, positions masked iid with probability t
    (at least one), cross-entropy averaged over the masked tokens; AdamW with warm-up and cosine decay.

    Parameters
    ----------
    data : str
        A data set of :func:`load_dataset`.
    steps, batch_size : int
        Optimiser steps and batch size.
    lr, weight_decay : float
        AdamW parameters.
    warmup : int
        Warm-up steps.
    seed : int
        Seed of everything.
    checkpoint_every : int
        Steps between checkpoints (a rerun resumes from the last one).
    seq_len : int
        Window length for ``text``.
    d_model, n_layers, n_heads, d_ff : int
        Architecture.

    Examples
    --------
    >>> TrainConfig("markov", steps=10).steps
    10
    """

    data: str
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup: int = 100
    seed: int = 0
    checkpoint_every: int = 500
    seq_len: int = 64
    d_model: int = 96
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 384

    def __post_init__(self):
        if self.data not in DATASETS:
            raise ValueError(f"data must be one of {', '.join(DATASETS)}; got {self.data!r}")
        for name in ("steps", "batch_size", "checkpoint_every"):
            check_positive_int(getattr(self, name), name=name)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive; got {self.lr!r}")
        if not (isinstance(self.warmup, int) and self.warmup >= 0):
            raise ValueError(f"warmup must be an integer >= 0; got {self.warmup!r}")


#: the configurations of the shipped checkpoints (``mdtheory train --data NAME`` uses them)
class TrainingDivergedError(ValueError):
    """Training produced a non-finite loss or weights; nothing non-finite is ever saved."""


def _check_config(cfg: TrainConfig) -> None:
    """Refuse settings that would be ignored or that cannot train (each message names the option)."""
    from .datasets import DATASETS

    if cfg.data not in DATASETS:
        raise ValueError(f"data must be one of {', '.join(DATASETS)}; got {cfg.data!r}")
    if cfg.data != "text" and cfg.seq_len != TrainConfig.seq_len:
        raise ValueError(f"seq_len applies to the text data only ({cfg.data} sequences have a fixed length); "
                         f"got seq_len={cfg.seq_len}")
    for name in ("steps", "batch_size", "checkpoint_every", "d_model", "n_layers", "n_heads", "d_ff", "seq_len"):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {name}={value!r}")
    if cfg.d_model % cfg.n_heads:
        raise ValueError(f"d_model must be a multiple of n_heads; got d_model={cfg.d_model}, n_heads={cfg.n_heads}")
    for name in ("lr", "weight_decay"):
        value = getattr(cfg, name)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0; got {name}={value!r}")
    if cfg.warmup < 0 or cfg.seed < 0:
        raise ValueError(f"warmup and seed must be >= 0; got warmup={cfg.warmup}, seed={cfg.seed}")


def _check_finite_state(model, what: str) -> None:
    bad = [name for name, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise TrainingDivergedError(f"{what}: weights {bad[0]} (and {len(bad) - 1} more) are not finite; "
                                    "nothing was saved")


TRAIN_PRESETS = {
    "digits": TrainConfig("digits", steps=2500, batch_size=32, d_model=64, n_layers=2, d_ff=256),
    "text": TrainConfig("text", steps=2500, batch_size=32, d_model=64, n_layers=2, d_ff=256),
    "markov": TrainConfig("markov", steps=1500, batch_size=64, d_model=32, n_layers=2, d_ff=128),
    "ising": TrainConfig("ising", steps=1500, batch_size=64, d_model=32, n_layers=2, d_ff=128),
}


def random_mask(shape, *, generator: torch.Generator, device="cpu") -> torch.Tensor:
    """(B, N) bool: per row t ~ U(0, 1), each position masked w.p. t; at least one masked per row."""
    B, N = shape
    t = torch.rand(B, 1, generator=generator, device=device)
    masked = torch.rand(B, N, generator=generator, device=device) < t
    forced = torch.randint(0, N, (B,), generator=generator, device=device)
    empty = ~masked.any(dim=1)
    masked[empty, forced[empty]] = True
    return masked


def masked_ce_loss(model: MaskedDenoiser, x: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) of the true tokens at the masked positions (module doc)."""
    inp = torch.where(masked, torch.as_tensor(model.config.mask_id, device=x.device), x)
    logits = model(inp)
    return F.cross_entropy(logits[masked], x[masked])


def held_out_loss(model: MaskedDenoiser, data: np.ndarray, *, seed: int = 0, batch_size: int = 256,
                  device="cpu") -> float:
    """The masked cross-entropy of a model on held-out sequences, with seeded masks (nats per masked token).

    Spec: §5.3.

    Parameters
    ----------
    model : MaskedDenoiser
        The model.
    data : numpy.ndarray, shape (n, N)
        Held-out rows.
    seed : int
        Seed of the masks.
    batch_size : int
        Rows per forward pass.
    device : str
        Where to evaluate.

    Returns
    -------
    float

    Examples
    --------
    >>> from mdtheory.models import SHIPPED_CHECKPOINTS
    >>> model, meta = load_trained(SHIPPED_CHECKPOINTS / "markov")
    >>> bool(held_out_loss(model, load_dataset("markov", n_samples=200).held_out) < np.log(3))
    True
    """
    gen = torch.Generator(device=device).manual_seed(seed)
    model.eval()
    tot, cnt = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(data), batch_size):
            x = torch.as_tensor(data[lo:lo + batch_size], device=device)
            m = random_mask(x.shape, generator=gen, device=device)
            n = int(m.sum())
            tot += float(masked_ce_loss(model, x, m)) * n
            cnt += n
    return tot / cnt


def _lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def _save_checkpoint(ckpt: Path, model, opt, step: int, losses: list[float], cfg: TrainConfig) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    state = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for i, st in opt.state_dict()["state"].items():
        for name, v in st.items():
            state[f"optim.{i}.{name}"] = torch.as_tensor(v).detach().cpu().contiguous()
    # the state is written under its step's own name, then progress.json names it: a kill between the two
    # leaves the previous (progress, state) pair intact, so a resume never pairs a step with another's state
    name = f"state-{step:09d}.safetensors"
    tmp = ckpt / f"{name}.tmp"
    save_file(state, str(tmp))
    tmp.replace(ckpt / name)
    atomic_write_text(ckpt / "progress.json", to_json({"step": step, "losses": losses, "train": asdict(cfg),
                                                       "state": name}))
    for old in ckpt.glob("state*.safetensors"):
        if old.name != name:
            old.unlink()


def _load_checkpoint(ckpt: Path, model, opt, cfg: TrainConfig) -> tuple[int, list[float]]:
    from safetensors.torch import load_file

    prog = json.loads((ckpt / "progress.json").read_text())
    if prog.get("train") != asdict(cfg):
        raise ValueError(f"the checkpoint in {ckpt} was written by a different training config "
                         f"({prog.get('train')}); resume with the same options or use a fresh --out")
    state = load_file(str(ckpt / prog.get("state", "state.safetensors")))
    model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
    sd = opt.state_dict()
    opt_state: dict = {}
    for k, v in state.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            opt_state.setdefault(int(i), {})[name] = v
    opt.load_state_dict({"state": opt_state, "param_groups": sd["param_groups"]})
    return int(prog["step"]), list(prog["losses"])


#: the default limit on a training run's estimated memory (raise ``max_memory_gib``, CLI ``--max-memory-gib``)
DEFAULT_MAX_TRAINING_GIB = 8.0


def training_footprint(mcfg: DenoiserConfig, batch_size: int) -> dict:
    """The parameter count (exact: the model is built on torch's ``meta`` device, nothing allocated) and an
    estimate of the peak memory of one AdamW step in float32, in GiB.

    Memory = 4 bytes × (4 × parameters (weights, gradients, two moments) + activations kept for the backward
    pass: per layer B·D·(8·d_model + 2·d_ff) + 2·B·heads·D², and 2·B·D·V for the logits).

    Examples
    --------
    >>> f = training_footprint(DenoiserConfig(vocab_size=4, seq_len=6, d_model=16, n_layers=1, n_heads=2, d_ff=32), 8)
    >>> f["parameters"], f["gib"] < 0.01
    (2500, True)
    """
    with torch.device("meta"):
        n_params = sum(p.numel() for p in MaskedDenoiser(mcfg).parameters())
    B, D = batch_size, mcfg.seq_len
    per_layer = B * D * (8 * mcfg.d_model + 2 * mcfg.d_ff) + 2 * B * mcfg.n_heads * D * D
    floats = 4 * n_params + mcfg.n_layers * per_layer + 2 * B * D * mcfg.vocab_size
    return {"parameters": int(n_params), "gib": 4.0 * floats / 2 ** 30}


def train(cfg: TrainConfig, out_dir, *, device="cpu", progress: bool = True, command: str | None = None,
          stop_after: int | None = None, max_memory_gib: float = DEFAULT_MAX_TRAINING_GIB) -> dict:
    """Train (or resume) a denoiser into a folder; a rerun after an interruption ends with the same weights.

    Spec: §2, §5.3.

    Parameters
    ----------
    cfg : TrainConfig
        The run.
    out_dir : str or Path
        Where the checkpoints and the final model go.
    device : str
        Where to train.
    progress : bool
        Show a progress bar.
    command : str, optional
        The reproducing command recorded in ``config.json``.
    stop_after : int, optional
        Stop after that many steps in this call (to test resume).
    max_memory_gib : float
        Refuse (before anything is allocated) a configuration whose estimated peak memory
        (:func:`training_footprint`) is larger (``inf`` turns the guard off).

    Returns
    -------
    dict
        ``step``, ``finished``, ``seconds_this_call`` and, once finished, ``held_out_loss`` and
        ``train_loss_last100`` (also written to ``config.json``).

    Raises
    ------
    ValueError
        If the configuration is invalid.
    WorkTooLarge
        If the estimated memory exceeds ``max_memory_gib`` (a ``ValueError``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = train(TrainConfig("markov", steps=5, batch_size=8, d_model=16, n_layers=1, d_ff=32), d, progress=False)
    >>> s["step"], s["finished"]
    (5, True)
    """
    _check_config(cfg)
    out = Path(out_dir)
    ckpt = out / "checkpoint"
    data = load_dataset(cfg.data, seq_len=cfg.seq_len, seed=cfg.seed)
    mcfg = DenoiserConfig(vocab_size=data.vocab_size, seq_len=data.seq_len, grid=data.grid, d_model=cfg.d_model,
                          n_layers=cfg.n_layers, n_heads=cfg.n_heads, d_ff=cfg.d_ff)
    size = training_footprint(mcfg, cfg.batch_size)
    check_work(size["gib"], limit=max_memory_gib, option="max_memory_gib", unit="GiB",
               what=f"training {size['parameters']:,} parameters at batch_size={cfg.batch_size}, "
                    f"seq_len={mcfg.seq_len}")
    torch.manual_seed(cfg.seed)
    model = MaskedDenoiser(mcfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, losses = 0, []
    if (ckpt / "progress.json").is_file():
        step, losses = _load_checkpoint(ckpt, model, opt, cfg)
    x_all = torch.as_tensor(data.train, device=device)
    end = cfg.steps if stop_after is None else min(cfg.steps, step + stop_after)
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.data}", unit="step")
    model.train()
    while step < end:
        idx = np.random.default_rng([cfg.seed, step]).integers(0, len(data.train), cfg.batch_size)
        gen = torch.Generator(device=device).manual_seed(cfg.seed * 1_000_003 + step)
        x = x_all[torch.as_tensor(idx, device=device)]
        loss = masked_ce_loss(model, x, random_mask(x.shape, generator=gen, device=device))
        if not torch.isfinite(loss):
            raise TrainingDivergedError(f"training diverged at step {step + 1}: the loss is {float(loss.detach())} "
                                        f"(lr={cfg.lr:g}); checkpoints up to step {step - step % cfg.checkpoint_every} "
                                        "are intact and no non-finite weights were saved")
        for g in opt.param_groups:
            g["lr"] = _lr_at(cfg, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if bar is not None:
            bar.update(1)
            if step % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if step % cfg.checkpoint_every == 0 or step == end:
            _check_finite_state(model, f"training at step {step}")
            _save_checkpoint(ckpt, model, opt, step, losses, cfg)
    if bar is not None:
        bar.close()
    summary = {"data": cfg.data, "step": step, "finished": step >= cfg.steps,
               "seconds_this_call": time.perf_counter() - t0}
    if step >= cfg.steps:
        model.eval()
        summary["train_loss_last100"] = float(np.mean(losses[-100:]))
        summary["held_out_loss"] = held_out_loss(model, data.held_out, seed=cfg.seed, device=device)
        meta = {"data": cfg.data, "train": asdict(cfg), "command": command or _command(cfg),
                "train_loss_last100": summary["train_loss_last100"], "held_out_loss": summary["held_out_loss"]}
        save_denoiser(model, out, metadata=meta)
        meta["sha256"] = weights_sha256(out / "model.safetensors")
        atomic_write_text(out / "config.json", to_json({"model": mcfg.to_dict(), **meta}, indent=1))
        summary["sha256"] = meta["sha256"]
    return summary


def _command(cfg: TrainConfig) -> str:
    base = TRAIN_PRESETS.get(cfg.data)
    parts = [f"mdtheory train --data {cfg.data}"]
    for f, v in asdict(cfg).items():
        if f == "data" or (base is not None and getattr(base, f) == v):
            continue
        parts.append(f"--{f.replace('_', '-')} {v}")
    return " ".join(parts)


def load_trained(directory, *, device="cpu", verify_hash: bool = True):
    """Load a trained checkpoint and check its weights against the SHA-256 recorded in its ``config.json``.

    Spec: §2.

    Parameters
    ----------
    directory : str or Path
        The checkpoint folder (the shipped ones are under ``SHIPPED_CHECKPOINTS``).
    device : str
        Where to load it.
    verify_hash : bool
        Refuse weights whose SHA-256 differs from, or is missing in, ``config.json`` (default).

    Returns
    -------
    tuple
        (MaskedDenoiser in eval mode, the contents of ``config.json``).

    Raises
    ------
    ValueError
        If the weights do not match the recorded hash.
    FileNotFoundError
        If a file is missing.

    Examples
    --------
    >>> from mdtheory.models import SHIPPED_CHECKPOINTS
    >>> model, meta = load_trained(SHIPPED_CHECKPOINTS / "digits")
    >>> model.config.grid
    (8, 8)
    """
    return load_denoiser(directory, device=device, verify_hash=verify_hash)
