"""Per-token against whole-sequence error on a bigram chain with forbidden transitions (§10.3).

Entry script: draws the figure with :mod:`mdtheory.figures.fig_sequence_error`, the same as
``mdtheory figures --only sequence_error``. Usage: ``python paper_figures/fig_sequence_error.py [--quick] [--out DIR]``.
"""

import sys

from mdtheory.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "--only", "sequence_error", *sys.argv[1:]]))
