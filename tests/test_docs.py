"""The documentation site (``docs/``, Sphinx) builds with every warning an error, and covers the API and the CLI.

``bash run.sh docs`` builds the same site into ``docs/_build/html``. Here the tutorials are taken from the
notebooks the test session has executed (fixture ``executed_notebook``), so they run once per test run; a
tutorial whose data are absent (NCI-60) is shown without outputs.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import resistscore as rs

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# the top level on docs/api/index.rst, every namespace of `rs` (rs.io, rs.pp, ...) on docs/api/<name>.rst
NAMESPACES = {
    "resistscore": "index",
    **{f"resistscore.{m}": m for m in rs.__all__ if inspect.ismodule(getattr(rs, m))},
}


def _documented() -> dict[str, set[str]]:
    """The names listed in the autosummary tables of each page of ``docs/api``."""
    listed: dict[str, set[str]] = {}
    for page in (DOCS / "api").glob("*.rst"):
        names, inside = set(), False
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith(".. autosummary::"):
                inside = True
            elif inside and line and not line.startswith(" "):
                inside = False
            elif inside and re.fullmatch(r" {3}\w+", line):
                names.add(line.strip())
        listed[page.stem] = names
    return listed


def test_every_public_name_is_in_the_api_reference():
    listed = _documented()
    documented = {
        id(getattr(importlib.import_module(module), name))
        for module, page in NAMESPACES.items()
        for name in listed.get(page, ())
        if hasattr(importlib.import_module(module), name)
    }
    missing = []
    for module, page in NAMESPACES.items():
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or name == "__version__":
                continue
            if name not in listed.get(page, ()) and id(obj) not in documented:  # re-exports: documented once
                missing.append(f"{module}.{name} (add it to docs/api/{page}.rst)")
    assert not missing, "not in the API reference: " + ", ".join(missing)


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path, executed_notebook):
    for source in sorted((REPO / "notebooks").glob("*.py")):
        with contextlib.suppress(pytest.skip.Exception):  # data absent: the site shows it without outputs
            executed_notebook(source.stem)
    env = {**os.environ, "RESISTSCORE_DOCS_EXECUTED": str(executed_notebook.folder)}
    html = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    proc = subprocess.run(
        [*cmd, "-d", str(tmp_path / "doctrees"), str(DOCS), str(html)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, f"sphinx-build -W failed:\n{proc.stderr[-6000:]}"

    # the API reference is generated from the docstrings
    score = (html / "api" / "generated" / "resistscore.tl.score.html").read_text(encoding="utf-8")
    assert "Parameters" in score and "signatures" in score
    # the CLI reference is generated from click: every command and sub-command has its section
    from resistscore.cli import cli

    page = (html / "cli.html").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f'id="resistscore-{name}"' in page, name
        for sub in getattr(command, "commands", {}):
            assert f'id="resistscore-{name}-{sub}"' in page, f"{name} {sub}"
    # the tutorials are rendered with the outputs of this test run (figures as inline PNG)
    for source in sorted((REPO / "notebooks").glob("*.py")):
        rendered = (html / "tutorials" / f"{source.stem}.html").read_text(encoding="utf-8")
        if (executed_notebook.folder / f"{source.stem}.ipynb").is_file():
            assert "<img" in rendered and "cell_output" in rendered, source.stem
    # pages of the user guide, the repository files included into pages, the changelog
    for page in (
        "getting-started",
        "methods",
        "statistics",
        "plotting",
        "trust",
        "architecture",
        "changelog",
    ):
        assert (html / f"{page}.html").is_file(), page
    corrections = (html / "signatures" / "CORRECTIONS.html").read_text(encoding="utf-8")
    assert "P-glycoprotein is not a chloride pump" in corrections
