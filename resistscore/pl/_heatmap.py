"""Samples x mechanisms heatmap (clustermap with annotation bars) and per-gene contribution heatmap."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from scipy.cluster import hierarchy

from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore.get import DEFAULT_KEY
from resistscore.pl._theme import DIVERGING_CMAP, OKABE_ITO, SEQUENTIAL_CMAP, categorical_colors, theme
from resistscore.pl._utils import (
    finish,
    metadata_frame,
    new_axes,
    score_cmap,
    scores_frame,
    select_signatures,
    uns_palette,
)

__all__ = ["annotation_colors", "contributions", "heatmap"]

_NA_COLOUR = "#FFFFFF"
#: above this many samples the columns are not clustered (the distance matrix grows with n^2)
MAX_CLUSTER_SAMPLES = 5000


def _is_continuous(s: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
        and not isinstance(s.dtype, pd.CategoricalDtype)
        and s.nunique(dropna=True) > 8
    )


def _levels(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories if c in set(s.dropna())]
    return sorted(s.dropna().unique().tolist(), key=str)


def annotation_colors(
    annotation: pd.DataFrame, palettes: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list[tuple[str, list[tuple[str, str]]]]]:
    """Colour every annotation column: categorical levels with Okabe-Ito, numbers with viridis.

    Successive categorical columns continue along the Okabe-Ito palette (the first column's levels
    take its first colours, the next column the following ones), so that one colour does not stand
    for two categories of the same figure while there are at most 8 levels in total.

    Parameters
    ----------
    annotation
        Samples x annotation columns.
    palettes
        Optional per-column palette (any value accepted by :func:`categorical_colors`, or a
        colormap name for a numeric column).

    Returns
    -------
    colours : DataFrame
        Same shape as ``annotation``, hex colours (white for missing values).
    legend : list
        ``(column, [(label, colour), ...])`` for each column, in order.

    Examples
    --------
    >>> import pandas as pd
    >>> colours, legend = annotation_colors(pd.DataFrame({"group": ["a", "b", "a"]}))
    >>> colours["group"].tolist()
    ['#e69f00', '#56b4e9', '#e69f00']
    """
    palettes = dict(palettes or {})
    colours = pd.DataFrame(index=annotation.index)
    legend: list[tuple[str, list[tuple[str, str]]]] = []
    used = 0
    for col in annotation.columns:
        s = annotation[col]
        if _is_continuous(s):
            cmap = mpl.colormaps[palettes.get(col, SEQUENTIAL_CMAP)]
            lo, hi = float(s.min()), float(s.max())
            norm = mcolors.Normalize(lo, hi if hi > lo else lo + 1)
            colours[col] = [mcolors.to_hex(cmap(norm(v))) if pd.notna(v) else _NA_COLOUR for v in s]
            ticks = np.linspace(lo, hi, 3)
            legend.append((str(col), [(f"{t:.3g}", mcolors.to_hex(cmap(norm(t)))) for t in ticks]))
        else:
            levels = _levels(s)
            if col in palettes or len(levels) > len(OKABE_ITO):
                mapping = categorical_colors(levels, palettes.get(col))
            else:
                # successive columns take successive Okabe-Ito colours, so that no colour means two things
                cycle = [OKABE_ITO[(used + i) % len(OKABE_ITO)] for i in range(len(levels))]
                mapping = categorical_colors(levels, cycle)
                used += len(levels)
            colours[col] = [mapping.get(v, _NA_COLOUR) if pd.notna(v) else _NA_COLOUR for v in s]
            legend.append((str(col), [(str(lv), mapping[lv]) for lv in levels]))
    return colours, legend


def _zscore_rows(values: pd.DataFrame) -> pd.DataFrame:
    mean = values.mean(axis=1)
    sd = values.std(axis=1, ddof=1)
    z = values.sub(mean, axis=0).div(sd.where(sd > 0), axis=0)
    # a constant signature has no spread: show it as 0 rather than hide it
    constant = np.broadcast_to((sd.to_numpy() == 0)[:, None], z.shape)
    return z.mask(constant, 0.0).where(values.notna())


def _linkage(values: np.ndarray) -> np.ndarray | None:
    if values.shape[0] < 2:
        return None
    filled = np.where(np.isfinite(values), values, np.nanmean(np.where(np.isfinite(values), values, np.nan)))
    filled = np.nan_to_num(filled)
    # optimal leaf ordering costs O(n^3) in the worst case: only for moderate sizes
    return hierarchy.linkage(
        filled, method="average", metric="euclidean", optimal_ordering=len(filled) <= 1000
    )


def heatmap(
    scores: Any,
    annotation: pd.DataFrame | pd.Series | None = None,
    *,
    signatures: Sequence[str] | None = None,
    cluster: bool | str = True,
    z_score: bool = True,
    cmap: str | None = None,
    center: float | None | str = "auto",
    palettes: Mapping[str, Any] | None = None,
    sample_labels: bool | None = None,
    figsize: tuple[float, float] | None = None,
    key: str = DEFAULT_KEY,
    save: str | os.PathLike[str] | None = None,
) -> sns.matrix.ClusterGrid:
    """Heatmap of signatures (rows) x samples (columns), clustered, with sample annotation bars.

    Parameters
    ----------
    scores
        Samples x signatures DataFrame, a ``ScoreResult`` or a scored AnnData.
    annotation
        Sample annotations to draw as colour bars above the heatmap (a DataFrame or Series indexed
        by sample, e.g. ``metadata[["group", "tissue"]]``). Categorical columns use the Okabe-Ito
        palette, numeric columns with more than 8 values viridis.
    signatures
        Signatures to show (default: all). Signatures without any reported score (all NaN, e.g.
        below minimal coverage) are left out.
    cluster
        ``True`` clusters rows and columns (average linkage, Euclidean distance, optimal leaf order),
        ``"rows"``/``"columns"`` one of them, ``False`` keeps the input order. Leaf order is
        optimised up to 1,000 items; more than 5,000 samples are shown in input order (subsample them,
        or average per group, for a clustered view).
    z_score
        Standardise each signature across samples (mean 0, SD 1) so that signatures on different
        scales are comparable; the colour scale is then centred at 0.
    cmap, center
        Colormap and centre. By default a diverging map (``"RdBu_r"``) centred at 0 when the values
        take both signs, otherwise ``"viridis"``.
    palettes
        Per-annotation-column palettes (see :func:`annotation_colors`).
    sample_labels
        Show sample names (default: only with at most 60 samples).
    figsize
        Figure size in inches (default: grows with the numbers of samples and signatures).
    key
        The run to plot from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``.
    save
        Optional path; the figure is written atomically in the format of the suffix (``.pdf``,
        ``.svg``, ``.png``, ...).

    Returns
    -------
    seaborn.matrix.ClusterGrid
        The grid (``.figure``, ``.ax_heatmap``, ``.ax_col_colors``, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame(
    ...     rng.normal(size=(6, 3)),
    ...     index=[f"s{i}" for i in range(6)],
    ...     columns=["efflux_abc", "dna_repair", "apoptosis"],
    ... )
    >>> meta = pd.DataFrame({"group": list("aaabbb")}, index=scores.index)
    >>> grid = rs.pl.heatmap(scores, annotation=meta)
    >>> grid.data2d.shape
    (3, 6)
    >>> plt.close(grid.figure)
    """
    df = scores_frame(scores, key=key)
    values = _heatmap_values(df, signatures, z_score)
    if cluster not in (True, False, "rows", "columns"):
        raise ResistScoreError(f"`cluster` must be True, False, 'rows' or 'columns'; got {cluster!r}.")
    row_link = _linkage(values.to_numpy()) if cluster in (True, "rows") else None
    too_many = values.shape[1] > MAX_CLUSTER_SAMPLES
    col_link = _linkage(values.T.to_numpy()) if cluster in (True, "columns") and not too_many else None
    col_colors, legend = None, []
    if annotation is not None:
        ann = metadata_frame(df, annotation, name="annotation")
        if palettes is None and is_anndata(scores):
            found = {c: uns_palette(scores, c) for c in ann.columns if not _is_continuous(ann[c])}
            palettes = {c: p for c, p in found.items() if p is not None}
        col_colors, legend = annotation_colors(ann, palettes)
    cmap, center = score_cmap(values.to_numpy(), cmap, 0.0 if z_score else center)
    n_sig, n_smp = values.shape
    if sample_labels is None:
        sample_labels = n_smp <= 60
    if figsize is None:
        figsize = (min(3.5 + 0.16 * n_smp, 16.0), min(2.2 + 0.28 * n_sig + 0.2 * len(legend), 14.0))
    with theme():
        grid = sns.clustermap(
            values,
            row_cluster=row_link is not None,
            col_cluster=col_link is not None,
            row_linkage=row_link,
            col_linkage=col_link,
            col_colors=col_colors,
            mask=values.isna(),
            cmap=cmap,
            **_colour_limits(values, center),
            xticklabels=bool(sample_labels),
            yticklabels=True,
            figsize=figsize,
            dendrogram_ratio=(0.08, 0.08),
            colors_ratio=min(0.04, 0.16 / figsize[1]),  # about 0.16 inch per annotation bar
            cbar_pos=(0.01, 0.86, 0.02, 0.12),
            linewidths=0,
            rasterized=n_sig * n_smp > 20000,
        )
        xlabel = "sample" if sample_labels else f"{n_smp} samples"
        if too_many and cluster in (True, "columns"):
            xlabel += f" (input order: more than {MAX_CLUSTER_SAMPLES} are not clustered)"
        _style_grid(grid, xlabel, "z-score" if z_score else "score")
        if legend:
            _annotation_legend(grid, legend)
    return finish(grid, save)


def _heatmap_values(df: pd.DataFrame, signatures: Any, z_score: bool) -> pd.DataFrame:
    """Signatures x samples, without unreported signatures, z-scored per signature if asked."""
    sigs = select_signatures(df, signatures)
    values = df[sigs].T.dropna(how="all")
    if values.empty:
        raise ResistScoreError(
            "no signature has a reported score (all NaN): check the coverage table (rs.pl.coverage) "
            "and lower `min_coverage` or map more genes."
        )
    return _zscore_rows(values) if z_score else values


def _colour_limits(values: pd.DataFrame, center: float | None) -> dict[str, Any]:
    """``center``, ``vmin``, ``vmax``: symmetric around the centre at the 99th percentile of |value - centre|."""
    finite = values.to_numpy()[np.isfinite(values.to_numpy())]
    if center is None or not finite.size:
        return {"center": center, "vmin": None, "vmax": None}
    vmax = float(np.nanpercentile(np.abs(finite - center), 99)) or 1.0
    return {"center": center, "vmin": center - vmax, "vmax": center + vmax}


def _style_grid(grid: Any, xlabel: str, cbar_title: str) -> None:
    grid.ax_heatmap.set_xlabel(xlabel)
    grid.ax_heatmap.set_ylabel("")
    grid.ax_heatmap.tick_params(axis="y", labelrotation=0)
    grid.ax_heatmap.tick_params(axis="x", labelrotation=90)
    grid.ax_cbar.set_title(cbar_title, fontsize=mpl.rcParams["legend.fontsize"])


def _annotation_legend(grid: Any, legend: list[tuple[str, list[tuple[str, str]]]]) -> None:
    """One legend of every annotation bar, placed just right of the signature names (measured)."""
    handles, labels = [], []
    for col, entries in legend:
        handles.append(Patch(visible=False))
        labels.append(col)
        for label, colour in entries:
            handles.append(Patch(facecolor=colour, edgecolor="#444444", linewidth=0.4))
            labels.append(label)
    hm = grid.ax_heatmap
    renderer = grid.figure.canvas.get_renderer()
    right = max((t.get_window_extent(renderer).x1 for t in hm.get_yticklabels()), default=hm.bbox.x1)
    x_anchor = hm.transAxes.inverted().transform((right + 10.0, 0.0))[0]
    leg = hm.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(x_anchor, 1.0),
        borderaxespad=0.0,
        handlelength=1.0,
        frameon=False,
    )
    for text, handle in zip(leg.get_texts(), handles):
        if not handle.get_visible():
            text.set_fontweight("bold")


def _contribution_table(result: Any, samples: Sequence[str] | None, signature: str | None) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    if not callable(getattr(result, "contributions", None)):
        raise ResistScoreError(
            "`result` must be a ScoreResult (with .contributions(sample, signature)) or a genes x samples "
            f"DataFrame of contributions; got {type(result).__name__}."
        )
    if signature is None:
        raise ResistScoreError("`signature` is required with a ScoreResult: name the signature to explain.")
    all_samples = list(scores_frame(result).index)
    if samples is None:
        samples = all_samples[:20]
    elif isinstance(samples, str):
        samples = [samples]
    columns = {}
    for s in samples:
        per_gene = result.contributions(s, signature)
        if isinstance(per_gene, pd.Series):
            columns[s] = per_gene
            continue
        if "contribution" not in per_gene.columns:
            raise ResistScoreError(
                f"contributions({s!r}, {signature!r}) has no 'contribution' column (columns: {list(per_gene.columns)})."
            )
        col = (
            per_gene.set_index("gene")["contribution"]
            if "gene" in per_gene.columns
            else per_gene["contribution"]
        )
        columns[s] = col
    return pd.DataFrame(columns)


def contributions(
    result: Any,
    samples: Sequence[str] | str | None = None,
    signature: str | None = None,
    *,
    n_genes: int = 30,
    cmap: str = DIVERGING_CMAP,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Heatmap of per-gene contributions (genes x samples) to one signature's score.

    Parameters
    ----------
    result
        A ``ScoreResult`` (its ``contributions(sample, signature)`` is called for each sample) or a
        genes x samples DataFrame of contributions.
    samples
        Samples to show (default: the first 20 of the result).
    signature
        The signature to explain (required with a ``ScoreResult``).
    n_genes
        Show the genes with the largest mean absolute contribution, at most this many.
    cmap
        Diverging colormap, centred at 0 (positive = pushes the score up).
    ax
        Axes to draw into (default: a new figure).
    save
        Optional output path (format from the suffix).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> contrib = pd.DataFrame(
    ...     {"s1": [0.4, -0.1, 0.05], "s2": [0.2, -0.3, 0.0]}, index=["ABCB1", "BAX", "GSTP1"]
    ... )
    >>> ax = rs.pl.contributions(contrib, signature="efflux_abc")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['ABCB1', 'BAX', 'GSTP1']
    >>> plt.close(ax.figure)
    """
    from resistscore._validate import check_int

    n_genes = check_int("n_genes", n_genes, minimum=1)
    table = _contribution_table(result, samples, signature).astype(float)
    if table.empty:
        raise ResistScoreError("no contributions to plot: the table is empty.")
    order = table.abs().mean(axis=1).sort_values(ascending=False, kind="mergesort").index[:n_genes]
    table = table.loc[order]
    lim = float(np.nanmax(np.abs(table.to_numpy()))) or 1.0
    with theme():
        ax = new_axes(ax, (1.8 + 0.3 * table.shape[1], 1.2 + 0.2 * table.shape[0]))
        sns.heatmap(
            table,
            ax=ax,
            cmap=cmap,
            center=0.0,
            vmin=-lim,
            vmax=lim,
            xticklabels=True,
            yticklabels=True,
            cbar_kws={"label": "contribution", "shrink": 0.6},
        )
        ax.set_xlabel("sample")
        ax.set_ylabel("gene")
        ax.tick_params(axis="y", labelrotation=0)
        ax.tick_params(axis="x", labelrotation=90)
        if signature:
            ax.set_title(f"{signature}: per-gene contributions")
    return finish(ax, save)
