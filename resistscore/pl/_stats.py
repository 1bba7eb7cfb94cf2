"""Plots of statistics results: forest plot of effects and volcano plot of mechanisms."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import matplotlib.ticker as mticker
import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from resistscore._validate import check_int, check_probability
from resistscore.pl._theme import GREY, OKABE_ITO, theme
from resistscore.pl._utils import (
    finish,
    format_p,
    is_ratio_effect,
    new_axes,
    significance_column,
    stats_table,
)

__all__ = ["forest", "roc", "volcano"]

_UP = OKABE_ITO[4]  # vermillion
_DOWN = OKABE_ITO[3]  # blue


def _row_labels(table: pd.DataFrame) -> list[str]:
    """Label rows by signature, plus whatever distinguishes rows of the same signature."""
    labels = table["signature"].astype(str)
    if not labels.duplicated().any():
        return labels.tolist()
    extra = pd.Series("", index=table.index)
    if {"group1", "group2"} <= set(table.columns):
        pair = table["group1"].astype(str) + " vs " + table["group2"].astype(str)
        pair = pair.where(
            table["group1"].notna() & table["group2"].notna(), table.get("test", "").astype(str)
        )
        extra = pair
    for col in ("response", "term", "test", "model"):
        if col in table.columns and (labels + extra).duplicated().any():
            extra = extra + " " + table[col].astype(str)
    return (labels + ": " + extra.str.strip()).tolist()


def _effect_label(table: pd.DataFrame, ratio: bool) -> str:
    kinds = (
        table["effect_type"].dropna().astype(str).unique().tolist() if "effect_type" in table.columns else []
    )
    kind = kinds[0].replace("_", " ") if len(kinds) == 1 else "effect"
    return f"{kind} (log scale)" if ratio else kind


def _is_auc(table: pd.DataFrame) -> bool:
    if "effect_type" not in table.columns:
        return False
    kinds = {str(k).lower() for k in table["effect_type"].dropna().unique()}
    return bool(kinds) and all("auc" in k for k in kinds)


def _null_value(table: pd.DataFrame, ratio: bool) -> float:
    """Effect of "no difference": 1 for ratios, 0.5 for an AUC, else 0."""
    return 1.0 if ratio else (0.5 if _is_auc(table) else 0.0)


_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 5, 10, 20, 50, 100)


def _log_ratio_axis(ax: Axes, values: np.ndarray) -> None:
    """Log x axis with plain-number ticks (0.5, 1, 2) instead of powers of ten."""
    v = values[np.isfinite(values) & (values > 0)]
    ax.set_xscale("log")
    if v.size:
        lo, hi = min(v.min(), 1.0), max(v.max(), 1.0)
        ticks = [t for t in _RATIO_TICKS if lo / 1.05 <= t <= hi * 1.05]
        if len(ticks) > 7:
            ticks = [t for t in ticks if t in (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 100)]
        ax.xaxis.set_major_locator(mticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_locator(mticker.NullLocator())


def forest(
    stats: Any,
    *,
    signatures: Sequence[str] | str | None = None,
    significance: str | None = None,
    alpha: float = 0.05,
    sort: bool = False,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Forest plot: one row per signature (and comparison), effect with its confidence interval.

    Parameters
    ----------
    stats
        A statistics result (``rs.tl.compare_groups``, ``fit_model``, ``associate``, ``survival``) or
        its tidy ``.table``: columns ``signature``, ``effect``, optional ``ci_low``/``ci_high``,
        ``effect_type``, ``fdr``/``pvalue``, ``group1``/``group2``/``term``.
    signatures
        Only these signatures (default: all rows).
    significance
        Column shown at the right and used for the filled/open markers: ``"fdr"`` (default when
        present) or ``"pvalue"``.
    alpha
        Threshold below which a row is drawn filled (significant).
    sort
        Sort rows by effect (default: table order, top to bottom).
    ax
        Axes to draw into (default: a new figure).
    save
        Optional output path (format from the suffix).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Ratio effects (``effect_type`` hazard/odds ratio) are drawn on a log axis with the null line at 1,
    AUCs with the null line at 0.5, other effects on a linear axis with the null line at 0.

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> table = pd.DataFrame(
    ...     {
    ...         "signature": ["efflux_abc", "apoptosis"],
    ...         "effect": [0.8, -0.1],
    ...         "ci_low": [0.3, -0.6],
    ...         "ci_high": [1.3, 0.4],
    ...         "fdr": [0.01, 0.7],
    ...     }
    ... )
    >>> ax = rs.pl.forest(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['efflux_abc', 'apoptosis']
    >>> plt.close(ax.figure)
    """
    alpha = check_probability("alpha", alpha)
    table = _forest_table(stats, signatures, sort)
    sigcol = significance_column(table, significance)
    label = "FDR" if sigcol == "fdr" else "p"
    ratio = is_ratio_effect(table)
    y = np.arange(len(table))[::-1]
    eff = table["effect"].to_numpy(float)
    lo = table["ci_low"].to_numpy(float) if "ci_low" in table.columns else np.full_like(eff, np.nan)
    hi = table["ci_high"].to_numpy(float) if "ci_high" in table.columns else np.full_like(eff, np.nan)
    sig = table[sigcol].to_numpy(float) <= alpha
    with theme():
        ax = new_axes(ax, (4.2, 0.9 + 0.28 * len(table)))
        for yi, e, a, b, s in zip(y, eff, lo, hi, sig):
            _effect_row(ax, yi, e, a, b, _DOWN if s else GREY, filled=s)
        ax.axvline(_null_value(table, ratio), color="#555555", linewidth=0.8, linestyle="--", zorder=0)
        if ratio:
            _log_ratio_axis(ax, np.concatenate([eff, lo, hi]))
        ax.set_yticks(y, _row_labels(table))
        ax.set_ylim(-0.7, len(table) - 0.3)
        ax.set_xlabel(_effect_label(table, ratio))
        trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        for yi, p in zip(y, table[sigcol].to_numpy(float)):
            ax.text(1.02, yi, format_p(p, label), transform=trans, va="center", ha="left")
        handles = [
            Line2D([], [], marker="s", color=_DOWN, linestyle="-", label=f"{label} ≤ {alpha:g}"),
            Line2D(
                [],
                [],
                marker="s",
                color=GREY,
                markerfacecolor="white",
                linestyle="-",
                label=f"{label} > {alpha:g}",
            ),
        ]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False)
    return finish(ax, save)


def _forest_table(stats: Any, signatures: Any, sort: bool) -> pd.DataFrame:
    """Return the rows to draw: the given signatures, with an effect, sorted by effect if asked."""
    table = stats_table(stats, required=["signature", "effect"])
    if signatures is not None:
        signatures = [signatures] if isinstance(signatures, str) else list(signatures)
        table = table[table["signature"].isin(signatures)]
        if table.empty:
            from resistscore._errors import ResistScoreError

            raise ResistScoreError(f"`signatures` {signatures[:5]} match no row of the statistics table.")
    table = table.dropna(subset=["effect"])
    return table.sort_values("effect", kind="mergesort") if sort else table


def _effect_row(ax: Axes, y: float, effect: float, lo: float, hi: float, colour: str, filled: bool) -> None:
    """One row of a forest plot: the interval and the estimate (filled when significant)."""
    if np.isfinite(lo) and np.isfinite(hi):
        ax.plot([lo, hi], [y, y], color=colour, linewidth=1.2, solid_capstyle="butt")
    face = colour if filled else "white"
    ax.plot([effect], [y], marker="s", markersize=5, color=colour, markerfacecolor=face, zorder=3)


def volcano(
    stats: Any,
    *,
    y: str = "pvalue",
    significance: str | None = None,
    alpha: float = 0.05,
    n_labels: int = 10,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Volcano plot of mechanisms: effect against -log10 p-value, significant rows coloured and labelled.

    Parameters
    ----------
    stats
        A statistics result or its tidy ``.table`` (``signature``, ``effect``, ``pvalue``, ``fdr``).
    y
        Column on the vertical axis as -log10: ``"pvalue"`` (default) or ``"fdr"``.
    significance
        Column deciding significance (colour): ``"fdr"`` (default when present) or ``"pvalue"``.
    alpha
        Significance threshold. When ``y`` is the significance column a dashed line marks it.
    n_labels
        Label the ``n_labels`` most significant rows that pass ``alpha``.
    ax
        Axes to draw into (default: a new figure).
    save
        Optional output path (format from the suffix).

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Ratio effects are shown as log2 ratios, AUCs as AUC - 0.5. Significant rows with a positive effect are vermillion,
    with a negative effect blue, the others grey. p-values of exactly 0 are drawn at the smallest
    positive p-value / 10.

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> table = pd.DataFrame(
    ...     {
    ...         "signature": ["a", "b", "c"],
    ...         "effect": [1.0, -0.8, 0.1],
    ...         "pvalue": [1e-4, 1e-3, 0.6],
    ...         "fdr": [3e-4, 1.5e-3, 0.6],
    ...     }
    ... )
    >>> ax = rs.pl.volcano(table)
    >>> sorted(t.get_text() for t in ax.texts)
    ['a', 'b']
    >>> plt.close(ax.figure)
    """
    alpha = check_probability("alpha", alpha)
    n_labels = check_int("n_labels", n_labels, minimum=0)
    table = stats_table(stats, required=["signature", "effect"]).dropna(subset=["effect"])
    ycol = significance_column(table, y)
    sigcol = significance_column(table, significance)
    ratio = is_ratio_effect(table)
    x = table["effect"].to_numpy(float)
    auc = _is_auc(table)
    if ratio:
        x = np.log2(x)
    elif auc:
        x = x - 0.5
    p = table[ycol].to_numpy(float)
    positive = p[np.isfinite(p) & (p > 0)]
    floor = positive.min() / 10 if positive.size else 1e-300
    yv = -np.log10(np.clip(p, floor, 1.0))
    sig = table[sigcol].to_numpy(float) <= alpha
    colours = np.where(sig & (x > 0), _UP, np.where(sig & (x < 0), _DOWN, GREY))
    with theme():
        ax = new_axes(ax, (3.6, 3.2))
        ax.scatter(x, yv, c=list(colours), s=18, edgecolor="none", zorder=3)
        ax.axvline(0.0, color="#777777", linewidth=0.6, zorder=0)
        if ycol == sigcol:
            ax.axhline(-np.log10(alpha), color="#777777", linewidth=0.6, linestyle="--", zorder=0)
        labels = _row_labels(table)
        order = np.argsort(table[sigcol].to_numpy(float), kind="mergesort")
        for i in [i for i in order if sig[i]][:n_labels]:
            ax.annotate(
                labels[i],
                (x[i], yv[i]),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize="small",
                zorder=4,
            )
        kind = _effect_label(table, False).replace(" (log scale)", "")
        ax.set_xlabel(f"log2 {kind}" if ratio else (f"{kind} - 0.5" if auc else kind))
        ax.set_ylabel(f"-log10 {'FDR' if ycol == 'fdr' else 'p-value'}")
        ax.set_ylim(bottom=0)
    return finish(ax, save)


def roc(
    result: Any,
    *,
    signatures: Sequence[str] | str | None = None,
    max_curves: int = 8,
    palette: Any = None,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """ROC curves of scores as classifiers (from ``rs.tl.roc``), with the AUC and its CI in the legend.

    Parameters
    ----------
    result
        The result of ``rs.tl.roc``: ``.curves`` (``signature``, ``fpr``, ``tpr``) and ``.table``
        (``signature``, the AUC as ``effect`` (or ``auc``), ``ci_low``, ``ci_high``).
    signatures
        Signatures to draw (default: the ``max_curves`` with the largest ``|AUC - 0.5|``).
    max_curves
        Maximum number of curves when ``signatures`` is not given.
    palette
        Curve colours (default: Okabe-Ito).
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
    >>> class Roc:
    ...     curves = pd.DataFrame({"signature": ["a"] * 3, "fpr": [0, 0.5, 1], "tpr": [0, 0.9, 1]})
    ...     table = pd.DataFrame({"signature": ["a"], "auc": [0.7], "ci_low": [0.55], "ci_high": [0.85]})
    >>> ax = rs.pl.roc(Roc())
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['a: AUC 0.70 (0.55-0.85)']
    >>> plt.close(ax.figure)
    """
    from resistscore._errors import ResistScoreError
    from resistscore.pl._theme import categorical_colors

    curves = getattr(result, "curves", None)
    if not isinstance(curves, pd.DataFrame) or not {"signature", "fpr", "tpr"} <= set(curves.columns):
        raise ResistScoreError(
            "`result` must be the result of rs.tl.roc (with `.curves`: signature, fpr, tpr); "
            f"got {type(result).__name__}."
        )
    max_curves = check_int("max_curves", max_curves, minimum=1)
    table = getattr(result, "table", None)
    auc = None
    if isinstance(table, pd.DataFrame) and "signature" in table.columns:
        if "auc" in table.columns:
            auc = table.set_index("signature")
        elif "effect" in table.columns:  # rs.tl.roc reports the AUC as its effect (effect_type "auc")
            auc = table.set_index("signature").rename(columns={"effect": "auc"})
        if auc is not None:
            auc = auc[~auc.index.duplicated()]
    available = list(pd.unique(curves["signature"].astype(str)))
    if signatures is None:
        if auc is not None:
            order = (auc["auc"].reindex(available) - 0.5).abs().sort_values(ascending=False, kind="mergesort")
            signatures = list(order.index[:max_curves])
        else:
            signatures = available[:max_curves]
    else:
        signatures = [signatures] if isinstance(signatures, str) else list(signatures)
        unknown = [s for s in signatures if s not in available]
        if unknown:
            raise ResistScoreError(
                f"`signatures` {unknown[:5]} have no ROC curve; choose from {available[:20]}."
            )
    colours = categorical_colors(signatures, palette)
    with theme():
        ax = new_axes(ax, (3.4, 3.2))
        ax.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=0.8)
        for sig in signatures:
            c = curves[curves["signature"].astype(str) == sig]
            label = sig
            if auc is not None and sig in auc.index:
                row = auc.loc[sig]
                label += f": AUC {row['auc']:.2f}"
                if {"ci_low", "ci_high"} <= set(auc.columns) and np.isfinite(
                    [row["ci_low"], row["ci_high"]]
                ).all():
                    label += f" ({row['ci_low']:.2f}-{row['ci_high']:.2f})"
            ax.plot(c["fpr"], c["tpr"], color=colours[sig], label=label, drawstyle="default")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(loc="lower right", frameon=False, fontsize="small")
    return finish(ax, save)
