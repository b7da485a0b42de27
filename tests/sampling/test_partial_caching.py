"""Partial caching (§4.6): each sub-step draws its tokens from the rows of its own positions."""

from types import SimpleNamespace

import pytest
import torch

from mdtheory import CTS, Moment
from mdtheory.rules import UniformRule
from mdtheory.sampling import PartialCaching, sample_partial_caching


class _PositionCodedModel:
    """A stand-in transformer whose prediction at position i is the token i mod V with certainty, so every
    revealed token shows which row it was drawn from."""

    def __init__(self, seq_len=12, vocab_size=5):
        self.config = SimpleNamespace(seq_len=seq_len, mask_id=vocab_size, vocab_size=vocab_size)

    def eval(self):
        return self

    def _logits(self, batch, rows):
        target = rows % self.config.vocab_size  # (B, R)
        out = torch.full((batch, rows.shape[1], self.config.vocab_size), -30.0, dtype=torch.float64)
        return out.scatter(2, target[..., None], 0.0)

    def full_pass(self, tokens):
        rows = torch.arange(tokens.shape[1]).expand(tokens.shape[0], -1)
        return self._logits(tokens.shape[0], rows), None

    def rows_pass(self, tokens, rows, cache):
        return self._logits(tokens.shape[0], rows)


@pytest.mark.parametrize("r,refresh", [(2, None), (3, None), (3, 2), (4, 1)])
@pytest.mark.parametrize("sampler", [Moment(1.0), CTS(UniformRule())], ids=["moment", "uniform"])
def test_each_sub_step_reads_its_own_rows(r, refresh, sampler):
    model = _PositionCodedModel()
    res = sample_partial_caching(model, sampler=sampler, caching=PartialCaching(r=r, refresh_every=refresh),
                                 schedule=[6, 6], batch_size=64, generator=0)
    expected = torch.arange(model.config.seq_len) % model.config.vocab_size
    assert torch.equal(res.tokens, expected.expand_as(res.tokens))
    assert int(res.reveal_step.max()) == 2 * min(r, 6) - 1  # every sub-step revealed something
