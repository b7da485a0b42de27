"""The README's Python quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quickstart_runs(capsys):
    text = README.read_text()
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 5
    exec(compile(block, "README quickstart", "exec"), {})
    out = capsys.readouterr().out.split()
    tv, kl, path_kl = (float(v) for v in out)
    assert 0 < tv < 0.05 and 0 < kl <= path_kl
