import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "mdtheory.cli"]


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The smoke preset of the real_asymptotics driver, run serially in this process's way (the reference run)."""
    out = tmp_path_factory.mktemp("real_asymptotics")
    r = subprocess.run(CLI + ["simulate", "real_asymptotics", "--preset", "smoke", "--out", str(out), "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out
