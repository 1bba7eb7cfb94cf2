"""The README's Python quickstart runs as written (on the toy cohort)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import resistscore as rs

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 3


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the "your own data" example reads expression.csv.gz: give it one (genes x samples, as users have them)
    rs.ds.toy(n_samples=8).to_df().T.to_csv(tmp_path / "expression.csv.gz", index_label="gene")
    namespace: dict = {}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    plt.close("all")
    assert (tmp_path / "report.html").stat().st_size > 10_000
