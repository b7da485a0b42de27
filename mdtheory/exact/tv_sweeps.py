"""The exact TV sweeps of one round (§4.2 (a)–(b)): the tasks (grids of N, k, α, V and seeds), the task function
(the exact MaskGIT–moment TV of one table), and the slopes of TV against N and k fitted from their rows.

They run through the generic resumable runner :func:`mdtheory.sweeps.runner.run_sweep`.
"""

from __future__ import annotations

import math

import numpy as np

from ..sweeps.fits import fit_loglog_slope

__all__ = ["tv_sweep_tasks", "tv_sweep_task",
           "tv_sweep_slopes", "rows_for", "TV_SCALING", "tv_scaling_tasks"]


def tv_sweep_tasks(*, family: str, n_values, k_values, alpha_values, vocab_values, reps: int = 1,
                   concentration: float = 1.0, seed: int = 0) -> list[dict]:
    """Grid of one-round TV tasks; combinations with k > N are skipped (an empty grid is refused)."""
    from .._validation import check_alpha, check_method, check_positive_int

    check_method(family, allowed=("dirichlet", "homogeneous"), name="family")
    for name, values, minimum in (("n_values", n_values, 1), ("k_values", k_values, 1), ("vocab_values", vocab_values, 2)):
        if not len(values):
            raise ValueError(f"{name} must not be empty")
        for v in values:
            check_positive_int(v, name=name, minimum=minimum)
    for a in alpha_values:
        check_alpha(a, name="alpha")
    check_positive_int(reps, name="reps")
    if not (math.isfinite(concentration) and concentration > 0):
        raise ValueError(f"concentration must be finite and > 0; got concentration={concentration!r}")
    tasks = []
    for V in vocab_values:
        for N in n_values:
            for k in k_values:
                if k > N:
                    continue
                for a in alpha_values:
                    for r in range(reps):
                        tasks.append(dict(family=family, n_masked=int(N), k=int(k), alpha=float(a),
                                          vocab_size=int(V), rep=r, concentration=float(concentration),
                                          seed=int(seed)))
    if not tasks:
        raise ValueError("the sweep has no tasks: every k exceeds every N")
    return tasks


def rows_for(task: dict) -> np.ndarray:
    """The prediction rows of a sweep task: Dirichlet(concentration) rows seeded by (seed, N, V, rep), or
    one Dirichlet row seeded by (seed, V, rep) repeated (homogeneous) — shared across k and α."""
    V, c = task["vocab_size"], task["concentration"]
    if task["family"] == "homogeneous":
        rng = np.random.default_rng([task["seed"], V, task["rep"], 1])
        return rng.dirichlet(np.full(V, c))[None, :]
    rng = np.random.default_rng([task["seed"], task["n_masked"], V, task["rep"]])
    return rng.dirichlet(np.full(V, c), size=task["n_masked"])


def tv_sweep_task(task: dict) -> dict:
    """Exact TV(MaskGIT, moment) and Σ_j m_j for one task."""
    from .distances import maskgit_moment_tv
    from .homogeneous import homogeneous_maskgit_moment_tv
    from .round_laws import moment_log_m

    rows = rows_for(task)
    if task["family"] == "homogeneous":
        r = homogeneous_maskgit_moment_tv(rows[0], n_masked=task["n_masked"], k=task["k"], alpha=task["alpha"])
        sum_m = task["n_masked"] * float(np.exp(moment_log_m(rows, task["alpha"]))[0])
    else:
        r = maskgit_moment_tv(rows, k=task["k"], alpha=task["alpha"])
        sum_m = float(np.exp(moment_log_m(rows, task["alpha"])).sum())
    return {"tv": r.tv, "quad_error": r.quad_error, "sum_m": sum_m, "route": r.route}


def tv_sweep_slopes(rows: list[dict]) -> dict:
    """Log-log slopes of the mean TV in N (per family, k, α, V) and in k (per family, N, α, V).

    Spec: §4.2 (b). Lines with fewer than two points are left out; a two-point slope has an undefined
    (NaN) standard error. A mean TV no larger than the mean of its rows' ``quad_error`` is unresolved: it is
    left out of the fit and counted in ``n_unresolved``.
    """
    from collections import defaultdict

    mean: dict = defaultdict(list)
    for r in rows:
        mean[(r["family"], r["n_masked"], r["k"], r["alpha"], r["vocab_size"])].append(
            (r["tv"], r.get("quad_error", 0.0)))
    avg = {key: tuple(float(np.mean(c)) for c in zip(*v)) for key, v in mean.items()}
    groups_n: dict = defaultdict(list)
    groups_k: dict = defaultdict(list)
    for (fam, N, k, a, V), (tv, err) in avg.items():
        groups_n[(fam, k, a, V)].append((N, tv, err))
        groups_k[(fam, N, a, V)].append((k, tv, err))

    def fits(groups: dict, names: tuple[str, ...]) -> list[dict]:
        out = []
        for key, pts in sorted(groups.items()):
            if len(pts) >= 2:
                x, y, err = zip(*sorted(pts))
                f = fit_loglog_slope(x, y, error=err)
                out.append(dict(zip(names, key), slope=f.slope, stderr=f.stderr, n_points=f.n_points,
                                n_unresolved=f.n_unresolved))
        return out

    return {"in_n": fits(groups_n, ("family", "k", "alpha", "vocab_size")),
            "in_k": fits(groups_k, ("family", "n_masked", "alpha", "vocab_size"))}


#: the grids of the TV-scaling sweep (``mdtheory sweep tv --preset scaling``)
TV_SCALING = {
    "alphas": (0.5, 1.0, 2.0), "vocab_sizes": (2, 4),
    "k2_n": tuple(2 ** e for e in range(4, 13)),  # N = 16 … 4096 at k = 2
    "k3_n": tuple(2 ** e for e in range(4, 9)),  # N = 16 … 256 at k = 3
    "homogeneous_n": 4096,  # the homogeneous route: k = 1, 2, 4, … while the memory estimate fits
}


def tv_scaling_tasks(*, seed: int = 0, max_bytes: float | None = None) -> tuple[list[dict], list[dict]]:
    """The TV-scaling sweep: exact TV(MaskGIT, moment) in N and in k, and the homogeneous route up to the
    largest k whose memory estimate fits.

    Spec: §3.5, §4.2. Dirichlet(1) rows at k = 2 for N = 16 … 4096 and at k = 3 for N = 16 … 256; one
    shared Dirichlet(1) row at N = 4096 for k = 1, 2, 4, … (homogeneous reduction); V ∈ {2, 4} and
    α ∈ {0.5, 1, 2} throughout (:data:`TV_SCALING`).

    Parameters
    ----------
    seed : int
        Seeds the rows.
    max_bytes : float, optional
        The memory limit of the homogeneous route (default
        :data:`mdtheory.exact.homogeneous.DEFAULT_MAX_HOMOGENEOUS_BYTES`).

    Returns
    -------
    tasks : list of dict
        The tasks, for :func:`run_sweep` with :func:`tv_sweep_task`.
    refused : list of dict
        For each V, the first k of the homogeneous route that the memory estimate refused (``k``,
        ``vocab_size``, ``bytes``, ``max_bytes``); empty where every k up to N fits.

    Examples
    --------
    >>> tasks, refused = tv_scaling_tasks()
    >>> len(tasks), [(r["vocab_size"], r["k"]) for r in refused]
    (150, [(4, 512)])
    """
    from .homogeneous import DEFAULT_MAX_HOMOGENEOUS_BYTES, homogeneous_law_bytes

    g = TV_SCALING
    limit = DEFAULT_MAX_HOMOGENEOUS_BYTES if max_bytes is None else max_bytes
    common = dict(alpha_values=g["alphas"], vocab_values=g["vocab_sizes"], seed=seed)
    tasks = tv_sweep_tasks(family="dirichlet", n_values=g["k2_n"], k_values=[2], **common)
    tasks += tv_sweep_tasks(family="dirichlet", n_values=g["k3_n"], k_values=[3], **common)
    refused = []
    n = g["homogeneous_n"]
    for V in g["vocab_sizes"]:
        k_values = []
        k = 1
        while k <= n:
            need = homogeneous_law_bytes(k, V)
            if need > limit:
                refused.append(dict(vocab_size=V, k=k, bytes=need, max_bytes=limit))
                break
            k_values.append(k)
            k *= 2
        tasks += tv_sweep_tasks(family="homogeneous", n_values=[n], k_values=k_values, alpha_values=g["alphas"],
                                vocab_values=[V], seed=seed)
    return tasks, refused
