"""Target distributions π on X^N with exact conditionals (§6), at their earlier path: they live in the targets
stage, :mod:`mdtheory.targets` (:mod:`~mdtheory.targets.tables`, :mod:`~mdtheory.targets.chains`,
:mod:`~mdtheory.targets.families`), and every name is importable from here too."""

from ..targets.chains import (MarkovChain, bigram_chain, binary_markov_chain, forbidden_bigram_transition,  # noqa: F401
                              markov_chain, potts_chain, stationary_law)
from ..targets.families import (beta_bernoulli, dirichlet_joint, global_parity, hidden_subset_parity,  # noqa: F401
                                ising_grid, noisy_repeated_bit, potts_grid, product_target, repeated_bit)
from ..targets.tables import MAX_TABLE_SIZE, JointTable, batch_conditionals, joint_table  # noqa: F401

__all__ = [
    "JointTable", "MarkovChain", "batch_conditionals", "joint_table", "dirichlet_joint", "product_target", "repeated_bit", "global_parity",
    "hidden_subset_parity", "markov_chain", "binary_markov_chain", "potts_chain", "ising_grid", "potts_grid",
    "beta_bernoulli", "noisy_repeated_bit", "stationary_law", "forbidden_bigram_transition", "bigram_chain",
]
