"""External masked language models as prediction functions (§2).

:func:`load_hf_masked_lm` loads a Hugging Face ``AutoModelForMaskedLM`` from a *local* directory (no hub
access; ``transformers`` is the optional extra ``hf``) and wraps it as a :class:`MaskedLMPredictor` over a
chosen subset of its vocabulary. :func:`antiberty_predictor` does this for AntiBERTy (``pip install
--no-deps antiberty==0.1.3``), the suite's pretrained real model: a BERT masked LM trained on 558M antibody
sequences, over the 20 amino acids.

**Renormalisation (convention).** mdtheory token j stands for model token ``allowed[j]``; the mdtheory
mask id is ``len(allowed)``. The model's logits are restricted to the allowed columns, so the returned
law is the model's conditional given that the token is allowed: p(a) / Σ_{b allowed} p(b). Special tokens
([PAD], [CLS], [SEP], [MASK], [UNK]) are never sampled. Inputs are framed as the model was trained
(``[CLS] x_1 … x_N [SEP]`` for BERT-style models); masked positions carry the model's mask token.

The mask token id comes from the config (``mask_token_id``) or, failing that, from the ``[MASK]`` or
``<mask>`` entry of the directory's ``vocab.txt``; a missing directory or weights file, a vocabulary file
whose size differs from ``config.vocab_size``, and a missing mask token each raise a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["MaskedLMPredictor", "load_hf_masked_lm", "antiberty_predictor", "AMINO_ACIDS", "antiberty_dir",
           "HELD_OUT_ANTIBODIES"]

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


@dataclass
class MaskedLMPredictor:
    """A masked LM as a prediction function ``(tokens (B, N), masked (B, N)) -> logits (B, N, len(allowed))``
    (module doc). ``vocab`` holds the model's token strings when known."""

    model: object
    mask_token_id: int
    allowed: torch.Tensor
    prefix_ids: tuple[int, ...] = ()
    suffix_ids: tuple[int, ...] = ()
    vocab: tuple[str, ...] | None = None
    device: str = "cpu"

    @property
    def vocab_size(self) -> int:
        return int(self.allowed.numel())

    @property
    def mask_id(self) -> int:
        """The mdtheory mask id (one past the allowed tokens)."""
        return self.vocab_size

    def encode(self, text: str) -> torch.Tensor:
        """Token strings of single characters (e.g. amino acids) → mdtheory ids."""
        if self.vocab is None:
            raise ValueError("encode needs the model's vocabulary (vocab.txt)")
        lookup = {self.vocab[int(a)]: j for j, a in enumerate(self.allowed)}
        bad = sorted({c for c in text if c not in lookup})
        if bad:
            raise ValueError(f"characters {bad} are not allowed tokens")
        return torch.tensor([lookup[c] for c in text], dtype=torch.long)

    def decode(self, ids) -> str:
        if self.vocab is None:
            raise ValueError("decode needs the model's vocabulary (vocab.txt)")
        return "".join(self.vocab[int(self.allowed[int(i)])] for i in torch.as_tensor(ids).ravel())

    def __call__(self, tokens: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or masked.shape != tokens.shape:
            raise ValueError(f"tokens and masked must both be (batch, seq_len); got {tuple(tokens.shape)}, "
                             f"{tuple(masked.shape)}")
        allowed = self.allowed.to(tokens.device)
        ids = torch.where(masked, torch.as_tensor(self.mask_token_id, device=tokens.device),
                          allowed[tokens.clamp(0, self.vocab_size - 1)])
        B = ids.shape[0]
        pre = torch.tensor(self.prefix_ids, dtype=torch.long, device=ids.device).expand(B, -1)
        suf = torch.tensor(self.suffix_ids, dtype=torch.long, device=ids.device).expand(B, -1)
        full = torch.cat([pre, ids, suf], dim=1)
        with torch.no_grad():
            logits = self.model(input_ids=full, attention_mask=torch.ones_like(full)).logits
        body = logits[:, len(self.prefix_ids): len(self.prefix_ids) + ids.shape[1]]
        return body.index_select(-1, allowed).float()


def _read_vocab(path: Path) -> tuple[str, ...]:
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())


def load_hf_masked_lm(directory, *, allowed=None, vocab_file=None, mask_token_id: int | None = None,
                      special_framing: bool = True, device="cpu") -> MaskedLMPredictor:
    """A local Hugging Face ``AutoModelForMaskedLM`` checkpoint as a prediction function of the sampling loop.

    Spec: §2. **Convention:** logits are restricted to the ``allowed`` tokens (the law conditional on an allowed
    token); special tokens are never sampled; sequences are framed [CLS] … [SEP] when both are known.

    Parameters
    ----------
    directory : str or Path
        The checkpoint (no hub access).
    allowed : sequence, optional
        Model token ids (or token strings, with a vocabulary) that may be sampled.
    vocab_file : str or Path, optional
        A ``vocab.txt``.
    mask_token_id : int, optional
        The model's mask id, when the config lacks it.
    special_framing : bool
        Add [CLS] and [SEP].
    device : str
        Where to run it.

    Returns
    -------
    MaskedLMPredictor
        ``predict(tokens, masked)`` over mdtheory ids 0..V − 1 (mask id V).

    Raises
    ------
    ImportError
        If transformers is not installed (extra ``hf``).

    Examples
    --------
    >>> import tempfile
    >>> try:
    ...     from transformers import BertConfig, BertForMaskedLM
    ... except ImportError:
    ...     BertConfig = None
    >>> if BertConfig is not None:
    ...     with tempfile.TemporaryDirectory() as d:
    ...         cfg = BertConfig(vocab_size=12, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
    ...                          intermediate_size=16, mask_token_id=11)
    ...         BertForMaskedLM(cfg).save_pretrained(d)
    ...         p = load_hf_masked_lm(d, allowed=range(5), mask_token_id=11)
    ...     print(p.vocab_size)
    ... else:
    ...     print(5)
    5
    """
    try:
        from transformers import AutoConfig, AutoModelForMaskedLM
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("loading Hugging Face models needs transformers: pip install 'mdtheory[hf]'") from exc
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"model directory {d} does not exist")
    if not (d / "config.json").is_file():
        raise FileNotFoundError(f"model directory {d} has no config.json")
    if not any((d / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")):
        raise FileNotFoundError(f"model directory {d} has no weights (model.safetensors or pytorch_model.bin)")
    config = AutoConfig.from_pretrained(str(d))
    vf = Path(vocab_file) if vocab_file is not None else d / "vocab.txt"
    vocab = None
    if vocab_file is not None or vf.is_file():
        if not vf.is_file():
            raise FileNotFoundError(f"vocabulary file {vf} does not exist")
        vocab = _read_vocab(vf)
        if len(vocab) != config.vocab_size:
            raise ValueError(f"vocabulary size mismatch: {vf} has {len(vocab)} tokens, config.vocab_size is "
                             f"{config.vocab_size}")
    if mask_token_id is None:
        mask_token_id = getattr(config, "mask_token_id", None)
    if mask_token_id is None and vocab is not None:
        for name in ("[MASK]", "<mask>"):
            if name in vocab:
                mask_token_id = vocab.index(name)
                break
    if mask_token_id is None:
        raise ValueError(f"no mask token: {d / 'config.json'} has no mask_token_id and no vocabulary lists [MASK] "
                         "or <mask>; pass mask_token_id=")
    if not 0 <= int(mask_token_id) < config.vocab_size:
        raise ValueError(f"mask_token_id={mask_token_id} is outside the vocabulary 0..{config.vocab_size - 1}")
    special = set()
    if vocab is not None:
        special = {i for i, t in enumerate(vocab) if (t.startswith("[") and t.endswith("]"))
                   or (t.startswith("<") and t.endswith(">"))}
    special.add(int(mask_token_id))
    if allowed is None:
        ids = [i for i in range(config.vocab_size) if i not in special]
    else:
        ids = [vocab.index(a) if isinstance(a, str) and vocab is not None and a in vocab else a for a in allowed]
        for a in ids:
            if isinstance(a, str):
                raise ValueError(f"allowed token {a!r} is not in the vocabulary")
            if not 0 <= int(a) < config.vocab_size or int(a) in special:
                raise ValueError(f"allowed token id {a} must be a non-special id in 0..{config.vocab_size - 1}")
        ids = [int(a) for a in ids]
    prefix, suffix = (), ()
    if special_framing and vocab is not None and "[CLS]" in vocab and "[SEP]" in vocab:
        prefix, suffix = (vocab.index("[CLS]"),), (vocab.index("[SEP]"),)
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # the unused heads (AntiBERTy's species/chain/graft) are expected
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(str(d), output_loading_info=True)
    finally:
        hf_logging.set_verbosity(level)
    if info.get("missing_keys"):
        raise ValueError(f"checkpoint {d} is missing weights: {sorted(info['missing_keys'])[:8]}")
    model = model.to(device).eval()
    return MaskedLMPredictor(model, int(mask_token_id), torch.tensor(ids, dtype=torch.long), prefix, suffix, vocab,
                             str(device))


def antiberty_dir() -> Path:
    """The AntiBERTy checkpoint shipped inside the ``antiberty`` wheel (0.1.3)."""
    try:
        import antiberty
    except ImportError as exc:
        raise ImportError("AntiBERTy needs the antiberty wheel: pip install --no-deps antiberty==0.1.3") from exc
    d = Path(antiberty.__file__).parent / "trained_models"
    if not (d / "AntiBERTy_md_smooth" / "config.json").is_file():
        raise FileNotFoundError(f"the antiberty package at {d.parent} has no trained_models/AntiBERTy_md_smooth")
    return d


def antiberty_predictor(device="cpu") -> MaskedLMPredictor:
    """AntiBERTy, the pretrained antibody language model, over the 20 amino acids.

    Spec: §2 (a real pretrained model). Needs the ``antiberty`` wheel, installed with ``--no-deps``; mdtheory ids
    follow ``AMINO_ACIDS`` and the mask id is 20.

    Parameters
    ----------
    device : str
        Where to run it.

    Returns
    -------
    MaskedLMPredictor

    Raises
    ------
    ImportError
        If the wheel (or transformers) is missing.

    Examples
    --------
    >>> try:
    ...     p = antiberty_predictor()
    ... except ImportError:
    ...     p = None
    >>> p is None or (p.vocab_size, p.mask_id) == (20, 20)
    True
    """
    d = antiberty_dir()
    return load_hf_masked_lm(d / "AntiBERTy_md_smooth", vocab_file=d / "vocab.txt", allowed=list(AMINO_ACIDS),
                             device=device)


#: Variable domains of public therapeutic antibodies (heavy, light), typed in for this project from the
#: published INN sequences; humanised/chimeric therapeutics, not natural repertoire (OAS) sequences, so
#: they serve as held-out inputs for AntiBERTy. Letter-exactness is not guaranteed and not needed.
HELD_OUT_ANTIBODIES = {
    "trastuzumab_VH": "EVQLVESGGGLVQPGGSLRLSCAASGFNIKDTYIHWVRQAPGKGLEWVARIYPTNGYTRYADSVKGRFTISADTSKNTAYLQMNSLRAEDTAVYYCSRWGGDGFYAMDYWGQGTLVTVSS",
    "trastuzumab_VL": "DIQMTQSPSSLSASVGDRVTITCRASQDVNTAVAWYQQKPGKAPKLLIYSASFLYSGVPSRFSGSRSGTDFTLTISSLQPEDFATYYCQQHYTTPPTFGQGTKVEIK",
    "adalimumab_VH": "EVQLVESGGGLVQPGRSLRLSCAASGFTFDDYAMHWVRQAPGKGLEWVSAITWNSGHIDYADSVEGRFTISRDNAKNSLYLQMNSLRAEDTAVYYCAKVSYLSTASSLDYWGQGTLVTVSS",
    "adalimumab_VL": "DIQMTQSPSSLSASVGDRVTITCRASQGIRNYLAWYQQKPGKAPKLLIYAASTLQSGVPSRFSGSGSGTDFTLTISSLQPEDVATYYCQRYNRAPYTFGQGTKVEIK",
    "pembrolizumab_VH": "QVQLVQSGVEVKKPGASVKVSCKASGYTFTNYYMYWVRQAPGQGLEWMGGINPSNGGTNFNEKFKNRVTLTTDSSTTTAYMELKSLQFDDTAVYYCARRDYRFDMGFDYWGQGTTVTVSS",
    "pembrolizumab_VL": "EIVLTQSPATLSLSPGERATLSCRASKGVSTSGYSYLHWYQQKPGQAPRLLIYLASYLESGVPARFSGSGSGTDFTLTISSLEPEDFAVYYCQHSRDLPLTFGGGTKVEIK",
    "nivolumab_VH": "QVQLVESGGGVVQPGRSLRLDCKASGITFSNSGMHWVRQAPGKGLEWVAVIWYDGSKRYYADSVKGRFTISRDNSKNTLFLQMNSLRAEDTAVYYCATNDDYWGQGTLVTVSS",
    "nivolumab_VL": "EIVLTQSPATLSLSPGERATLSCRASQSVSSYLAWYQQKPGQAPRLLIYDASNRATGIPARFSGSGSGTDFTLTISSLEPEDFAVYYCQQSSNWPRTFGQGTKVEIK",
    "rituximab_VH": "QVQLQQPGAELVKPGASVKMSCKASGYTFTSYNMHWVKQTPGRGLEWIGAIYPGNGDTSYNQKFKGKATLTADKSSSTAYMQLSSLTSEDSAVYYCARSTYYGGDWYFNVWGAGTTVTVSA",
    "rituximab_VL": "QIVLSQSPAILSASPGEKVTMTCRASSSVSYIHWFQQKPGSSPKPWIYATSNLASGVPVRFSGSGSGTSYSLTISRVEAEDAATYYCQQWTSNPPTFGGGTKLEIK",
    "bevacizumab_VH": "EVQLVESGGGLVQPGGSLRLSCAASGYTFTNYGMNWVRQAPGKGLEWVGWINTYTGEPTYAADFKRRFTFSLDTSKSTAYLQMNSLRAEDTAVYYCAKYPHYYGSSHWYFDVWGQGTLVTVSS",
    "bevacizumab_VL": "DIQMTQSPSSLSASVGDRVTITCSASQDISNYLNWYQQKPGKAPKVLIYFTSSLHSGVPSRFSGSGSGTDFTLTISSLQPEDFATYYCQQYSTVPWTFGQGTKVEIK",
}
