"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("RESISTSCORE_SHARED_DATA", REPO.parent / "shared" / "data"))
REFERENCE_DIR = Path(__file__).resolve().parent / "_reference"


@pytest.fixture(scope="session")
def nci60_dir() -> Path:
    """The NCI-60 folder of ../shared/data; the test is skipped when it is absent."""
    d = SHARED_DATA / "nci60"
    if not (d / "expression_u133a_gcrma.csv.gz").is_file():
        pytest.skip(
            f"real NCI-60 data not found at {d} (set RESISTSCORE_SHARED_DATA to the shared data folder)"
        )
    return d


NOTEBOOK_DIR = REPO / "notebooks"
REAL_DATA_NOTEBOOKS = {"02_nci60_bulk"}
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# tqdm.auto asks for ipywidgets, which a kernel run headless does not need: not a message for the reader
KERNEL_WARNINGS = "ignore:IProgress not found"


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory, request):
    """Run a tutorial once per test session: ``executed_notebook("01_quickstart_toy")`` -> executed ``.ipynb``.

    The tutorial's source, ``notebooks/NAME.py`` (jupytext percent format), runs top to bottom on a fresh
    kernel of this interpreter, in a temporary working directory (files it writes land there:
    ``executed_notebook.workdir(NAME)``). ``tests/test_notebooks.py`` checks that each runs;
    ``tests/test_docs.py`` builds the documentation from the executed copies (all in
    ``executed_notebook.folder``), so each tutorial runs once per test run. A notebook that needs real data
    skips when the data are absent; a failure is raised again to every later caller without a second run.
    """
    import sys

    import jupytext
    import nbclient
    import nbformat

    folder = tmp_path_factory.mktemp("executed_notebooks")
    done: dict[str, Path | BaseException] = {}

    def run(name: str) -> Path:
        if name not in done:
            try:
                done[name] = _execute(name)
            except BaseException as exc:  # a failure or a skip (absent data) is remembered, not re-run
                done[name] = exc
        if isinstance(done[name], BaseException):
            raise done[name]
        return done[name]

    def _execute(name: str) -> Path:
        nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
        workdir = run.workdir(name)
        workdir.mkdir()
        with pytest.MonkeyPatch.context() as mp:
            if name in REAL_DATA_NOTEBOOKS:
                nci60 = request.getfixturevalue("nci60_dir")  # skips with a reason when the data are absent
                mp.setenv("RESISTSCORE_SHARED_DATA", str(Path(nci60).resolve().parent))
            # the kernel's "python" must be the interpreter running the tests (the project's environment)
            mp.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
            mp.setenv("MPLBACKEND", INLINE_BACKEND)  # figures are outputs of their cells, as in Jupyter
            mp.setenv("PYTHONWARNINGS", KERNEL_WARNINGS)
            client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3")
            client.execute(cwd=str(workdir))
        out = folder / f"{name}.ipynb"
        nbformat.write(nb, out)
        return out

    run.folder = folder
    run.workdir = lambda name: folder / f"{name}.work"
    return run


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Folder of stored reference outputs (see tests/_reference/README.md)."""
    return REFERENCE_DIR


@contextlib.contextmanager
def _os_fault(code: int, under: Path, after_bytes: int = 64):
    """Make writing below ``under`` fail with ``OSError(code)``, as a full disk or a read-only file system does.

    ``errno.ENOSPC`` (full disk): files open, accept ``after_bytes`` bytes, then every write fails - the
    partial file is left for the code under test to clean up. ``errno.EROFS`` (read-only file system) and
    any other code: creating, opening for writing or renaming anything below ``under`` fails at once.
    Reading is never affected, nor are paths elsewhere.
    """
    import builtins

    root = os.path.realpath(under)
    real_open, real_os_open = builtins.open, os.open
    real = {name: getattr(os, name) for name in ("mkdir", "rename", "replace", "chmod")}

    def inside(p) -> bool:
        if isinstance(p, int):
            return False
        path = os.path.realpath(os.fsdecode(p))
        return path == root or path.startswith(root + os.sep)

    def fail(p):
        raise OSError(code, os.strerror(code), os.fsdecode(p))

    def fake_open(file, mode="r", *args, **kwargs):
        if inside(file) and any(c in mode for c in "wax+"):
            if code != errno.ENOSPC:
                fail(file)
            fh = real_open(file, mode, *args, **kwargs)
            written = [0]
            write = fh.write

            def limited(data):
                if written[0] + len(data) > after_bytes:
                    fail(file)
                written[0] += len(data)
                return write(data)

            fh.write = limited
            return fh
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if code != errno.ENOSPC and inside(path) and flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def guarded(name):
        def call(src, *args, **kwargs):
            if code != errno.ENOSPC and inside(src):
                fail(src)
            return real[name](src, *args, **kwargs)

        return call

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", fake_open)
        mp.setattr(os, "open", fake_os_open)
        for name in real:
            mp.setattr(os, name, guarded(name))
        yield


@pytest.fixture
def os_fault():
    """``os_fault(errno.ENOSPC, folder)``: a context manager simulating a full disk (or ``errno.EROFS``: a
    read-only file system) below ``folder``; see ``_os_fault``."""
    return _os_fault
