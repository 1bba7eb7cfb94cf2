"""Input normalisation shared by every statistics function.

Scores come as a ``ScoreResult`` (anything with a ``.scores`` DataFrame), an AnnData with
``obsm["resistscore_scores"]``, or a plain samples x signatures DataFrame. Metadata come as a
DataFrame indexed by sample, or ``adata.obs``. Single-cell data are aggregated to one value per
biological replicate unless the user explicitly asks for cells as replicates.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import CellsAsReplicatesWarning, SampleMismatchWarning, StatisticsError
from resistscore._types import is_anndata
from resistscore._validate import check_choice

__all__: list[str] = []

SCORES_KEY = "resistscore_scores"

#: obs columns that conventionally identify the biological replicate in single-cell data.
_SAMPLE_KEY_CANDIDATES = (
    "sample",
    "sample_id",
    "patient",
    "patient_id",
    "donor",
    "donor_id",
    "replicate",
    "orig.ident",
)
#: obs / uns / obsm keys that scanpy or Seurat-derived single-cell objects carry.
_SC_OBS_MARKERS = ("n_genes_by_counts", "total_counts", "pct_counts_mt", "n_genes", "n_counts", "nCount_RNA")
_SC_UNS_MARKERS = ("neighbors", "leiden", "louvain", "umap")
_SC_OBSM_MARKERS = ("X_umap", "X_tsne")


def _as_score_frame(scores: Any) -> pd.DataFrame:
    """Return the samples x signatures DataFrame held by ``scores`` (never a view on user data)."""
    if is_anndata(scores):
        if SCORES_KEY not in scores.obsm:
            raise StatisticsError(
                f"the AnnData has no `obsm['{SCORES_KEY}']`; run `rs.tl.score(adata)` first, "
                "or pass a samples x signatures DataFrame."
            )
        df = scores.obsm[SCORES_KEY]
        if not isinstance(df, pd.DataFrame):
            names = (scores.uns.get("resistscore", {}) or {}).get("signatures")
            df = pd.DataFrame(np.asarray(df), index=scores.obs_names, columns=names)
        df = df.copy()
        df.index = pd.Index(scores.obs_names.astype(str))
    elif isinstance(getattr(scores, "scores", None), pd.DataFrame):
        df = scores.scores.copy()
    elif isinstance(scores, pd.Series):
        df = scores.to_frame(name=scores.name if scores.name is not None else "score")
    elif isinstance(scores, pd.DataFrame):
        df = scores.copy()
    else:
        raise StatisticsError(
            f"cannot read scores from a {type(scores).__name__}; pass a ScoreResult, an AnnData scored by "
            "`rs.tl.score`, or a samples x signatures DataFrame."
        )
    if df.shape[1] == 0:
        raise StatisticsError("the scores have no signature column; pass at least one signature.")
    if not df.index.is_unique:
        dup = df.index[df.index.duplicated()].unique()[:5].tolist()
        raise StatisticsError(
            f"sample names of the scores are not unique (e.g. {dup}); make them unique first."
        )
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise StatisticsError(
            f"score columns must be numeric; {bad[:5]} are not. Pass samples x signatures scores "
            "(transpose with `.T` if signatures are rows)."
        )
    df.columns = pd.Index([str(c) for c in df.columns])
    df.index = pd.Index([str(i) for i in df.index])
    return df.astype(float)


def _select_signatures(df: pd.DataFrame, signatures: str | Sequence[str] | None) -> pd.DataFrame:
    if signatures is None:
        return df
    wanted = [signatures] if isinstance(signatures, str) else list(signatures)
    missing = [s for s in wanted if s not in df.columns]
    if missing:
        avail = ", ".join(map(str, df.columns[:20])) + (" ..." if df.shape[1] > 20 else "")
        raise StatisticsError(f"signature(s) {missing} not among the scores; available: {avail}.")
    return df[wanted]


def require_columns(meta: pd.DataFrame, columns: Sequence[str], arg: str) -> None:
    """Raise a :class:`StatisticsError` naming each absent column and listing the available ones."""
    missing = [c for c in columns if c not in meta.columns]
    if missing:
        avail = ", ".join(map(str, meta.columns[:30])) + (" ..." if meta.shape[1] > 30 else "")
        raise StatisticsError(
            f"`{arg}`: column(s) {missing} not found in the metadata; available columns: {avail or '(none)'}."
        )


def _looks_single_cell(adata: Any) -> bool:
    return (
        any(c in adata.obs.columns for c in _SC_OBS_MARKERS)
        or any(k in adata.uns for k in _SC_UNS_MARKERS)
        or any(k in adata.obsm for k in _SC_OBSM_MARKERS)
    )


def prepare(
    scores: Any,
    metadata: pd.DataFrame | None,
    *,
    columns: Sequence[str] = (),
    arg_names: Sequence[str] | None = None,
    signatures: str | Sequence[str] | None = None,
    sample_key: str | None = None,
    unit: str = "sample",
    keep_cells: bool = False,
    sample_level: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Return aligned ``(scores, metadata, info)`` at the level of the biological replicate.

    Parameters
    ----------
    scores, metadata
        As accepted by the public functions.
    columns
        Metadata columns the caller needs (checked, with their argument names in ``arg_names``).
    arg_names
        Argument name of each of ``columns``, used in error messages.
    signatures
        Optional subset of signatures.
    sample_key
        Column of the metadata identifying biological replicates (sample / patient). When given
        (or found in a single-cell AnnData), scores are averaged per replicate.
    unit
        ``"sample"`` (default) or ``"cell"``; ``"cell"`` keeps cells as replicates and warns.
    keep_cells
        Keep one row per cell (for mixed models that model the replicate as a random effect).
    sample_level
        Columns that must be constant within a replicate (the design variables). Defaults to ``columns``.
    """
    check_choice("unit", unit, ("sample", "cell"))
    df = _select_signatures(_as_score_frame(scores), signatures)
    if metadata is None:
        if is_anndata(scores):
            meta = scores.obs.copy()
            meta.index = pd.Index(scores.obs_names.astype(str))
        elif columns:
            raise StatisticsError(
                "no metadata given; pass `metadata=` a DataFrame indexed by sample (or an AnnData whose obs holds it)."
            )
        else:
            meta = pd.DataFrame(index=df.index)
    elif isinstance(metadata, pd.DataFrame):
        meta = metadata.copy()
        meta.index = pd.Index([str(i) for i in meta.index])
        if not meta.index.is_unique:
            dup = meta.index[meta.index.duplicated()].unique()[:5].tolist()
            raise StatisticsError(
                f"metadata index has duplicated sample names (e.g. {dup}); make them unique."
            )
    else:
        raise StatisticsError(
            f"`metadata` must be a pandas DataFrame indexed by sample; got {type(metadata).__name__}."
        )
    names = list(arg_names) if arg_names is not None else ["metadata"] * len(columns)
    for col, name in zip(columns, names):
        require_columns(meta, [col], name)

    common = df.index.intersection(meta.index, sort=False)
    if len(common) == 0:
        raise StatisticsError(
            "no sample of the scores is in the metadata index "
            f"(scores: {df.index[:3].tolist()}, metadata: {meta.index[:3].tolist()}); "
            "index the metadata by the sample names of the scores."
        )
    n_drop = len(df.index) - len(common)
    if n_drop:
        warnings.warn(
            f"{n_drop} of {len(df.index)} scored samples have no metadata and were left out "
            f"(e.g. {df.index.difference(common)[:3].tolist()}).",
            SampleMismatchWarning,
            stacklevel=3,
        )
    df = df.loc[common]
    meta = meta.loc[common]
    info: dict[str, Any] = {"unit": unit, "sample_key": None, "n_observations": len(common)}

    if sample_key is None and is_anndata(scores) and _looks_single_cell(scores):
        found = [c for c in _SAMPLE_KEY_CANDIDATES if c in meta.columns and meta[c].nunique() < len(meta)]
        if found:
            sample_key = found[0]
        elif unit != "cell" and not keep_cells:
            raise StatisticsError(
                "these look like single-cell data but no column identifies the biological replicate; pass "
                "`sample_key=` the obs column naming the sample or patient (tests then run on one value per "
                "sample), or `unit='cell'` to treat cells as replicates (this inflates significance)."
            )
    if sample_key is not None:
        require_columns(meta, [sample_key], "sample_key")
        info["sample_key"] = sample_key
        if meta[sample_key].isna().any():
            raise StatisticsError(
                f"`sample_key` column {sample_key!r} has missing values; fill or drop those cells."
            )

    if unit == "cell":
        warnings.warn(
            "cells are used as independent replicates (unit='cell'): p-values ignore that cells of one sample "
            "are correlated and are far too small; prefer the default unit='sample' or model='mixed'.",
            CellsAsReplicatesWarning,
            stacklevel=3,
        )
        return df, meta, info
    if sample_key is None or keep_cells:
        return df, meta, info

    design = list(sample_level) if sample_level is not None else list(columns)
    design = [c for c in dict.fromkeys(design) if c != sample_key]
    keys = meta[sample_key].astype(str)
    for col in design:
        n_levels = meta[col].groupby(keys, observed=True).nunique(dropna=True)
        bad = n_levels[n_levels > 1]
        if len(bad):
            raise StatisticsError(
                f"column {col!r} varies within samples of {sample_key!r} (e.g. {bad.index[:3].tolist()}), so it "
                f"cannot be tested at the sample level; use `paired_by=` for within-sample designs, "
                "`model='mixed'`, or `unit='cell'`."
            )
    agg = df.groupby(keys, observed=True, sort=True).mean()
    first = (
        meta.groupby(keys, observed=True, sort=True)[design].first()
        if design
        else pd.DataFrame(index=agg.index)
    )
    n_cells = keys.value_counts().reindex(agg.index)
    first = first.copy()
    first["n_cells"] = n_cells.to_numpy()
    info["unit"] = "sample"
    info["n_cells"] = int(len(keys))
    info["n_observations"] = len(agg)
    agg.index.name = None
    first.index.name = None
    return agg, first, info


def clean_xy(y: pd.Series, *others: pd.Series) -> tuple[pd.Series, ...]:
    """Drop samples where any of the series is missing."""
    mask = y.notna()
    for o in others:
        mask &= o.notna()
    return (y[mask], *(o[mask] for o in others))
