"""The contract of a scored AnnData (``rs.get``), as :mod:`scanpy.get` is for scanpy.

:func:`resistscore.tl.score` writes each run into an AnnData under a key (``key_added``, default
``"resistscore"``), so several runs coexist, as decoupler's ``score_<method>`` keys do:

===============================  ===============================================================
``obsm["<key>_scores"]``         samples (cells) x signatures DataFrame of scores
``obsm["<key>_pvalues"]``        empirical p-values (absent with ``pvalues=False``)
``obsm["<key>_fdr"]``            Benjamini-Hochberg FDR over samples x signatures
``obsm["<key>_<extra>"]``        further per-sample outputs of the method (e.g. singscore's
                                 ``dispersion``), listed in ``uns["<key>"]["extras"]``
``uns["<key>"]``                 the run: method, params, seed, n_controls, null, coverage, versions,
                                 signatures, data_kind, unscored, network, layer, use_raw
``uns["resistscore"]``           also what reading and preprocessing recorded: ``read_report``
                                 (:func:`resistscore.io.read`), ``gene_mapping``
                                 (:func:`resistscore.pp.harmonize_genes`), ``qc`` (:func:`resistscore.pp.qc`)
===============================  ===============================================================

A DataFrame returned by a reader or by :func:`resistscore.pp.harmonize_genes` keeps its records in
``df.attrs["resistscore_<record>"]`` (:func:`record` reads both).

Every module of resistscore reads and writes these places through this module only (the keys below
are their one definition). The accessors take an AnnData and a ``key``; :func:`scores`,
:func:`pvalues` and :func:`fdr` also take a :class:`~resistscore.tl.ScoreResult` or a samples x
signatures DataFrame, so one call reads scores from anything resistscore returns.

This module imports only numpy and pandas. :func:`scores_adata` imports anndata when called and
:func:`result` the scoring engine (which itself uses this module): both are function-local imports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore._kind import judge
from resistscore._settings import default_n_jobs
from resistscore._types import is_anndata

__all__ = [
    "DEFAULT_KEY",
    "FDR",
    "GENE_MAPPING",
    "JOIN_REPORT",
    "OBSM_FDR",
    "OBSM_PVALUES",
    "OBSM_SCORES",
    "PVALUES",
    "QC",
    "READ_REPORT",
    "SCORES",
    "UNS_KEY",
    "default_n_jobs",
    "extra_names",
    "fdr",
    "is_single_cell",
    "obsm_frame",
    "obsm_key",
    "pvalues",
    "record",
    "require_run",
    "result",
    "run_info",
    "runs",
    "scores",
    "scores_adata",
    "store_record",
]

#: default ``key_added`` of :func:`resistscore.tl.score`
DEFAULT_KEY = "resistscore"
#: resistscore's own entry of ``adata.uns`` (reading and preprocessing records; the default run)
UNS_KEY = "resistscore"
#: records kept in ``uns["resistscore"]`` by reading and preprocessing
READ_REPORT = "read_report"
GENE_MAPPING = "gene_mapping"
QC = "qc"
#: kept in ``attrs`` of the metadata aligned by :func:`resistscore.io.read_metadata`
JOIN_REPORT = "join_report"
#: the samples x signatures tables of a run
SCORES = "scores"
PVALUES = "pvalues"
FDR = "fdr"
_TABLES = (SCORES, PVALUES, FDR)


def obsm_key(key: str = DEFAULT_KEY, table: str = SCORES) -> str:
    """Return the ``obsm`` key of one table of the run ``key``.

    Examples
    --------
    >>> obsm_key(), obsm_key("ucell_run", "fdr")
    ('resistscore_scores', 'ucell_run_fdr')
    """
    return f"{key}_{table}"


#: the ``obsm`` keys of the default run
OBSM_SCORES = obsm_key(DEFAULT_KEY, SCORES)
OBSM_PVALUES = obsm_key(DEFAULT_KEY, PVALUES)
OBSM_FDR = obsm_key(DEFAULT_KEY, FDR)


# ---------------------------------------------------------------------------------------- records
def _attrs_key(name: str) -> str:
    return f"{UNS_KEY}_{name}"


def record(data, name: str) -> Any:
    """Return the record ``name`` (``READ_REPORT``, ``GENE_MAPPING``, ``QC``, ``JOIN_REPORT``) of ``data``, or None.

    An AnnData keeps its records in ``uns["resistscore"]``, a DataFrame in ``attrs["resistscore_<name>"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame()
    >>> store_record(df, QC, {"n_nan": 0})
    >>> record(df, QC), record(df, READ_REPORT)
    ({'n_nan': 0}, None)
    """
    if isinstance(data, pd.DataFrame):
        return data.attrs.get(_attrs_key(name))
    entry = data.uns.get(UNS_KEY) if hasattr(data, "uns") else None
    return entry.get(name) if isinstance(entry, Mapping) else None


def store_record(data, name: str, value: Any) -> None:
    """Store ``value`` as the record ``name`` of ``data`` (AnnData ``uns`` or DataFrame ``attrs``), keeping the others."""
    if isinstance(data, pd.DataFrame):
        data.attrs[_attrs_key(name)] = value
        return
    entry = data.uns.get(UNS_KEY)
    data.uns[UNS_KEY] = {**(dict(entry) if isinstance(entry, Mapping) else {}), name: value}


def runs(adata) -> list[str]:
    """Return the keys of the scoring runs stored in ``adata`` (``key_added`` of each run).

    Examples
    --------
    >>> import numpy as np, pandas as pd, anndata as ad
    >>> import resistscore as rs
    >>> adata = ad.AnnData(np.abs(np.random.default_rng(0).normal(size=(3, 20))) + 1)
    >>> adata.var_names = [f"G{i}" for i in range(20)]
    >>> rs.tl.score(adata, {"s": ["G1", "G2"]}, pvalues=False)
    >>> rs.tl.score(adata, {"s": ["G1", "G2"]}, "wmean", pvalues=False, key_added="wmean")
    >>> rs.get.runs(adata)
    ['resistscore', 'wmean']
    """
    out = []
    for key, entry in adata.uns.items():
        if isinstance(entry, Mapping) and "method" in entry and obsm_key(key) in adata.obsm:
            out.append(str(key))
    return out


def run_info(adata, key: str = DEFAULT_KEY) -> dict[str, Any]:
    """Return the record of the run ``key``: method, params, seed, coverage, versions, ...

    Raises
    ------
    ResistScoreError
        If ``adata`` holds no run under ``key`` (the message lists the runs it holds).
    """
    if not is_anndata(adata):
        raise InputFormatError(
            f"run_info reads an AnnData scored by rs.tl.score; got a {type(adata).__name__}."
        )
    entry = adata.uns.get(key)
    if not isinstance(entry, Mapping) or "method" not in entry or obsm_key(key) not in adata.obsm:
        raise ResistScoreError(_not_scored(adata, key))
    return dict(entry)


def extra_names(entry) -> list[str]:
    """Return the names of the extra tables of a run's record (``uns["<key>"]["extras"]``), in order.

    A run written to an ``.h5ad`` file and read back lists them in an array (empty for none), not a list.

    Examples
    --------
    >>> import numpy as np
    >>> extra_names({"extras": np.array([], dtype=object)}), extra_names({"extras": ["dispersion"]})
    ([], ['dispersion'])
    """
    names = entry.get("extras") if isinstance(entry, Mapping) else None
    return [] if names is None else [str(n) for n in np.ravel(np.asarray(names, dtype=object))]


def require_run(adata, key: str = DEFAULT_KEY) -> None:
    """Raise unless the AnnData ``adata`` holds scores under the run ``key`` (``obsm["<key>_scores"]``).

    The message lists the runs it holds (pass one as ``key=``), or says how to score it.

    Raises
    ------
    ResistScoreError
        If ``obsm["<key>_scores"]`` is absent.

    Examples
    --------
    >>> import numpy as np, anndata as ad
    >>> import resistscore as rs
    >>> rs.get.require_run(ad.AnnData(np.ones((2, 3))), "wmean")
    Traceback (most recent call last):
    ...
    resistscore._errors.ResistScoreError: the AnnData has no scores under key 'wmean' (obsm['wmean_scores']); score it first with rs.tl.score(adata, key_added='wmean').
    """
    if obsm_key(key) not in adata.obsm:
        raise ResistScoreError(_not_scored(adata, key))


def _not_scored(adata, key: str) -> str:
    held = runs(adata)
    fix = (
        f"it holds the runs {held}: pass key= one of them"
        if held
        else f"score it first with rs.tl.score(adata{'' if key == DEFAULT_KEY else f', key_added={key!r}'})"
    )
    return f"the AnnData has no scores under key {key!r} (obsm[{obsm_key(key)!r}]); {fix}."


# ----------------------------------------------------------------------------------------- tables
def obsm_frame(adata, key: str = DEFAULT_KEY, table: str = SCORES) -> pd.DataFrame | None:
    """Return the table ``table`` of the run ``key`` as held in ``adata.obsm`` (not a copy), or None.

    An array (written by other tools) is wrapped in a DataFrame with the run's signatures as columns. A
    missing run raises :class:`~resistscore.ResistScoreError` naming the runs the AnnData holds
    (:func:`require_run`). Use :func:`scores` for a checked copy with named axes.

    Examples
    --------
    >>> import numpy as np, pandas as pd, anndata as ad
    >>> import resistscore as rs
    >>> adata = ad.AnnData(np.ones((2, 3)))
    >>> adata.obsm["resistscore_scores"] = np.array([[0.5], [0.25]])
    >>> adata.uns["resistscore"] = {"signatures": ["efflux_abc"]}
    >>> rs.get.obsm_frame(adata)["efflux_abc"].tolist()
    [0.5, 0.25]
    """
    require_run(adata, key)
    values = adata.obsm.get(obsm_key(key, table))
    if values is None or isinstance(values, pd.DataFrame):
        return values
    cols = (adata.uns.get(key) or {}).get("signatures")
    return pd.DataFrame(
        np.asarray(values), index=adata.obs_names, columns=None if cols is None else list(cols)
    )


def _table(data, key: str, table: str, name: str) -> pd.DataFrame | None:
    if is_anndata(data):
        df = obsm_frame(data, key, table)
        if df is None:
            return None
        df = df.copy()
        df.index = pd.Index(data.obs_names.astype(str), name="sample")
        df.columns.name = "signature"
        return df
    held = getattr(data, table, None)
    if isinstance(held, pd.DataFrame) or (held is None and hasattr(data, "coverage")):
        return None if held is None else held.copy()  # a ScoreResult
    if table != SCORES:
        return None  # a plain table of scores has no p-values
    if isinstance(data, pd.Series):
        return data.to_frame(name=data.name if data.name is not None else "score")
    if isinstance(data, pd.DataFrame):
        return data.copy()
    raise InputFormatError(
        f"`{name}` must be a ScoreResult, an AnnData scored by rs.tl.score or a samples x signatures DataFrame; "
        f"got a {type(data).__name__}."
    )


def _checked(df: pd.DataFrame, signatures, name: str) -> pd.DataFrame:
    for axis, labels in (("index", df.index), ("columns", df.columns)):
        if isinstance(labels, pd.MultiIndex):
            raise InputFormatError(
                f"`{name}` has a MultiIndex of {axis} (levels {list(labels.names)}); keep one level "
                f"(.{axis}.get_level_values(...)) or join them (.{axis} = ['|'.join(map(str, t)) for t in .{axis}])."
            )
    if df.index.has_duplicates:
        dup = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise InputFormatError(f"`{name}` has duplicated sample names {dup}; make them unique.")
    bad = [
        c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
    ]
    if bad:
        raise InputFormatError(
            f"`{name}` has non-numeric columns {[str(c) for c in bad[:5]]}; pass samples x signatures scores only "
            "(transpose with .T if signatures are rows; give sample annotations separately)."
        )
    if signatures is not None:
        wanted = [signatures] if isinstance(signatures, str) else list(signatures)
        missing = [s for s in wanted if s not in df.columns]
        if missing or not wanted:
            avail = ", ".join(map(str, df.columns[:20])) + (" ..." if df.shape[1] > 20 else "")
            raise ResistScoreError(
                f"`signatures` {missing[:5] if missing else 'is empty'}: choose among the scored signatures ({avail})."
            )
        df = df[wanted]
    if all(pd.api.types.is_float_dtype(t) for t in df.dtypes):
        return df.copy()  # float32 results (rs.tl.score(dtype="float32")) stay float32
    return df.astype(float)


def scores(data, key: str = DEFAULT_KEY, *, signatures: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Return the scores as a samples x signatures DataFrame (a copy).

    Parameters
    ----------
    data
        An AnnData scored by :func:`resistscore.tl.score` (the run ``key``), a
        :class:`~resistscore.tl.ScoreResult`, or a samples x signatures DataFrame (checked and returned
        as floats).
    key
        The run (``key_added`` of :func:`resistscore.tl.score`); AnnData only.
    signatures
        Keep these signatures (in this order); each must be among the scored ones.

    Returns
    -------
    pandas.DataFrame
        Samples x signatures. Signatures below their minimal coverage and unscorable samples are NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> rs.get.scores(pd.DataFrame({"a": [1, 2]}, index=["s1", "s2"]), signatures="a")
          a
    s1  1.0
    s2  2.0
    """
    return _checked(_table(data, key, SCORES, "scores"), signatures, "scores")


def pvalues(
    data, key: str = DEFAULT_KEY, *, signatures: str | Sequence[str] | None = None
) -> pd.DataFrame | None:
    """Return the empirical p-values (samples x signatures), or None when they were not computed.

    Takes the same ``data`` and ``key`` as :func:`scores`.
    """
    df = _table(data, key, PVALUES, "pvalues")
    return None if df is None else _checked(df, signatures, "pvalues")


def fdr(
    data, key: str = DEFAULT_KEY, *, signatures: str | Sequence[str] | None = None
) -> pd.DataFrame | None:
    """Return the Benjamini-Hochberg FDR (samples x signatures), or None when p-values were not computed.

    Takes the same ``data`` and ``key`` as :func:`scores`.
    """
    df = _table(data, key, FDR, "fdr")
    return None if df is None else _checked(df, signatures, "fdr")


def scores_adata(adata, key: str = DEFAULT_KEY, *, table: str = SCORES):
    """Return an AnnData whose ``X`` holds the scores, for scanpy's plots.

    As decoupler's ``get_obsm``: observations and their annotations (``obs``), embeddings (``obsm``)
    and colours (``uns["<column>_colors"]``) are kept, the variables are the signatures (with their
    coverage in ``var``), so that scanpy colours an embedding or groups a matrix plot by signature::

        sc.pl.umap(rs.get.scores_adata(adata), color="efflux_abc")
        sc.pl.matrixplot(rs.get.scores_adata(adata), var_names=["efflux_abc"], groupby="leiden")

    Parameters
    ----------
    adata
        An AnnData scored by :func:`resistscore.tl.score` (in memory or backed). Not modified.
    key
        The run (``key_added`` of :func:`resistscore.tl.score`).
    table
        ``"scores"`` (default), ``"pvalues"`` or ``"fdr"``.

    Returns
    -------
    anndata.AnnData
        Observations x signatures.
    """
    import anndata as ad  # function-local: reading scores from a DataFrame never imports anndata

    if table not in _TABLES:
        raise ResistScoreError(f"`table` must be one of {list(_TABLES)}; got {table!r}.")
    values = {SCORES: scores, PVALUES: pvalues, FDR: fdr}[table](adata, key)
    if values is None:
        raise ResistScoreError(
            f"the run {key!r} has no {table} (scored with pvalues=False); use table='scores'."
        )
    own = {obsm_key(k, t) for k in runs(adata) for t in (*_TABLES, *extra_names(adata.uns[k]))}
    obsm = {k: v for k, v in adata.obsm.items() if k not in own}
    uns = {k: v for k, v in adata.uns.items() if str(k).endswith("_colors")}
    var = pd.DataFrame(index=pd.Index(values.columns.astype(str), name=None))
    cov = run_info(adata, key).get("coverage")
    if isinstance(cov, Mapping) and "signature" in cov:
        table_cov = pd.DataFrame({k: list(v) for k, v in cov.items()}).set_index("signature")
        keep = [c for c in ("n_genes", "n_found", "weight_covered", "reported") if c in table_cov.columns]
        var = var.join(table_cov[keep])
    obs = adata.obs.copy()
    obs.index = obs.index.astype(str)
    return ad.AnnData(X=values.to_numpy(dtype=np.float64), obs=obs, var=var, obsm=obsm, uns=uns)


def result(adata, key: str = DEFAULT_KEY):
    """Return the :class:`~resistscore.tl.ScoreResult` of the run ``key``, rebuilt from ``adata``.

    Scores, p-values, FDR, coverage, method, parameters, seed, null, extras, unscored samples and
    versions are those of the run; :meth:`~resistscore.tl.ScoreResult.contributions` reads the
    expression data of ``adata`` (the layer or ``raw`` that was scored).

    Examples
    --------
    >>> import numpy as np, anndata as ad
    >>> import resistscore as rs
    >>> adata = ad.AnnData(np.random.default_rng(0).normal(size=(4, 30)))
    >>> adata.var_names = [f"G{i}" for i in range(30)]
    >>> rs.tl.score(adata, {"s": ["G1", "G2", "G3"]}, n_controls=9)
    >>> res = rs.get.result(adata)
    >>> res.method, res.n_controls, res.scores.shape
    ('singscore', 9, (4, 1))
    """
    from resistscore.tl import ScoreResult  # function-local: the engine imports this module

    return ScoreResult.from_anndata(adata, key)


# ------------------------------------------------------------------------------- kind and threads
def is_single_cell(data, key: str = DEFAULT_KEY) -> bool:
    """Whether ``data`` are single-cell data, by the one rule of resistscore.

    A :class:`~resistscore.tl.ScoreResult`, or an AnnData scored under ``key``, answers with the kind
    recorded when it was scored. Otherwise the rule is applied (as :func:`resistscore.pp.data_kind`
    does): the observations carry cell annotations (QC metrics, clusters, an embedding or barcodes),
    or at least 70 % of the values are zero on a sample of rows. Storage and size never decide.

    Examples
    --------
    >>> import numpy as np
    >>> import resistscore as rs
    >>> cells = np.random.default_rng(0).poisson(0.1, size=(50, 300))
    >>> rs.get.is_single_cell(cells), rs.get.is_single_cell(cells + 1.0)
    (True, False)
    """
    recorded = getattr(data, "data_kind", None)
    if isinstance(recorded, str) and recorded:
        return recorded == "single_cell"
    if is_anndata(data):
        entry = data.uns.get(key)
        if isinstance(entry, Mapping) and entry.get("data_kind"):
            return entry["data_kind"] == "single_cell"
        ann = {"obs": data.obs, "uns": data.uns, "obsm": data.obsm}
        n = data.n_obs
        X = data.X[: min(n, max(1, 4_000_000 // max(data.n_vars, 1)))] if data.isbacked else data.X
        return (
            judge(_row_sample(X), ann).single_cell
            if X is not None
            else judge(np.zeros((0, 0)), ann).single_cell
        )
    if isinstance(data, pd.DataFrame):
        return judge(_row_sample(data.to_numpy(dtype=float, na_value=np.nan))).single_cell
    if isinstance(data, np.ndarray) or hasattr(data, "nnz"):
        return judge(_row_sample(data)).single_cell
    raise InputFormatError(
        f"is_single_cell takes an AnnData, a ScoreResult, a DataFrame or a matrix; got a {type(data).__name__}."
    )


def _row_sample(X, max_values: int = 4_000_000):
    """Evenly spaced rows of ``X`` (all rows of a small matrix), at most ~4 million values."""
    n, m = X.shape
    k = int(min(n, max(1, max_values // max(m, 1))))
    if k >= n:
        return X
    return X[np.unique(np.linspace(0, n - 1, k).astype(np.int64))]
