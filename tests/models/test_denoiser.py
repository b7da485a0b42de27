"""The transformer denoiser and partial caching: shapes and errors, the cached rows pass
against the full pass, r = 1 against the uncached loop draw for draw, NFE accounting, checkpoints."""

import numpy as np
import pytest
import torch

from mdtheory.models.denoiser import DenoiserConfig, MaskedDenoiser, load_denoiser, save_denoiser
from mdtheory.sampling.partial_caching import PartialCaching, sample_partial_caching, split_sizes
from mdtheory.rules.positions import ConfidenceRule, MomentRule
from mdtheory.rules.samplers import CTS, MaskGIT, Moment, UMoment
from mdtheory.sampling.loop import sample

V, N = 7, 20


def _model(grid=None, dtype=torch.float64):
    torch.manual_seed(0)
    cfg = DenoiserConfig(vocab_size=V, seq_len=N, grid=grid, d_model=32, n_layers=2, n_heads=4, d_ff=64)
    return MaskedDenoiser(cfg).to(dtype).eval()


def test_config_validation():
    with pytest.raises(ValueError, match="divisible"):
        DenoiserConfig(vocab_size=3, seq_len=4, d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="grid"):
        DenoiserConfig(vocab_size=3, seq_len=6, grid=(2, 2))
    with pytest.raises(ValueError, match="vocab_size"):
        DenoiserConfig(vocab_size=0, seq_len=6)
    with pytest.raises(ValueError, match="unknown"):
        DenoiserConfig.from_dict({"vocab_size": 3, "seq_len": 4, "bogus": 1})


@pytest.mark.parametrize("grid", [None, (4, 5)])
def test_shapes_and_bad_tokens(grid):
    m = _model(grid)
    x = torch.randint(0, V + 1, (3, N))
    assert m(x).shape == (3, N, V)  # logits over the vocabulary only: the mask is never predicted
    with pytest.raises(ValueError, match="shape"):
        m(torch.zeros(3, N + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids"):
        m(torch.full((1, N), V + 1))


def test_rows_pass_equals_full_pass_when_nothing_changed():
    m = _model()
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, V + 1, (4, N), generator=g)
    with torch.no_grad():
        logits, cache = m.full_pass(x)
        rows = torch.stack([torch.randperm(N, generator=g)[:6] for _ in range(4)])
        got = m.rows_pass(x, rows, cache)
        ref = logits.gather(1, rows[..., None].expand(-1, -1, V))
        assert (got - ref).abs().max() < 1e-12
        # all rows recomputed: fresh everywhere, even from a stale cache
        _, stale = m.full_pass(torch.full_like(x, V))
        every = torch.arange(N).expand(4, -1)
        assert (m.rows_pass(x, every, stale) - logits).abs().max() < 1e-12


def test_rows_pass_sees_stale_keys():
    m = _model()
    x = torch.full((1, N), V)
    y = x.clone()
    y[0, :5] = 2
    with torch.no_grad():
        _, cache = m.full_pass(x)
        rows = torch.tensor([[10, 11]])
        stale = m.rows_pass(y, rows, cache)
        fresh = m(y)[:, 10:12]
    assert (stale - fresh).abs().max() > 1e-6  # positions 0–4 changed but their cached K/V did not


@pytest.mark.parametrize("sampler", [Moment(1.0), UMoment(0.5), CTS(ConfidenceRule()), CTS(MomentRule(alpha=2.0))],
                         ids=["moment", "umoment", "confidence", "cts-moment"])
def test_r1_equals_the_uncached_loop_draw_for_draw(sampler):
    m = _model()
    ref = sample(m.predictor(), seq_len=N, schedule="cosine", n_steps=5, sampler=sampler, batch_size=8, mask_id=V,
                 generator=torch.Generator().manual_seed(3))
    got = sample_partial_caching(m, sampler=sampler, caching=PartialCaching(r=1), schedule="cosine", n_steps=5,
                                 batch_size=8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(ref.tokens, got.tokens) and torch.equal(ref.reveal_step, got.reveal_step)
    assert got.nfe == 5.0 and got.rows_passes == 0


def test_cached_run_reveals_everything_once_and_counts_nfe():
    m = _model()
    res = sample_partial_caching(m, sampler=Moment(1.0), caching=PartialCaching(r=4), schedule=[8, 8, 4],
                                 batch_size=5, generator=torch.Generator().manual_seed(4))
    steps = res.reveal_step.numpy()
    assert (steps >= 0).all() and ((res.tokens >= 0) & (res.tokens < V)).all()
    # sub-step sizes: 8 → 2,2,2,2; 4 → 1,1,1,1; each row reveals exactly those counts
    assert (np.stack([np.bincount(r, minlength=12) for r in steps]) == [2] * 8 + [1] * 4).all()
    assert res.full_passes == 3 and res.rows_passes == 9
    assert res.nfe == pytest.approx(3 + 3 * 8 / N + 3 * 8 / N + 3 * 4 / N)
    full = sample_partial_caching(m, sampler=Moment(1.0), caching=PartialCaching(r=4, refresh_every=1),
                                  schedule=[8, 8, 4], batch_size=5, generator=torch.Generator().manual_seed(4))
    assert full.full_passes == 12 and full.rows_passes == 0 and full.nfe == 12.0


def test_partial_caching_bad_input():
    with pytest.raises(ValueError, match="r must"):
        PartialCaching(r=0)
    with pytest.raises(ValueError, match="sum to 1"):
        PartialCaching(r=2, split=(0.5, 0.6))
    with pytest.raises(ValueError, match="refresh_every"):
        PartialCaching(r=2, refresh_every=0)
    assert split_sizes(7, PartialCaching(r=3)) == [3, 2, 2]
    assert split_sizes(10, PartialCaching(r=2, split=(0.3, 0.7))) == [3, 7]
    assert split_sizes(2, PartialCaching(r=4)) == [1, 1]
    with pytest.raises(ValueError, match="choose-then-sample"):
        sample_partial_caching(_model(), sampler=MaskGIT(1.0), caching=PartialCaching(r=2), schedule=[N],
                               batch_size=1)


def test_checkpoint_roundtrip(tmp_path):
    m = _model((4, 5), dtype=torch.float32)
    save_denoiser(m, tmp_path, metadata={"data": "test"})
    m2, meta = load_denoiser(tmp_path)
    x = torch.randint(0, V + 1, (2, N))
    assert torch.equal(m(x), m2(x)) and meta["data"] == "test"
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_denoiser(tmp_path)


@pytest.mark.gpu
def test_cuda_path_matches_cpu():
    # one code path: the same model on CUDA gives the same logits (float64) and the cached sampler runs there
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    m = _model()
    x = torch.randint(0, V + 1, (4, N), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(m(x), m.cuda()(x.cuda()).cpu(), atol=1e-10)
    res = sample_partial_caching(m, sampler=Moment(1.0), caching=PartialCaching(r=2), schedule=[10, 10], batch_size=4,
                                 generator=torch.Generator(device="cuda").manual_seed(0), device="cuda")
    assert res.tokens.is_cuda and bool((res.reveal_step >= 0).all())
