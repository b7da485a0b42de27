"""Monte-Carlo estimators of the profile and of a model's loss curve, with confidence intervals
(§5.2, §5.3, §9).

**Profile estimator** (targets too large to enumerate, exact conditionals): for each m = 0..N−1 draw
x ~ π (exact sampler), a uniform m-subset S, and record Y = mean_{j∉S} H(π(· | x_S)_j). E Y = g(m) exactly,
so ĝ(m) is the sample mean with standard error s/√n. The m's use independent draws, so
se(f̂(i))² = se(ĝ(i−1))² + se(ĝ(i))², se(TĈ)² = (N−1)² se(ĝ(0))² + Σ_{m≥1} se(ĝ(m))², and likewise for DTC.

**Loss-curve estimator** (§5.3, the data-driven schedule): the same design with held-out data rows
in place of exact samples and Y = mean_{j∉S} −log p_θ(x_j; x_S): an unbiased estimate of CE_θ(m).
``model`` is a target or set-keyed model (``conditionals``/``conditionals_batch``); a prediction function
``predict(tokens, masked) -> logits`` of the sampling loop goes through
:class:`~mdtheory.models.predictors.PredictorModel`.

Intervals are normal (CLT) intervals ĝ ± z·se at the requested level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import entr
from scipy.stats import norm

from .._validation import check_positive_int, check_unit_interval, renamed_keywords
from ..targets.tables import batch_conditionals

__all__ = ["CurveEstimate", "estimate_profile", "estimate_loss_curve", "model_probs"]


@dataclass(frozen=True)
class CurveEstimate:
    """A Monte-Carlo curve c(m), m = 0..N − 1 (ĝ or a loss curve), with standard errors.

    Spec: §5.2, §5.3, §9.

    Parameters
    ----------
    values : numpy.ndarray, shape (N,)
        The estimates.
    stderr : numpy.ndarray, shape (N,)
        Their standard errors (independent draws per m).
    n_samples : int
        Draws per m.

    Examples
    --------
    >>> c = CurveEstimate(values=np.array([1.0, 0.5]), stderr=np.array([0.01, 0.01]), n_samples=100)
    >>> c.values.tolist()
    [1.0, 0.5]
    """

    values: np.ndarray
    stderr: np.ndarray
    n_samples: int

    @property
    def n(self) -> int:
        return self.values.size

    @property
    def f(self) -> np.ndarray:
        return self.values[:-1] - self.values[1:]

    @property
    def f_stderr(self) -> np.ndarray:
        return np.hypot(self.stderr[:-1], self.stderr[1:])

    @property
    def tc(self) -> float:
        return float((self.values[0] - self.values).sum())

    @property
    def tc_stderr(self) -> float:
        return float(np.sqrt(((self.n - 1) * self.stderr[0]) ** 2 + (self.stderr[1:] ** 2).sum()))

    @property
    def dtc(self) -> float:
        return float((self.values - self.values[-1]).sum())

    @property
    def dtc_stderr(self) -> float:
        return float(np.sqrt(((self.n - 1) * self.stderr[-1]) ** 2 + (self.stderr[:-1] ** 2).sum()))

    @staticmethod
    def z(level: float) -> float:
        """The two-sided normal quantile of a confidence level."""
        check_unit_interval(level, name="level")
        return float(norm.ppf(0.5 + 0.5 * level))

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise CLT interval of the curve."""
        z = self.z(level)
        return self.values - z * self.stderr, self.values + z * self.stderr

    @property
    def ce(self) -> np.ndarray:  # a loss curve reads as CE_θ
        return self.values


def _random_subsets(rng: np.random.Generator, batch: int, n: int, m: int) -> np.ndarray:
    revealed = np.zeros((batch, n), dtype=bool)
    if m:
        cols = np.argsort(rng.random((batch, n)), axis=1)[:, :m]
        revealed[np.arange(batch)[:, None], cols] = True
    return revealed


def model_probs(model, values: np.ndarray, revealed: np.ndarray) -> np.ndarray:
    """p_θ(· ; x_S) for a batch, (B, N) → (B, N, q), from a set-keyed model (a prediction function of the
    sampling loop goes through :class:`mdtheory.models.predictors.PredictorModel`)."""
    if not (hasattr(model, "conditionals") or hasattr(model, "conditionals_batch")):
        raise TypeError("model must be set-keyed (conditionals(values, revealed)); wrap a prediction function "
                        f"in mdtheory.models.PredictorModel; got {type(model).__name__}")
    return batch_conditionals(model, values, revealed)


def _curve(draw, n: int, n_samples: int, per_row) -> CurveEstimate:
    vals, ses = np.zeros(n), np.zeros(n)
    for m in range(n):
        x, revealed = draw(m)
        y = per_row(x, revealed)
        vals[m] = y.mean()
        ses[m] = y.std(ddof=1) / np.sqrt(y.size) if y.size > 1 else np.inf
    return CurveEstimate(values=vals, stderr=ses, n_samples=n_samples)


@renamed_keywords(rng="seed")
def estimate_profile(target, n_samples: int, *, seed=0) -> CurveEstimate:
    """ĝ(m), m = 0..N − 1, from exact draws of a target too large to enumerate.

    Spec: §5.2, §9. For each m: x ~ π, a uniform m-subset S, and Y = mean_{j∉S} H(π(· | x_S)_j), so E Y = g(m);
    the mean comes with its standard error s/√n.

    Parameters
    ----------
    target : object
        A target with ``sample`` and ``conditionals`` (e.g. :class:`MarkovChain`).
    n_samples : int
        Draws per m (≥ 2).
    seed : int or numpy.random.Generator
        Seed.

    Returns
    -------
    CurveEstimate

    Raises
    ------
    ValueError
        If ``n_samples`` < 2.

    Examples
    --------
    >>> from mdtheory.profiles import information_profile
    >>> from mdtheory.targets import binary_markov_chain
    >>> t = binary_markov_chain(4, 0.2)
    >>> est = estimate_profile(t, 2000, seed=0)
    >>> bool(np.all(np.abs(est.values - information_profile(t).g) <= 5 * est.stderr + 1e-12))
    True
    """
    n_samples = check_positive_int(n_samples, name="n_samples", minimum=2)
    seed = np.random.default_rng(seed)
    n = target.n

    def draw(m):
        return target.sample(n_samples, seed=seed), _random_subsets(seed, n_samples, n, m)

    def entropy_rows(x, revealed):
        h = entr(batch_conditionals(target, x, revealed)).sum(axis=-1)
        return (h * ~revealed).sum(axis=1) / (~revealed).sum(axis=1)

    return _curve(draw, n, n_samples, entropy_rows)


@renamed_keywords(rng="seed")
def estimate_loss_curve(model, data, *, n_per_m: int = 1000, seed=0) -> CurveEstimate:
    """ĈE_θ(m), m = 0..N − 1, of a model from held-out data rows.

    Spec: §5.3, §9: the same design as :func:`estimate_profile`, with data rows in place of exact draws and
    Y = mean_{j∉S} −log p_θ(x_j; x_S), an unbiased estimate of CE_θ(m).

    Parameters
    ----------
    model : object
        A set-keyed model (``conditionals``); wrap a prediction function in :class:`PredictorModel`.
    data : array_like, shape (n_data, N), int
        Held-out rows.
    n_per_m : int
        Draws per m (≥ 2).
    seed : int or numpy.random.Generator
        Seed.

    Returns
    -------
    CurveEstimate

    Raises
    ------
    ValueError
        If ``data`` is not a non-empty integer array or ``n_per_m`` < 2.
    TypeError
        If ``model`` is not set-keyed.

    Examples
    --------
    >>> from mdtheory.profiles import cross_entropy_curve
    >>> from mdtheory.targets import dirichlet_joint
    >>> t = dirichlet_joint(3, 2, seed=0)
    >>> est = estimate_loss_curve(t, t.sample(5000, seed=1), n_per_m=2000, seed=2)
    >>> bool(np.all(np.abs(est.values - cross_entropy_curve(t, t).ce) <= 5 * est.stderr))
    True
    """
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[0] < 1 or not np.issubdtype(data.dtype, np.integer):
        raise ValueError(f"data must be a non-empty (n_data, N) integer array; got shape {data.shape}, dtype {data.dtype}")
    n_per_m = check_positive_int(n_per_m, name="n_per_m", minimum=2)
    seed = np.random.default_rng(seed)
    n = data.shape[1]

    def draw(m):
        return data[seed.integers(0, data.shape[0], n_per_m)], _random_subsets(seed, n_per_m, n, m)

    def ce_rows(x, revealed):
        p = model_probs(model, x, revealed)
        px = np.take_along_axis(p, x[..., None], axis=-1)[..., 0]
        with np.errstate(divide="ignore"):
            nll = -np.log(px)
        return (np.where(revealed, 0.0, nll)).sum(axis=1) / (~revealed).sum(axis=1)

    return _curve(draw, n, n_per_m, ce_rows)
