"""Input normalisation shared by every statistics function.

Scores come as a ``ScoreResult`` (anything with a ``.scores`` DataFrame), an AnnData with
``obsm["resistscore_scores"]``, or a plain samples x signatures DataFrame. Metadata come as a
DataFrame indexed by sample, or ``adata.obs``. Single-cell data are aggregated to one value per
biological replicate unless the user explicitly asks for cells as replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get
from resistscore._errors import (
    CellsAsReplicatesWarning,
    ResistScoreError,
    SampleMismatchWarning,
    StatisticsError,
    warn,
)
from resistscore._kind import SC_OBS_MARKERS, has_cell_annotations
from resistscore._types import is_anndata
from resistscore._validate import check_choice

__all__: list[str] = []

SCORES_KEY = get.OBSM_SCORES

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
#: a replicate-like column with at least this many rows per level on average means the rows are
#: repeated measures of replicates (cells of a donor), not independent samples
MIN_ROWS_PER_REPLICATE = 5

#: the options each statistics function offers when rows are cells (named in its error messages)
HINTS = {
    "compare_groups": (
        "pass `sample_key=` the column naming the sample or donor (tests then run on one mean score per "
        "sample), `paired_by=` that column to compare two groups within samples (e.g. two clusters within "
        "donors: one mean per donor and group, then a paired test), `model='mixed'` with `sample_key=`, or "
        "`unit='cell'` to treat cells as replicates (this inflates significance)"
    ),
    "fit_model": (
        "pass `sample_key=` the column naming the sample or donor (the model is then fitted on one mean score "
        "per sample), `model='mixed'` with `sample_key=` (a random intercept per sample), or `unit='cell'` to "
        "treat cells as replicates (this inflates significance)"
    ),
    "default": (
        "pass `sample_key=` the column naming the sample or donor (the analysis then runs on one mean score "
        "per sample), or `unit='cell'` to treat cells as replicates (this inflates significance)"
    ),
}

#: what each function offers when a design column varies within the replicates ({key}: the column)
VARIES_HINTS = {
    "compare_groups": (
        "compare the groups within samples with `paired_by={key!r}` (two groups at a time, e.g. `groups=[a, b]`), "
        "fit `model='mixed'` with `sample_key={key!r}`, or use `unit='cell'` (this inflates significance)"
    ),
    "fit_model": "fit `model='mixed'` with `sample_key={key!r}`, or use `unit='cell'` (this inflates significance)",
    "default": (
        "it must be constant within each sample to be analysed on one value per sample; use `unit='cell'` "
        "(this inflates significance), or a sample-level column"
    ),
}


def _as_score_frame(scores: Any, key: str = get.DEFAULT_KEY) -> pd.DataFrame:
    """Return the samples x signatures DataFrame held by ``scores`` (the run ``key`` of an AnnData; a copy)."""
    if is_anndata(scores):
        try:
            df = get.obsm_frame(scores, key)
        except ResistScoreError as err:
            raise StatisticsError(f"{err} Or pass a samples x signatures DataFrame.") from None
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
    _no_multiindex(df, "scores")
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
    df = df.astype(float)
    inf = np.isinf(df.to_numpy())
    if inf.any():
        r, c = np.argwhere(inf)[0]
        raise StatisticsError(
            f"the scores hold infinite values (e.g. sample {df.index[r]!r}, signature {df.columns[c]!r}); "
            "replace them with NaN to leave them out, or score with a method that gives finite scores."
        )
    return df


def _no_multiindex(df: pd.DataFrame, what: str) -> None:
    for axis, labels in (("index", df.index), ("columns", df.columns)):
        if isinstance(labels, pd.MultiIndex):
            raise StatisticsError(
                f"the {what} have a MultiIndex of {axis} (levels {list(labels.names)}); pass one name per "
                f"{'sample' if axis == 'index' else 'column'}: keep one level (.{axis}.get_level_values(...)) or "
                f"join the levels (.{axis} = ['|'.join(map(str, t)) for t in .{axis}])."
            )


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


def _cells_evidence(scores: Any, meta: pd.DataFrame, key: str = get.DEFAULT_KEY) -> str:
    """Why the rows are cells rather than independent samples ("" when nothing says so).

    Evidence, from any input type: the scores were made from single-cell data (``ScoreResult.data_kind``
    or ``uns["resistscore"]["data_kind"]``); the AnnData or the metadata carry cell annotations (QC
    metrics, clusters, an embedding, barcodes: :func:`resistscore._kind.has_cell_annotations`); or a
    replicate-like column (sample, donor, patient ...) has on average at least
    :data:`MIN_ROWS_PER_REPLICATE` rows per level.
    """
    kind = getattr(scores, "data_kind", "")
    if is_anndata(scores):
        kind = ((scores.uns.get(key) or {}).get("data_kind")) or ""
        if has_cell_annotations(scores.obs, scores.uns, scores.obsm):
            return "the AnnData carries cell annotations (QC metrics, clusters or an embedding)"
    if kind == "single_cell":
        return "the scores were computed on single-cell data"
    if has_cell_annotations(meta):
        cols = [str(c) for c in meta.columns if c in SC_OBS_MARKERS]
        return f"the metadata carry cell annotations ({', '.join(cols[:3]) or 'cell barcodes'})"
    for col in _SAMPLE_KEY_CANDIDATES:
        if col in meta.columns:
            n_levels = meta[col].nunique(dropna=True)
            if n_levels and len(meta) / n_levels >= MIN_ROWS_PER_REPLICATE:
                return f"column {col!r} has {len(meta) / n_levels:.0f} rows per level on average"
    return ""


def _replicate_column(meta: pd.DataFrame) -> str | None:
    found = [c for c in _SAMPLE_KEY_CANDIDATES if c in meta.columns and 1 < meta[c].nunique() < len(meta)]
    return found[0] if found else None


def _check_finite(meta: pd.DataFrame, columns: Sequence[str], names: Sequence[str]) -> None:
    """Numeric design columns must not hold infinite values (NaN is missing and left out)."""
    for col, name in zip(columns, names):
        values = meta[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            inf = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
            if inf.any():
                raise StatisticsError(
                    f"`{name}` column {col!r} holds infinite values (e.g. sample {values.index[inf][0]!r}); "
                    "replace them with NaN to leave those samples out, or with a finite value."
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
    within: Sequence[str] = (),
    replicate: str | None = None,
    caller: str = "default",
    key: str = get.DEFAULT_KEY,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Return aligned ``(scores, metadata, info)`` at the level of the biological replicate.

    Rows are cells - not independent replicates - when :func:`_cells_evidence` says so, whatever the
    input type (ScoreResult, AnnData or DataFrame). Cells are then averaged per ``sample_key`` (given,
    or the replicate-like column found in the metadata); without one, a :class:`StatisticsError` names
    the options of the calling function. ``info["unit"]`` records what a row of the analysis is:
    ``"sample"`` (independent samples, or cells averaged per sample), ``"sample x group"`` (cells
    averaged per sample and group, for paired tests) or ``"cell"``.

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
        Column of the metadata identifying biological replicates (sample / patient).
    unit
        ``"sample"`` (default) or ``"cell"``; ``"cell"`` keeps cells as replicates and warns.
    keep_cells
        Keep one row per cell (for mixed models that model the replicate as a random effect).
    sample_level
        Columns that must be constant within a replicate (the design variables). Defaults to ``columns``.
    within
        Columns that may vary within a replicate: cells are then averaged per replicate and level of
        these columns (e.g. the group of a paired comparison of clusters within donors).
    replicate
        The column that identifies the replicate when rows are cells and ``sample_key`` is not given
        (``compare_groups``' ``paired_by``); default: the replicate-like column of the metadata.
    caller
        The calling function, for the options named in error messages (:data:`HINTS`).
    key
        The run of an AnnData ``scores`` (``key_added`` of :func:`resistscore.tl.score`).
    """
    check_choice("unit", unit, ("sample", "cell"))
    hints = HINTS.get(caller, HINTS["default"])
    df = _select_signatures(_as_score_frame(scores, key), signatures)
    meta = _metadata_of(scores, metadata, df.index, needed=bool(columns))
    names = list(arg_names) if arg_names is not None else ["metadata"] * len(columns)
    for col, name in zip(columns, names):
        require_columns(meta, [col], name)
    df, meta = _aligned(df, meta)
    _check_finite(meta, columns, names)
    info: dict[str, Any] = {"unit": unit, "sample_key": None, "n_observations": len(df)}
    sample_key = _replicate_key(scores, meta, sample_key, unit, keep_cells, replicate, hints, key, info)
    if unit == "cell":
        warn(
            "cells are used as independent replicates (unit='cell'): p-values ignore that cells of one sample "
            "are correlated and are far too small; prefer the default unit='sample' or model='mixed'.",
            CellsAsReplicatesWarning,
        )
        return df, meta, info
    if sample_key is None:
        return df, meta, info
    if keep_cells:
        info["unit"] = "cell"
        info["n_cells"] = len(meta)
        return df, meta, info
    varies = VARIES_HINTS.get(caller, VARIES_HINTS["default"]).format(key=sample_key)
    return _aggregate(df, meta, info, sample_key, columns, sample_level, within, varies)


def _metadata_of(scores: Any, metadata: Any, samples: pd.Index, *, needed: bool) -> pd.DataFrame:
    """Return the metadata as a copy indexed by text sample names (``adata.obs`` when not given)."""
    if metadata is None:
        if is_anndata(scores):
            meta = scores.obs.copy()
            meta.index = pd.Index(scores.obs_names.astype(str))
            return meta
        if needed:
            raise StatisticsError(
                "no metadata given; pass `metadata=` a DataFrame indexed by sample (or an AnnData whose obs holds it)."
            )
        return pd.DataFrame(index=samples)
    if not isinstance(metadata, pd.DataFrame):
        raise StatisticsError(
            f"`metadata` must be a pandas DataFrame indexed by sample; got {type(metadata).__name__}."
        )
    _no_multiindex(metadata, "metadata")
    meta = metadata.copy()
    meta.index = pd.Index([str(i) for i in meta.index])
    if not meta.index.is_unique:
        dup = meta.index[meta.index.duplicated()].unique()[:5].tolist()
        raise StatisticsError(f"metadata index has duplicated sample names (e.g. {dup}); make them unique.")
    return meta


def _aligned(df: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the scores and metadata of the samples in both (warning about scored samples left out)."""
    common = df.index.intersection(meta.index, sort=False)
    if len(common) == 0:
        raise StatisticsError(
            "no sample of the scores is in the metadata index "
            f"(scores: {df.index[:3].tolist()}, metadata: {meta.index[:3].tolist()}); "
            "index the metadata by the sample names of the scores."
        )
    n_drop = len(df.index) - len(common)
    if n_drop:
        warn(
            f"{n_drop} of {len(df.index)} scored samples have no metadata and were left out "
            f"(e.g. {df.index.difference(common)[:3].tolist()}).",
            SampleMismatchWarning,
        )
    return df.loc[common], meta.loc[common]


def _replicate_key(
    scores: Any,
    meta: pd.DataFrame,
    sample_key: str | None,
    unit: str,
    keep_cells: bool,
    replicate: str | None,
    hints: str,
    key: str,
    info: dict[str, Any],
) -> str | None:
    """Return the column of the biological replicate (given, or found when the rows look like cells; checked).

    Records it in ``info`` (``sample_key``, and ``sample_key_found`` when it was not given).
    """
    evidence = _cells_evidence(scores, meta, key) if sample_key is None else ""
    if evidence and unit != "cell":
        sample_key = replicate if replicate is not None else _replicate_column(meta)
        if sample_key is None and not keep_cells:
            raise StatisticsError(
                f"the rows look like cells, not independent samples ({evidence}), and no column identifies the "
                f"biological replicate; {hints}."
            )
        info["sample_key_found"] = sample_key
    if sample_key is not None:
        require_columns(meta, [sample_key], "sample_key")
        info["sample_key"] = sample_key
        if meta[sample_key].isna().any():
            raise StatisticsError(
                f"`sample_key` column {sample_key!r} has missing values; fill or drop those cells."
            )
    return sample_key


def _aggregate(df, meta, info, sample_key, columns, sample_level, within, hints):
    """Mean score per replicate (and per level of ``within``); the design columns must be constant there."""
    within = [c for c in within if c != sample_key]
    design = list(sample_level) if sample_level is not None else list(columns)
    design = [c for c in dict.fromkeys(design) if c != sample_key and c not in within]
    keys = meta[sample_key].astype(str)
    if within:
        parts = [keys, *(meta[c].astype(str).where(meta[c].notna()) for c in within)]
        keys = pd.Series(
            ["|".join(map(str, t)) if all(isinstance(x, str) for x in t) else np.nan for t in zip(*parts)],
            index=meta.index,
        )
        ok = keys.notna()
        df, meta, keys = df[ok], meta[ok], keys[ok]
    for col in design:
        n_levels = meta[col].groupby(keys, observed=True).nunique(dropna=True)
        bad = n_levels[n_levels > 1]
        if len(bad):
            raise StatisticsError(
                f"column {col!r} varies within samples of {sample_key!r} (e.g. {bad.index[:3].tolist()}), so it "
                f"cannot be tested at the sample level: {hints}."
            )
    agg = df.groupby(keys, observed=True, sort=True).mean()
    keep = list(dict.fromkeys([*design, *within]))
    first = meta.groupby(keys, observed=True, sort=True)[[sample_key, *keep]].first()
    first = first.copy()
    first["n_cells"] = keys.value_counts().reindex(agg.index).to_numpy()
    info["unit"] = "sample x " + " x ".join(within) if within else "sample"
    info["n_cells"] = int(len(keys))
    info["n_observations"] = len(agg)
    agg.index.name = None
    first.index.name = None
    return agg, first, info
