"""The tutorials: each ``notebooks/NAME.py`` (jupytext percent format, the source) and its ``NAME.ipynb``
twin hold the same cells, the ``.ipynb`` is committed without outputs, and every tutorial runs from top to
bottom on a fresh kernel (so they never rot).

The notebooks contain ``assert`` cells that check the claims their text makes (the planted programmes are
found, NCI/ADR-RES ranks first, ...), so an error in any cell fails the test. ``02_nci60_bulk`` reads the
real NCI-60 data and is skipped, with a reason, when they are absent (fixture ``nci60_dir``). The runs
themselves are the session fixture ``executed_notebook`` of ``tests/conftest.py``, shared with
``tests/test_docs.py``.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = sorted(NOTEBOOK_DIR.glob("*.py"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {"01_quickstart_toy", "02_nci60_bulk", "03_single_cell"}
SYNC = "run `jupytext --sync notebooks/*.py` (the pre-commit hook does)"


def test_the_three_tutorials_exist_as_pairs():
    assert {p.stem for p in SOURCES} >= EXPECTED
    assert {p.stem for p in SOURCES} == {p.stem for p in NOTEBOOKS}, (
        f"every notebooks/NAME.py needs its NAME.ipynb and the reverse; {SYNC}"
    )
    assert not (NOTEBOOK_DIR / "_build_notebooks.py").exists()  # the .py files are the sources now


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_each_pair_holds_the_same_cells(source):
    ipynb = source.with_suffix(".ipynb")
    from_py, from_ipynb = _cells(jupytext.read(source)), _cells(nbformat.read(ipynb, as_version=4))
    for i, (a, b) in enumerate(zip(from_py, from_ipynb)):
        assert a == b, (
            f"cell {i} of {source.name} differs from {ipynb.name}: {a[1][:60]!r} vs {b[1][:60]!r}; {SYNC}"
        )
    assert len(from_py) == len(from_ipynb), (
        f"{source.name} has {len(from_py)} cells, {ipynb.name} {len(from_ipynb)}; {SYNC}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cell"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        f"{path.name} is committed with outputs; strip them (`nbstripout {path}`; a pre-commit hook runs it)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_notebook_runs(source, executed_notebook):
    nb = nbformat.read(executed_notebook(source.stem), as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert not errors  # execute() raises on the first error; this guards allow_errors metadata
    assert sum(c.cell_type == "code" for c in nb.cells) == sum(
        c.cell_type == "code" for c in jupytext.read(source).cells
    )
    if source.stem == "01_quickstart_toy":
        report = executed_notebook.workdir(source.stem) / "toy_report.html"
        assert report.is_file() and report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
