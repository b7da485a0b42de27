"""Exact output laws of the deterministic samplers on a 4×4 Ising target (the path formula).

Run with ``mdtheory bench --only path_formula_grid``; the result is ``path_formula_grid.json``."""

from __future__ import annotations

from mdtheory.bench import load_benchmark


def run(quick: bool, device: str = "cpu") -> dict:
    import time

    from mdtheory.multiround.output_laws import output_law
    from mdtheory.targets import ising_grid

    h = 3 if quick else 4
    g = ising_grid(h, h, coupling=0.5, field=0.1)
    rows = []
    for name, s in load_benchmark("output_laws_ising3x3").grid_samplers(h, h, deterministic_only=True).items():
        t0 = time.perf_counter()
        law = output_law(g, s, "cosine", n_steps=4)
        rows.append({"sampler": name, "seconds": time.perf_counter() - t0, "kl": law.kl, "path_kl": law.path_kl,
                     "n_states": law.n_states})
    return {"name": "path_formula_grid", "grid": f"{h}x{h}", "rows": rows,
            "median_s": sum(r["seconds"] for r in rows), "target_s": 60.0}
