"""How the audit calls a round function, and the invariants it checks on every batch before anything is
counted: k distinct positions in range per row (for a fixed-size rule), tokens in the vocabulary, and, for
the ``sequence`` convention, revealed tokens never re-drawn and the mask token never emitted.

Calling conventions (``convention=``):

* ``"round"`` (default, mdtheory's own rounds): ``step(log_probs, k=k, generator=g, **forwarded)`` with
  ``log_probs`` a (B, N, V) float64 tensor over the masked positions; it returns ``(positions, tokens)``,
  each (B, k), or an object with those two attributes. ``forwarded`` holds the rule's parameters named in
  ``forward`` (``alpha`` by default, when the rule has one).
* ``"logits"``: the same with unnormalised logits (each row shifted by a random constant).
* ``"sequence"``: ``step(tokens, logits, k=k, mask_id=mask_id, generator=g, **forwarded)`` on whole
  sequences (B, L) in which some positions are already revealed; it returns the new tokens (B, L).
* ``"diffusers"``: ``step`` is a discrete scheduler with ``set_timesteps`` and ``step`` (diffusers'
  ``SchedulerMixin`` convention). Before every batch the kit calls ``set_timesteps(num_inference_steps)``,
  then ``step(logits, timesteps[0], tokens, generator=g, **forwarded)`` on the sequences of the
  ``sequence`` convention, and reads ``prev_sample`` (or the first element of a tuple). The mask id is the
  scheduler's ``mask_token_id`` (attribute or config entry) unless ``mask_id`` is given. A fixed-size rule is
  audited at the number of positions the scheduler reveals in that step, which must be the same in every row.

Rules of variable size (``eb``, ``threshold``, ``mdlm``) take no ``k``; in the ``round`` and ``logits``
conventions they return ``(selected, tokens)``, each (B, N) (a bool mask and the tokens), or an object with
those attributes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

__all__ = ["CONVENTIONS", "RoundAuditError", "UserCodeError", "call_user_code", "seeded_global_rngs"]


@contextlib.contextmanager
def seeded_global_rngs(generator):
    """Run code that draws from the global RNGs (torch's, NumPy's legacy ``np.random``, Python's ``random``) on
    a seed taken from ``generator``, restoring all three afterwards.

    Spec: §9. The recipe for auditing a step that ignores its ``generator`` (no upstream sampler takes one):
    wrap its body, so the step becomes a function of the generator the kit hands it, and its reproduction line
    reproduces. The audit checks this seed contract (same seed, same draws; another seed, other draws).

    Examples
    --------
    >>> import torch
    >>> def step(lp, *, k, generator=None):
    ...     with seeded_global_rngs(generator):
    ...         return torch.rand(3)  # an upstream step would call the global RNG like this
    >>> a = step(None, k=1, generator=torch.Generator().manual_seed(5))
    >>> b = step(None, k=1, generator=torch.Generator().manual_seed(5))
    >>> bool(torch.equal(a, b))
    True
    """
    import random

    import torch

    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator)) if generator is not None else 0
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            np.random.seed(seed % 2 ** 32)
            random.seed(seed)
            yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)



CONVENTIONS = ("round", "logits", "sequence", "diffusers")


class RoundAuditError(AssertionError):
    """A round function does not draw the law of the rule it states, or breaks an invariant of a round.

    Spec: §9. The message names the failing cases, their worst cells, χ², the TV with its upper bound, and a
    one-line reproduction; ``results`` holds the :class:`AuditResult` of every case.

    Parameters
    ----------
    message : str
        The report.
    results : list of AuditResult
        Every case's result (empty when an invariant broke).

    Examples
    --------
    >>> issubclass(RoundAuditError, AssertionError)
    True
    """

    def __init__(self, message: str, results=()):
        super().__init__(message)
        self.results = list(results)


class UserCodeError(RuntimeError):
    """The audited round function (the user's code) raised an exception: not a failed audit, not mdtheory's bug.

    Spec: §9. The message gives the exception's type and message and the call that was made (the convention,
    the shapes and dtypes, the keyword arguments); the original exception is the ``__cause__``. The command line
    reports it with exit status 4.

    Parameters
    ----------
    message : str
        The report.

    Examples
    --------
    >>> issubclass(UserCodeError, RuntimeError) and not issubclass(UserCodeError, (ValueError, AssertionError))
    True
    """


def _describe_arg(x) -> str:
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"tensor{tuple(shape)} {str(getattr(x, 'dtype', '')).replace('torch.', '')}".rstrip()
    if type(x).__module__.startswith("torch") and "Generator" in type(x).__name__:
        return "torch.Generator"
    return repr(x)


def call_user_code(fn, *args, what: str = "the audited round", **kwargs):
    """``fn(*args, **kwargs)``; an exception it raises becomes :class:`UserCodeError` naming the call."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # anything the user's function raises is the user's
        call = ", ".join([*(_describe_arg(a) for a in args), *(f"{k}={_describe_arg(v)}" for k, v in kwargs.items())])
        name = getattr(fn, "__qualname__", None) or type(fn).__name__
        raise UserCodeError(f"{what} raised {type(exc).__name__}: {' '.join(str(exc).split())} "
                            f"(called as {name}({call}))") from exc


@dataclass
class _Outputs:
    positions: object
    tokens: object


def _field(out, names: tuple[str, str], what: str):
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return out[0], out[1]
    if all(hasattr(out, n) for n in names):
        return getattr(out, names[0]), getattr(out, names[1])
    raise RoundAuditError(f"the step must return ({names[0]}, {names[1]}) or an object with those attributes "
                          f"({what}); it returned {type(out).__name__}")


def _as_tensor(x, name: str, shape: tuple, *, dtype_kind: str):
    import torch

    t = torch.as_tensor(x)
    if tuple(t.shape) != shape:
        raise RoundAuditError(f"the step's {name} must have shape {shape}; got {tuple(t.shape)}")
    if dtype_kind == "int" and (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool):
        raise RoundAuditError(f"the step's {name} must be integers; got dtype {t.dtype}")
    return t.cpu()


def _check_fixed(pos, tok, B: int, N: int, V: int, k: int):
    import torch

    pos = _as_tensor(pos, "positions", (B, k), dtype_kind="int")
    tok = _as_tensor(tok, "tokens", (B, k), dtype_kind="int")
    bad = (pos < 0) | (pos >= N)
    if bool(bad.any()):
        r = int(torch.nonzero(bad)[0, 0])
        raise RoundAuditError(f"a position out of range 0..{N - 1}: row {r} chose {pos[r].tolist()}")
    srt = pos.sort(dim=1).values
    dup = (srt[:, 1:] == srt[:, :-1]).any(dim=1) if k > 1 else torch.zeros(B, dtype=torch.bool)
    if bool(dup.any()):
        r = int(torch.nonzero(dup)[0, 0])
        raise RoundAuditError(f"a position chosen twice in one round: row {r} chose {pos[r].tolist()}")
    badt = (tok < 0) | (tok >= V)
    if bool(badt.any()):
        r = int(torch.nonzero(badt)[0, 0])
        raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1} (the mask token, or garbage): row {r} "
                              f"emitted {tok[r].tolist()} at positions {pos[r].tolist()}")
    return pos, tok


def _sequence_layout(N: int) -> tuple[np.ndarray, np.ndarray]:
    """Where the masked positions sit in the sequence of the ``sequence`` convention: N masked positions
    interleaved with ⌈N/2⌉ revealed ones (a revealed one first)."""
    L = N + (N + 1) // 2
    revealed = np.arange(0, 2 * ((N + 1) // 2), 2)
    masked = np.setdiff1d(np.arange(L), revealed)
    return masked, revealed


def _driver(step, *, convention: str, forwarded: dict, mask_id: int, variable: bool, seed: int):
    """The step in mdtheory's round convention, every batch checked before it is counted."""
    import torch

    shift_gen = np.random.default_rng([seed, 7])

    def call(lp, k=None, generator=None):
        B, N, V = lp.shape
        kw = dict(forwarded) if variable else dict(forwarded, k=k)
        if convention in ("round", "logits"):
            x = lp.clone()
            if convention == "logits":
                x = x + torch.as_tensor(shift_gen.normal(0, 3, size=(B, 1, 1)), dtype=x.dtype)
            out = call_user_code(step, x, generator=generator, **kw)
            if variable:
                sel, tok = _field(out, ("selected", "tokens"), "a variable-size rule")
                sel = _as_tensor(sel, "selected", (B, N), dtype_kind="bool").bool()
                tok = _as_tensor(tok, "tokens", (B, N), dtype_kind="int")
                badt = sel & ((tok < 0) | (tok >= V))
                if bool(badt.any()):
                    r = int(torch.nonzero(badt)[0, 0])
                    raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1}: row {r} emitted "
                                          f"{tok[r][sel[r]].tolist()}")
                return sel, tok
            return _Outputs(*_check_fixed(*_field(out, ("positions", "tokens"), "a fixed-size rule"), B, N, V, k))
        masked_at, revealed_at = _sequence_layout(N)
        L = N + revealed_at.size
        g = torch.Generator().manual_seed(int(shift_gen.integers(2 ** 31)))
        tokens = torch.full((B, L), mask_id, dtype=torch.long)
        tokens[:, revealed_at] = torch.randint(0, V, (B, revealed_at.size), generator=g)
        logits = torch.randn(B, L, V, generator=g, dtype=lp.dtype)
        logits[:, masked_at] = lp
        before = tokens.clone()
        new = call_user_code(step, tokens, logits, mask_id=mask_id, generator=generator, **kw)
        new = _as_tensor(new, "tokens", (B, L), dtype_kind="int")
        moved = new[:, revealed_at] != before[:, revealed_at]
        if bool(moved.any()):
            r, c = (int(v) for v in torch.nonzero(moved)[0])
            raise RoundAuditError(f"a revealed token was re-drawn: row {r}, position {int(revealed_at[c])} held "
                                  f"{int(before[r, revealed_at[c]])} and now holds {int(new[r, revealed_at[c]])}")
        sub = new[:, masked_at]
        sel = sub != mask_id
        if bool(((sub < 0) | ((sub >= V) & sel)).any()):
            r = int(torch.nonzero((sub < 0) | ((sub >= V) & sel))[0, 0])
            raise RoundAuditError(f"a token outside the vocabulary 0..{V - 1} (mask id {mask_id}): row {r} emitted "
                                  f"{sub[r].tolist()} at the masked positions")
        if variable:
            return sel, sub
        counts = sel.sum(dim=1)
        if bool((counts != k).any()):
            r = int(torch.nonzero(counts != k)[0, 0])
            raise RoundAuditError(f"a round must reveal exactly k={k} positions: row {r} revealed {int(counts[r])}")
        pos = torch.nonzero(sel)[:, 1].view(B, k)
        return _Outputs(pos, sub.gather(1, pos))

    return call


def _scheduler_step(scheduler, num_inference_steps: int):
    """A diffusers-style scheduler as a step of the ``sequence`` convention."""
    for attr in ("set_timesteps", "step"):
        if not callable(getattr(scheduler, attr, None)):
            raise TypeError(f"the diffusers convention needs a scheduler object with set_timesteps and step; "
                            f"{scheduler!r} has no {attr}")

    def seq_step(tokens, logits, *, mask_id, generator=None, **kw):
        kw.pop("k", None)
        scheduler.set_timesteps(num_inference_steps)
        out = scheduler.step(logits, scheduler.timesteps[0], tokens, generator=generator, **kw)
        return out.prev_sample if hasattr(out, "prev_sample") else out[0]

    return seq_step


def _scheduler_mask_id(scheduler):
    for holder in (scheduler, getattr(scheduler, "config", None)):
        value = getattr(holder, "mask_token_id", None) if holder is not None else None
        if value is None and isinstance(holder, dict):
            value = holder.get("mask_token_id")
        if value is not None:
            return int(value)
    return None


def _revealed_count(call, probs, seed: int) -> int:
    """The number of positions a scheduler reveals in its step on this case (the same in every row)."""
    import torch

    with np.errstate(divide="ignore"):
        lp = torch.as_tensor(np.log(probs))
    sel, _ = call(lp.expand(256, -1, -1), generator=torch.Generator().manual_seed(seed + 1))
    sizes = sorted({int(v) for v in sel.sum(dim=1)})
    if len(sizes) != 1 or sizes[0] == 0:
        raise RoundAuditError(f"a fixed-size rule needs the same positive number of reveals in every row; the "
                              f"scheduler revealed {sizes} positions in one step")
    return sizes[0]
