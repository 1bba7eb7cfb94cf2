"""Rows of an AnnData file with their genes harmonised on the fly (what a path and the CLI score), and QC in the same pass."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore import pp
from resistscore._anndata_store import attr, open_store, read_elem, reading
from resistscore._errors import GeneIdentifierError, ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_choice
from resistscore.tl._chunks import (
    MappedSource,
    RowSource,
    _decode,
    _values,
    from_file,
    row_source,
)
from resistscore.tl._rows import probe_rows

__all__ = ["QCRows", "file_rows", "harmonized_rows", "is_path", "qc_rows"]


def harmonized_rows(
    path, *, layer: str | None = None, probe_collapse: str = pp.DEFAULT_COLLAPSE, block: int = 10_000
) -> RowSource:
    """Return the rows of an ``.h5ad`` file or ``.zarr`` store with HGNC genes, read in blocks.

    The gene identifiers are harmonised on their names alone (:meth:`resistscore.pp.GeneCollapse.from_names`:
    aliases, Ensembl ids and probe sets mapped, duplicates collapsed by ``probe_collapse``), without
    reading the matrix; each block of rows read while scoring goes through the same collapse. Scores of
    the result equal loading, harmonising (:func:`resistscore.pp.harmonize_genes`) and scoring the file
    in memory, with a fraction of the memory. The cells' annotations (``obs``, the keys of ``uns`` and
    ``obsm``) come along for the choice of the default method. This is what ``resistscore score
    cells.h5ad`` and ``rs.tl.score("cells.h5ad")`` score.

    Parameters
    ----------
    path
        An ``.h5ad`` file, an AnnData ``.zarr`` store, or a list of them (shards with the same genes).
    layer
        Read ``layers/<layer>`` instead of ``X``.
    probe_collapse
        The rule for identifiers mapped to the same gene (:data:`resistscore.pp.COLLAPSE_RULES`). The
        single-sample rules (``"mean"``, the default; ``"sum"``; ``"first"``) need the names only. The
        cohort-level ``"max_mean"`` (the identifier with the highest mean over all cells) needs every
        cell's values before the first block can be collapsed: it costs one extra chunked pass over the
        file (``block`` rows at a time, memory one block plus one value per identifier), then scores as
        the other rules.
    block
        Rows read at a time by the ``"max_mean"`` pass (results do not depend on it).

    Returns
    -------
    RowSource
        Pass it to :func:`resistscore.tl.score` (which returns a :class:`ScoreResult`), with or without
        a Dask ``client``.

    Raises
    ------
    GeneIdentifierError
        If no identifier maps to an HGNC gene: the message names the fixes, among them
        ``rs.tl.score(path, harmonize=False)`` (CLI: ``--no-harmonize``) to score the file under its own
        gene names.
    """
    check_choice("probe_collapse", probe_collapse, tuple(pp.COLLAPSE_RULES))
    src = from_file(path, layer)
    means = raw_column_means(src, block) if probe_collapse in pp.COHORT_LEVEL_RULES else None
    try:
        collapse = pp.GeneCollapse.from_names(src.var_names, probe_collapse, means=means)
    except GeneIdentifierError as err:
        raise GeneIdentifierError(
            f"{err} To score the file under its own gene names (e.g. with signatures of your own names), pass "
            "harmonize=False to rs.tl.score (CLI: --no-harmonize)."
        ) from None
    mapped = MappedSource(src, collapse, collapse.var_names)
    first = Path(path[0] if isinstance(path, (list, tuple)) else path)
    mapped.annotations = _annotations(first, src.obs_names)
    return mapped


class QCRows(MappedSource):
    """Rows that take every block read into a :class:`resistscore.pp.StreamQC`: QC in the scoring pass.

    Made by :func:`qc_rows`; after :func:`resistscore.tl.score` has read it, :meth:`qc_report` gives the
    :class:`resistscore.pp.QCReport` without reading the matrix again (rows the engine did not read, if any,
    are read then, in blocks).
    """

    def __init__(self, source: RowSource, annotations=None):
        super().__init__(source, None, source.var_names)
        self.qc = pp.StreamQC(source.n_obs, source.n_vars)
        self.probe = None
        self.annotations = annotations if annotations is not None else getattr(source, "annotations", None)
        self._lock = threading.Lock()

    def rows(self, a: int, b: int):
        return self._seen(a, self.inner.rows(a, b))

    def rows_into(self, a: int, b: int, buffers):
        # StreamQC keeps no reference to a block (it adds up its statistics): its buffers may be read into again
        return self._seen(a, self.inner.rows_into(a, b, buffers))

    def _seen(self, a: int, block):
        with self._lock:
            self.qc.add(a, block)
        return block

    def take(self, idx: np.ndarray):
        block = super().take(idx)
        if self.probe is None:  # the engine's probe of the data: the scale and kind are judged on it
            self.probe = block
        return block

    def whole(self):
        return self.rows(0, self.n_obs)

    def reader(self):
        return self.inner.reader()  # on a Dask worker: the rows only (QC is taken in this process)

    def qc_report(self, block: int = 10_000) -> pp.QCReport:
        """Return the QC of the rows read (rows not read yet are read now, ``block`` rows at a time)."""
        for a, b in self.qc.missing(block):
            self.rows(a, b)
        probe = self.probe if self.probe is not None else probe_rows(self)
        return self.qc.report(self.obs_names, self.var_names, probe, self.annotations)


def qc_rows(data) -> QCRows:
    """Return the rows of ``data`` with their QC taken while they are read (by :func:`resistscore.tl.score`).

    The findings of :func:`resistscore.pp.qc` (NaN and infinite values, negative values, empty, constant and
    mostly-missing samples, empty and constant genes, duplicated ids) are accumulated block by block in the
    pass that scores the data, so a file is not read a second time and a sparse matrix is never densified;
    the scale and the kind of data are judged on the engine's sample of rows. This is what
    ``resistscore score`` reports on its ``qc:`` line.

    Parameters
    ----------
    data
        What :func:`resistscore.tl.score` takes: a :class:`RowSource` (e.g. :func:`harmonized_rows`), an
        ``.h5ad`` / ``.zarr`` path (its own gene names), an AnnData (``X``) or a samples x genes DataFrame.

    Returns
    -------
    QCRows
        Score it (``rs.tl.score(rows, ...)`` returns a :class:`ScoreResult`), then call ``rows.qc_report()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame(rng.normal(5, 1, size=(20, 300)), columns=[f"G{i}" for i in range(300)])
    >>> df.iloc[3, :5] = -1.0  # five negative values
    >>> rows = rs.tl.qc_rows(df)
    >>> res = rs.tl.score(rows, {"prog": ["G1", "G2", "G3"]}, pvalues=False)
    >>> rows.qc_report().findings["n_negative"]
    5
    """
    annotations = None
    if is_anndata(data):
        annotations = {"obs": data.obs, "uns": data.uns, "obsm": data.obsm}
    return QCRows(row_source(data), annotations)


def is_path(data) -> bool:
    """Whether ``data`` is a file path or a non-empty list of them (shards)."""
    if isinstance(data, (str, Path)):
        return True
    return isinstance(data, (list, tuple)) and bool(data) and all(isinstance(x, (str, Path)) for x in data)


def file_rows(data, harmonize: bool | None, layer: str | None = None, use_raw: bool = False):
    """Return what :func:`resistscore.tl.score` reads of ``data``: a path's rows with harmonised genes by default.

    A path (or shards) becomes :func:`harmonized_rows` unless ``harmonize`` is False; anything else is
    returned as it is (``harmonize=True`` is refused for it, naming the fix).
    """
    if harmonize is not None and not isinstance(harmonize, (bool, np.bool_)):
        raise ResistScoreError(f"`harmonize` must be True, False or None; got {harmonize!r}.")
    if not is_path(data) or use_raw:  # use_raw with a path: row_source names the problem
        if harmonize:
            raise ResistScoreError(
                f"harmonize=True applies to a file path; a {type(data).__name__} is scored under its gene names as "
                "given. Harmonise it first (rs.pp.harmonize_genes) and score the result, or pass the file's path."
            )
        return data
    if harmonize is False:
        return data
    return harmonized_rows(list(data) if isinstance(data, (list, tuple)) else data, layer=layer)


def raw_column_means(source: RowSource, block: int = 10_000) -> np.ndarray:
    """Mean of every column over all rows, in one chunked pass, as :func:`resistscore.pp.harmonize_genes` takes it.

    Sparse blocks: the sum over all rows (zeros included) divided by the number of rows (scipy's
    ``X.mean(axis=0)``); dense blocks: NaN left out (``numpy.nanmean``), NaN for a column of NaN only.
    """
    n = source.n_vars
    sums, counts = np.zeros(n), np.zeros(n)
    for a, b in source.chunks(max(int(block), 1)):
        X = source.rows(a, b)
        if sp.issparse(X):
            sums += np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()
            counts += b - a
        else:
            X = np.asarray(X, dtype=np.float64)
            ok = ~np.isnan(X)
            sums += np.where(ok, X, 0.0).sum(axis=0)
            counts += ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _annotations(path: Path, obs_names: pd.Index | None = None) -> dict:
    """Return ``obs`` and the keys of ``uns`` and ``obsm`` of an AnnData file (for the single-cell check).

    ``obs`` is read with h5py (or zarr) following anndata's on-disk spec (:func:`_read_obs`), so that scoring a
    path never imports anndata (0.6-0.9 s of CPU: it imports dask and zarr); anndata reads it only when a column
    has an encoding not handled there. ``obs_names``: the file's obs names, read already; ``obs`` takes them as
    its index instead of reading a second copy of them (~60-120 MiB at a million cells), when they are as many
    as the file's (not those of several shards).
    """
    with reading(path, "obs"), open_store(path) as g:
        return _annotations_of(g, obs_names)


def _annotations_of(g, obs_names: pd.Index | None = None) -> dict:
    out: dict = {}
    if "obs" in g:
        obs = _read_obs(g["obs"], obs_names)
        out["obs"] = obs if obs is not None else read_elem()(g["obs"])
    for key in ("uns", "obsm"):
        if key in g:
            out[key] = dict.fromkeys(g[key].keys())
    return out


def _read_obs(node, obs_names: pd.Index | None = None) -> pd.DataFrame | None:
    """``obs`` of an AnnData store as ``anndata.io.read_elem`` reads it; None when it is not a dataframe 0.2.0.

    anndata's on-disk spec: a group of ``encoding-type`` ``dataframe`` (0.2.0) with its column order and the
    name of its index in attributes; columns of the encodings ``array``, ``string-array``, ``categorical``,
    ``nullable-integer`` and ``nullable-boolean`` are read here, a column of another encoding by anndata.
    """
    if not hasattr(node, "keys") or (attr(node, "encoding-type"), attr(node, "encoding-version")) != (
        "dataframe",
        "0.2.0",
    ):
        return None
    columns = [
        v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(node.attrs.get("column-order", []))
    ]
    idx_key = attr(node, "_index")
    if idx_key not in node or any(key not in node for key in columns):
        return None
    data = {}
    for key in columns:  # a column of another encoding: anndata reads that column
        values = _read_column(node[key])
        data[key] = values if values is not None else read_elem()(node[key])
    own = obs_names is not None and len(obs_names) == node[idx_key].shape[0]
    index = obs_names if own else _decode(_read_column(node[idx_key]))
    index = index.rename(None if idx_key == "_index" else idx_key)  # a new Index on the same values
    return pd.DataFrame(data, index=index, columns=columns if columns else None)


def _read_column(node):
    """One column of an AnnData dataframe (see :func:`_read_obs`), or None for an encoding not handled here."""
    enc = attr(node, "encoding-type")
    if hasattr(node, "keys"):  # a group
        if enc == "categorical" and {"codes", "categories"} <= set(node.keys()):
            codes, categories = _read_column(node["codes"]), _read_column(node["categories"])
            if codes is None or categories is None:
                return None
            return pd.Categorical.from_codes(
                codes, categories, ordered=bool(node.attrs.get("ordered", False))
            )
        masked = {"nullable-integer": pd.arrays.IntegerArray, "nullable-boolean": pd.arrays.BooleanArray}
        if enc in masked and {"values", "mask"} <= set(node.keys()):
            values, mask = _read_column(node["values"]), _read_column(node["mask"])
            return None if values is None or mask is None else masked[enc](values, mask=mask)
        return None
    if enc not in ("array", "string-array"):
        return None
    values = np.asarray(_values(node) if node.ndim == 1 else node[()])
    if enc == "string-array" or values.dtype.kind in "OSUT":
        values = np.asarray(_decode(values), dtype=object)
    return values
