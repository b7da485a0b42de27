"""Sample-quality evaluators in the spirit of [H]'s metrics.

* **Digits** — :class:`DigitsClassifier`, an MLP (64 → 128 → 64 → 10) trained in-project on the digits
  training split. Its 64-d penultimate features give a Fréchet distance between generated and real
  digits (:func:`frechet_distance`, the FID analogue) and its predictions an Inception-Score analogue
  (:func:`inception_score`).
* **Text** — :class:`CharLM`, a small autoregressive character model (GRU, hidden 128) trained in-project on the
  text training split, for generative perplexity (:func:`generative_perplexity`; the role GPT-2 Large
  plays in MDLM's evaluation) and the per-sequence unigram entropy (:func:`unigram_entropy`).
* **Known-law data** — exact log π of samples (:func:`exact_log_prob`).

Each is validated in the tests: held-out real data must score better than shuffled or noised data.
Evaluator weights ship in ``mdtheory/checkpoints`` with the command that reproduces them
(``mdtheory train-evaluator``) and a SHA-256 check.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import linalg
from torch import nn
from torch.nn import functional as F
from . import SHIPPED_CHECKPOINTS

__all__ = ["DigitsClassifier", "CharLM", "train_digits_classifier", "train_char_lm", "frechet_distance",
           "frechet_distance_stderr", "inception_score", "generative_perplexity", "unigram_entropy", "exact_log_prob",
           "load_evaluator", "reconstruction_accuracy", "digits_features", "EVALUATORS"]


class DigitsClassifier(nn.Module):
    """MLP on 8×8 grey levels (0..16, scaled to [0, 1]); ``features`` is the 64-d penultimate layer."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.out = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x.float() / 16.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))


class CharLM(nn.Module):
    """Autoregressive character model: embedding → GRU → logits over the next character."""

    def __init__(self, vocab_size: int = 96, d_emb: int = 32, d_hidden: int = 128):
        super().__init__()
        self.vocab_size = vocab_size
        self.emb = nn.Embedding(vocab_size + 1, d_emb)  # id vocab_size = beginning of sequence
        self.gru = nn.GRU(d_emb, d_hidden, batch_first=True)
        self.out = nn.Linear(d_hidden, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, N, V) of x_i given x_<i (a BOS token precedes x_1)."""
        bos = torch.full((x.shape[0], 1), self.vocab_size, dtype=torch.long, device=x.device)
        h, _ = self.gru(self.emb(torch.cat([bos, x[:, :-1]], dim=1)))
        return self.out(h)

    def nll(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sequence negative log-likelihood in nats per character."""
        logits = self(x)
        return F.cross_entropy(logits.transpose(1, 2), x, reduction="none").mean(dim=1)


@dataclass(frozen=True)
class _EvalTrain:
    kind: str
    steps: int
    batch_size: int
    lr: float
    seed: int


EVALUATORS = {
    "digits_classifier": _EvalTrain("digits_classifier", 3000, 128, 2e-3, 0),
    "text_char_lm": _EvalTrain("text_char_lm", 1500, 32, 3e-3, 0),
}


def _fit(model, batch_fn, cfg: _EvalTrain, loss_fn, progress: bool):
    torch.manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    it = range(cfg.steps)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"train {cfg.kind}", unit="step")
    for step in it:
        lr = cfg.lr * 0.5 * (1 + np.cos(np.pi * step / cfg.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = loss_fn(model, *batch_fn(np.random.default_rng([cfg.seed, step])))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def train_digits_classifier(*, progress: bool = False) -> DigitsClassifier:
    """Train the digits classifier on the training split of :func:`mdtheory.models.datasets.load_dataset` (the
    labels come from scikit-learn's ``load_digits``, in the same order)."""
    from sklearn.datasets import load_digits

    cfg = EVALUATORS["digits_classifier"]
    d = load_digits()
    x = torch.as_tensor(d.images.reshape(-1, 64).astype(np.int64))
    y = torch.as_tensor(d.target.astype(np.int64))
    cut = int(round(len(x) * 0.9))
    x, y = x[:cut], y[:cut]

    def batch(rng):
        idx = torch.as_tensor(rng.integers(0, len(x), cfg.batch_size))
        return x[idx], y[idx]

    return _fit(DigitsClassifier(), batch, cfg, lambda m, xb, yb: F.cross_entropy(m(xb), yb), progress)


def train_char_lm(*, progress: bool = False) -> CharLM:
    """Train the character model on the text training split."""
    from .datasets import load_dataset

    cfg = EVALUATORS["text_char_lm"]
    x = torch.as_tensor(load_dataset("text").train)

    def batch(rng):
        return (x[torch.as_tensor(rng.integers(0, len(x), cfg.batch_size))],)

    return _fit(CharLM(), batch, cfg, lambda m, xb: m.nll(xb).mean(), progress)


def save_evaluator(model: nn.Module, name: str, directory) -> Path:
    from safetensors.torch import save_file

    from .._io import atomic_write_text, to_json
    from .denoiser import weights_sha256

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors"))
    meta = {"evaluator": name, "train": asdict(EVALUATORS[name]), "command": f"mdtheory train-evaluator {name}",
            "sha256": weights_sha256(out / "model.safetensors")}
    atomic_write_text(out / "config.json", to_json(meta, indent=1))
    return out


def load_evaluator(name: str, directory=None):
    """Load a shipped evaluator, ``digits_classifier`` or ``text_char_lm``, checking its SHA-256.

    Spec: §9.

    Parameters
    ----------
    name : str
        The evaluator.
    directory : str or Path, optional
        Another checkpoint folder.

    Returns
    -------
    DigitsClassifier or CharLM

    Raises
    ------
    ValueError
        If the name is unknown or the hash does not match.

    Examples
    --------
    >>> type(load_evaluator("digits_classifier")).__name__
    'DigitsClassifier'
    """
    from safetensors.torch import load_file

    from .denoiser import verify_weights

    if name not in EVALUATORS:
        raise ValueError(f"unknown evaluator {name!r}; allowed: {', '.join(EVALUATORS)}")
    d = Path(directory) if directory is not None else SHIPPED_CHECKPOINTS / name
    for f in ("config.json", "model.safetensors"):
        if not (d / f).is_file():
            raise FileNotFoundError(f"evaluator directory {d} has no {f}; run `mdtheory train-evaluator {name}`")
    meta = json.loads((d / "config.json").read_text())
    verify_weights(d, meta, verify_hash=True)
    model = DigitsClassifier() if name == "digits_classifier" else CharLM()
    model.load_state_dict(load_file(str(d / "model.safetensors")))
    return model.eval()


def _as_long(x) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).long()
    if t.ndim != 2:
        raise ValueError(f"samples must be a 2-D (n, N) integer array; got shape {tuple(t.shape)}")
    return t


def digits_features(classifier: DigitsClassifier, x) -> np.ndarray:
    x = _as_long(x)
    if x.shape[1] != 64 or int(x.min()) < 0 or int(x.max()) > 16:
        raise ValueError("digits samples must be (n, 64) with grey levels 0..16")
    with torch.no_grad():
        return classifier.features(x).double().numpy()


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """The Fréchet distance between Gaussian fits of two feature sets: ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2(Σ_a Σ_b)^{1/2}).

    Spec: §9 (the FID analogue, on the digits classifier's features).

    Parameters
    ----------
    feats_a, feats_b : numpy.ndarray, shape (n, d)
        Features (1-D features are accepted).

    Returns
    -------
    float

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(500, 2))
    >>> round(frechet_distance(x, x + [1.0, 0.0]), 9)  # equal covariances: the squared mean shift
    1.0
    """
    a, b = np.asarray(feats_a, dtype=np.float64), np.asarray(feats_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"need two (n, d) feature arrays with the same d and n >= 2; got {a.shape}, {b.shape}")
    mu = a.mean(0) - b.mean(0)
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))  # d = 1 too
    # tr (Σ_a Σ_b)^{1/2} = Σ √λ(Σ_a^{1/2} Σ_b Σ_a^{1/2}): symmetric PSD, so exact also for singular Σ
    w, U = linalg.eigh(ca)
    half = (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T
    lam = linalg.eigvalsh(half @ cb @ half)
    return float(mu @ mu + np.trace(ca) + np.trace(cb) - 2.0 * np.sqrt(np.clip(lam, 0.0, None)).sum())


def frechet_distance_stderr(feats_a: np.ndarray, feats_b: np.ndarray, *, n_boot: int = 100, seed: int = 0) -> float:
    """Bootstrap standard error of :func:`frechet_distance` over the rows of ``feats_a`` (the samples), with
    the reference ``feats_b`` held fixed: the sampling noise of one set of samples, which is what separates
    two samplers scored against the same reference."""
    from .._validation import check_positive_int

    n_boot = check_positive_int(n_boot, name="n_boot", minimum=2)
    a = np.asarray(feats_a, dtype=np.float64)
    rng = np.random.default_rng(seed)
    reps = [frechet_distance(a[rng.integers(0, len(a), len(a))], feats_b) for _ in range(n_boot)]
    return float(np.std(reps, ddof=1))


def inception_score(classifier: DigitsClassifier, x) -> float:
    """The Inception-Score analogue exp(E_x KL(p(y|x) ‖ p(y))) with the shipped digits classifier (1 to 10).

    Spec: §9.

    Parameters
    ----------
    classifier : DigitsClassifier
        From :func:`load_evaluator`.
    x : array_like, shape (n, 64)
        Digit images as token rows.

    Returns
    -------
    float

    Examples
    --------
    >>> from mdtheory.models import load_dataset
    >>> clf = load_evaluator("digits_classifier")
    >>> bool(inception_score(clf, load_dataset("digits").held_out) > 5)
    True
    """
    x = _as_long(x)
    with torch.no_grad():
        logp = torch.log_softmax(classifier(x).double(), dim=-1)
    p = logp.exp()
    marg = p.mean(0)
    kl = (p * (logp - torch.log(marg))).sum(-1).mean()
    return float(torch.exp(kl))


def generative_perplexity(lm: CharLM, x, *, return_stderr: bool = False):
    """Generative perplexity exp(mean NLL per character) of text samples under the shipped character model.

    Spec: §9. With ``return_stderr`` also its delta-method standard error gen-PPL·sd(per-sequence NLL)/√n.

    Parameters
    ----------
    lm : CharLM
        From :func:`load_evaluator`.
    x : array_like, shape (n, N)
        Text rows as tokens.
    return_stderr : bool
        Also return the standard error.

    Returns
    -------
    float or tuple of float

    Examples
    --------
    >>> from mdtheory.models import load_dataset
    >>> lm = load_evaluator("text_char_lm")
    >>> bool(generative_perplexity(lm, load_dataset("text").held_out[:50]) < 20)
    True
    """
    x = _as_long(x)
    with torch.no_grad():
        nll = lm.nll(x).double()
    ppl = float(torch.exp(nll.mean()))
    if not return_stderr:
        return ppl
    if len(nll) < 2:
        raise ValueError("a standard error needs at least two sequences")
    return ppl, float(ppl * nll.std() / np.sqrt(len(nll)))


def unigram_entropy(x) -> float:
    """Mean over sequences of the entropy (nats) of each sequence's empirical token distribution."""
    from scipy.special import entr

    x = np.asarray(_as_long(x))
    V = int(x.max()) + 1
    counts = np.stack([np.bincount(r, minlength=V) for r in x]) / x.shape[1]
    return float(entr(counts).sum(axis=1).mean())


def exact_log_prob(target, x) -> np.ndarray:
    """log π(x) under a known-law target (MarkovChain or JointTable)."""
    return np.asarray(target.log_prob(np.asarray(_as_long(x))), dtype=np.float64)


def reconstruction_accuracy(predict, sequences, *, mask_id: int, mask_fraction: float = 0.15, seed: int = 0,
                            confidence: float = 0.99) -> dict:
    """Mask each position w.p. ``mask_fraction`` (seeded; at least one per sequence), predict the argmax at
    the masked positions in one pass of ``predict(tokens, masked) -> logits``; returns the accuracy, the
    number of masked positions, its Wilson ``confidence`` interval and chance = 1/V."""
    from scipy.stats import norm

    if not 0.0 < mask_fraction < 1.0:
        raise ValueError(f"mask_fraction must be in (0, 1); got {mask_fraction!r}")
    gen = torch.Generator().manual_seed(seed)
    correct = total = 0
    V = None
    for seq in sequences:
        x = torch.as_tensor(seq).long().view(1, -1)
        m = torch.rand(x.shape, generator=gen) < mask_fraction
        if not bool(m.any()):
            m[0, int(torch.randint(0, x.shape[1], (1,), generator=gen))] = True
        logits = predict(torch.where(m, torch.as_tensor(mask_id), x), m).cpu()  # from the model's device
        V = logits.shape[-1]
        correct += int((logits.argmax(-1)[m] == x[m]).sum())
        total += int(m.sum())
    if total == 0:
        raise ValueError("sequences must not be empty")
    p, z = correct / total, float(norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return {"accuracy": p, "n_masked": total, "interval": (centre - half, centre + half), "chance": 1.0 / V}
