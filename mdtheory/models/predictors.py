"""Prediction functions both ways: a target's exact conditionals as a model for the sampling loop (the
"ideal model"), and a prediction function of the loop as a set-keyed model for the exact laws.

A prediction function is ``predict(tokens, masked) -> Tensor`` as in :func:`mdtheory.sample`; a set-keyed
model has ``conditionals(values, revealed) -> (N, q)`` (and optionally ``conditionals_batch``) as the
targets of :mod:`mdtheory.multiround.targets` do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..targets.tables import batch_conditionals
from ..sampling.rounds import to_log_probs

__all__ = ["PredictorModel", "target_predictor"]


@dataclass(frozen=True)
class PredictorModel:
    """A prediction function of the sampling loop, as a set-keyed model for the exact laws and estimators.

    Spec: §5.1, §5.3. ``conditionals(values, revealed)`` calls ``predict`` on one row and normalises;
    ``conditionals_batch`` does a batch in one call. Masked positions are passed as ``mask_id``.

    Parameters
    ----------
    predict : callable
        ``predict(tokens, masked) -> Tensor`` as in :func:`mdtheory.sample`.
    n : int
        N.
    output : {"logits", "probs", "log_probs"}
        What ``predict`` returns.
    mask_id : int
        The token at masked positions.

    Examples
    --------
    >>> from mdtheory.targets import repeated_bit
    >>> m = PredictorModel(target_predictor(repeated_bit(3)), n=3, output="log_probs")
    >>> m.conditionals([1, 0, 0], [True, False, False]).round(6).tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    """

    predict: object
    n: int
    output: str = "logits"
    mask_id: int = 0

    def conditionals_batch(self, values, revealed) -> np.ndarray:
        revealed = np.asarray(revealed, dtype=bool)
        tokens = torch.as_tensor(np.where(revealed, values, self.mask_id), dtype=torch.long)
        with torch.no_grad():
            out = self.predict(tokens, torch.as_tensor(~revealed))
        lp = to_log_probs(out.to(torch.float64), kind=self.output)
        return torch.softmax(lp, dim=-1).cpu().numpy()

    def conditionals(self, values, revealed) -> np.ndarray:
        return self.conditionals_batch(np.asarray(values)[None], np.asarray(revealed)[None])[0]


def target_predictor(target):
    """A prediction function for :func:`mdtheory.sample` backed by a target's exact conditionals: the ideal model.

    Spec: §4.3, §5 (with exact conditionals the only error left is the sampler's own).

    Parameters
    ----------
    target : object
        A target with ``conditionals`` (a :class:`JointTable` or :class:`MarkovChain`).

    Returns
    -------
    callable
        ``predict(tokens, masked) -> (B, N, q)`` float64 log-probabilities, on the device of ``tokens``.

    Examples
    --------
    >>> from mdtheory import CTS, sample
    >>> from mdtheory.targets import repeated_bit
    >>> res = sample(target_predictor(repeated_bit(4)), seq_len=4, schedule=[1, 1, 1, 1], sampler=CTS(),
    ...              output="log_probs", batch_size=3, generator=0)
    >>> bool((res.tokens == res.tokens[:, :1]).all())  # every sample is a constant sequence
    True
    """

    def predict(tokens, masked):
        values = tokens.detach().cpu().numpy().copy()
        rev = ~masked.detach().cpu().numpy()
        values[~rev] = 0
        with np.errstate(divide="ignore"):
            lp = np.log(batch_conditionals(target, values, rev))
        return torch.as_tensor(lp, dtype=torch.float64, device=tokens.device)

    return predict
