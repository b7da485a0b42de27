"""Fork server of the mutation benchmark: one per copy of the tree, so that a mutant's test run does not pay
for starting Python and importing torch, scipy and matplotlib again.

It imports the heavy third-party modules once (never ``mdtheory``, which each run must import afresh from
the mutated copy), then reads one JSON job per line on stdin, ``{"args": [...], "timeout": s, "log": path}``,
forks a child that runs ``pytest.main(args)`` in its own process group with its output in ``log``, and
answers one JSON line ``{"rc": exit code or "timeout", "seconds": s}``. A child past its time limit is killed
with its whole process group (tests that start subprocesses included).

Why a fork is sound here: the parent has run no torch operation and started no thread, so the child starts
from a clean copy of the imported modules; everything mdtheory-related is imported in the child.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

PRELOAD = ("numpy", "scipy", "scipy.special", "scipy.stats", "scipy.optimize", "scipy.integrate", "scipy.linalg",
           "torch", "sympy", "matplotlib", "matplotlib.pyplot", "hypothesis", "pytest", "_pytest.pytester",
           "coverage")


def _preload() -> None:
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional module: the child imports it itself if a test needs it
            pass
    assert not any(m == "mdtheory" or m.startswith("mdtheory.") for m in sys.modules), \
        "the fork server must not import mdtheory (each run imports the mutated copy)"


def _run(job: dict) -> dict:
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: its own process group, output to the log, pytest, and out without cleanup
        try:
            os.setpgid(0, 0)
            fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            import pytest

            rc = int(pytest.main(job["args"]))
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 -- anything escaping pytest is an error outcome, never a hang
            rc = 3
        os._exit(rc)
    deadline = t0 + float(job["timeout"])
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            rc = os.waitstatus_to_exitcode(status)
            break
        if time.perf_counter() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            rc = "timeout"
            break
        time.sleep(0.02)
    return {"rc": rc, "seconds": round(time.perf_counter() - t0, 2)}


def main() -> None:
    _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
