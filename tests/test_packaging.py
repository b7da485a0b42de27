"""What `pip install .` installs: the mdtheory package with its data, and nothing under a generic name."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True)
    return next(out.glob("mdtheory-*.whl"))


def test_the_wheel_holds_only_mdtheory_with_its_data(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert top == {"mdtheory", next(t for t in top if t.endswith(".dist-info"))}, top
    for needed in ("mdtheory/models/checkpoints/digits/model.safetensors",
                   "mdtheory/montecarlo/drivers/smoke/MANIFEST.json",
                   "mdtheory/montecarlo/drivers/smoke/quality/results.json", "mdtheory/figures/plot.py"):
        assert needed in names, needed


@pytest.mark.slow
def test_verify_runs_from_a_plain_install_outside_the_repo(wheel, tmp_path):
    """A fresh virtual environment, `pip install` of the wheel, and `mdtheory verify` run elsewhere."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "-q", "torch==2.13.0"], check=True)  # the CPU wheel
    subprocess.run([py, "-m", "pip", "install", "-q", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = subprocess.run([py, "-m", "mdtheory", "verify", "--out", "rep", "--no-progress"], cwd=work,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (work / "rep" / "report.html").exists()
    where = subprocess.run([py, "-c", "import mdtheory; print(mdtheory.__file__)"], cwd=work, capture_output=True,
                           text=True).stdout
    assert str(ROOT) not in where
