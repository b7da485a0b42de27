"""Monte-Carlo experiment drivers (thin layers over mdtheory), run by ``mdtheory simulate NAME``.

Each driver module exposes ``PRESETS`` (``smoke`` and ``paper``) and ``main(out_dir, *, preset, seed,
device, progress)``; results are written atomically and resume after interruption.
"""

DRIVERS = ("real_asymptotics", "quality", "kl_bounds", "schedules")
