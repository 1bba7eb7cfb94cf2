"""Group x signature matrix of mean scores (as ``scanpy.pl.matrixplot``), with the group test's FDR."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from resistscore._errors import ResistScoreError
from resistscore._validate import check_choice
from resistscore.get import DEFAULT_KEY
from resistscore.pl._theme import DIVERGING_CMAP, SEQUENTIAL_CMAP, categorical_colors, theme
from resistscore.pl._utils import (
    finish,
    metadata_frame,
    new_axes,
    obs_source,
    scores_frame,
    select_signatures,
    significance_column,
    stats_table,
    unit_means,
    unit_of_test,
    uns_palette,
)

__all__ = ["matrixplot"]

_SCALES = (None, "zscore", "var", "group")
_SCALE_LABEL = {
    None: "mean score",
    "zscore": "mean z-score",
    "var": "mean score (scaled 0-1 per signature)",
    "group": "mean score (scaled 0-1 per group)",
}


def matrixplot(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    groupby: str,
    signatures: Sequence[str] | str | None = None,
    standard_scale: str | None = "zscore",
    stats: Any = None,
    significance: str | None = None,
    sample_key: str | None = None,
    order: Sequence[Any] | None = None,
    palette: Mapping[Any, Any] | Sequence[Any] | str | None = None,
    swap_axes: bool = False,
    cmap: str | None = None,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Matrix of the mean score of every group (rows) and signature (columns), like ``sc.pl.matrixplot``.

    The mean is taken over the unit that was tested: the samples, or - with ``sample_key`` (or a
    ``stats`` result computed per replicate) - the replicate means, so that every patient weighs the
    same whatever its number of cells. With ``stats`` (``rs.tl.compare_groups``) a signature whose
    smallest FDR is below 0.05, 0.01 or 0.001 gets ``*``, ``**`` or ``***`` beside its name.

    Parameters
    ----------
    scores
        Samples x signatures DataFrame, ``ScoreResult`` or scored AnnData.
    metadata
        Sample annotations indexed by sample (default: ``adata.obs`` for an AnnData).
    groupby
        Metadata column of the groups (samples with a missing group are left out).
    signatures
        Signatures to show (default: every signature with a reported score).
    standard_scale
        ``"zscore"`` (default: each signature standardised over the units before averaging, so that
        signatures on different scales share one colour scale centred at 0), ``"var"`` (each signature's
        group means scaled to 0-1, as scanpy), ``"group"`` (each group's means scaled to 0-1) or ``None``
        (raw means).
    stats
        A group comparison (``rs.tl.compare_groups`` result or its ``.table``) to mark significant signatures.
    significance
        ``"fdr"`` (default when the table has it) or ``"pvalue"``.
    sample_key
        Metadata column of the biological replicate (single-cell data): average the replicate means.
        Default: the replicate the ``stats`` result was computed on, if any.
    order
        Order of the groups (default: categorical order, else sorted).
    palette
        Colours of the groups, drawn as a strip beside the matrix (default: scanpy's
        ``adata.uns["<groupby>_colors"]`` when available, else Okabe-Ito).
    swap_axes
        Signatures as rows and groups as columns.
    cmap
        Colormap (default: ``"RdBu_r"`` centred at 0 for z-scores, ``"viridis"`` otherwise).
    key
        The run to plot from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``.
    ax
        Axes to draw into (default: a new figure).
    save
        Optional output path (format from the suffix).

    Returns
    -------
    matplotlib.axes.Axes
        The matrix; ``ax.images[0].get_array()`` holds the values drawn (groups x signatures, transposed
        with ``swap_axes``).

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> scores = pd.DataFrame({"efflux_abc": [1.0, 2.0, 5.0, 6.0]}, index=list("abcd"))
    >>> meta = pd.DataFrame({"arm": ["x", "x", "y", "y"]}, index=scores.index)
    >>> ax = rs.pl.matrixplot(scores, meta, groupby="arm", standard_scale=None)
    >>> ax.images[0].get_array().tolist()
    [[1.5], [5.5]]
    >>> plt.close(ax.figure)
    """
    check_choice("standard_scale", standard_scale, _SCALES)
    means, counts, unit_key = group_means(
        scores, metadata, groupby, signatures, standard_scale, stats, sample_key, key=key
    )
    if order is not None:
        unknown = [str(o) for o in order if str(o) not in means.index]
        if unknown:
            raise ResistScoreError(f"`order` has levels {unknown} absent from the group column; remove them.")
        means, counts = means.loc[[str(o) for o in order]], counts.loc[[str(o) for o in order]]
    if palette is None:
        palette = uns_palette(obs_source(scores, metadata), groupby)
    colours = categorical_colors(list(means.index), palette)
    marks = _significance_marks(stats, list(means.columns), significance) if stats is not None else {}
    unit = f"{unit_key}s" if unit_key else "n"
    row_labels = [f"{g} ({unit}={counts[g]})" if unit_key else f"{g} (n={counts[g]})" for g in means.index]
    col_labels = [f"{s} {marks[s]}".rstrip() if s in marks else s for s in means.columns]
    with theme():
        n_rows, n_cols = (means.shape[1], means.shape[0]) if swap_axes else means.shape
        ax = new_axes(ax, (2.2 + 0.32 * n_cols, 1.6 + 0.32 * n_rows))
        _draw_matrix(ax, means, standard_scale, cmap, swap_axes, row_labels, col_labels)
        _group_strip(ax, [colours[g] for g in means.index], swap_axes)
        ax.set_xlabel(groupby if swap_axes else "")
        ax.set_ylabel("" if swap_axes else groupby)
    return finish(ax, save)


def group_means(
    scores: Any,
    metadata: Any,
    groupby: str,
    signatures: Any = None,
    standard_scale: str | None = "zscore",
    stats: Any = None,
    sample_key: str | None = None,
    *,
    key: str = DEFAULT_KEY,
) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """Return the groups x signatures means over the tested unit, the number of units per group and the unit's column.

    The scores of an AnnData are those of its run ``key``.
    """
    df = scores_frame(scores, key=key)
    meta = metadata_frame(scores, metadata, required=[groupby], key=key)
    sigs = select_signatures(df, signatures)
    if signatures is None:
        sigs = [s for s in sigs if df[s].notna().any()] or sigs
    keep = meta[groupby].notna()
    if not keep.any():
        raise ResistScoreError(f"the `groupby` column {groupby!r} has no non-missing value.")
    df, meta = df.loc[keep, sigs], meta[keep]
    unit = sample_key if sample_key is not None else unit_of_test(stats)
    if unit is not None:
        df, meta = unit_means(df, meta, [unit, groupby])
    if standard_scale == "zscore":
        sd = df.std(ddof=1)
        df = (df - df.mean()) / sd.where(sd > 0)
    labels = meta[groupby]
    levels = (
        [str(c) for c in labels.cat.categories if c in set(labels)]
        if isinstance(labels.dtype, pd.CategoricalDtype)
        else sorted(labels.astype(str).unique())
    )
    groups = labels.astype(str)
    means = df.groupby(groups, sort=False).mean().reindex(levels)
    counts = groups.value_counts().reindex(levels)
    if standard_scale in ("var", "group"):
        axis = 0 if standard_scale == "var" else 1
        lo, hi = means.min(axis=axis), means.max(axis=axis)
        span = (hi - lo).where(hi > lo)
        means = means.sub(lo, axis=1 - axis).div(span, axis=1 - axis)
    return means, counts, unit


def _significance_marks(stats: Any, sigs: list[str], significance: str | None) -> dict[str, str]:
    """``*`` / ``**`` / ``***`` for the smallest FDR (or p) of each signature below 0.05 / 0.01 / 0.001."""
    table = stats_table(stats, required=["signature"])
    col = significance_column(table, significance)
    best = pd.to_numeric(table[col], errors="coerce").groupby(table["signature"].astype(str)).min()
    marks = {}
    for sig in sigs:
        p = best.get(sig, np.nan)
        n = int((p < 0.05) + (p < 0.01) + (p < 0.001)) if np.isfinite(p) else 0
        if n:
            marks[sig] = "*" * n
    return marks


def _draw_matrix(
    ax: Axes, means: pd.DataFrame, scale, cmap, swap: bool, rows: list[str], cols: list[str]
) -> None:
    values = means.to_numpy(float)
    centred = scale == "zscore"
    if cmap is None:
        cmap = DIVERGING_CMAP if centred else SEQUENTIAL_CMAP
    limits = {}
    finite = values[np.isfinite(values)]
    if centred and finite.size:
        lim = float(np.abs(finite).max()) or 1.0
        limits = {"vmin": -lim, "vmax": lim}
    shown = values.T if swap else values
    image = ax.imshow(
        np.ma.masked_invalid(shown), cmap=cmap, aspect="auto", interpolation="nearest", **limits
    )
    ylabels, xlabels = (cols, rows) if swap else (rows, cols)
    ax.set_yticks(np.arange(len(ylabels)), ylabels)
    ax.set_xticks(np.arange(len(xlabels)), xlabels, rotation=90)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.figure.colorbar(image, ax=ax, shrink=0.6, pad=0.02, label=_SCALE_LABEL[scale])


def _group_strip(ax: Axes, colours: list[str], swap: bool) -> None:
    """Return a strip of the group colours beside (or above) the matrix, as in scanpy's plots."""
    for i, colour in enumerate(colours):
        xy = (i - 0.5, -1.0) if swap else (-1.0, i - 0.5)
        ax.add_patch(Rectangle(xy, 1.0 if swap else 0.4, 0.4 if swap else 1.0, color=colour, clip_on=False))
    if swap:
        ax.set_ylim(ax.get_ylim()[0], -1.1)
    else:
        ax.set_xlim(-1.1, ax.get_xlim()[1])
