"""One script per figure; each exposes main(out_dir, *, quick=False, rng=0)."""
