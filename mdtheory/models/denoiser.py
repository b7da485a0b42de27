"""A compact bidirectional transformer denoiser in the MDLM/MaskGIT style (§2).

Token embeddings over V tokens plus a mask token (id V), learned 1-D positional embeddings or 2-D
row + column embeddings (images), pre-LayerNorm blocks with full (bidirectional) attention, and
per-position logits over the V vocabulary tokens — the mask token can never be predicted.
:meth:`MaskedDenoiser.predictor` plugs it into :func:`mdtheory.sampling.loop.sample` as a prediction
function (``mask_id = V``).

Per-layer keys and values are exposed for **partial caching** ([H] §4.1, §4.6):
:meth:`MaskedDenoiser.full_pass` returns the logits and every layer's (K, V) over all positions;
:meth:`MaskedDenoiser.rows_pass` recomputes only the given query rows, with fresh K/V at those rows and
the cached (possibly stale) K/V elsewhere. When nothing changed since the full pass, a rows pass equals
the corresponding rows of a full pass to floating-point tolerance (tested).

Checkpoints (project format): ``model.safetensors`` (weights) + ``config.json`` (the
:class:`DenoiserConfig` fields, the data set name and free-form metadata).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["DenoiserConfig", "MaskedDenoiser", "save_denoiser", "load_denoiser"]


@dataclass(frozen=True)
class DenoiserConfig:
    """The architecture of a :class:`MaskedDenoiser`.

    Spec: §2. The mask token id is ``vocab_size``; ``grid`` = (H, W) with H·W = ``seq_len`` selects 2-D positional
    embeddings.

    Parameters
    ----------
    vocab_size : int
        V (the model predicts over these tokens only).
    seq_len : int
        D.
    grid : tuple of int, optional
        (H, W).
    d_model, n_layers, n_heads, d_ff : int
        Transformer sizes.
    dropout : float
        Dropout rate.

    Raises
    ------
    ValueError
        If a size is invalid or the grid does not match ``seq_len``.

    Examples
    --------
    >>> DenoiserConfig(vocab_size=4, seq_len=6, d_model=16, n_layers=1, n_heads=2, d_ff=32).mask_id
    4
    """

    vocab_size: int
    seq_len: int
    grid: tuple[int, int] | None = None
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 512
    dropout: float = 0.0

    def __post_init__(self):
        from .._validation import check_positive_int

        for name in ("vocab_size", "seq_len", "d_model", "n_layers", "n_heads", "d_ff"):
            check_positive_int(getattr(self, name), name=name)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if self.grid is not None:
            g = tuple(int(x) for x in self.grid)
            if len(g) != 2 or g[0] * g[1] != self.seq_len:
                raise ValueError(f"grid must be (H, W) with H*W = seq_len={self.seq_len}; got {self.grid!r}")
            object.__setattr__(self, "grid", g)
        if not (0.0 <= self.dropout < 1.0):
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout!r}")

    @property
    def mask_id(self) -> int:
        return self.vocab_size

    def to_dict(self) -> dict:
        d = asdict(self)
        d["grid"] = list(self.grid) if self.grid is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DenoiserConfig":
        names = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown DenoiserConfig fields: {sorted(unknown)}")
        d = dict(d)
        if d.get("grid") is not None:
            d["grid"] = tuple(d["grid"])
        return cls(**d)


class _Block(nn.Module):
    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, d))
        self.dropout = cfg.dropout

    def forward(self, x, *, cache=None, rows=None):
        """x: (B, q, d). Full pass when ``cache`` is None (q = N); else ``rows`` (B, q) are the sequence
        positions of x, and their fresh keys/values overwrite the cached (B, h, N, d_h) ones."""
        B, q, d = x.shape
        h = self.n_heads
        qkv = self.qkv(self.ln1(x)).view(B, q, 3, h, d // h).permute(2, 0, 3, 1, 4)  # (3, B, h, q, d_h)
        qs, ks, vs = qkv[0], qkv[1], qkv[2]
        if cache is not None:
            idx = rows[:, None, :, None].expand(-1, h, -1, d // h)
            ks = cache[0].scatter(2, idx, ks)
            vs = cache[1].scatter(2, idx, vs)
        att = F.scaled_dot_product_attention(qs, ks, vs, dropout_p=self.dropout if self.training else 0.0)
        x = x + self.proj(att.transpose(1, 2).reshape(B, q, d))
        x = x + self.ff(self.ln2(x))
        return x, (ks, vs)


class MaskedDenoiser(nn.Module):
    """A bidirectional transformer giving p_θ(x_i | x_revealed) at every position, with a key/value cache.

    Spec: §2, §4.6. ``predictor()`` is a prediction function for :func:`mdtheory.sample`; ``full_pass`` and
    ``rows_pass`` serve partial caching.

    Parameters
    ----------
    config : DenoiserConfig
        The architecture.

    Examples
    --------
    >>> import torch
    >>> m = MaskedDenoiser(DenoiserConfig(vocab_size=4, seq_len=6, d_model=16, n_layers=1, n_heads=2, d_ff=32))
    >>> m(torch.full((2, 6), 4)).shape
    torch.Size([2, 6, 4])
    """

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = config
        d = config.d_model
        self.tok = nn.Embedding(config.vocab_size + 1, d)
        if config.grid is None:
            self.pos = nn.Embedding(config.seq_len, d)
        else:
            self.row = nn.Embedding(config.grid[0], d)
            self.col = nn.Embedding(config.grid[1], d)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def _pos_embed(self, positions: torch.Tensor) -> torch.Tensor:
        if self.config.grid is None:
            return self.pos(positions)
        W = self.config.grid[1]
        return self.row(positions // W) + self.col(positions % W)

    def _check_tokens(self, tokens: torch.Tensor) -> None:
        if tokens.ndim != 2 or tokens.shape[1] != self.config.seq_len:
            raise ValueError(f"tokens must have shape (batch, seq_len={self.config.seq_len}); got {tuple(tokens.shape)}")
        if tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"tokens must be an integer tensor; got {tokens.dtype}")
        if bool(((tokens < 0) | (tokens > self.config.vocab_size)).any()):
            raise ValueError(f"token ids must lie in 0..{self.config.vocab_size} (the last is the mask id)")

    def full_pass(self, tokens: torch.Tensor):
        """(logits (B, N, V), per-layer cache [(K, V) each (B, h, N, d_h)])."""
        self._check_tokens(tokens)
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.tok(tokens) + self._pos_embed(positions)[None]
        cache = []
        for blk in self.blocks:
            x, kv = blk(x)
            cache.append(kv)
        return self.head(self.norm(x)), cache

    def rows_pass(self, tokens: torch.Tensor, rows: torch.Tensor, cache) -> torch.Tensor:
        """Logits (B, q, V) at the query ``rows`` (B, q), recomputed from ``tokens`` at those rows with
        fresh keys/values there and the cached ones elsewhere (partial caching, module doc)."""
        self._check_tokens(tokens)
        if rows.ndim != 2 or rows.shape[0] != tokens.shape[0]:
            raise ValueError(f"rows must have shape (batch={tokens.shape[0]}, q); got {tuple(rows.shape)}")
        if len(cache) != len(self.blocks):
            raise ValueError(f"cache must hold one (K, V) per layer ({len(self.blocks)}); got {len(cache)}")
        x = self.tok(tokens.gather(1, rows)) + self._pos_embed(rows)
        for blk, kv in zip(self.blocks, cache):
            x, _ = blk(x, cache=kv, rows=rows)
        return self.head(self.norm(x))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (B, N, V) over the vocabulary (never the mask token)."""
        return self.full_pass(tokens)[0]

    def predictor(self):
        """A prediction function ``(tokens, masked) -> logits`` for :func:`mdtheory.sampling.loop.sample`
        (pass ``mask_id = config.vocab_size``). Positions flagged in ``masked`` are fed as the mask token
        whatever their token value (callers such as the loss-curve estimator pass 0 there). Runs under
        ``torch.no_grad`` in eval mode, on the model's device: inputs from elsewhere (numpy-side callers hand
        CPU tensors) are moved there, and the logits stay there."""

        def predict(tokens, masked):
            self.eval()
            device = self.tok.weight.device
            tokens, masked = tokens.to(device), masked.to(device)
            with torch.no_grad():
                return self(torch.where(masked, self.config.mask_id, tokens))

        return predict

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def save_denoiser(model: MaskedDenoiser, directory, *, metadata: dict | None = None) -> Path:
    """Write a denoiser as ``model.safetensors`` and ``config.json`` (with optional metadata), atomically.

    Spec: §2.

    Parameters
    ----------
    model : MaskedDenoiser
        The model.
    directory : str or Path
        Where to write.
    metadata : dict, optional
        Extra entries for ``config.json`` (training command, losses, hashes).

    Returns
    -------
    Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> m = MaskedDenoiser(DenoiserConfig(vocab_size=4, seq_len=6, d_model=16, n_layers=1, n_heads=2, d_ff=32))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_denoiser(m, d)
    ...     load_denoiser(d)[0].config == m.config
    True
    """
    from safetensors.torch import save_file

    from .._io import atomic_write_text, to_json

    out = Path(directory)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"the model's weights {bad[0]} (and {len(bad) - 1} more) are not finite; refusing to save")
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "model.safetensors.tmp"
    save_file(state, str(tmp))
    tmp.replace(out / "model.safetensors")
    meta = {"model": model.config.to_dict(), **(metadata or {}), "sha256": weights_sha256(out / "model.safetensors")}
    atomic_write_text(out / "config.json", to_json(meta, indent=1))
    return out


def weights_sha256(path) -> str:
    """The SHA-256 of a weights file, as recorded in its ``config.json``."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def verify_weights(directory, meta: dict, *, verify_hash: bool) -> None:
    """Check ``directory/model.safetensors`` against the SHA-256 recorded in ``meta``; a checkpoint that records
    none is refused unless ``verify_hash`` is False."""
    if not verify_hash:
        return
    path = Path(directory) / "model.safetensors"
    if not meta.get("sha256"):
        raise ValueError(f"{Path(directory) / 'config.json'} records no SHA-256 for its weights; refusing to load "
                         "them unchecked (pass verify_hash=False to load it anyway)")
    if weights_sha256(path) != meta["sha256"]:
        raise ValueError(f"{path} does not match the SHA-256 recorded in config.json")


def load_denoiser(directory, *, device="cpu", verify_hash: bool = True) -> tuple[MaskedDenoiser, dict]:
    """Load a denoiser written by :func:`save_denoiser`, checking its weights against their recorded SHA-256.

    Spec: §2. The model is returned in eval mode.

    Parameters
    ----------
    directory : str or Path
        The checkpoint folder.
    device : str
        Where to load it.
    verify_hash : bool
        Refuse weights whose SHA-256 differs from, or is missing in, ``config.json`` (default). Pass False
        only for a checkpoint you trust that records no hash.

    Returns
    -------
    tuple
        (MaskedDenoiser, the contents of ``config.json``).

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    ValueError
        If ``config.json`` has no model section.

    Examples
    --------
    >>> from mdtheory.models import SHIPPED_CHECKPOINTS
    >>> load_denoiser(SHIPPED_CHECKPOINTS / "markov")[0].config.seq_len
    32
    """
    from safetensors.torch import load_file

    d = Path(directory)
    for name in ("config.json", "model.safetensors"):
        if not (d / name).is_file():
            raise FileNotFoundError(f"checkpoint directory {d} has no {name}")
    meta = json.loads((d / "config.json").read_text())
    if "model" not in meta:
        raise ValueError(f"{d / 'config.json'} has no 'model' section")
    verify_weights(d, meta, verify_hash=verify_hash)
    model = MaskedDenoiser(DenoiserConfig.from_dict(meta["model"]))
    state = load_file(str(d / "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint {d} does not match its config: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval(), meta

