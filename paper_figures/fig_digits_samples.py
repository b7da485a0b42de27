"""Samples from the shipped digits denoiser: MaskGIT and the moment sampler, 8 cosine steps.

Entry script: draws the figure with :mod:`mdtheory.figures.fig_digits_samples`, the same as
``mdtheory figures --only digits_samples``. Usage: ``python paper_figures/fig_digits_samples.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "digits_samples", *sys.argv[1:]]))
