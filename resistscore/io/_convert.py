"""Convert an ``.h5ad`` file into a chunked AnnData ``.zarr`` store, without loading the matrix."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from resistscore._anndata_store import attr, elem_io
from resistscore._atomic import atomic_dir
from resistscore._errors import InputFormatError
from resistscore._validate import check_int

__all__ = ["convert"]

#: AnnData elements copied whole (annotations: a few values per cell or gene)
_ANNOTATIONS = ("obs", "var", "uns", "obsm", "varm", "obsp", "varp")


def convert(src, dst, *, chunk_rows: int = 10_000) -> Path:
    """Copy an ``.h5ad`` file into an AnnData ``.zarr`` store, chunked by rows, in one streaming pass.

    ``X`` and every layer are copied ``chunk_rows`` rows at a time (a CSR matrix: its values and
    column indices in the slices of those rows; a dense matrix: blocks of rows), so memory stays at
    one block whatever the file's size; the annotations (``obs``, ``var``, ``uns``, ``obsm``, ...)
    are copied whole. The store is written beside ``dst`` and moved into place when complete (a
    failed conversion leaves ``dst`` as it was). The result reads with ``anndata.read_zarr`` and
    scores with ``rs.tl.score("cells.zarr", client=...)``, each Dask worker reading its own rows.

    Parameters
    ----------
    src
        The ``.h5ad`` file (CSR or dense ``X``; a CSC matrix must be rewritten as CSR first).
    dst
        The ``.zarr`` store to write (new, empty, or written by an earlier conversion).
    chunk_rows
        Rows per block of the copy and per zarr chunk of a dense matrix (values of a sparse matrix
        are chunked by about a million).

    Returns
    -------
    pathlib.Path
        ``dst``.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.io.convert("cells.h5ad", "cells.zarr")  # doctest: +SKIP
    PosixPath('cells.zarr')
    """
    import h5py
    import zarr

    chunk_rows = check_int("chunk_rows", chunk_rows, minimum=1)
    src, dst = Path(src), Path(dst)
    if dst.suffix != ".zarr":
        raise InputFormatError(
            f"the output {dst} must end in .zarr (a zarr store); e.g. {dst.with_suffix('.zarr')}."
        )
    if not src.is_file():
        raise InputFormatError(
            f"{src} is not an existing .h5ad file; give the path of an AnnData .h5ad file."
        )
    try:
        f = h5py.File(src, "r")
    except OSError as e:
        raise InputFormatError(f"cannot read {src} as an .h5ad file ({e}); pass an AnnData file.") from None
    read_elem, write_elem = elem_io()
    import anndata as ad

    fmt = int(getattr(ad.settings, "zarr_write_format", 2))
    with f, atomic_dir(dst, [src], option="dst") as stage:
        if "X" not in f and "obs" not in f:
            raise InputFormatError(f"{src} is not an AnnData file (no X, no obs); write it with anndata.")
        g = zarr.open_group(str(stage), mode="w", zarr_format=fmt)
        g.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # anndata's notes on zarr formats
            for key in _ANNOTATIONS:
                if key in f:
                    write_elem(g, key, read_elem(f[key]))
        if "X" in f:
            _copy_matrix(f["X"], g, "X", chunk_rows, src)
        if "layers" in f:
            layers = g.create_group("layers")
            layers.attrs.update({"encoding-type": "dict", "encoding-version": "0.1.0"})
            for name in f["layers"]:
                _copy_matrix(f["layers"][name], layers, name, chunk_rows, src)
    return dst


def _copy_matrix(node, g, key: str, chunk_rows: int, src: Path) -> None:
    """Copy one matrix (CSR group or dense dataset) into the zarr group ``g`` block by block."""
    import h5py

    if isinstance(node, h5py.Group):
        enc = attr(node, "encoding-type")
        if enc != "csr_matrix":
            raise InputFormatError(
                f"{src}:{node.name} is stored as {enc or 'an unknown group'}; convert reads CSR (cells x genes). "
                "Rewrite it with adata.X = scipy.sparse.csr_matrix(adata.X); adata.write_h5ad(...)."
            )
        shape = tuple(int(s) for s in node.attrs["shape"])
        indptr = np.asarray(node["indptr"][...], dtype=np.int64)
        data, indices = node["data"], node["indices"]
        nnz = int(indptr[-1]) if len(indptr) else 0
        if len(indptr) != shape[0] + 1 or data.shape[0] < nnz or indices.shape[0] < nnz:
            raise InputFormatError(f"{src}:{node.name} is a damaged CSR matrix; write the file again.")
        out = g.create_group(key)
        out.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": list(shape)})
        chunk = max(1, min(nnz, 1 << 20))
        zd = out.create_array("data", shape=(nnz,), chunks=(chunk,), dtype=data.dtype)
        zi = out.create_array("indices", shape=(nnz,), chunks=(chunk,), dtype=indices.dtype)
        out.create_array(
            "indptr", shape=indptr.shape, chunks=(max(1, min(len(indptr), 1 << 20)),), dtype=np.int64
        )[...] = indptr
        for a in range(0, shape[0], chunk_rows):
            lo, hi = int(indptr[a]), int(indptr[min(a + chunk_rows, shape[0])])
            if hi > lo:
                zd[lo:hi] = data[lo:hi]
                zi[lo:hi] = indices[lo:hi]
        return
    if len(node.shape) != 2:
        raise InputFormatError(f"{src}:{node.name} is not a 2-dimensional matrix (shape {node.shape}).")
    n, m = (int(s) for s in node.shape)
    z = g.create_array(key, shape=(n, m), chunks=(max(1, min(n, chunk_rows)), max(m, 1)), dtype=node.dtype)
    z.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    for a in range(0, n, chunk_rows):
        b = min(a + chunk_rows, n)
        z[a:b] = node[a:b]
