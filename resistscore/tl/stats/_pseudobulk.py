"""Pseudobulk: aggregate single-cell expression (and scores) to one profile per biological replicate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from resistscore._errors import ResistScoreWarning, StatisticsError, warn
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int
from resistscore.tl.stats._input import SCORES_KEY, require_columns

__all__ = ["pseudobulk"]


def pseudobulk(
    adata: Any,
    sample_key: str,
    *,
    layer: str | None = None,
    mode: str = "sum",
    min_cells: int = 10,
) -> Any:
    """Aggregate the cells of each biological replicate into one pseudobulk profile.

    Expression is summed (``mode="sum"``, for counts, as in DESeq2-style pseudobulk) or averaged
    (``mode="mean"``, for log-normalised data) over the cells of each ``sample_key`` level. Cell
    metadata constant within every sample (patient, condition, batch, ...) are kept in ``obs``,
    with ``n_cells``. Scores in ``obsm["resistscore_scores"]`` are averaged per sample. Samples
    with fewer than ``min_cells`` cells are dropped with a warning.

    Parameters
    ----------
    adata
        AnnData of cells (``obs`` = cells, ``var`` = genes). Not modified.
    sample_key
        ``obs`` column naming the biological replicate of each cell.
    layer
        Layer to aggregate (default ``X``).
    mode
        ``"sum"`` or ``"mean"``.
    min_cells
        Minimal number of cells per sample.

    Returns
    -------
    AnnData
        One row per sample (named by the ``sample_key`` level), same ``var`` as ``adata``.

    Examples
    --------
    >>> import anndata as ad, numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> cells = ad.AnnData(
    ...     np.ones((6, 2), dtype=np.float32),
    ...     obs=pd.DataFrame(
    ...         {"patient": list("aabbbb"), "arm": list("xxyyyy")}, index=[f"c{i}" for i in range(6)]
    ...     ),
    ... )
    >>> pb = rs.tl.pseudobulk(cells, "patient", min_cells=1)
    >>> pb.X.tolist(), pb.obs["n_cells"].tolist(), pb.obs["arm"].tolist()
    ([[2.0, 2.0], [4.0, 4.0]], [2, 4], ['x', 'y'])
    """
    import anndata as ad

    if not is_anndata(adata):
        raise StatisticsError(f"`adata` must be an AnnData of cells; got {type(adata).__name__}.")
    check_choice("mode", mode, ("sum", "mean"))
    check_int("min_cells", min_cells, minimum=1)
    require_columns(adata.obs, [sample_key], "sample_key")
    keys = adata.obs[sample_key]
    if keys.isna().any():
        raise StatisticsError(
            f"`sample_key` column {sample_key!r} has missing values; fill or drop those cells."
        )
    keys = keys.astype(str).to_numpy()
    levels, codes = np.unique(keys, return_inverse=True)
    counts = np.bincount(codes, minlength=len(levels))
    X = adata.layers[layer] if layer is not None else adata.X
    if layer is not None and layer not in adata.layers:
        raise StatisticsError(f"`layer`={layer!r} not found; layers: {list(adata.layers.keys())}.")
    indicator = sp.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(levels), len(codes))
    )
    agg = indicator @ X
    agg = np.asarray(agg.todense()) if sp.issparse(agg) else np.asarray(agg)
    if mode == "mean":
        agg = agg / counts[:, None]
    obs = pd.DataFrame(index=pd.Index(levels, name=None))
    grouped = adata.obs.assign(_k=keys).groupby("_k", observed=True, sort=True)
    for col in adata.obs.columns:
        if col == sample_key:
            continue
        if (grouped[col].nunique(dropna=False) <= 1).all():
            obs[col] = grouped[col].first().reindex(levels).to_numpy()
    obs[sample_key] = levels
    obs["n_cells"] = counts
    out = ad.AnnData(agg, obs=obs, var=adata.var.copy())
    if SCORES_KEY in adata.obsm and isinstance(adata.obsm[SCORES_KEY], pd.DataFrame):
        sc = adata.obsm[SCORES_KEY].copy()
        sc.index = keys
        out.obsm[SCORES_KEY] = sc.groupby(level=0, sort=True).mean().reindex(levels).set_axis(out.obs_names)
    keep = counts >= min_cells
    if not keep.all():
        warn(
            f"{int((~keep).sum())} sample(s) with fewer than {min_cells} cells were dropped: {levels[~keep][:5].tolist()}.",
            ResistScoreWarning,
        )
        out = out[keep].copy()
    return out
