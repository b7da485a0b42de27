"""The documentation holds together: every "§" in the code and the docs resolves to a section of
docs/theory.md, and the product speaks of the project, not of its development history."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "docs" / "theory.md"


def _sections() -> set[str]:
    return set(re.findall(r"^#{2,3} §(\d+(?:\.\d+)?) ", THEORY.read_text(), re.M))


def _tracked(*patterns) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True).stdout.split()
    return [ROOT / p for p in out] or [p for pat in patterns for p in ROOT.glob(pat)]


def test_theory_has_every_section_of_the_spec():
    assert {str(i) for i in range(1, 10)} <= _sections()


def test_every_section_sign_resolves():
    sections = _sections()
    files = [p for p in ROOT.joinpath("mdtheory").rglob("*.py")] + [ROOT / "README.md"] + list(
        ROOT.joinpath("docs").glob("*.md")) + list(ROOT.joinpath("tests").rglob("*.py"))
    missing = set()
    for path in files:
        for ref in re.findall(r"§ ?(\d+(?:\.\d+)?)", path.read_text()):
            if ref not in sections:
                missing.add(f"{path.relative_to(ROOT)}: §{ref}")
    assert not missing, sorted(missing)


def test_no_development_history_in_the_product():
    # the words are split so that this file does not match itself
    pattern = re.compile("iss" + r"ue ?#?[0-9]|" + "ground" + "work", re.I)
    hits = []
    for path in _tracked("*.py", "*.md", "*.toml", "*.sh", "*.json", "*.cfg", ".ci/*"):
        if path.name == "RELEASES.md" or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(errors="ignore").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}")
    assert not hits, hits[:20]
