"""Row-chunked access to an expression matrix: in memory (dense, CSR) or on disk (backed h5ad).

The engine never densifies a sparse matrix: it reads blocks of rows. For CSR data (in memory or
in an ``.h5ad`` file) the blocks are cut by walking ``indptr`` directly, because scipy's CSR row
slicing converts *all* column indices to int64 when the matrix has more than 2^31 stored values
(a copy as large as the matrix).
"""

from __future__ import annotations

import copy
import os
import weakref
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._anndata_store import attr, reading
from resistscore._errors import InputFormatError, ResistScoreError
from resistscore._types import is_anndata

__all__ = [
    "UNSCORABLE_REASONS",
    "MappedSource",
    "ReadBuffers",
    "RowSource",
    "ShardedSource",
    "column_sums",
    "from_file",
    "from_h5ad",
    "is_dask_array",
    "row_source",
    "unscorable_rows",
]


def is_dask_array(X) -> bool:
    """Whether ``X`` is a dask array (without importing dask)."""
    return type(X).__module__.startswith("dask.") and hasattr(X, "chunks") and hasattr(X, "compute")


def _decode(a) -> pd.Index:
    """Names as one ``str`` per entry (HDF5 gives bytes, zarr numpy strings), in an object Index."""
    a = np.asarray(a)
    if a.dtype.kind in "TU":
        a = a.astype(object)
    elif a.dtype.kind == "S" or a.dtype == object:
        a = np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a], dtype=object)
    return pd.Index(a)


def _str_dtype() -> pd.StringDtype:
    """Return pandas' ``str`` dtype (the default for strings from pandas 3): Arrow-backed, NaN when missing."""
    try:
        return pd.StringDtype("pyarrow", na_value=np.nan)
    except TypeError:  # pragma: no cover - pandas < 2.3 names it so
        return pd.StringDtype("pyarrow_numpy")


def compact_names(a) -> pd.Index:
    """Sample names read from a file, in an Index of pandas' ``str`` dtype (one Arrow buffer, no object per name).

    A million cell names take ~20 MiB so, against ~65 MiB as Python ``str`` objects in an object Index: the
    names are kept, with the results, through the whole run. An AnnData's own ``obs_names`` are used as they
    are (they are the user's); pandas 3 reads an h5ad's names into this dtype itself. anndata (< 0.13) does
    not write an index of this dtype: :meth:`~resistscore.tl.ScoreResult.to_anndata` gives the AnnData's
    tables its own ``obs_names``, and the writers of files turn the names into ``str`` objects.
    """
    import pyarrow as pa

    a = np.asarray(a)
    if a.dtype.kind not in "TU":  # bytes (HDF5) or objects: decoded one by one
        a = _decode(a).to_numpy()
    # pyarrow's system pool: what is freed goes back to the C heap (its default pool keeps pages)
    values = pa.array(a, type=pa.large_string(), from_pandas=True, memory_pool=pa.system_memory_pool())
    return pd.Index(pd.array(values, dtype=_str_dtype()))


def column_sums(X) -> np.ndarray:
    """Float64 sum of every column of a dense or sparse block (never densified)."""
    if sp.issparse(X):
        return np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
    return np.asarray(X, dtype=np.float64).sum(axis=0)


#: why a row cannot be scored, by code (see :func:`_unscorable_rows`)
UNSCORABLE_REASONS = {
    1: "no measured value (all NaN)",
    2: "all values are zero: nothing was measured",
    3: "all genes have the same value: no ranking or contrast within the sample",
}


#: no expression scale reaches beyond this, or comes closer to 0 than its inverse without being 0:
#: such values come from a misread file, and they overflow (or underflow) sums of squares
MAX_ABS_VALUE = 1e100


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _scan_csr(data, indptr, n_cols, check_mag, count_zeros, code, indices, s1, s2):
    """Write each row's code (0 or see :data:`UNSCORABLE_REASONS`) into ``code``.

    Row ``r`` holds ``data[indptr[r]:indptr[r + 1]]``, its other entries are 0. Returns ``(bad,
    odd, zeros)``: the first row with NaN or infinite values among other values (-1: none), the first
    value beyond :data:`MAX_ABS_VALUE` (or non-zero below its inverse) in absolute value (NaN: none),
    and with ``count_zeros`` the number of zeros among the values (a CSR block's stored zeros,
    :func:`unscorable_rows`; 0 without): counted in the rows whose values span 0 only, by a second loop
    over them (a count in the first loop took ~30 % more time for rows of positive values).
    With non-empty ``s1`` and ``s2`` (float64, one entry per column), each scorable row's values and
    their squares (in float64) are added into them at the columns ``indices`` gives, row after row: the
    sums scipy's ``csr.sum(axis=0)`` of the float64 values gives, to the bit (:func:`block_moments`).
    One function without nested compiled calls or allocations: it compiles fast on a first run.
    """
    bad = -1
    odd = np.nan
    zeros = 0
    for r in range(indptr.shape[0] - 1):
        a = indptr[r]
        b = indptr[r + 1]
        n_nan = 0
        n_inf = 0
        lo = np.inf
        hi = -np.inf
        for j in range(a, b):
            v = data[j]
            if np.isnan(v):
                n_nan += 1
                continue
            if np.isinf(v):
                n_inf += 1
                continue
            lo = v if v < lo else lo
            hi = v if v > hi else hi
            if check_mag and np.isnan(odd):
                av = abs(v)
                if av > MAX_ABS_VALUE or (av > 0.0 and av < 1.0 / MAX_ABS_VALUE):
                    odd = v
        if count_zeros and lo <= 0.0 <= hi:  # a stored zero is among these values (NaN, inf left out)
            for j in range(a, b):
                zeros += data[j] == 0.0
        if b - a < n_cols:  # implicit zeros
            lo = 0.0 if lo > 0.0 else lo
            hi = 0.0 if hi < 0.0 else hi
        c = 0
        if n_cols > 0 and n_nan == n_cols:
            c = 1
        elif n_nan + n_inf > 0:
            if bad < 0:
                bad = r
        elif n_cols > 0 and lo == hi:
            c = 2 if lo == 0.0 else 3
        code[r] = c
        if c == 0 and s1.shape[0] > 0:
            for j in range(a, b):
                g = np.intp(indices[j])
                v = np.float64(data[j])
                s1[g] += v
                s2[g] += v * v
    return bad, odd, zeros


#: ``indices, s1, s2`` of :func:`_scan_csr` when no sums are asked for
_NO_SUMS = (np.zeros(0, np.int32), np.zeros(0), np.zeros(0))


def unscorable_rows(block, a: int, sums: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Return per row 0 (scorable) or the code of :data:`UNSCORABLE_REASONS`.

    One compiled pass without temporary arrays. ``sums``: for a sparse block, two float64 arrays (one
    entry per column) into which the same pass adds the values and the squared values of the scorable
    rows (:func:`block_moments`).

    A row with no measured value (all NaN), all zeros, or one value for every gene carries no
    information about any signature: every method would give it an arbitrary (often extreme) score.
    Raises :class:`InputFormatError` for NaN or infinite values in a row that has other values, and for
    values beyond 1e100 or non-zero values below 1e-100 in absolute value (float64 data only: no
    other type holds them).

    The same pass counts the zeros a sparse block stores: recorded on the block
    (:func:`~resistscore.tl.methods._kernels.note_stored_zeros`), :func:`~resistscore.tl.methods._kernels.as_csr_block`
    does not read its values again to find them.
    """
    if sp.issparse(block):
        data = np.asarray(block.data)
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        check = data.dtype.itemsize >= 8
        code = np.zeros(block.shape[0], dtype=np.int8)
        indices = np.asarray(block.indices)
        # without sums: no index is read, but one of the block's type keeps the call's types those of the
        # gene statistics' call (one compiled version of the scan in a run, whatever the index type)
        extra = (indices[:0], *_NO_SUMS[1:]) if sums is None else (indices, *sums)
        bad, odd, zeros = _scan_csr(
            data, np.asarray(block.indptr, dtype=np.int64), block.shape[1], check, True, code, *extra
        )
        # imported here: resistscore.tl.methods imports this module
        from resistscore.tl.methods._kernels import note_stored_zeros

        note_stored_zeros(block, data, zeros > 0)
    else:
        X = np.ascontiguousarray(block)  # a view of the rows (a copy only of a column-major block)
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        n, m = X.shape
        indptr = np.arange(0, n * m + 1, max(m, 1), dtype=np.int64) if m else np.zeros(n + 1, np.int64)
        code = np.zeros(n, dtype=np.int8)
        if sums is not None:
            raise ValueError("unscorable_rows adds sums of sparse blocks only")
        bad, odd, _ = _scan_csr(X.reshape(-1), indptr, m, X.dtype.itemsize >= 8, False, code, *_NO_SUMS)
    if not np.isnan(odd):
        raise InputFormatError(
            f"the expression data hold values beyond 1e100, or closer to 0 than 1e-100, in absolute value (rows "
            f"from {a}, e.g. {odd:.3g}), which no expression scale has; check how the file was read "
            "(number format, units) and pass expression values."
        )
    if bad >= 0:
        raise InputFormatError(
            f"the expression data contain NaN or infinite values (row {a + bad}); impute or drop them before scoring."
        )
    return code


#: rows per block of :meth:`RowSource.column_means` (fixed, so that the sums do not depend on chunking)
COLUMN_BLOCK = 1000


class RowSource:
    """A samples x genes matrix read in blocks of rows.

    The matrix is in memory (``numpy.ndarray``, scipy sparse), a dask array (read block by block,
    in this process), or on disk: a CSR group or dense array inside an ``.h5ad`` (HDF5) or ``.zarr``
    store, of which only the requested rows (and their slice of ``indptr``) are ever read. A source
    pickles without its open file handles and reopens its file where it is unpickled (a Dask
    worker); :meth:`reader` gives a copy without the row and column names, for shipping to workers.

    Parameters
    ----------
    X
        ``numpy.ndarray``, scipy sparse matrix, dask array, or ``None`` with ``store`` given.
    obs_names, var_names
        Row and column labels.
    store
        ``(format, path, key)`` of an on-disk matrix: ``format`` is ``"h5ad"`` or ``"zarr"``.
    """

    def __init__(self, X, obs_names, var_names, *, store: tuple[str, str, str] | None = None):
        self.obs_names = pd.Index(obs_names)
        self.var_names = pd.Index(var_names)
        self.store = store
        self._file = None
        self.dask = False
        if store is None:
            if is_dask_array(X):
                if X.ndim != 2:
                    raise InputFormatError(f"expression data must be 2-dimensional; got shape {X.shape}.")
                self.sparse = sp.issparse(getattr(X, "_meta", None))
                self.dask = True
            elif sp.issparse(X):
                if X.format != "csr" or not isinstance(X, sp.spmatrix):
                    X = sp.csr_matrix(X)
                self.sparse = True
            else:
                X = np.asarray(X)
                if X.ndim != 2:
                    raise InputFormatError(f"expression data must be 2-dimensional; got shape {X.shape}.")
                if not np.issubdtype(X.dtype, np.number):
                    raise InputFormatError(
                        f"expression data must be numeric; got dtype {X.dtype}. Convert it with .astype(float)."
                    )
                self.sparse = False
            self.X = X
            self.shape = tuple(int(s) for s in X.shape)
        else:
            self.X = None
            self._open()
        self._check_names()

    def _check_names(self) -> None:
        if self.shape != (len(self.obs_names), len(self.var_names)):
            raise InputFormatError(
                f"the matrix has shape {self.shape} but there are {len(self.obs_names)} sample and "
                f"{len(self.var_names)} gene names; pass names matching the matrix."
            )

    # -- on-disk -----------------------------------------------------------------------------
    def _open(self):
        with reading(self.store[1], repr(self.store[2])):
            self._open_node()

    def _open_node(self):
        fmt, path, key = self.store
        try:
            if fmt == "zarr":
                import zarr

                self._file = zarr.open_group(path, mode="r")
                node = self._file[key]
                is_group = isinstance(node, zarr.Group)
            else:
                import h5py

                self._file = h5py.File(path, "r")
                node = self._file[key]
                is_group = isinstance(node, h5py.Group)
        except (OSError, KeyError, ValueError) as e:
            self._file = None
            raise InputFormatError(
                f"cannot read {key!r} of {path} ({type(e).__name__}: {e}); pass an AnnData .{fmt} store."
            ) from None
        if is_group:
            enc = attr(node, "encoding-type")
            shape = tuple(int(s) for s in node.attrs.get("shape", node.attrs.get("h5sparse_shape", ())))
            if (
                enc != "csr_matrix"
                or len(shape) != 2
                or not {"data", "indices", "indptr"} <= set(node.keys())
            ):
                raise InputFormatError(
                    f"{path}:{key} is stored as {enc or 'an unknown group'}; resistscore reads CSR (cells x genes) "
                    "from disk. Rewrite it with adata.X = scipy.sparse.csr_matrix(adata.X); adata.write_h5ad(...), "
                    "or convert it with rs.io.convert."
                )
            self.sparse = True
            self._data, self._indices, self._indptr = (
                _raw_or_h5(self._file, node[k]) if fmt == "h5ad" else node[k]
                for k in ("data", "indices", "indptr")
            )
            if (
                self._indptr.shape[0] != shape[0] + 1
                or self._data.shape[0] != self._indices.shape[0]
                # zarr reads a missing chunk as zeros: there the values must end where indptr says
                or (
                    int(self._indptr[shape[0]]) != self._data.shape[0]
                    if fmt == "zarr"
                    else int(self._indptr[shape[0]]) > self._data.shape[0]
                )
            ):
                raise InputFormatError(
                    f"{path}:{key} is a damaged CSR matrix (indptr has {self._indptr.shape[0]} entries for "
                    f"{shape[0]} rows, {self._data.shape[0]} values and {self._indices.shape[0]} column "
                    "indices); write the file again."
                )
        else:
            if len(node.shape) != 2:
                raise InputFormatError(f"{path}:{key} is not a 2-dimensional matrix (shape {node.shape}).")
            self.sparse = False
            self._dense = node
            shape = tuple(int(s) for s in node.shape)
        self.shape = shape

    def close(self):
        """Close the on-disk file, if any (it is reopened on demand)."""
        for k in ("_data", "_indices", "_indptr"):
            if isinstance(getattr(self, k, None), _RawArray):
                getattr(self, k).close()
        if self._file is not None:
            if hasattr(self._file, "close"):
                self._file.close()
            self._file = None

    def __getstate__(self):
        state = self.__dict__.copy()
        for k in ("_file", "_data", "_indices", "_indptr", "_dense"):  # (a _RawArray's file is one of them)
            state.pop(k, None)
        state["_file"] = None
        return state

    def reader(self) -> RowSource:
        """Return a copy that reads the same rows but carries no row and column names (small to pickle).

        Nor the cells' annotations a file's source may carry (``annotations``: its ``obs``, 11 MiB at a
        million cells), which only the client uses.
        """
        out = copy.copy(self)
        out.__dict__.update(self.__getstate__())
        return _nameless(out)

    # -- access --------------------------------------------------------------------------------
    @property
    def n_obs(self) -> int:
        return self.shape[0]

    @property
    def n_vars(self) -> int:
        return self.shape[1]

    def nnz_per_row(self) -> float:
        """Return the stored values per row (sparse data; all columns for dense data)."""
        if not self.sparse:
            return float(self.n_vars)
        if self.store is not None:
            if self._file is None:
                self._open()
            return float(self._indptr[self.n_obs]) / max(self.n_obs, 1)
        if self.dask:
            block = _probe(self)
            return block.nnz / max(block.shape[0], 1)
        return self.X.nnz / max(self.n_obs, 1)

    def value_dtype(self) -> np.dtype:
        """Return the dtype of the stored values, without reading them (what :meth:`rows` returns)."""
        if self.store is not None:
            if self._file is None:
                self._open()
            return np.dtype((self._data if self.sparse else self._dense).dtype)
        return np.dtype(self.X.dtype)

    def rows(self, a: int, b: int):
        """Rows ``a:b`` as a CSR block or a dense array (a copy only of the block)."""
        return self._rows(a, b, None)

    def rows_into(self, a: int, b: int, buffers: ReadBuffers):
        """:meth:`rows`, the values and column indices read from an uncompressed file into arrays of ``buffers``.

        The pass that owns ``buffers`` gives them back (:meth:`ReadBuffers.give_back`) once it is done with the
        block: then they hold the next block read. A source that reads otherwise (in memory, compressed, a
        subclass's own :meth:`rows`) gives what :meth:`rows` gives.
        """
        if type(self).rows is not RowSource.rows:  # a subclass reads its rows its own way
            return self.rows(a, b)
        return self._rows(a, b, buffers)

    def _rows(self, a: int, b: int, buffers: ReadBuffers | None):
        if self.store is not None:
            if self._file is None:
                self._open()
            with reading(self.store[1], f"rows {a}-{b}"):
                return self._stored_rows(a, b, buffers)
        if self.dask:
            block = self.X[a:b].compute(scheduler="synchronous")
            if sp.issparse(block):
                return block if isinstance(block, sp.csr_matrix) else sp.csr_matrix(block)
            return np.asarray(block)
        if self.sparse:
            X = self.X
            lo, hi = X.indptr[a], X.indptr[b]
            return sp.csr_matrix(
                (X.data[lo:hi], X.indices[lo:hi], X.indptr[a : b + 1] - lo), shape=(b - a, self.n_vars)
            )
        return self.X[a:b]

    def _stored_rows(self, a: int, b: int, buffers: ReadBuffers | None = None):
        if not self.sparse:
            block = np.asarray(self._dense[a:b])
            if block.dtype.kind not in "biuf":
                raise InputFormatError(
                    f"{self.store[1]}: the matrix holds {block.dtype} values, not numbers; store expression values."
                )
            if block.shape != (b - a, self.n_vars):
                raise InputFormatError(f"{self.store[1]}: rows {a}-{b} are missing; write the file again.")
            return block
        ptr = np.asarray(self._indptr[a : b + 1], dtype=np.int64)
        lo, hi = (int(ptr[0]), int(ptr[-1])) if len(ptr) == b - a + 1 else (0, -1)
        data = _read(self._data, lo, hi, buffers) if hi >= lo else np.zeros(0)
        indices = _read(self._indices, lo, hi, buffers) if hi >= lo else np.zeros(0, np.int64)
        if data.dtype.kind not in "biuf":
            raise InputFormatError(
                f"{self.store[1]}: the matrix holds {data.dtype} values, not numbers; store expression values."
            )
        damaged, in_order = (
            _check_indices(ptr, indices, self.n_vars)
            if hi >= lo and hi - lo == len(data) == len(indices)
            else (True, None)
        )
        if damaged:
            raise InputFormatError(
                f"{self.store[1]}: the CSR matrix is damaged at rows {a}-{b} (indptr out of order or beyond the "
                "stored values, or column indices outside the matrix); write the file again."
            )
        block = sp.csr_matrix((data, indices, ptr - lo), shape=(b - a, self.n_vars))
        if in_order is not None:  # what the check found: as_csr_block (scipy) need not read the indices again
            block.has_sorted_indices = in_order
        return block

    def take(self, idx: np.ndarray):
        """Rows ``idx`` (sorted) as one block."""
        blocks = [self.rows(int(i), int(i) + 1) for i in idx]
        if not blocks:
            return np.zeros((0, self.n_vars))
        return sp.vstack(blocks, format="csr") if self.sparse else np.vstack(blocks)

    def whole(self):
        """Return the whole matrix (in memory: the matrix itself, not a copy)."""
        if self.store is None and not self.dask:
            return self.X
        return self.rows(0, self.n_obs)

    def chunks(self, chunk_size: int, a: int = 0, b: int | None = None) -> Iterator[tuple[int, int]]:
        """Row ranges ``(a, b)`` of at most ``chunk_size`` rows (of the rows ``a:b``, all by default)."""
        b = self.n_obs if b is None else b
        for lo in range(a, b, chunk_size):
            yield lo, min(lo + chunk_size, b)

    def column_means(self, block: int = COLUMN_BLOCK) -> np.ndarray:
        """Return the exact mean of every gene over all scorable rows, in one pass.

        Rows without information - all NaN, all zero, constant - are left out, see
        :func:`unscorable_rows`.

        The sums are taken over fixed blocks of ``block`` rows and added in row order
        (:func:`column_block_sums`, :func:`add_column_sums`), so the result does not depend on how
        the pass is split: in chunks, threads or Dask partitions.
        """
        ranges = list(self.chunks(block))
        return finish_column_means(add_column_sums(None, column_block_sums(self, ranges)), self.n_vars)

    def gene_stats(
        self, max_rows: int = 20_000, block: int = 1000, pool: Executor | None = None, ahead: int = 2
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-gene mean and variance over the rows (or ``max_rows`` rows in evenly spaced blocks).

        The rows used depend only on the number of rows, never on the chunk size. Rows without
        information (see :func:`unscorable_rows`) are left out. With ``pool`` (a thread pool, e.g. the
        engine's), the blocks are read in this thread and summed in the pool's threads, at most ``ahead + 1``
        blocks in memory (``ahead``: the pool's threads), each read into the buffers of a block already summed
        (:class:`ReadBuffers`); the blocks' sums are added in block order all the same, so the result is the same
        to the bit.
        """
        ranges = gene_stat_ranges(self.n_obs, max_rows, block)
        if pool is None:
            parts = [block_moments(self, a, b) for a, b in ranges]
        else:
            parts = list(read_ahead(pool, ranges, self.rows_into, moments_of, ahead, ReadBuffers()))
        return combine_moments(parts, self.n_vars)


def _nameless(reader: RowSource) -> RowSource:
    """``reader`` without the names and annotations of its rows and columns (what :meth:`RowSource.reader` ships)."""
    reader.obs_names = reader.var_names = None
    reader.__dict__.pop("annotations", None)
    return reader


def gene_stat_ranges(n: int, max_rows: int = 20_000, block: int = 1000) -> list[tuple[int, int]]:
    """Return the row blocks of :meth:`RowSource.gene_stats`: all rows, or ``max_rows`` in evenly spaced blocks."""
    if n <= max_rows:
        return [(a, min(a + block, n)) for a in range(0, n, block)]
    starts = np.linspace(0, n - block, max_rows // block).astype(np.int64)
    return [(int(a), int(a) + block) for a in starts]


def _index_outside(indices: np.ndarray, n: int) -> bool:
    """Whether a column index is below 0 or at least ``n``, in one pass over ``indices``.

    Read as unsigned integers of the same width, a negative index is beyond any ``n``: the largest one
    tells both (the reading thread spent two passes, min and max, ~0.1 s of CPU a run at 100k cells).
    """
    if indices.dtype.kind == "i":
        return int(indices.view(f"u{indices.dtype.itemsize}").max()) >= n
    return bool(indices.min() < 0 or indices.max() >= n)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _scan_indices(ptr, indices, n_cols):
    """One pass over a CSR block's ``indptr`` (int64 offsets into the file's arrays) and column indices.

    ``indices`` are unsigned (a negative index read as unsigned is beyond any ``n_cols``, of their type).
    Returns ``(damaged, in_order)``: damaged when ``indptr`` decreases or points beyond the indices, or an
    index is at least ``n_cols``; ``in_order`` (meaningful only when not damaged) when the indices of every
    row are non-decreasing (scipy's ``has_sorted_indices``). The descents are counted over the whole array
    (a loop the compiler vectorises, as the largest index), less those at the rows' boundaries.
    """
    base = ptr[0]
    n = indices.shape[0]
    for r in range(ptr.shape[0] - 1):
        if ptr[r + 1] < ptr[r] or ptr[r + 1] - base > n:
            return True, False
    if n == 0:
        return False, True
    top = indices[0]
    descents = 0
    for j in range(1, n):
        v = indices[j]
        top = max(top, v)
        descents += v < indices[j - 1]
    for r in range(1, ptr.shape[0] - 1):
        k = ptr[r] - base  # the first value of row r (of the first of several empty rows there only)
        if 0 < k < n and ptr[r] != ptr[r - 1]:
            descents -= indices[k] < indices[k - 1]
    return top >= n_cols, descents == 0


def _check_indices(ptr: np.ndarray, indices: np.ndarray, n_cols: int) -> tuple[bool, bool | None]:
    """``(damaged, in_order)`` of a CSR block read from a file (:func:`_scan_indices`); ``in_order`` None: not known.

    The one check of the column indices of a block: before any of them indexes memory (the gene statistics,
    scipy, the kernels), and of their order (scipy's ``has_sorted_indices``, which :func:`as_csr_block`
    otherwise finds in a second pass).
    """
    if not indices.dtype.isnative:
        indices = indices.astype(indices.dtype.newbyteorder("="))
    if indices.dtype.kind in "iu" and indices.dtype.itemsize in (4, 8):
        u = indices.view(f"u{indices.dtype.itemsize}")
        damaged, in_order = _scan_indices(ptr, u, u.dtype.type(min(n_cols, np.iinfo(u.dtype).max)))
        return bool(damaged), bool(in_order)
    damaged = bool(np.any(np.diff(ptr) < 0) or (len(indices) and _index_outside(indices, n_cols)))
    return damaged, None


def _read(arr, lo: int, hi: int, buffers: ReadBuffers | None) -> np.ndarray:
    """Values ``lo:hi`` of an on-disk array; read into a buffer of ``buffers`` where the file is read straight."""
    if buffers is not None and isinstance(arr, _RawArray):
        return arr.read(lo, hi, buffers.take(hi - lo, arr.dtype))
    return np.asarray(arr[lo:hi])


def read_ahead(
    pool: Executor, ranges, read, work, ahead: int, buffers: ReadBuffers | None = None
) -> Iterator:
    """``work(read(a, b), a)`` for every ``(a, b)`` of ``ranges``, in order: read in this thread, worked in ``pool``.

    At most ``ahead + 1`` blocks are read and not yet worked on at once (the next block is read while the
    pool works). With ``buffers``, blocks are read by ``read(a, b, buffers)`` (e.g. :meth:`RowSource.rows_into`)
    and the buffers a block was read into are given back once ``work`` has returned for it: ``work`` must keep
    no reference to the block nor to its arrays (it returns what it computed from them, a copy).
    """
    pending: deque = deque()
    for a, b in ranges:
        if buffers is None:
            pending.append((pool.submit(work, read(a, b), a), ()))
        else:
            pending.append((pool.submit(work, read(a, b, buffers), a), buffers.lent()))
        while len(pending) > ahead:
            yield _finished(pending.popleft(), buffers)
    while pending:
        yield _finished(pending.popleft(), buffers)


def _finished(item, buffers: ReadBuffers | None):
    """Return the result of a block's work; give its buffers back to ``buffers`` (the work is done with them)."""
    future, lent = item
    out = future.result()
    if buffers is not None:
        buffers.give_back(lent)
    return out


class ReadBuffers:
    """The read buffers of one pass over the rows: the arrays of blocks the pass is done with, read into again.

    A new array for every block read costs fresh pages, which the kernel zeroes on first touch (and
    faults in): ~2.3 % of the CPU of a run over a 100k-cell file, on the reading thread. The pass owns one
    ``ReadBuffers`` and uses it from one thread: :meth:`take` gives an array for a block's values or
    column indices, :meth:`lent` the buffers taken since the last call (those of the block just read), and
    :meth:`give_back` returns them once nothing refers to that block any more (:func:`read_ahead`).

    The pass holds no more buffers than blocks it has in memory at once: a buffer too small for the block
    read is let go when a new one is made, 1/8 larger than asked for (blocks of as many rows differ by a
    few per cent in stored values: the next ones fit); a block less than half the size of a free buffer (the
    last rows, a shard's end) gets arrays of its own. Buffers are raw bytes: the values' of one block may
    hold the column indices of the next.
    """

    def __init__(self):
        self._free: list[np.ndarray] = []
        self._lent: list[np.ndarray] = []

    def take(self, n: int, dtype) -> np.ndarray:
        """Return an array of ``n`` values of ``dtype``: the smallest free buffer that holds them, else a new one."""
        dtype = np.dtype(dtype)
        size = n * dtype.itemsize
        if not size:  # no stored value (e.g. a block of empty rows): no buffer given up for it
            return np.empty(0, dtype=dtype)
        # at most twice as large: scipy copies an array viewing less than half of its base (``_prune_array``)
        fit = [i for i, buf in enumerate(self._free) if size <= buf.nbytes <= 2 * size]
        if fit:
            buf = self._free.pop(min(fit, key=lambda i: self._free[i].nbytes))
        elif any(buf.nbytes > 2 * size for buf in self._free):
            # a small block (the last rows, a shard's end): an array of its own, the buffers kept for the next blocks
            return np.empty(n, dtype=dtype)
        else:
            if self._free:  # all too small: let the largest go (as many buffers as before)
                self._free.pop(max(range(len(self._free)), key=lambda i: self._free[i].nbytes))
            # room for the next blocks, a little larger; of 8-byte items, so that the array given (a view of it)
            # counts its values as scipy compares them with its base's
            buf = np.empty(-(-(size + size // 8) // 8), dtype=np.float64)
        self._lent.append(buf)
        return buf.view(np.uint8)[:size].view(dtype)

    def lent(self) -> list[np.ndarray]:
        """Return the buffers taken since the last call (those of the block just read), no longer lent."""
        out, self._lent = self._lent, []
        return out

    def give_back(self, buffers) -> None:
        """Take back buffers of :meth:`lent` the pass is done with: free for the next blocks."""
        self._free.extend(buffers)


def block_moments(source: RowSource, a: int, b: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``(sum, sum of squares, rows)`` per gene over the scorable rows ``a:b`` (float64)."""
    return moments_of(source.rows(a, b), a)


def moments_of(B, a: int) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`block_moments` of the block ``B``, the rows ``a, a + 1, ...``."""
    if sp.issparse(B):
        # summed in the pass that finds the unscorable rows: no float64 copy, no squares, no scipy matrix
        # (~0.15 s of CPU a run at 100k cells; the same sums to the bit)
        s1, s2 = np.zeros(B.shape[1]), np.zeros(B.shape[1])
        ok = unscorable_rows(B, a, (s1, s2)) == 0
        return s1, s2, int(ok.sum())
    ok = unscorable_rows(B, a) == 0
    if not ok.all():
        B = B[np.flatnonzero(ok)]
    B = np.asarray(B, dtype=np.float64)
    return B.sum(axis=0), np.einsum("ij,ij->j", B, B), int(ok.sum())


def combine_moments(parts, n_vars: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and variance per gene from the :func:`block_moments` of the blocks, added in block order."""
    s1 = np.zeros(n_vars)
    s2 = np.zeros(n_vars)
    m = 0
    for p1, p2, pm in parts:
        s1 += p1
        s2 += p2
        m += pm
    mean = s1 / max(m, 1)
    var = np.maximum(s2 / max(m, 1) - mean**2, 0.0) * (m / max(m - 1, 1))
    return mean, var, m


def column_block_sums(source: RowSource, ranges) -> tuple[np.ndarray, int]:
    """Column sums of every block of ``ranges`` over its scorable rows: ``(blocks x genes, rows)``."""
    out = np.zeros((len(ranges), source.n_vars))
    m = 0
    for i, (a, b) in enumerate(ranges):
        B = source.rows(a, b)
        ok = unscorable_rows(B, a) == 0
        m += int(ok.sum())
        out[i] = column_sums(B if ok.all() else B[np.flatnonzero(ok)])
    return out, m


def add_column_sums(total, part) -> tuple[np.ndarray, int]:
    """``total`` (``(sums, rows)`` or ``None``) plus the blocks of ``part``, one block after the other."""
    sums, m = part
    acc = np.zeros(sums.shape[1]) if total is None else total[0].copy()
    for row in sums:
        acc += row
    return acc, m + (0 if total is None else total[1])


def finish_column_means(total, n_vars: int) -> np.ndarray:
    """Means from :func:`add_column_sums`' ``(sums, rows)``."""
    sums, m = total
    return (sums if len(sums) else np.zeros(n_vars)) / max(m, 1)


def _probe(source: RowSource, max_values: int = 4_000_000):
    """Evenly spaced rows (all rows of a small matrix), at most ``max_values`` values."""
    n = source.n_obs
    k = int(min(n, max(1, max_values // max(source.n_vars, 1))))
    idx = np.unique(np.linspace(0, n - 1, k).astype(np.int64)) if n else np.zeros(0, np.int64)
    return source.take(idx)


class ShardedSource(RowSource):
    """Several sources with the same genes, one after the other (the shards of one dataset)."""

    def __init__(self, shards: list[RowSource], names: list[str]):
        if not shards:
            raise InputFormatError("no shards were given; pass at least one .zarr or .h5ad file.")
        var = shards[0].var_names
        for s, name in zip(shards[1:], names[1:]):
            if not s.var_names.equals(var):
                missing = var.difference(s.var_names)[:3].tolist()
                extra = s.var_names.difference(var)[:3].tolist()
                what = (
                    f"lacks {missing} and has {extra}"
                    if missing or extra
                    else "has the same genes in another order"
                )
                raise InputFormatError(
                    f"shard {name} has other genes than shard {names[0]} ({len(s.var_names)} vs {len(var)}; it "
                    f"{what}); every shard must have the same genes in the same order. Harmonise and write them "
                    "with the same var_names (adata[:, genes].write_zarr(...))."
                )
        if len({s.sparse for s in shards if s.n_obs}) > 1:
            raise InputFormatError(
                "the shards mix sparse and dense matrices; store every shard as CSR (rs.io.convert does)."
            )
        self.shards = shards
        self.offsets = np.cumsum([0] + [s.n_obs for s in shards])
        self.obs_names = shards[0].obs_names.append([s.obs_names for s in shards[1:]])  # the same dtype
        self.var_names = pd.Index(var)
        self.store = ("shards", ",".join(names), "")
        self.X = None
        self.dask = False
        self._file = None
        self.sparse = any(s.sparse for s in shards)
        self.shape = (int(self.offsets[-1]), len(var))
        self._check_names()

    def _open(self):  # the shards open themselves
        return None

    def close(self):
        for s in self.shards:
            s.close()

    def reader(self) -> ShardedSource:
        out = copy.copy(self)
        out.shards = [s.reader() for s in self.shards]
        return _nameless(out)

    def nnz_per_row(self) -> float:
        tot = sum(s.nnz_per_row() * s.n_obs for s in self.shards)
        return tot / max(self.n_obs, 1)

    def value_dtype(self) -> np.dtype:
        return np.result_type(*(s.value_dtype() for s in self.shards))

    def rows(self, a: int, b: int):
        return self._rows(a, b, None)

    def rows_into(self, a: int, b: int, buffers: ReadBuffers):
        if type(self).rows is not ShardedSource.rows:  # a subclass reads its rows its own way
            return self.rows(a, b)
        return self._rows(a, b, buffers)

    def _rows(self, a: int, b: int, buffers: ReadBuffers | None):
        i = int(np.searchsorted(self.offsets, a, side="right")) - 1
        parts = []
        while a < b:
            while self.offsets[i + 1] <= a:  # skip empty shards
                i += 1
            hi = min(b, int(self.offsets[i + 1]))
            lo0 = int(self.offsets[i])
            shard = self.shards[i]
            block = (
                shard.rows(a - lo0, hi - lo0)
                if buffers is None
                else shard.rows_into(a - lo0, hi - lo0, buffers)
            )
            parts.append(sp.csr_matrix(block) if self.sparse and not sp.issparse(block) else block)
            a = hi
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return sp.csr_matrix((0, self.n_vars)) if self.sparse else np.zeros((0, self.n_vars))
        return sp.vstack(parts, format="csr") if self.sparse else np.vstack(parts)


class MappedSource(RowSource):
    """A source whose blocks of rows go through ``fn`` on the way out.

    E.g. gene harmonisation: columns renamed, duplicated identifiers averaged; ``var_names`` are the
    output's columns.
    """

    def __init__(self, source: RowSource, fn, var_names):
        self.inner = source
        self.fn = fn
        self.obs_names = source.obs_names
        self.var_names = pd.Index(var_names)
        self.store = source.store
        self.X = None
        self.dask = source.dask
        self._file = None
        self.sparse = source.sparse
        self.shape = (source.n_obs, len(self.var_names))
        self._check_names()

    def _open(self):
        return None

    def close(self):
        self.inner.close()

    def reader(self) -> MappedSource:
        out = copy.copy(self)
        out.inner = self.inner.reader()
        return _nameless(out)

    def nnz_per_row(self) -> float:
        return self.inner.nnz_per_row()

    def value_dtype(self) -> np.dtype:
        # what ``fn`` makes of the values: seen on the first row (cheap; not computed from a dask array)
        if self.dask or not self.n_obs:
            return self.inner.value_dtype()
        return np.dtype(self.rows(0, 1).dtype)

    def rows(self, a: int, b: int):
        return self.fn(self.inner.rows(a, b))

    def rows_into(self, a: int, b: int, buffers: ReadBuffers):
        if type(self).rows is not MappedSource.rows:  # a subclass reads its rows its own way
            return self.rows(a, b)
        return self.fn(self.inner.rows_into(a, b, buffers))


class _RawArray:
    """A 1-D HDF5 dataset stored without filters (no compression), read by byte ranges of its file.

    HDF5 reads the whole chunk (4 MiB in anndata's files) for any part of it, under its global lock and holding
    the GIL, and copies the values twice: 0.3 s for the 200 scattered rows of the engine's probe of a 100k-cell
    file, and ~0.25 s of CPU per pass over its 1.5 GB. Here the values' bytes are read straight into the array
    (``os.preadv``, without the GIL): the same bytes, as the dataset's own chunk index locates them. Made only for
    what is certain to be read right (:func:`_raw_or_h5`); supports ``a[i]``, ``a[lo:hi]``, ``shape``, ``dtype``.
    """

    def __init__(self, path: str, ds):
        self.shape, self.dtype = tuple(ds.shape), np.dtype(ds.dtype)
        n = self.shape[0]
        if ds.chunks is None:  # contiguous
            offset = ds.id.get_offset()
            if offset is None and n:
                raise ValueError("not allocated")
            self._chunk, self._offsets = max(n, 1), np.array([offset or 0], dtype=np.int64)
        else:
            self._chunk = int(ds.chunks[0])
            found: list = []
            if hasattr(ds.id, "chunk_iter"):  # HDF5 >= 1.14: one pass over the chunk index
                ds.id.chunk_iter(found.append)
            else:
                found = [ds.id.get_chunk_info(k) for k in range(ds.id.get_num_chunks())]
            offsets = np.full(-(-n // self._chunk), -1, dtype=np.int64)
            for info in found:
                if (
                    info.filter_mask
                    or info.byte_offset is None
                    or info.size != self._chunk * self.dtype.itemsize
                ):
                    raise ValueError("a chunk is filtered or of another size")
                offsets[info.chunk_offset[0] // self._chunk] = info.byte_offset
            if (offsets < 0).any():
                raise ValueError("a chunk is not allocated")  # HDF5 reads it as fill values
            self._offsets = offsets
        self._fd = os.open(path, os.O_RDONLY)
        self.close = weakref.finalize(self, os.close, self._fd)  # close(), or when the object goes

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"index {key} is out of bounds for a dataset of {self.shape[0]} values")
            return self.read(i, i + 1)[0]
        lo, hi, step = key.indices(self.shape[0])
        if step != 1:
            raise ValueError("only contiguous ranges are read")
        return self.read(lo, max(lo, hi))

    def read(self, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        """Values ``lo:hi`` in a new array, or in ``out`` (``hi - lo`` values of the dataset's type, contiguous)."""
        if out is None:
            out = np.empty(hi - lo, dtype=self.dtype)
        elif out.shape != (hi - lo,) or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must hold {hi - lo} contiguous values of {self.dtype}")
        view = memoryview(out).cast("B")
        size, chunk, fd = self.dtype.itemsize, self._chunk, self._fd
        done, pos = 0, lo
        while pos < hi:
            k = pos // chunk
            end = min(hi, (k + 1) * chunk)
            start, want, got = int(self._offsets[k]) + (pos - k * chunk) * size, (end - pos) * size, 0
            while got < want:  # a read may return fewer bytes than asked for
                n = os.preadv(fd, [view[done + got : done + want]], start + got)
                if n <= 0:
                    raise OSError(f"the file ends before values {lo}-{hi} of a dataset (truncated?)")
                got += n
            done, pos = done + want, end
        return out


def _raw_or_h5(h5file, ds):
    """``ds`` as a :class:`_RawArray` when its bytes can be read straight from the file, else ``ds`` itself (h5py).

    Straight: a plain file (HDF5's default driver, no user block), a 1-D dataset without filters of native
    numbers, contiguous or in chunks all written; and the first and last values read both ways agree.
    """
    import h5py

    try:
        if (
            not hasattr(os, "preadv")  # e.g. Windows
            or ds.ndim != 1
            or ds.dtype.kind not in "biuf"
            or not ds.dtype.isnative
            or ds.id.get_create_plist().get_nfilters()
            or ds.id.get_create_plist().get_layout() not in (h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED)
            or ds.is_virtual
            or ds.external
            or h5file.id.get_access_plist().get_driver() != h5py.h5fd.SEC2
            or h5file.id.get_create_plist().get_userblock()
        ):
            return ds
        raw = _RawArray(h5file.filename, ds)
    except Exception:  # an HDF5 build or file this reading is not sure of: HDF5 reads it
        return ds
    n = ds.shape[0]
    for sl in (slice(0, min(n, 64)), slice(max(n - 64, 0), n)):
        if not np.array_equal(raw[sl], ds[sl]):
            raw.close()
            return ds
    return raw


def from_h5ad(path: str | Path, layer: str | None = None) -> RowSource:
    """Return a :class:`RowSource` reading ``X`` (or ``layers/<layer>``) of an ``.h5ad`` file in chunks."""
    import h5py

    path = str(path)
    key = "X" if layer is None else f"layers/{layer}"
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputFormatError(f"cannot read {path} as an .h5ad file ({e}); pass an AnnData file.") from None
    with f, reading(path, "the obs and var names"):
        obs_names, var_names = _names(f, path)
        if key not in f:
            raise InputFormatError(f"{path} has no {key!r}; choose an existing layer or layer=None.")
    return RowSource(None, obs_names, var_names, store=("h5ad", path, key))


def from_zarr(path: str | Path, layer: str | None = None) -> RowSource:
    """Return a :class:`RowSource` reading ``X`` (or ``layers/<layer>``) of an AnnData ``.zarr`` store in chunks."""
    import zarr

    path = str(path)
    key = "X" if layer is None else f"layers/{layer}"
    try:
        g = zarr.open_group(path, mode="r")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputFormatError(
            f"cannot read {path} as an AnnData .zarr store ({type(e).__name__}: {e}); write it with "
            "adata.write_zarr or rs.io.convert."
        ) from None
    with reading(path, "the obs and var names"):
        obs_names, var_names = _names(g, path)
        if key not in g:
            raise InputFormatError(f"{path} has no {key!r}; choose an existing layer or layer=None.")
    return RowSource(None, obs_names, var_names, store=("zarr", path, key))


def from_file(path, layer: str | None = None) -> RowSource:
    """Return a source over an ``.h5ad`` file, an AnnData ``.zarr`` store, or a list of them.

    A list holds shards with the same genes, rows one after the other.
    """
    if isinstance(path, (list, tuple)):
        paths = [Path(p) for p in path]
        return ShardedSource([from_file(p, layer) for p in paths], [p.name for p in paths])
    p = Path(path)
    if p.suffix == ".zarr" and p.is_dir():
        return from_zarr(p, layer)
    if p.suffix == ".h5ad" and p.is_file():
        return from_h5ad(p, layer)
    raise InputFormatError(
        f"{p} is not an existing .h5ad file or .zarr store; read other formats with rs.io.read first "
        "(or convert them: rs.io.convert)."
    )


def _names(group, path: str) -> tuple[pd.Index, pd.Index]:
    """Row and column names of an AnnData store (HDF5 or zarr group), without reading anything else.

    The row names in an Index of pandas' ``str`` dtype (:func:`compact_names`), the gene names as ``str`` objects.
    """
    out = []
    for axis in ("obs", "var"):
        if axis not in group:
            raise InputFormatError(f"{path} has no {axis!r} group: it is not an AnnData store.")
        node = group[axis]
        idx = attr(node, "_index") or "_index"
        if idx not in node:
            raise InputFormatError(f"{path}: {axis} has no index {idx!r}; write the file with anndata.")
        out.append(_values(node[idx]))
    return compact_names(out[0]), _decode(out[1])


def _values(arr) -> np.ndarray:
    """All values of a 1-D HDF5 or zarr array; HDF5 strings as numpy strings where h5py can (not bytes objects).

    h5py >= 3.14 reads variable-length strings into a NumPy 2 ``StringDType`` array without a Python object per
    value: 1M cell names 0.3 instead of 0.55 s of CPU with their decoding.
    """
    if not hasattr(arr, "id"):  # zarr
        return arr[:]
    string_dtype = getattr(np.dtypes, "StringDType", None)
    import h5py

    if string_dtype is not None and h5py.check_string_dtype(arr.dtype) is not None and hasattr(arr, "astype"):
        try:
            return arr.astype(string_dtype())[...]
        except (TypeError, ValueError):  # an h5py without StringDType reading
            pass
    return arr[...]


def _flat_index(index: pd.Index, what: str, attr: str) -> pd.Index:
    """Row or column labels as one string per entry; a MultiIndex is refused with the fix."""
    if isinstance(index, pd.MultiIndex):
        names = [n for n in index.names if n is not None]
        pick = (
            f"df.{attr} = df.{attr}.get_level_values({names[0]!r})"
            if names
            else (f"df.{attr} = df.{attr}.get_level_values(0)")
        )
        raise InputFormatError(
            f"the DataFrame has a MultiIndex of {what} (levels {list(index.names)}); resistscore needs one name per "
            f"{what[:-1]}. Keep the level with the {what} names ({pick}), or join the levels "
            f"(df.{attr} = ['|'.join(map(str, t)) for t in df.{attr}])."
        )
    return index.astype(str)


def row_source(data, layer: str | None = None, genes=None, samples=None, use_raw: bool = False) -> RowSource:
    """Return the rows of what :func:`resistscore.tl.score` scores, read in chunks.

    ``data`` is an AnnData (``X``, a ``layer`` or ``raw`` with ``use_raw=True``; backed files are read
    from disk; a dask ``X`` is read by blocks), a samples x genes DataFrame, an ``.h5ad`` file or an
    AnnData ``.zarr`` store (or a list of them: shards), a :class:`RowSource`, or a matrix with
    ``genes`` (and optionally ``samples``) names. Bad input raises an error naming the fix.
    """
    if isinstance(data, RowSource):  # e.g. a file whose genes are harmonised block by block (the CLI)
        return data
    if is_anndata(data):
        if use_raw:
            if layer is not None:
                raise ResistScoreError(
                    "use_raw=True and `layer` cannot be combined (as in scanpy); pass one."
                )
            if data.raw is None:
                raise InputFormatError("use_raw=True but the AnnData has no .raw; pass use_raw=False.")
            if data.isbacked:
                raise InputFormatError(
                    "use_raw=True is not available for a backed AnnData; load it, or score its X or a layer."
                )
            return RowSource(data.raw.X, data.obs_names, data.raw.var_names)
        if data.isbacked:
            return from_file(data.filename, layer)
        X = data.X if layer is None else data.layers.get(layer, None)
        if X is None:
            raise InputFormatError(
                f"the AnnData has no {'X' if layer is None else f'layer {layer!r}'}; choose one of "
                f"{list(data.layers.keys())} or layer=None."
            )
        return RowSource(X, data.obs_names, data.var_names)
    if use_raw or layer is not None:
        name = "use_raw" if use_raw else "layer"
        raise ResistScoreError(
            f"`{name}` applies to an AnnData only; got a {type(data).__name__}. Drop `{name}`."
        )
    if isinstance(data, (str, Path)) or (
        isinstance(data, (list, tuple)) and data and all(isinstance(x, (str, Path)) for x in data)
    ):
        return from_file(data if isinstance(data, (str, Path)) else list(data), layer)
    if isinstance(data, pd.DataFrame):
        obs = _flat_index(data.index, "samples", "index")
        var = _flat_index(data.columns, "genes", "columns")
        bad = [
            c
            for c, t in data.dtypes.items()
            if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)
        ]
        if bad:
            raise InputFormatError(
                f"the DataFrame has non-numeric columns (e.g. {[str(c) for c in bad[:3]]}); pass a samples x genes "
                "table of numbers only (move annotations to a separate metadata table)."
            )
        try:
            X = data.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise InputFormatError(
                "the DataFrame has values that are not numbers; pass a samples x genes table of numbers only."
            ) from None
        return RowSource(X, obs, var)
    if isinstance(data, np.ndarray) or sp.issparse(data):
        if genes is None:
            raise InputFormatError("a bare matrix needs gene names: pass genes=[...] (one per column).")
        if data.ndim != 2:
            raise InputFormatError(f"expression data must be 2-dimensional; got shape {data.shape}.")
        n = data.shape[0]
        samples = [f"sample_{i}" for i in range(n)] if samples is None else samples
        return RowSource(data, pd.Index(samples).astype(str), pd.Index(genes).astype(str))
    raise InputFormatError(
        f"cannot score {type(data).__name__}; pass an AnnData, a samples x genes DataFrame, an .h5ad or .zarr path, "
        "or a matrix with genes=."
    )
