"""Monte-Carlo experiment drivers on real models, run by ``mdtheory simulate NAME``.

Each driver module exposes ``NAME``, ``PRESETS`` (``smoke`` and ``paper``), ``tasks(preset, seed)``,
``run_task(task, device)``, ``summarise(rows, out_dir)`` and ``main(out_dir, *, preset, seed, device,
progress)``; results are written atomically and resume after interruption. The top-level
``simulations/`` folder holds one thin entry script per driver.
"""

DRIVERS = ("real_asymptotics", "quality", "kl_bounds", "schedules")
