"""A scripted model for auditing sampling loops that own their network (§9).

Upstream samplers (LLaDA, Fast-dLLM, Dream, dfastllm, …) are loops that call a model, not round functions.
To audit one of their steps, hand the loop a :func:`scripted_model`: call i returns the logits the audit
chooses (the case's table, placed at the masked positions), every call's input is recorded, and the call after
the last scripted one raises :class:`ScriptStop`, carrying the sequence the loop had built by then, which is the
outcome of the audited steps. :func:`run_until_stopped` runs a loop to that point and returns it.

**Schedule arithmetic.** To audit a first step that reveals exactly k of N masked positions, pick the number
of steps S whose first step reveals k (:func:`first_step_count` finds it for any rule):

* LLaDA / Fast-dLLM (``get_num_transfer_tokens``): N // S per step, the first N mod S steps one more, so the
  first step reveals ⌈N/S⌉ when S does not divide N and N/S when it does: ``lambda s: -(-N // s)``.
* MaskGIT's cosine schedule with S steps: the first step keeps ⌊N·cos(π/(2S))⌋ masked, so it reveals
  N − ⌊N·cos(π/(2S))⌋.
* A linear schedule over S steps: ⌈N/S⌉ first.
"""

from __future__ import annotations

__all__ = ["ScriptStop", "scripted_model", "run_until_stopped", "first_step_count"]


class ScriptStop(Exception):
    """Raised by a :func:`scripted_model` at the call after its last response; ``tokens`` is that call's input."""

    def __init__(self, tokens):
        super().__init__("the audited steps are done (the scripted model has no more responses)")
        self.tokens = tokens


def scripted_model(responses, *, wrap=None, **attributes):
    """A stand-in network: call i returns ``wrap(responses[i](x))``, the next call raises :class:`ScriptStop`.

    Spec: §9.

    Parameters
    ----------
    responses : sequence of callable
        ``responses[i](x)`` gives the logits of call i from its input ``x`` (for instance the case's logits
        regardless of ``x``).
    wrap : callable, optional
        Shapes the output as the loop expects it (``lambda t: {"logits": t}``, an object with ``.logits``).
    **attributes
        Set on the model (``mask_token_id=...``, ``config=...``): what the loop reads from its network.

    Returns
    -------
    torch.nn.Module
        With ``calls`` (calls answered so far) and ``inputs`` (a clone of each call's first argument); it holds
        one parameter, so that ``next(model.parameters()).device`` works.

    Examples
    --------
    >>> import torch
    >>> m = scripted_model([lambda x: torch.zeros(x.shape + (3,))])
    >>> m(torch.zeros(1, 4, dtype=torch.long)).shape, m.calls
    (torch.Size([1, 4, 3]), 1)
    >>> try:
    ...     m(torch.ones(1, 4, dtype=torch.long))
    ... except ScriptStop as stop:
    ...     stop.tokens.tolist()
    [[1, 1, 1, 1]]
    """
    import torch

    responses = list(responses)
    shape = (lambda t: t) if wrap is None else wrap

    class ScriptedModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.anchor = torch.nn.Parameter(torch.zeros(()), requires_grad=False)  # loops read the device here
            self.calls = 0
            self.inputs = []
            for key, value in attributes.items():
                setattr(self, key, value)

        def forward(self, x, *args, **kwargs):
            if self.calls == len(responses):
                raise ScriptStop(x.clone())
            self.inputs.append(x.clone())
            self.calls += 1
            return shape(responses[self.calls - 1](x))

    return ScriptedModel()


def run_until_stopped(loop, *args, **kwargs):
    """Run ``loop(*args, **kwargs)`` until its scripted model stops it; the tokens it had then.

    A loop that returns before calling its model once more (it ended, or it finished the sequence without a
    further call) returns its own result, which is then the outcome of the audited steps.

    Examples
    --------
    >>> import torch
    >>> m = scripted_model([lambda x: torch.zeros(x.shape + (2,))])
    >>> def loop(model, x):
    ...     for _ in range(5):
    ...         x = model(x).argmax(-1) + 1
    ...     return x
    >>> run_until_stopped(loop, m, torch.zeros(1, 3, dtype=torch.long)).tolist()
    [[1, 1, 1]]
    """
    try:
        return loop(*args, **kwargs)
    except ScriptStop as stop:
        return stop.tokens


def first_step_count(count, target: int, what: str, *, limit: int = 256) -> int:
    """The smallest number of steps S in 1..``limit`` whose first step reveals ``target`` positions, where
    ``count(S)`` is what the loop's schedule reveals first (module doc for the common schedules).

    Examples
    --------
    >>> first_step_count(lambda s: -(-10 // s), 4, "LLaDA's schedule")  # ⌈10/3⌉ = 4
    3
    """
    for s in range(1, limit + 1):
        if count(s) == target:
            return s
    raise ValueError(f"no number of steps up to {limit} makes {what} reveal k={target} positions in its first step")
