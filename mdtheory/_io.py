"""File helpers shared by every stage: atomic writes and the fsync'ed JSON-lines log of resumable runs."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["check_npy_size", "atomic_write_text", "json_default", "strict_json", "to_json", "restore_inf", "read_jsonl",
           "drop_torn_tail", "append_jsonl"]


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def json_default(x):
    """``json.dumps`` fallback: numpy scalars as Python numbers, anything else as its string."""
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


def strict_json(obj, path: str = "", undefined: dict | None = None):
    """``obj`` with values JSON can hold: numpy scalars and arrays as Python numbers and lists, ±inf as the
    strings "inf"/"-inf", and NaN as None, its path recorded in ``undefined`` (path → reason)."""
    if isinstance(obj, dict):
        return {str(k): strict_json(v, f"{path}.{k}" if path else str(k), undefined) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v, f"{path}[{i}]", undefined) for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return strict_json(obj.tolist(), path, undefined)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            if undefined is not None:
                undefined[path or "value"] = "undefined (not a number)"
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if obj is None or isinstance(obj, (str, int)):
        return obj
    return str(obj)


def to_json(obj, *, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (:func:`strict_json`; never NaN or Infinity). A dict whose values include
    undefined numbers gets an ``"undefined"`` entry mapping each one's path to the reason."""
    undefined: dict = {}
    clean = strict_json(obj, "", undefined)
    if undefined and isinstance(clean, dict):
        clean.setdefault("undefined", {}).update(undefined)
    return json.dumps(clean, indent=indent, allow_nan=False)


def restore_inf(obj):
    """Undo :func:`strict_json`'s encoding of ±inf ("inf"/"-inf" strings back to floats)."""
    if isinstance(obj, dict):
        return {k: restore_inf(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [restore_inf(v) for v in obj]
    if obj == "inf" or obj == "-inf":
        return float(obj)
    return obj


def drop_torn_tail(path: str | Path) -> bool:
    """Cut a JSON-lines log back to its last complete line (a kill mid-write leaves a fragment without its
    newline, which the next append would otherwise extend). Returns whether anything was cut."""
    path = Path(path)
    if not path.exists():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    with open(path, "r+b") as fh:
        fh.truncate(data.rfind(b"\n") + 1)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def read_jsonl(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines log; a line cut by an interruption is skipped (its task is redone)."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(fh, row: dict) -> None:
    """Append one row to an open log, flushed and fsync'ed (a kill loses at most the row in flight)."""
    fh.write(json.dumps(strict_json(row), allow_nan=False) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def check_npy_size(path: str | Path, *, flag: str) -> None:
    """Refuse a ``.npy`` file whose header declares more data than the file holds, before anything is
    allocated (a 128-byte header can ask for terabytes). ``flag`` names the argument in the message."""
    import numpy as np

    path = Path(path)
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read:  # version 3 (UTF-8 field names): no public reader; np.load checks it
                return
            shape, _, dtype = read[version](fh)
        except (ValueError, OSError, EOFError, SyntaxError) as exc:
            raise ValueError(f"{flag} {path}: not a NumPy .npy array file ({exc})") from None
        offset = fh.tell()
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    held = path.stat().st_size - offset
    if declared > held:
        raise ValueError(f"{flag} {path}: its header declares {declared:,} bytes of data (shape {shape}, "
                         f"{dtype}) but the file holds {held:,}; refused before loading")
