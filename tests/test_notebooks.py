"""The notebooks run from top to bottom on a fresh kernel (so they never rot).

Each notebook runs in a temporary working directory (files it writes, such as the HTML report, land
there). ``02_nci60_bulk.ipynb`` reads the real NCI-60 data from ``$RESISTSCORE_SHARED_DATA/nci60``;
the test points that variable at the folder found by the ``nci60_dir`` fixture and skips the notebook
with a reason when the shared data are absent. The notebooks contain ``assert`` cells that check the
claims their text makes (the planted programmes are found, NCI/ADR-RES ranks first, ...), so an error
in any cell fails the test.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
REAL_DATA = {"02_nci60_bulk.ipynb"}
EXPECTED = {"01_quickstart_toy.ipynb", "02_nci60_bulk.ipynb", "03_single_cell.ipynb"}


def test_the_three_tutorials_exist():
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        f"{path.name} is committed with outputs; strip them (pre-commit runs nbstripout, or rerun "
        "python notebooks/_build_notebooks.py)"
    )


def _generator():
    spec = importlib.util.spec_from_file_location("_build_notebooks", NOTEBOOK_DIR / "_build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_generator(path):
    gen = _generator()
    if gen._ruff() is None:
        pytest.skip("ruff is not installed (the generator formats code cells with it)")
    assert path.read_text(encoding="utf-8") == gen.build(path.name), (
        f"{path.name} differs from notebooks/_build_notebooks.py; edit the generator and rerun "
        "python notebooks/_build_notebooks.py"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, request, monkeypatch):
    if path.name in REAL_DATA:
        nci60_dir = request.getfixturevalue("nci60_dir")  # skips with a reason when the data are absent
        monkeypatch.setenv("RESISTSCORE_SHARED_DATA", str(Path(nci60_dir).resolve().parent))
    nb = nbformat.read(path, as_version=4)
    # the kernel's "python" must be the interpreter running the tests (the project's virtual environment)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3")
    client.execute(cwd=str(tmp_path))
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors  # execute() raises on the first error; this guards allow_errors metadata
    if path.name == "01_quickstart_toy.ipynb":
        report = tmp_path / "toy_report.html"
        assert report.is_file() and report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
