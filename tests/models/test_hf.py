"""Hugging Face masked-LM loader: a tiny randomly initialised BERT saved to disk (no hub
access), its errors, and AntiBERTy (marked ``antiberty``; CI installs it)."""

import json
import shutil

import pytest
import torch

transformers = pytest.importorskip("transformers")

from mdtheory.models.hf import load_hf_masked_lm  # noqa: E402

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny_bert")
    cfg = transformers.BertConfig(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    transformers.BertForMaskedLM(cfg).save_pretrained(str(d))
    (d / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return d


def test_tiny_bert_as_a_prediction_function(tiny_bert):
    p = load_hf_masked_lm(tiny_bert)
    assert p.mask_token_id == 4 and p.allowed.tolist() == [5, 6, 7, 8] and p.mask_id == 4
    assert p.prefix_ids == (2,) and p.suffix_ids == (3,)
    x = p.encode("abcdab")[None]
    masked = torch.tensor([[True, False, True, False, False, True]])
    out = p(torch.where(masked, p.mask_id, x), masked)
    assert out.shape == (1, 6, 4) and torch.isfinite(out).all()
    # the same logits as the raw model on the framed input, restricted to the allowed columns
    ids = torch.tensor([[2, 4, 6, 4, 8, 5, 4, 3]])
    raw = p.model(input_ids=ids).logits[0, 1:-1][:, [5, 6, 7, 8]]
    assert torch.allclose(out[0], raw)
    assert p.decode(x[0]) == "abcdab"


def test_sampling_loop_never_draws_special_tokens(tiny_bert):
    from mdtheory.rules.samplers import Moment
    from mdtheory.sampling.loop import sample

    p = load_hf_masked_lm(tiny_bert)
    res = sample(p, seq_len=6, schedule="cosine", n_steps=3, sampler=Moment(1.0), batch_size=16, mask_id=p.mask_id,
                 generator=torch.Generator().manual_seed(0))
    assert ((res.tokens >= 0) & (res.tokens < 4)).all()


def test_loader_errors(tiny_bert, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_hf_masked_lm(tmp_path / "nope")
    d = tmp_path / "noweights"
    shutil.copytree(tiny_bert, d)
    for w in d.glob("*.safetensors"):
        w.unlink()
    with pytest.raises(FileNotFoundError, match="weights"):
        load_hf_masked_lm(d)
    d = tmp_path / "badvocab"
    shutil.copytree(tiny_bert, d)
    (d / "vocab.txt").write_text("\n".join(VOCAB[:-1]) + "\n")
    with pytest.raises(ValueError, match="vocabulary size mismatch"):
        load_hf_masked_lm(d)
    d = tmp_path / "nomask"
    shutil.copytree(tiny_bert, d)
    (d / "vocab.txt").unlink()
    cfg = json.loads((d / "config.json").read_text())
    cfg.pop("mask_token_id", None)
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="no mask token"):
        load_hf_masked_lm(d)
    assert load_hf_masked_lm(d, mask_token_id=4).allowed.numel() == len(VOCAB) - 1
    with pytest.raises(ValueError, match="allowed token"):
        load_hf_masked_lm(tiny_bert, allowed=["z"])


@pytest.mark.antiberty
def test_antiberty_reconstructs_held_out_antibodies():
    """Estimator: top-1 accuracy on ~15% seeded masked residues of 12 held-out therapeutic variable domains
    (≈ 200 positions); pass if the 99% Wilson lower bound exceeds 0.5 (chance is 0.05)."""
    pytest.importorskip("antiberty")
    from mdtheory.models.evaluators import reconstruction_accuracy
    from mdtheory.models.hf import HELD_OUT_ANTIBODIES, antiberty_predictor

    p = antiberty_predictor()
    assert p.vocab_size == 20 and p.mask_token_id == 4
    r = reconstruction_accuracy(p, [p.encode(s) for s in HELD_OUT_ANTIBODIES.values()], mask_id=p.mask_id, seed=0)
    assert r["chance"] == 0.05 and r["interval"][0] > 0.5, r
