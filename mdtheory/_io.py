"""File helpers shared by every stage: atomic writes and the fsync'ed JSON-lines log of resumable runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["atomic_write_text", "json_default", "read_jsonl", "append_jsonl"]


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
    fh.write(json.dumps(row, default=json_default) + "\n")
    fh.flush()
    os.fsync(fh.fileno())
