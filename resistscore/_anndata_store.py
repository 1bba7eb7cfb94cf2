"""Low-level access to AnnData files on disk: one ``.h5ad`` (HDF5) or ``.zarr`` store, read-only.

Shared by the streaming engine (:mod:`resistscore.tl`), the file conversion (:mod:`resistscore.io`) and
the analysis workflow, which read names, annotations and elements of a file without loading its matrix.
anndata (and zarr, h5py) are imported only when called.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from resistscore._errors import InputFormatError, ResistScoreError

__all__ = ["attr", "elem_io", "open_store", "read_elem", "reading"]


@contextlib.contextmanager
def reading(path: str | Path, what: str):
    """Turn what a damaged store raises while ``what`` of ``path`` is read into one :class:`InputFormatError`.

    h5py, zarr, anndata and the codecs raise many kinds of errors on a truncated or corrupted file
    (``OSError``, ``KeyError``, ``RuntimeError``, ``UnicodeDecodeError``, anndata's registry errors ...);
    the user gets one message naming the file, the part that failed and the fix. Our own errors pass as
    they are.
    """
    try:
        yield
    except ResistScoreError:
        raise
    except Exception as e:  # any error of a library reading a damaged store
        raise InputFormatError(
            f"{path}: {what} cannot be read ({type(e).__name__}: {e}); the file is damaged or incomplete: "
            "write it again (or convert it again with rs.io.convert)."
        ) from None


def open_store(path: str | Path):
    """Open an AnnData ``.h5ad`` file (h5py) or ``.zarr`` store read-only, as a context manager."""
    if Path(path).suffix.lower() == ".zarr":
        import zarr

        return contextlib.nullcontext(zarr.open_group(str(path), mode="r"))
    import h5py

    return h5py.File(path, "r")


def elem_io():
    """Return anndata's ``(read_elem, write_elem)`` (``anndata.io`` from 0.11, ``anndata.experimental`` before)."""
    try:
        from anndata.io import read_elem, write_elem
    except ImportError:  # anndata < 0.11
        from anndata.experimental import read_elem, write_elem
    return read_elem, write_elem


def read_elem():
    """Return anndata's ``read_elem`` (see :func:`elem_io`)."""
    return elem_io()[0]


def attr(node, name: str) -> str:
    """Return an attribute of an HDF5 or zarr node as ``str`` ("" when absent; HDF5 may give bytes)."""
    v = node.attrs.get(name, "")
    return v.decode() if isinstance(v, bytes) else str(v)
