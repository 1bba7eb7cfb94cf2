"""Scores by group (box / violin) with test annotations, and mechanism profiles."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from resistscore._errors import ResistScoreError
from resistscore._validate import check_choice
from resistscore.get import DEFAULT_KEY
from resistscore.pl._theme import categorical_colors, theme
from resistscore.pl._utils import (
    finish,
    format_p,
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

__all__ = ["groups", "profile"]


def _group_levels(values: pd.Series, order: Sequence[Any] | None) -> list[str]:
    present = values.dropna()
    if order is not None:
        order = [str(o) for o in order]
        unknown = sorted(set(order) - set(present.astype(str)))
        if unknown:
            raise ResistScoreError(f"`order` has levels {unknown} absent from the group column; remove them.")
        return order
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories if c in set(present)]
    return sorted(present.astype(str).unique().tolist())


def _long(df: pd.DataFrame, sigs: list[str], meta: pd.DataFrame, group: str) -> pd.DataFrame:
    g = meta[group]
    keep = g.notna()
    if keep.sum() == 0:
        raise ResistScoreError(f"the `group` column {group!r} has no non-missing value.")
    long = (
        df.loc[keep, sigs]
        .rename_axis("sample")
        .reset_index()
        .melt(id_vars="sample", var_name="signature", value_name="score")
    )
    long[group] = long["sample"].map(g[keep].astype(str))
    return long.dropna(subset=["score"])


def _dodge_positions(n_levels: int, width: float = 0.8) -> np.ndarray:
    return -width / 2 + width / n_levels * (np.arange(n_levels) + 0.5)


def _annotate(
    ax: Axes,
    table: pd.DataFrame,
    sigs: list[str],
    levels: list[str],
    long: pd.DataFrame,
    sigcol: str,
    max_brackets: int,
) -> int:
    label = "FDR" if sigcol == "fdr" else "p"
    lo, hi = float(long["score"].min()), float(long["score"].max())
    span = (hi - lo) or 1.0
    step = 0.12 * span
    offsets = _dodge_positions(len(levels))
    top = hi
    n_drawn = 0
    for x, sig in enumerate(sigs):
        rows = table[table["signature"].astype(str) == sig]
        if rows.empty:
            continue
        sig_max = float(long.loc[long["signature"] == sig, "score"].max())
        if not np.isfinite(sig_max):  # nothing drawn for this signature
            continue
        y = sig_max + 0.5 * step
        pairs = []
        omnibus = []
        for _, r in rows.iterrows():
            g1 = str(r["group1"]) if "group1" in r and pd.notna(r["group1"]) else None
            g2 = str(r["group2"]) if "group2" in r and pd.notna(r["group2"]) else None
            if g1 in levels and g2 in levels:
                pairs.append((r, levels.index(g1), levels.index(g2)))
            else:
                omnibus.append(r)
        pairs.sort(key=lambda t: (abs(t[2] - t[1]), min(t[1], t[2])))
        for r, i, j in pairs[:max_brackets]:
            x1, x2 = sorted((x + offsets[i], x + offsets[j]))
            ax.plot([x1, x1, x2, x2], [y, y + 0.3 * step, y + 0.3 * step, y], color="#222222", linewidth=0.8)
            ax.text(
                (x1 + x2) / 2,
                y + 0.3 * step,
                format_p(r[sigcol], label),
                ha="center",
                va="bottom",
                fontsize="small",
            )
            y += step
            n_drawn += 1
        for r in omnibus[:1]:
            test = f"{r['test']}: " if "test" in r and pd.notna(r["test"]) else ""
            ax.text(x, y + 0.35 * step, test + format_p(r[sigcol], label), ha="center", va="bottom")
            y += step
            n_drawn += 1
        top = max(top, y + 0.5 * step)
    ylo, _ = ax.get_ylim()
    ax.set_ylim(ylo, max(top + 0.4 * step, ax.get_ylim()[1]))
    return n_drawn


def groups(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    group: str,
    signatures: Sequence[str] | str | None = None,
    kind: str = "box",
    stats: Any = None,
    significance: str | None = None,
    order: Sequence[Any] | None = None,
    palette: Mapping[Any, Any] | Sequence[Any] | str | None = None,
    points: bool = True,
    max_brackets: int = 3,
    sample_key: str | None = None,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Box or violin plots of scores per group, annotated with test results.

    The plot draws the unit that was tested: with ``sample_key`` (or a ``stats`` result computed per
    replicate, e.g. ``rs.tl.compare_groups(..., sample_key="patient")``) each point is the mean score
    of one replicate in one group, not a cell.

    Parameters
    ----------
    scores
        Samples x signatures DataFrame, ``ScoreResult`` or scored AnnData.
    metadata
        Sample annotations indexed by sample (default: ``adata.obs`` for an AnnData).
    group
        Column of ``metadata`` defining the groups (samples with a missing group are left out).
    signatures
        Signatures to show side by side (default: all).
    kind
        ``"box"`` or ``"violin"``.
    stats
        Optional result of ``rs.tl.compare_groups`` (or its ``.table``), with columns ``signature``,
        ``group1``, ``group2`` and ``fdr`` / ``pvalue``. Pairwise rows are drawn as brackets
        (at most ``max_brackets`` per signature, nearest pairs first), rows without a pair
        (omnibus tests) as a line of text above the signature.
    significance
        ``"fdr"`` (default when the table has it) or ``"pvalue"``.
    order
        Order of the group levels (default: categorical order, else sorted).
    palette
        Group colours (default: scanpy's ``adata.uns["<group>_colors"]`` when the scores or metadata
        are an AnnData that has them, else Okabe-Ito).
    points
        Overlay the individual samples (replicate means with ``sample_key``).
    max_brackets
        Maximum number of pairwise brackets per signature.
    sample_key
        Metadata column of the biological replicate (e.g. patient): draw one mean score per replicate
        and group. Default: the replicate the ``stats`` result was computed on, if any.
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

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame({"efflux_abc": rng.normal(size=8)}, index=[f"s{i}" for i in range(8)])
    >>> meta = pd.DataFrame({"group": list("aaaabbbb")}, index=scores.index)
    >>> table = pd.DataFrame(
    ...     {"signature": ["efflux_abc"], "group1": ["a"], "group2": ["b"], "pvalue": [0.02], "fdr": [0.04]}
    ... )
    >>> ax = rs.pl.groups(scores, meta, group="group", stats=table)
    >>> [t.get_text() for t in ax.texts]
    ['FDR=0.040']
    >>> plt.close(ax.figure)
    """
    check_choice("kind", kind, ("box", "violin"))
    df, meta, unit = _unit_of_tests(scores, metadata, group, stats, sample_key, key)
    sigs = select_signatures(df, signatures)
    if signatures is None:  # leave out signatures without any reported score (below minimal coverage)
        sigs = [s for s in sigs if df[s].notna().any()] or sigs
    levels = _group_levels(meta[group], order)
    long = _long(df, sigs, meta, group)
    if long.empty:
        raise ResistScoreError("no finite score to plot for these signatures and groups.")
    if palette is None:
        palette = uns_palette(obs_source(scores, metadata), group)
    colours = categorical_colors(levels, palette)
    with theme():
        ax = new_axes(ax, (1.2 + len(sigs) * (0.5 + 0.3 * len(levels)), 3.0))
        _distributions(ax, long, sigs, group, levels, colours, kind, points)
        if points:
            _points(ax, long, sigs, group, levels)
        _label_axes(ax, sigs, f"score (mean per {unit})" if unit else "score")
        if stats is not None:
            table = stats_table(stats, required=["signature"])
            sigcol = significance_column(table, significance)
            _annotate(ax, table, sigs, levels, long, sigcol, max_brackets)
        if ax.get_legend() is not None:
            sns.move_legend(ax, "upper left", bbox_to_anchor=(1.0, 1.0), title=group, frameon=False)
    return finish(ax, save)


def _unit_of_tests(
    scores: Any, metadata: Any, group: str, stats: Any, sample_key: str | None, key: str
) -> tuple[pd.DataFrame, pd.DataFrame, str | None]:
    """Scores (of the run ``key``) and metadata of the unit the test used: samples, or replicate means per group."""
    df = scores_frame(scores, key=key)
    meta = metadata_frame(scores, metadata, required=[group], key=key)
    unit = sample_key if sample_key is not None else unit_of_test(stats)
    if unit is None:
        return df, meta, None
    keep = meta[group].notna()
    df, meta = unit_means(df[keep], meta[keep], [unit, group])
    return df, meta, unit


def _distributions(ax, long, sigs, group, levels, colours, kind: str, points: bool) -> None:
    common = {"data": long, "x": "signature", "y": "score", "hue": group, "order": sigs, "hue_order": levels}
    if kind == "box":
        with warnings.catch_warnings():
            # seaborn 0.13 passes `vert=` to Axes.bxp, deprecated in matplotlib 3.11 (not our call)
            warnings.filterwarnings(
                "ignore", message=r"vert: bool was deprecated", category=DeprecationWarning
            )
            sns.boxplot(
                **common,
                palette=colours,
                ax=ax,
                showfliers=not points,
                width=0.8,
                linewidth=0.8,
                saturation=1,
            )
    else:
        sns.violinplot(
            **common, palette=colours, ax=ax, cut=0, inner="quart", width=0.8, linewidth=0.8, saturation=1
        )


def _points(ax: Axes, long: pd.DataFrame, sigs: list[str], group: str, levels: list[str]) -> None:
    """Return the individual values, jittered (our own seeded jitter: reproducible, the user's RNG untouched)."""
    rng = np.random.default_rng(0)
    offsets = _dodge_positions(len(levels))
    half = 0.8 / len(levels) * 0.2
    for x, sig in enumerate(sigs):
        for i, lv in enumerate(levels):
            y = long.loc[(long["signature"] == sig) & (long[group] == lv), "score"].to_numpy()
            xs = x + offsets[i] + rng.uniform(-half, half, size=y.size)
            ax.scatter(xs, y, s=5, color="#333333", edgecolor="none", zorder=3)


def _label_axes(ax: Axes, sigs: list[str], ylabel: str) -> None:
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    if len(sigs) > 3:
        ax.tick_params(axis="x", labelrotation=30)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")


def profile(
    scores: Any,
    by: str | Sequence[str] | None = None,
    metadata: pd.DataFrame | None = None,
    *,
    signatures: Sequence[str] | str | None = None,
    kind: str = "dot",
    ci: float = 0.95,
    palette: Mapping[Any, Any] | Sequence[Any] | str | None = None,
    sample_key: str | None = None,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Mechanism profile: the score of every signature for some samples, or the mean per group.

    Parameters
    ----------
    scores
        Samples x signatures DataFrame, ``ScoreResult`` or scored AnnData.
    by
        A sample name or list of sample names (one profile each), or the name of a ``metadata``
        column (one profile per group: mean with a ``ci`` t-interval). ``None``: the mean of all samples.
    metadata
        Sample annotations (needed when ``by`` is a column; default ``adata.obs``).
    signatures
        Signatures to show (default: all), one row each.
    kind
        ``"dot"`` (dots, dodged per profile, with intervals for groups) or ``"bar"`` (horizontal bars).
    ci
        Coverage of the interval around a group mean.
    palette
        Colours of the profiles (default: scanpy's ``adata.uns["<by>_colors"]`` when available, else
        Okabe-Ito).
    sample_key
        Metadata column of the biological replicate (single-cell data): group means and their intervals
        are computed over the replicate means, not over cells.
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

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> scores = pd.DataFrame(
    ...     {"efflux_abc": [1.0, 3.0, -1.0], "apoptosis": [0.0, 2.0, 1.0]}, index=["s1", "s2", "s3"]
    ... )
    >>> ax = rs.pl.profile(scores, by="s2")
    >>> sorted(ax.collections[0].get_offsets()[:, 0].tolist())
    [2.0, 3.0]
    >>> plt.close(ax.figure)
    """
    from resistscore._validate import check_probability

    check_choice("kind", kind, ("dot", "bar"))
    ci = check_probability("ci", ci)
    df = scores_frame(scores, key=key)
    sigs = select_signatures(df, signatures)
    rows, title = _profile_rows(scores, df, by, metadata, sigs, ci, sample_key, key)
    if palette is None and isinstance(by, str) and by not in df.index:
        palette = uns_palette(obs_source(scores, metadata), by)
    colours = categorical_colors([r[0] for r in rows], _label_palette(palette, rows))
    with theme():
        ax = new_axes(ax, (4.0, 0.8 + 0.28 * len(sigs) * max(1, len(rows) / 2)))
        _draw_profiles(ax, rows, colours, len(sigs), kind)
        ax.axvline(0.0, color="#777777", linewidth=0.6, zorder=0)
        ax.set_yticks(np.arange(len(sigs))[::-1].astype(float), sigs)
        ax.set_ylim(-0.6, len(sigs) - 0.4)
        ax.set_xlabel("score")
        if title:
            ax.set_title(title)
        if len(rows) > 1:
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return finish(ax, save)


#: one profile: its label, its centre per signature and the half-width of its interval (or None)
_Profile = tuple[str, pd.Series, "pd.Series | None"]


def _profile_rows(
    scores: Any,
    df: pd.DataFrame,
    by: Any,
    metadata: Any,
    sigs: list[str],
    ci: float,
    sample_key: str | None,
    key: str = DEFAULT_KEY,
) -> tuple[list[_Profile], str | None]:
    """Return the profiles to draw: given samples, the mean of each group with a t-interval, or the overall mean."""
    if by is None:
        return [(f"all samples (n={len(df)})", df[sigs].mean(), None)], None
    if isinstance(by, str) and by in df.index:
        return [(by, df.loc[by, sigs], None)], None
    if isinstance(by, str):
        meta = metadata_frame(scores, metadata, required=[by], key=key)
        unit = "samples"
        if sample_key is not None:
            df, meta = unit_means(df, meta, [sample_key, by])
            unit = f"{sample_key} means"
        rows = [
            _group_mean(df.loc[meta[by].astype(str).eq(lv) & meta[by].notna(), sigs], lv, ci)
            for lv in _group_levels(meta[by], None)
        ]
        if not rows:
            return [(f"all samples (n={len(df)})", df[sigs].mean(), None)], None
        over = "" if sample_key is None else f" over {unit}"
        return rows, f"mean score by {by} ({ci:.0%} CI{over})"
    by_samples = list(by)
    unknown = [s for s in by_samples if s not in df.index]
    if unknown:
        raise ResistScoreError(
            f"`by` {unknown[:5]} are neither samples of the scores nor a metadata column; "
            "give sample names or the name of a metadata column."
        )
    return [(str(s), df.loc[s, sigs], None) for s in by_samples], None


def _group_mean(sub: pd.DataFrame, level: str, ci: float) -> _Profile:
    """Mean of a group with its t-interval (``ci`` coverage)."""
    from scipy import stats as st

    n = sub.notna().sum()
    sem = sub.std(ddof=1) / np.sqrt(n)
    tq = pd.Series(st.t.ppf(0.5 + ci / 2, np.maximum(n - 1, 1)), index=sub.columns).where(n > 1)
    return (f"{level} (n={len(sub)})", sub.mean(), sem * tq)


def _label_palette(palette: Any, rows: list[_Profile]) -> Any:
    """Return a palette keyed by group level, re-keyed by the profile labels (``"level (n=..)"``)."""
    if not isinstance(palette, Mapping):
        return palette
    out = {}
    for label, _, _ in rows:
        level = label.rsplit(" (n=", 1)[0]
        if level in palette:
            out[label] = palette[level]
    return out if len(out) == len(rows) else None


def _draw_profiles(ax: Axes, rows: list[_Profile], colours: dict, n_sigs: int, kind: str) -> None:
    n = len(rows)
    height = 0.8 / n
    y = np.arange(n_sigs)[::-1].astype(float)
    for k, (label, centre, half) in enumerate(rows):
        yk = y + (n - 1) / 2 * height - k * height
        if kind == "bar":
            ax.barh(yk, centre.to_numpy(), height=height * 0.9, color=colours[label], label=label)
            if half is not None:
                ax.errorbar(centre, yk, xerr=half, fmt="none", ecolor="#222222", elinewidth=0.8, capsize=1.5)
        else:
            if half is not None:
                ax.errorbar(centre, yk, xerr=half, fmt="none", ecolor=colours[label], elinewidth=1.0)
            ax.scatter(centre, yk, color=colours[label], s=22, zorder=3, label=label, edgecolor="none")
