"""Finite-precision Gumbel noise as an implicit temperature (§9).

Gumbel-max sampling draws x = argmax_s (a_s + G_s) with a = logits and G = −log(−log U). A float32
U ∈ {0, 2^-24, …, 1 − 2^-24} with the usual clamp (U ≥ 1e-20, −log U ≥ 1e-20) bounds the noise to
[g_min, g_max] ≈ [−3.83, 16.64] (:func:`gumbel_noise_range`); float64 reaches 36.7. Modelling G as a
Gumbel truncated to that range, the law of the draw is exactly

  P(x = s) = ∫_{g_min}^{g_max} f_T(z) Π_{t≠s} F_T(z + a_s − a_t) dz,

with F_T the truncated CDF. The integrand has kinks where some z + a_s − a_t crosses g_min or g_max;
:func:`truncated_gumbel_max_law` integrates panel by panel between those points (and on a 0.25 grid
over [−6, 50], where the Gumbel density lives) with Gauss–Legendre
(error estimate: 12- against 24-point rules), so the result is exact to ~1e-14 for small vocabularies (V ≤ 64, route ``"pairwise"``).

**Large vocabularies** (route ``"common"``, V up to 50,257 and beyond). With t = z + a_s,

  P(x = s) = ∫_{t₀}^{a_s + g_max} [f_T/F_T](t − a_s) · E(t) dt,   E(t) = Π_t F_T(t − a_t),

t₀ = max a + g_min. E is shared by every token, so it is evaluated once (exactly, in log-space, O(V) per
node) at Gauss–Legendre nodes on uniform panels of [t₀, max a + g_max]; each token's integral uses the
common nodes on the panels below its upper limit a_s + g_max and a Gauss rule on the cut panel, where
log E is interpolated (barycentric Lagrange on that panel's nodes; evaluated exactly in the first
panel, next to the log-singularity at t₀). Tokens with max a − a_s ≥ g_max − g_min get exactly 0.
Cost O(V · panels · nodes); error estimate: 12- against 24-point rules (dominated by the kinks of E at
a_t + g_max, whose slope jump is f_T(g_max) ≈ 6e-8 in float32). Rare tokens — those that need a noise
draw above g_max to win — lose mass, which acts like a temperature below 1 (:func:`effective_temperature`,
:func:`noise_temperature_table`).

The model is the *continuous* Gumbel truncated to [g_min, g_max] (convention): it ignores the 2^-24
atom at g_min from U = 0 and the discreteness of float32 U near 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_softmax

from .._postconditions import check_law

__all__ = ["gumbel_noise_range", "truncated_gumbel_max_law", "effective_temperature", "MAX_EXACT_VOCAB",
           "zipf_logits", "noise_temperature_table", "NoiseTemperatureRow"]

MAX_EXACT_VOCAB = 64
PANEL = 0.25  # longest Gauss panel on [−6, 50] (where the Gumbel density lives); wider outside


def _cdf(y):
    return np.exp(-np.exp(-y))


def gumbel_noise_range(dtype: str = "float32", *, clamp: float = 1e-20) -> tuple[float, float]:
    """The range of Gumbel noise −log(−log U) as implementations commonly draw it, for U from ``torch.rand``.

    Spec: §9. U's largest draw (``torch.rand``) is 1 − 2^-24 in float32 and 1 − 2^-53 in float64, its smallest 0, and both logs
    are clamped at ``clamp``; float32 noise therefore lives in about [−3.83, 16.64], which lowers the effective
    temperature (:func:`mdtheory.exact.effective_temperature`).

    Parameters
    ----------
    dtype : {"float32", "float64"}
        The dtype of the uniforms.
    clamp : float
        The clamp applied inside both logarithms (1e-20 in most code bases).

    Returns
    -------
    tuple of float
        (g_min, g_max).

    Raises
    ------
    ValueError
        If ``dtype`` is not one of the two.

    Examples
    --------
    >>> lo, hi = gumbel_noise_range("float32")
    >>> round(lo, 2), round(hi, 2)
    (-3.83, 16.64)
    """
    dt = {"float32": np.float32, "float64": np.float64}.get(dtype)
    if dt is None:
        raise ValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    bits = 24 if dtype == "float32" else 53
    u = np.array([0.0, 1.0 - 2.0 ** -bits], dtype=dt)
    c = dt(clamp)
    g = -np.log(np.maximum(-np.log(np.maximum(u, c)), c))  # the arithmetic in the uniforms' own dtype
    return float(g[0]), float(g[1])


def truncated_gumbel_max_law(logits, g_min: float, g_max: float, *, method: str = "auto",
                             panel: float = 0.1) -> tuple[np.ndarray, float]:
    """The exact law of argmax(logits + G) when each G is Gumbel truncated to [g_min, g_max].

    Spec: §9 (float32 Gumbel noise as an implicit temperature). ``"pairwise"`` resolves every kink exactly
    (V ≤ 64); ``"common"`` integrates on common nodes in O(V) (any V); ``"auto"`` picks.

    Parameters
    ----------
    logits : array_like, shape (V,)
        The logits; −inf gets probability 0.
    g_min, g_max : float
        The range of the noise (:func:`gumbel_noise_range`).
    method : {"auto", "pairwise", "common"}
        The quadrature route.
    panel : float
        Panel width of the ``"common"`` route.

    Returns
    -------
    tuple
        (law, shape (V,); quadrature error estimate).

    Raises
    ------
    ValueError
        If the logits or the range are invalid.

    Examples
    --------
    >>> import numpy as np
    >>> law, err = truncated_gumbel_max_law(np.zeros(3), -40.0, 40.0)
    >>> law.round(6).tolist()
    [0.333333, 0.333333, 0.333333]
    """
    a = np.asarray(logits, dtype=np.float64).ravel()
    if a.size < 1:
        raise ValueError("logits must have at least one entry")
    if np.any(np.isnan(a)) or np.any(a == np.inf) or np.all(np.isinf(a)):
        raise ValueError("logits must not be NaN or +inf, and at least one must be finite")
    if not (np.isfinite(g_min) and np.isfinite(g_max) and g_min < g_max):
        raise ValueError(f"need finite g_min < g_max; got ({g_min}, {g_max})")
    if method not in ("auto", "pairwise", "common"):
        raise ValueError(f"method must be 'auto', 'pairwise' or 'common'; got {method!r}")
    if method == "pairwise" and a.size > MAX_EXACT_VOCAB:
        raise ValueError(f"method='pairwise' needs V <= {MAX_EXACT_VOCAB}; got V = {a.size} (use 'common')")
    if method == "common" or (method == "auto" and a.size > MAX_EXACT_VOCAB):
        if not (np.isfinite(panel) and panel > 0):
            raise ValueError(f"panel must be a positive width; got {panel!r}")
        law, err = _common_node_law(a, float(g_min), float(g_max), float(panel))
        return check_law(law, route="truncated Gumbel-max law (common nodes)", error=err,
                         regime=f"V={a.size}, g in [{g_min:.4g}, {g_max:.4g}]"), err
    F0, F1 = _cdf(g_min), _cdf(g_max)
    mass = F1 - F0

    def f_t(z):
        return np.exp(-z - np.exp(-z)) / mass

    def cdf_t(y):
        return np.clip((_cdf(np.clip(y, g_min, g_max)) - F0) / mass, 0.0, 1.0)

    live = np.isfinite(a)
    law = np.zeros(a.size)
    err = 0.0
    x12, w12 = np.polynomial.legendre.leggauss(12)
    x24, w24 = np.polynomial.legendre.leggauss(24)
    for s in np.nonzero(live)[0]:
        others = np.delete(a[live], np.searchsorted(np.nonzero(live)[0], s))
        shift = a[s] - others  # z + shift crosses g_min, g_max at these points
        grid = np.arange(max(g_min, -6.0), min(g_max, 50.0), PANEL)
        cuts = np.concatenate([[g_min, g_max], g_min - shift, g_max - shift, grid])
        cuts = np.unique(cuts[(cuts >= g_min) & (cuts <= g_max)])
        total = {12: 0.0, 24: 0.0}
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            for (x, w), key in (((x12, w12), 12), ((x24, w24), 24)):
                z = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
                vals = f_t(z) * np.prod(cdf_t(z[:, None] + shift[None, :]), axis=1)
                total[key] += 0.5 * (hi - lo) * float(w @ vals)
        law[s] = total[24]
        err += abs(total[24] - total[12])
    return check_law(law, route="truncated Gumbel-max law (pairwise)", error=err,
                     regime=f"V={a.size}, g in [{g_min:.4g}, {g_max:.4g}]"), err


#: the most doublings of |log θ| that effective_temperature spends bracketing its root
MAX_BRACKET_DOUBLINGS = 12
Y_BAND = 41.5  # 1 − e^{−y} == 1 in float64 for y above this: the tail factors below are exactly 1 there


class _Envelope:
    """log E(t) = Σ_s log F_T(t − a_s) at any points t ≥ t₀, in O(log V) per point plus a short band.

    With A = e^{−g_min} and x = t − a_s < g_max,
    log F_T(x) = −(e^{−x} − e^{−g_max}) + log(1 − e^{−(A − e^{−x})}) − log(1 − e^{−(A − e^{−g_max})}):
    the first term sums over the tokens with x < g_max by prefix sums of e^{a_s} over sorted logits; the
    second is non-zero only for the few tokens with A − e^{−x} < Y_BAND (x near g_min)."""

    def __init__(self, a, g_min, g_max):
        self.a = np.sort(a)[::-1]
        self.amax, self.g_min, self.g_max = float(self.a[0]), g_min, g_max
        self.A, self.eg = np.exp(-g_min), np.exp(-g_max)
        self.cum = np.concatenate([[0.0], np.cumsum(np.exp(self.a - self.amax))])
        self.c1 = np.log(-np.expm1(self.eg - self.A))
        self.x_band = -np.log(self.A - Y_BAND) if self.A > Y_BAND else np.inf

    def _count_above(self, thresholds):
        return np.searchsorted(-self.a, -thresholds, side="left")  # #{s : a_s > threshold}

    def __call__(self, t):
        t = np.asarray(t, dtype=np.float64)
        flat = t.ravel()
        cnt = self._count_above(flat - self.g_max)
        out = -(np.exp(self.amax - flat) * self.cum[cnt] - cnt * self.eg) - cnt * self.c1
        nb = cnt if np.isinf(self.x_band) else np.minimum(cnt, self._count_above(flat - self.x_band))
        for i in np.nonzero(nb)[0]:
            x = flat[i] - self.a[:nb[i]]
            out[i] += np.log(-np.expm1(np.exp(-x) - self.A)).sum()
        return out.reshape(t.shape)


def _bary_weights(x):
    d = x[:, None] - x[None, :]
    np.fill_diagonal(d, 1.0)
    return 1.0 / d.prod(axis=1)


def _common_node_law(a, g_min, g_max, panel):
    live = np.isfinite(a)
    env = _Envelope(a[live], g_min, g_max)
    amax, A = env.amax, env.A
    t0, t1 = amax + g_min, amax + g_max
    n_panels = max(1, int(np.ceil((t1 - t0) / panel)))
    h = (t1 - t0) / n_panels
    left = t0 + h * np.arange(n_panels)
    idx = np.nonzero(live & (a + g_max > t0))[0]  # the others need more noise than the range holds
    at = a[idx]
    scale = np.exp(at - amax)
    upper = at + g_max
    k_cut = np.minimum(((upper - t0) / h).astype(np.int64), n_panels - 1)  # panel holding the upper limit
    frac = (upper - left[k_cut]) / h  # fraction of the cut panel below the upper limit (1 = whole panel)

    def integrand(z, log_e):
        """ρ(z)·E = e^{−z}E / (1 − e^{−(A − e^{−z})}), ρ = f_T/F_T the reversed hazard."""
        return np.exp(-z + log_e) / -np.expm1(np.exp(-z) - A)

    laws = {}
    for n in (12, 24):
        x, w = np.polynomial.legendre.leggauss(n)
        nodes = left[:, None] + 0.5 * h * (x[None, :] + 1.0)  # (panels, n)
        logE = env(nodes)
        # whole panels below the cut: where 1 − e^{−y} == 1 the integrand is e^{a_s − amax}·e^{amax − t}E(t)
        base = (w[None, :] * np.exp(amax - nodes + logE)).sum(axis=1)
        total = scale * np.concatenate([[0.0], np.cumsum(base)])[k_cut]
        # ... plus the band correction e^{−z}E / expm1(y) for tokens near the top (x near g_min)
        near = np.nonzero(at > t0 - env.x_band)[0]  # tokens whose x = t − a_s can fall in the band
        n_band = n_panels if np.isinf(env.x_band) else int(np.searchsorted(left, amax + env.x_band)) + 1
        for lo in range(0, near.size, 2048):
            j = near[lo:lo + 2048]
            z = nodes[None, :n_band] - at[j, None, None]
            y = A - np.exp(-z)
            ok = (np.arange(min(n_band, n_panels))[None, :, None] < k_cut[j, None, None]) & (y < Y_BAND)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                corr = np.where(ok, np.exp(-z + logE[None, :n_band]) / np.expm1(y), 0.0)
            total[j] += np.einsum("jpn,n->j", corr, w)
        total *= 0.5 * h
        # the cut panel [left_k, left_k + frac·h] with its own Gauss rule; log E interpolated there
        bw = _bary_weights(x)
        for lo in range(0, idx.size, 4096):
            sl = slice(lo, lo + 4096)
            s_k, s_f = k_cut[sl], frac[sl]
            y = -1.0 + s_f[:, None] * (x[None, :] + 1.0)  # cut-rule nodes in the panel's [−1, 1]
            diff = y[:, :, None] - x[None, None, :]
            hit = np.abs(diff) < 1e-15
            with np.errstate(divide="ignore"):
                c = bw[None, None, :] / np.where(hit, 1.0, diff)
            c = np.where(hit.any(axis=2, keepdims=True), hit.astype(float), c)
            log_cut = np.einsum("sij,sj->si", c, logE[s_k]) / c.sum(axis=2)
            t_cut = left[s_k][:, None] + 0.5 * h * (y + 1.0)
            first = s_k == 0  # next to the log-singularity of E at t₀: evaluate exactly
            if first.any():
                log_cut[first] = env(t_cut[first])
            total[sl] += 0.5 * h * s_f * (integrand(t_cut - at[sl, None], log_cut) @ w)
        laws[n] = total
    law = np.zeros(a.size)
    law[idx] = laws[24]
    return law, float(np.abs(laws[24] - laws[12]).sum())


def zipf_logits(vocab_size: int, exponent: float = 1.1) -> np.ndarray:
    """Logits −s·log r of a Zipf law over ranks r = 1..V: a long-tailed vocabulary.

    Spec: §9.

    Parameters
    ----------
    vocab_size : int
        V.
    exponent : float
        s > 0.

    Returns
    -------
    numpy.ndarray, shape (V,)

    Raises
    ------
    ValueError
        If V or s is invalid.

    Examples
    --------
    >>> zipf_logits(3, 1.0).round(4).tolist()
    [-0.0, -0.6931, -1.0986]
    """
    if isinstance(vocab_size, bool) or int(vocab_size) != vocab_size or vocab_size < 1:
        raise ValueError(f"vocab_size must be an integer >= 1; got {vocab_size!r}")
    if not (np.isfinite(exponent) and exponent > 0):
        raise ValueError(f"exponent must be positive and finite; got {exponent!r}")
    return -float(exponent) * np.log(np.arange(1, int(vocab_size) + 1, dtype=np.float64))


@dataclass(frozen=True)
class NoiseTemperatureRow:
    """One row of :func:`noise_temperature_table`.

    Spec: §9.

    Parameters
    ----------
    vocab_size : int
        V.
    exponent : float
        The Zipf exponent of the logits.
    temperature : float
        The nominal τ.
    dtype : str
        The noise dtype.
    effective_temperature : float
        The best-fitting τ_eff.
    dead_tokens : int
        Tokens that can never be drawn.
    dead_mass : float
        Their softmax mass.
    tv : float
        TV(law, softmax).
    entropy_change : float
        H(law) − H(softmax) in nats per draw (negative: colder).
    quadrature_error : float
        The error estimate of the law.

    Examples
    --------
    >>> NoiseTemperatureRow.__dataclass_fields__.keys() >= {"effective_temperature", "dead_tokens"}
    True
    """

    vocab_size: int
    exponent: float
    temperature: float
    dtype: str
    effective_temperature: float
    dead_tokens: int
    dead_mass: float
    tv: float
    entropy_change: float
    quadrature_error: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


#: the largest vocabulary :func:`noise_temperature_table` takes by default (about 45 s and 2 GB; raise ``max_vocab``)
DEFAULT_MAX_NOISE_VOCAB = 5_000_000


def noise_temperature_table(vocab_sizes=(1000, 10_000, 50_257), exponents=(1.1,),
                            temperatures=(0.25, 0.5, 0.75, 1.0), dtypes=("float32", "float64"),
                            *, panel: float = 0.1, max_vocab: int = DEFAULT_MAX_NOISE_VOCAB) -> list[NoiseTemperatureRow]:
    """The effective against the nominal temperature of Gumbel-max sampling with float32 or float64 noise.

    Spec: §9. For each (V, exponent, τ, dtype): the exact law of argmax(a/τ + G) with G truncated to
    :func:`gumbel_noise_range`, compared with softmax(a/τ), on Zipf logits.

    Parameters
    ----------
    vocab_sizes, exponents, temperatures, dtypes : sequences
        The grid.
    panel : float
        Panel width of the quadrature.
    max_vocab : int
        Refuse, before any work, a vocabulary larger than this (the cost grows like V in time and memory).

    Returns
    -------
    list of NoiseTemperatureRow

    Raises
    ------
    ValueError
        If a parameter is invalid.

    Examples
    --------
    >>> rows = noise_temperature_table(vocab_sizes=(100,), temperatures=(1.0,), dtypes=("float64",))
    >>> abs(rows[0].effective_temperature - 1.0) < 1e-3
    True
    """
    from scipy.special import entr, softmax

    for V in vocab_sizes:
        if isinstance(V, bool) or int(V) != V or V < 2:
            raise ValueError(f"vocab_sizes must be integers >= 2; got {V!r}")
        if V > max_vocab:
            raise ValueError(f"vocab_size={V} needs about {V * 2.2e-6 * 4:.3g} s and {V * 400 / 1e9:.3g} GB per row, "
                             f"more than max_vocab={max_vocab}; raise max_vocab (CLI: --max-vocab) to run it anyway")
    for dtype in dtypes:
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtypes must be 'float32' or 'float64'; got {dtype!r}")
    rows = []
    for dtype in dtypes:
        lo, hi = gumbel_noise_range(dtype)
        for V in vocab_sizes:
            for s in exponents:
                base = zipf_logits(V, s)
                for tau in temperatures:
                    if not (np.isfinite(tau) and tau > 0):
                        raise ValueError(f"temperatures must be positive; got {tau!r}")
                    a = base / tau
                    law, err = truncated_gumbel_max_law(a, lo, hi, method="common", panel=panel)
                    ref = softmax(a)
                    dead = law == 0
                    t_eff = effective_temperature(base, law)
                    dh = float(entr(law).sum() - entr(ref).sum())
                    rows.append(NoiseTemperatureRow(int(V), float(s), float(tau), dtype, t_eff, int(dead.sum()),
                                                    float(ref[dead].sum()), float(0.5 * np.abs(law - ref).sum()),
                                                    dh, err))
    return rows


def effective_temperature(logits, law) -> float:
    """The temperature τ that minimises KL(law ‖ softmax(logits/τ)): what a finite-precision law looks like.

    Spec: §9. **Convention:** the best fit in KL from the law's side.

    Parameters
    ----------
    logits : array_like, shape (V,)
        The logits at temperature 1.
    law : array_like, shape (V,)
        The law to fit.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import softmax
    >>> a = np.log([0.6, 0.3, 0.1])
    >>> round(effective_temperature(a, softmax(a / 0.5)), 6)
    0.5
    """
    a = np.asarray(logits, dtype=np.float64).ravel()
    p = np.asarray(law, dtype=np.float64).ravel()
    if a.shape != p.shape or a.size < 2:
        raise ValueError(f"logits and law must be two vectors of the same length >= 2; got {a.shape} and {p.shape}")
    finite = np.isfinite(a)
    if np.any(p[~finite] > 0):
        raise ValueError("law puts mass on a token whose logit is -inf; no temperature fits it")
    a, p = a[finite], p[finite] / p[finite].sum()
    # KL(p ‖ softmax(θ a)) is convex in θ = 1/τ with derivative E_softmax(θa)[a] − E_p[a]: the minimiser
    # matches the mean logit, a root found exactly in log θ (no bound on the answer). Logits are measured
    # from their maximum, so that the means of nearly degenerate laws keep their digits.
    b = a - a.max()
    if np.ptp(b) == 0:
        return math.inf
    target = float(p @ b)
    if target == 0.0:  # all mass on the maxima: the zero-temperature limit
        return 0.0
    if target <= b.mean():
        return math.inf

    def excess(log_theta):
        with np.errstate(over="ignore", invalid="ignore"):  # θ = inf gives NaN, which the bracketing refuses
            q = np.exp(log_softmax(np.exp(log_theta) * b))
        return float(q @ b) - target

    # bracket the root by doubling |log θ|; 12 doublings already span θ from e^−4096 to e^4096, past float64,
    # so a bracket not found by then is one that rounding hides (a law float64 cannot tell from uniform, or from
    # its argmax): refused rather than looped on
    lo, hi = -1.0, 1.0
    for _ in range(MAX_BRACKET_DOUBLINGS):
        if not excess(lo) > 0:
            break
        lo *= 2.0
    else:
        raise ValueError("effective_temperature: the law cannot be told from uniform in float64 (no bracket for "
                         f"log(1/T) down to {lo:g}); its temperature is beyond float64's resolution")
    for _ in range(MAX_BRACKET_DOUBLINGS):
        if not excess(hi) < 0:
            break
        hi *= 2.0
    else:
        raise ValueError("effective_temperature: the law cannot be told from its argmax in float64 (no bracket for "
                         f"log(1/T) up to {hi:g}); its temperature is below float64's resolution")
    if not (np.isfinite(excess(lo)) and np.isfinite(excess(hi))):
        raise ValueError("effective_temperature: the fitted temperature lies outside float64's range")
    return float(np.exp(-brentq(excess, lo, hi, xtol=1e-13, rtol=1e-15, maxiter=200)))
