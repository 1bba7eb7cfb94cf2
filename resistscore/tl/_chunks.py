"""Row-chunked access to an expression matrix: in memory (dense, CSR) or on disk (backed h5ad).

The engine never densifies a sparse matrix: it reads blocks of rows. For CSR data (in memory or
in an ``.h5ad`` file) the blocks are cut by walking ``indptr`` directly, because scipy's CSR row
slicing converts *all* column indices to int64 when the matrix has more than 2^31 stored values
(a copy as large as the matrix).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore._types import is_anndata

__all__ = ["UNSCORABLE_REASONS", "RowSource", "column_sums", "row_source", "unscorable_rows"]


def _decode(a) -> pd.Index:
    a = np.asarray(a)
    if a.dtype.kind == "S" or a.dtype == object:
        a = np.array([x.decode() if isinstance(x, bytes) else str(x) for x in a], dtype=object)
    return pd.Index(a)


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


@nb.njit(nogil=True, cache=True)
def _scan_row(vals, n_cols, check_mag):
    """``(code, partial_nonfinite, odd_value_or_nan)`` of one row whose other ``n_cols - len(vals)`` entries are 0.

    (see :data:`UNSCORABLE_REASONS`).
    """
    k = vals.shape[0]
    n_nan = 0
    n_inf = 0
    lo = np.inf
    hi = -np.inf
    odd = np.nan
    for j in range(k):
        v = vals[j]
        if np.isnan(v):
            n_nan += 1
            continue
        if np.isinf(v):
            n_inf += 1
            continue
        lo = min(lo, v)
        hi = max(hi, v)
        if check_mag and np.isnan(odd):
            av = abs(v)
            if av > MAX_ABS_VALUE or (av > 0.0 and av < 1.0 / MAX_ABS_VALUE):
                odd = v
    if k < n_cols:  # implicit zeros
        lo = min(lo, 0.0)
        hi = max(hi, 0.0)
    if n_cols > 0 and n_nan == n_cols:
        return 1, False, odd
    if n_nan + n_inf > 0:
        return 0, True, odd
    if n_cols > 0 and lo == hi:
        return (2 if lo == 0.0 else 3), False, odd
    return 0, False, odd


@nb.njit(nogil=True, cache=True)
def _scan_csr(data, indptr, n_cols, check_mag):
    n = indptr.shape[0] - 1
    code = np.zeros(n, dtype=np.int8)
    bad = -1
    odd = np.nan
    for r in range(n):
        c, partial, o = _scan_row(data[indptr[r] : indptr[r + 1]], n_cols, check_mag)
        code[r] = c
        if partial and bad < 0:
            bad = r
        if np.isnan(odd) and not np.isnan(o):
            odd = o
    return code, bad, odd


def unscorable_rows(block, a: int) -> np.ndarray:
    """Per row: 0 (scorable) or the code of :data:`UNSCORABLE_REASONS`, in one compiled pass without temporary arrays.

    A row with no measured value (all NaN), all zeros, or one value for every gene carries no
    information about any signature: every method would give it an arbitrary (often extreme) score.
    Raises :class:`InputFormatError` for NaN or infinite values in a row that has other values, and for
    values beyond 1e100 or non-zero values below 1e-100 in absolute value (float64 data only: no
    other type holds them).
    """
    if sp.issparse(block):
        data = np.asarray(block.data)
        if data.dtype.kind != "f":
            data = data.astype(np.float64)
        check = data.dtype.itemsize >= 8
        code, bad, odd = _scan_csr(data, np.asarray(block.indptr, dtype=np.int64), block.shape[1], check)
    else:
        X = np.ascontiguousarray(block)  # a view of the rows (a copy only of a column-major block)
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        n, m = X.shape
        indptr = np.arange(0, n * m + 1, max(m, 1), dtype=np.int64) if m else np.zeros(n + 1, np.int64)
        code, bad, odd = _scan_csr(X.reshape(-1), indptr, m, X.dtype.itemsize >= 8)
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


class RowSource:
    """A samples x genes matrix read in blocks of rows.

    Parameters
    ----------
    X
        ``numpy.ndarray``, scipy sparse matrix, or ``None`` with ``h5`` given.
    obs_names, var_names
        Row and column labels.
    h5
        ``(path, key)`` of an on-disk matrix inside an HDF5/h5ad file (CSR group or dense dataset).
    """

    def __init__(self, X, obs_names, var_names, *, h5: tuple[str, str] | None = None):
        self.obs_names = pd.Index(obs_names)
        self.var_names = pd.Index(var_names)
        self.h5 = h5
        self._file = None
        if h5 is None:
            if sp.issparse(X):
                if X.format != "csr":
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
            self.shape = X.shape
        else:
            self.X = None
            self._open()
        if self.shape != (len(self.obs_names), len(self.var_names)):
            raise InputFormatError(
                f"the matrix has shape {self.shape} but there are {len(self.obs_names)} sample and "
                f"{len(self.var_names)} gene names; pass names matching the matrix."
            )

    # -- on-disk -----------------------------------------------------------------------------
    def _open(self):
        import h5py

        path, key = self.h5
        self._file = h5py.File(path, "r")
        node = self._file[key]
        if isinstance(node, h5py.Group):
            enc = node.attrs.get("encoding-type", "")
            enc = enc.decode() if isinstance(enc, bytes) else enc
            shape = tuple(int(s) for s in node.attrs.get("shape", node.attrs.get("h5sparse_shape", ())))
            if enc != "csr_matrix":
                raise InputFormatError(
                    f"{path}:{key} is stored as {enc or 'an unknown group'}; resistscore reads CSR (cells x genes) "
                    "from disk. Rewrite it with adata.X = scipy.sparse.csr_matrix(adata.X); adata.write_h5ad(...)."
                )
            self.sparse = True
            self._data, self._indices = node["data"], node["indices"]
            self._indptr = np.asarray(node["indptr"][...], dtype=np.int64)
        else:
            self.sparse = False
            self._dense = node
            shape = node.shape
        self.shape = shape

    def close(self):
        """Close the on-disk file, if any."""
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- access --------------------------------------------------------------------------------
    @property
    def n_obs(self) -> int:
        return self.shape[0]

    @property
    def n_vars(self) -> int:
        return self.shape[1]

    def rows(self, a: int, b: int):
        """Rows ``a:b`` as a CSR block or a dense array (a copy only of the block)."""
        if self.h5 is not None:
            if self._file is None:
                self._open()
            if self.sparse:
                lo, hi = self._indptr[a], self._indptr[b]
                return sp.csr_matrix(
                    (self._data[lo:hi], self._indices[lo:hi], self._indptr[a : b + 1] - lo),
                    shape=(b - a, self.n_vars),
                )
            return np.asarray(self._dense[a:b])
        if self.sparse:
            X = self.X
            lo, hi = X.indptr[a], X.indptr[b]
            return sp.csr_matrix(
                (X.data[lo:hi], X.indices[lo:hi], X.indptr[a : b + 1] - lo), shape=(b - a, self.n_vars)
            )
        return self.X[a:b]

    def take(self, idx: np.ndarray):
        """Rows ``idx`` (sorted) as one block."""
        blocks = [self.rows(int(i), int(i) + 1) for i in idx]
        if not blocks:
            return np.zeros((0, self.n_vars))
        return sp.vstack(blocks, format="csr") if self.sparse else np.vstack(blocks)

    def whole(self):
        """Return the whole matrix (in memory: the matrix itself, not a copy)."""
        if self.h5 is None:
            return self.X
        return self.rows(0, self.n_obs)

    def chunks(self, chunk_size: int) -> Iterator[tuple[int, int]]:
        """Row ranges ``(a, b)`` of at most ``chunk_size`` rows."""
        for a in range(0, self.n_obs, chunk_size):
            yield a, min(a + chunk_size, self.n_obs)

    def column_means(self, chunk_size: int = 5000) -> np.ndarray:
        """Exact mean of every gene over all scorable rows.

        (one pass in chunks of rows; rows without information - all NaN, all zero, constant - are left
        out, see :func:`unscorable_rows`).
        """
        total = np.zeros(self.n_vars)
        m = 0
        for a, b in self.chunks(chunk_size):
            B = self.rows(a, b)
            ok = unscorable_rows(B, a) == 0
            m += int(ok.sum())
            total += column_sums(B if ok.all() else B[np.flatnonzero(ok)])
        return total / max(m, 1)

    def gene_stats(self, max_rows: int = 20_000, block: int = 1000) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-gene mean and variance over the rows (or ``max_rows`` rows in evenly spaced blocks).

        The rows used depend only on the number of rows, never on the chunk size. Rows without
        information (see :func:`unscorable_rows`) are left out.
        """
        n = self.n_obs
        if n <= max_rows:
            ranges = [(a, min(a + block, n)) for a in range(0, n, block)]
        else:
            n_blocks = max_rows // block
            starts = np.linspace(0, n - block, n_blocks).astype(np.int64)
            ranges = [(int(a), int(a) + block) for a in starts]
        s1 = np.zeros(self.n_vars)
        s2 = np.zeros(self.n_vars)
        m = 0
        for a, b in ranges:
            B = self.rows(a, b)
            ok = unscorable_rows(B, a) == 0
            if not ok.all():
                B = B[np.flatnonzero(ok)]
            m += int(ok.sum())
            if sp.issparse(B):
                d = np.asarray(B.data, dtype=np.float64)  # never modify B: it may share the user's data
                s1 += np.asarray(sp.csr_matrix((d, B.indices, B.indptr), shape=B.shape).sum(axis=0)).ravel()
                s2 += np.asarray(
                    sp.csr_matrix((d * d, B.indices, B.indptr), shape=B.shape).sum(axis=0)
                ).ravel()
            else:
                B = np.asarray(B, dtype=np.float64)
                s1 += B.sum(axis=0)
                s2 += np.einsum("ij,ij->j", B, B)
        mean = s1 / max(m, 1)
        var = np.maximum(s2 / max(m, 1) - mean**2, 0.0) * (m / max(m - 1, 1))
        return mean, var, m


def from_h5ad(path: str | Path, layer: str | None = None) -> RowSource:
    """Return a :class:`RowSource` reading ``X`` (or ``layers/<layer>``) of an ``.h5ad`` file in chunks."""
    import h5py

    path = str(path)
    try:
        with h5py.File(path, "r") as f:
            obs_names = _decode(_index_of(f["obs"]))
            var_names = _decode(_index_of(f["var"]))
            key = "X" if layer is None else f"layers/{layer}"
            if key not in f:
                raise InputFormatError(f"{path} has no {key!r}; choose an existing layer or layer=None.")
    except OSError as e:
        raise InputFormatError(f"cannot read {path} as an .h5ad file ({e}); pass an AnnData file.") from None
    return RowSource(None, obs_names, var_names, h5=(path, key))


def _index_of(group):
    idx = group.attrs.get("_index", "_index")
    idx = idx.decode() if isinstance(idx, bytes) else idx
    return group[idx][...]


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
    from disk), a samples x genes DataFrame, an ``.h5ad`` path, or a matrix with ``genes`` (and
    optionally ``samples``) names. Bad input raises an error naming the fix.
    """
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
            return from_h5ad(data.filename, layer)
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
    if isinstance(data, (str, Path)):
        p = Path(data)
        if p.suffix != ".h5ad" or not p.is_file():
            raise InputFormatError(
                f"{p} is not an existing .h5ad file; read other formats with rs.io.read first."
            )
        return from_h5ad(p, layer)
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
        f"cannot score {type(data).__name__}; pass an AnnData, a samples x genes DataFrame, an .h5ad path, "
        "or a matrix with genes=."
    )
