"""Sphinx configuration of resistscore's documentation site.

Build it with ``bash run.sh docs`` (HTML in ``docs/_build/html``) or, as the test suite does,
``sphinx-build -W -b html docs OUTDIR``. The site is made of:

* the Markdown pages of ``docs/`` (MyST): getting started, methods, statistics, plotting, trust,
  architecture ...; the README, CHANGELOG and ``signatures/*.md`` are included where they are, never copied;
* the API reference, generated from the numpydoc docstrings (autosummary + numpydoc);
* the CLI reference, generated from the click commands (sphinx-click);
* the tutorials: ``notebooks/*.ipynb`` and ``notebooks/README.md``, copied into ``docs/tutorials/``
  (git-ignored) at every build and rendered by myst-nb. The committed notebooks have no outputs, so they are
  executed at build time and the results cached in ``docs/_build/.jupyter_cache`` (a notebook runs again only
  when its code changes). ``RESISTSCORE_DOCS_EXECUTED=FOLDER`` takes executed copies from FOLDER instead
  (the test suite passes the notebooks it has just run, so each runs once per test run).
  ``02_nci60_bulk.ipynb`` needs the NCI-60 files (``RESISTSCORE_SHARED_DATA``); without them it is shown
  unexecuted, with a note saying so.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO))  # the package of this checkout, also when it is not installed

import resistscore  # noqa: E402

project = "resistscore"
author = "resistscore developers"
copyright = "resistscore developers"
release = resistscore.__version__
version = release

extensions = [
    "myst_nb",  # Markdown (MyST) pages and notebooks
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_click",
    "sphinx_copybutton",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "literal"  # `text` in a docstring or the CLI's help is code, as in Markdown
templates_path = ["_templates"]

# -- API reference ----------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # the numpydoc "Parameters" sections give the types
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False  # class pages list their members through the autosummary template
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- MyST and notebooks -----------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_in_temp = True  # files the notebooks write (the HTML report) stay out of the source tree
nb_merge_streams = True

# -- HTML -------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"resistscore {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 4,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_static_path: list[str] = []


# -- the tutorials ----------------------------------------------------------------------------------------
NOTEBOOKS = REPO / "notebooks"
TUTORIALS = DOCS / "tutorials"
REAL_DATA_NOTEBOOKS = {"02_nci60_bulk.ipynb": "nci60/expression_u133a_gcrma.csv.gz"}


def _copy_if_changed(src: Path, dst: Path) -> None:
    """Copy ``src`` onto ``dst`` atomically, and only when it differs (Sphinx rebuilds changed files only)."""
    if dst.is_file() and filecmp.cmp(src, dst, shallow=False):
        return
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _write_if_changed(text: str, dst: Path) -> None:
    """Write ``text`` to ``dst`` atomically, and only when it differs."""
    if dst.is_file() and dst.read_text(encoding="utf-8") == text:
        return
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, dst)


TUTORIALS_TOCTREE = """

```{toctree}
:hidden:

%s
```
"""


def _stage_tutorials() -> tuple[str, list[str]]:
    """Copy the notebooks into ``tutorials/``; return myst-nb's execution mode and the notebooks not to run."""
    TUTORIALS.mkdir(exist_ok=True)
    executed = os.environ.get("RESISTSCORE_DOCS_EXECUTED")
    source_dir = Path(executed) if executed else NOTEBOOKS
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    wanted = {"index.md"}
    index = (NOTEBOOKS / "README.md").read_text(encoding="utf-8")
    index += TUTORIALS_TOCTREE % "\n".join(nb.stem for nb in notebooks)
    _write_if_changed(index, TUTORIALS / "index.md")
    for nb in notebooks:
        src = source_dir / nb.name
        if not src.is_file():
            src = nb  # not executed by the caller (e.g. the NCI-60 notebook without the data): shown as it is
        _copy_if_changed(src, TUTORIALS / nb.name)
        wanted.add(nb.name)
    for stale in TUTORIALS.iterdir():
        if stale.name not in wanted and stale.is_file():
            stale.unlink()
    if executed:
        return "off", []
    shared = Path(os.environ.get("RESISTSCORE_SHARED_DATA", REPO.parent / "shared" / "data"))
    skip = [
        f"tutorials/{name}" for name, needs in REAL_DATA_NOTEBOOKS.items() if not (shared / needs).is_file()
    ]
    for name in skip:
        print(f"resistscore docs: {name} is shown without outputs (its data, under {shared}, are absent)")
    return "cache", skip


nb_execution_mode, nb_execution_excludepatterns = _stage_tutorials()
if not os.environ.get("RESISTSCORE_DOCS_EXECUTED"):
    os.environ.setdefault("RESISTSCORE_SHARED_DATA", str(REPO.parent / "shared" / "data"))
    import matplotlib

    matplotlib.use("Agg")  # this process (autodoc) draws nothing; the kernels below draw inline
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # figures are cell outputs
    os.environ["PYTHONWARNINGS"] = "ignore:IProgress not found"  # tqdm.auto's call for ipywidgets


# -- files of the repository included into pages ---------------------------------------------------------
_HEADING = re.compile(r"^(#{1,6})(\s)")
_FENCE = re.compile(r"^(```|~~~)")


def close_heading_gaps(text: str) -> str:
    """Renumber Markdown headings so that none skips a level (``#`` then ``###`` becomes ``#`` then ``##``).

    The repository's Markdown files are written to be read on their own (``signatures/CORRECTIONS.md`` puts its
    entries at level 3 under a level-1 title); included into a page, a skipped level is a MyST warning. The
    files stay as they are; fenced code is left alone.
    """
    out, stack, fenced = [], [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        m = None if fenced else _HEADING.match(line)
        if m:
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            new = stack[-1][1] + 1 if stack else level
            stack.append((level, new))
            line = "#" * new + line[level:]
        out.append(line)
    return "\n".join(out)


def _on_include_read(app, relative_path, parent_docname, content) -> None:
    if str(relative_path).startswith(".."):  # a file of the repository outside docs/
        content[0] = close_heading_gaps(content[0])


def setup(app):
    app.connect("include-read", _on_include_read)
