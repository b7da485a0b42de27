"""Exact multi-round output laws of ten samplers on a 3×3 Ising target, cosine schedule, K = 4.

Run with ``mdtheory bench --only output_laws_ising3x3``; the result is ``output_laws_ising3x3.json``."""

from __future__ import annotations


def grid_samplers(h: int, w: int, *, deterministic_only: bool) -> dict:
    from mdtheory.rules.orders import halton_order, raster_order
    from mdtheory.rules.samplers import CTS, EB, MaskGIT, Moment, UMoment
    from mdtheory.rules.positions import ConfidenceRule, EntropyRule, FixedOrderRule, HybridRule, UniformRule

    halton = FixedOrderRule(tuple(int(i) for i in halton_order(h, w)))
    out = {"halton": CTS(halton), "raster": CTS(FixedOrderRule(tuple(int(i) for i in raster_order(h * w)))),
           "confidence": CTS(ConfidenceRule()), "entropy": CTS(EntropyRule()),
           "hybrid": CTS(HybridRule(ConfidenceRule(), halton, 0.5)), "eb": EB(1.0)}
    if not deterministic_only:
        out.update({"uniform": CTS(UniformRule()), "maskgit": MaskGIT(1.0), "moment": Moment(1.0),
                    "umoment": UMoment(1.0)})
    return out


def run(quick: bool, device: str = "cpu") -> dict:
    import time

    from mdtheory.multiround.output_laws import output_law
    from mdtheory.targets import ising_grid

    g = ising_grid(3, 3, coupling=0.6, field=0.1)
    rows = []
    for name, s in grid_samplers(3, 3, deterministic_only=quick).items():
        t0 = time.perf_counter()
        law = output_law(g, s, "cosine", n_steps=4)
        rows.append({"sampler": name, "seconds": time.perf_counter() - t0, "kl": law.kl, "path_kl": law.path_kl,
                     "n_states": law.n_states})
    return {"name": "output_laws_ising3x3", "schedule": "cosine, K=4", "rows": rows,
            "median_s": sum(r["seconds"] for r in rows), "target_s": 10.0}
