"""The public API's call signatures are a contract: parameter names, their order, which are keyword-only or
positional-only, and their defaults. Each public function and class of the package's table
(``mdtheory._PUBLIC``) is compared with the committed record ``tests/data/public_signatures.json``, so a
signature that changes (a default, a ``*`` that goes, a renamed parameter) is caught and has to be written
down on purpose. After an intended change, regenerate the record with
``MDT_UPDATE_SIGNATURES=1 pytest tests/test_public_signatures.py`` and review its diff."""

import inspect
import importlib
import json
import os
import re
from pathlib import Path

import pytest

import mdtheory

RECORD = Path(__file__).parent / "data" / "public_signatures.json"


def _signature(obj) -> str | None:
    if not callable(obj):
        return None
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):  # builtins without a signature
        return None
    return re.sub(r" at 0x[0-9a-f]+", "", text)  # an object default's address is not part of the contract


def current() -> dict[str, str]:
    out = {}
    for name in sorted(mdtheory._PUBLIC):
        sig = _signature(getattr(importlib.import_module(f"mdtheory.{mdtheory._PUBLIC[name]}"), name))
        if sig is not None:
            out[name] = sig
    return out


def test_public_signatures_match_the_record():
    now = current()
    if os.environ.get("MDT_UPDATE_SIGNATURES"):
        RECORD.write_text(json.dumps(now, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        pytest.skip("record rewritten")
    record = json.loads(RECORD.read_text())
    changed = {n: (record.get(n), now.get(n)) for n in sorted(set(record) | set(now)) if record.get(n) != now.get(n)}
    assert not changed, "\n".join(f"{n}: recorded {a!r}, now {b!r}" for n, (a, b) in changed.items())
    assert len(record) > 150  # the record covers the public table, not a handful of names
