"""Kaplan-Meier curves with number at risk and log-rank p-value."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.transforms as mtransforms
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from resistscore._errors import ResistScoreError
from resistscore.get import DEFAULT_KEY
from resistscore.pl._theme import categorical_colors, theme
from resistscore.pl._utils import (
    finish,
    format_p,
    metadata_frame,
    new_axes,
    obs_source,
    scores_frame,
    uns_palette,
)

__all__ = ["kaplan_meier", "km_table"]

_SPLITS = {"median": 2, "tertiles": 3, "quartiles": 4}


def _split_labels(n: int) -> list[str]:
    return {2: ["low", "high"], 3: ["low", "mid", "high"], 4: ["Q1", "Q2", "Q3", "Q4"]}[n]


def km_table(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier estimate at every distinct time (product-limit, Greenwood 95% log-log CI).

    Parameters
    ----------
    time
        Follow-up times.
    event
        1 (or True) for an event, 0 for a censored observation.

    Returns
    -------
    DataFrame
        Columns ``time``, ``at_risk``, ``events``, ``censored``, ``survival``, ``ci_low``,
        ``ci_high``, starting with a row at time 0 (survival 1).

    Examples
    --------
    >>> km_table([1, 2, 2, 3], [1, 1, 0, 1])["survival"].round(3).tolist()
    [1.0, 0.75, 0.5, 0.0]
    """
    from lifelines import KaplanMeierFitter

    t = np.asarray(time, float)
    e = np.asarray(event).astype(bool)
    kmf = KaplanMeierFitter().fit(t, e)
    table = kmf.event_table
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_survival_function_
    out = pd.DataFrame(
        {
            "time": table.index.to_numpy(float),
            "at_risk": table["at_risk"].to_numpy(int),
            "events": table["observed"].to_numpy(int),
            "censored": table["censored"].to_numpy(int),
            "survival": sf.reindex(table.index).to_numpy(float),
            "ci_low": ci.iloc[:, 0].reindex(table.index).to_numpy(float),
            "ci_high": ci.iloc[:, 1].reindex(table.index).to_numpy(float),
        }
    )
    if out["time"].iloc[0] > 0:
        first = {"time": 0.0, "at_risk": len(t), "events": 0, "censored": 0, "survival": 1.0}
        out = pd.concat([pd.DataFrame([{**first, "ci_low": 1.0, "ci_high": 1.0}]), out], ignore_index=True)
    return out


def _groups_from_scores(
    data: Any,
    metadata: Any,
    time: str,
    event: str,
    signature: str | None,
    group: str | None,
    split: Any,
    key: str = DEFAULT_KEY,
) -> tuple[pd.DataFrame, str]:
    df = scores_frame(data, key=key)
    required = [time, event] + ([group] if group else [])
    meta = metadata_frame(data, metadata, required=required, key=key)
    frame = pd.DataFrame({"time": meta[time], "event": meta[event]}, index=df.index)
    if group is not None:
        frame["group"] = meta[group].astype("string")
        title = group
    else:
        if signature is None:
            raise ResistScoreError(
                "give `signature` (to split samples by its score) or `group` (a metadata column) for Kaplan-Meier curves."
            )
        if signature not in df.columns:
            raise ResistScoreError(
                f"`signature` {signature!r} is not scored; choose from {list(df.columns)[:20]}."
            )
        score = df[signature]
        if isinstance(split, str):
            if split not in _SPLITS:
                raise ResistScoreError(
                    f"`split` must be one of {list(_SPLITS)} or a number in (0, 1); got {split!r}."
                )
            k = _SPLITS[split]
            labels = _split_labels(k)
            frame["group"] = pd.qcut(score.rank(method="first"), k, labels=labels).astype("string")
            title = f"{signature} ({split} split)"
        else:
            from resistscore._validate import check_probability

            q = check_probability("split", split)
            cut = score.quantile(q)
            frame["group"] = pd.Series(
                np.where(score > cut, "high", "low"), index=df.index, dtype="string"
            ).where(score.notna())
            title = f"{signature} (split at quantile {q:g})"
    frame = frame.dropna()
    if frame.empty:
        raise ResistScoreError("no sample has a time, an event and a group: nothing to plot.")
    try:
        frame["time"] = frame["time"].astype(float)
        frame["event"] = frame["event"].astype(float)
    except (TypeError, ValueError) as exc:
        raise ResistScoreError(f"`time` and `event` must be numeric columns ({exc}).") from None
    if (frame["time"] < 0).any():
        raise ResistScoreError("`time` has negative values; survival times must be >= 0.")
    if not frame["event"].isin([0, 1]).all():
        raise ResistScoreError("`event` must be 0 (censored) or 1 (event) / boolean.")
    return frame, title


def _from_result(
    result: Any, curves: pd.DataFrame, signature: str | None
) -> tuple[dict[str, pd.DataFrame], dict[str, int | None], float, str | None]:
    """Curves, group sizes and log-rank p-value of a survival result (``rs.tl.survival``)."""
    curves = curves.rename(columns={"n_at_risk": "at_risk"})
    need = {"group", "time", "survival"}
    if not need <= set(curves.columns):
        raise ResistScoreError(
            f"the survival result's curves lack columns {sorted(need - set(curves.columns))}."
        )
    title = None
    if "signature" in curves.columns:
        available = list(pd.unique(curves["signature"].astype(str)))
        if not available:
            raise ResistScoreError(
                "the survival result has no Kaplan-Meier curve (no signature could be tested)."
            )
        if signature is None:
            signature = available[0]
        if signature not in available:
            raise ResistScoreError(
                f"`signature` {signature!r} has no Kaplan-Meier curve; choose from {available[:20]}."
            )
        curves = curves[curves["signature"].astype(str) == signature]
        title = f"{signature} (high vs low)"
    order = [g for g in ("low", "mid", "high") if g in set(curves["group"].astype(str))]
    order += sorted(set(curves["group"].astype(str)) - set(order))
    tables: dict[str, pd.DataFrame] = {}
    counts: dict[str, int | None] = {}
    for g in order:
        tab = (
            curves[curves["group"].astype(str) == g]
            .sort_values("time", kind="mergesort")
            .reset_index(drop=True)
        )
        if {"at_risk", "n_events"} <= set(tab.columns):
            # censored between two event times = drop in the number at risk not explained by events
            nxt = tab["at_risk"].shift(-1, fill_value=0)
            tab["censored"] = (tab["at_risk"] - tab["n_events"] - nxt).clip(lower=0)
        tables[g] = tab
        counts[g] = int(tab["at_risk"].iloc[0]) if "at_risk" in tab.columns else None
    pvalue = np.nan
    table = getattr(result, "table", None)
    if isinstance(table, pd.DataFrame) and len(table):
        rows = (
            table[table["signature"].astype(str) == signature]
            if signature and "signature" in table
            else table
        )
        col = "logrank_pvalue" if "logrank_pvalue" in table.columns else "pvalue"
        if col in table.columns and len(rows):
            pvalue = float(rows[col].iloc[0])
    return tables, counts, pvalue, title


def kaplan_meier(
    data: Any,
    metadata: pd.DataFrame | None = None,
    *,
    time: str = "survival_time",
    event: str = "event",
    signature: str | None = None,
    group: str | None = None,
    split: str | float = "median",
    ci: bool = True,
    at_risk: bool = True,
    palette: Mapping[Any, Any] | Sequence[Any] | str | None = None,
    xlabel: str | None = None,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Kaplan-Meier curves of groups of samples, with the number at risk and the log-rank p-value.

    Parameters
    ----------
    data
        Samples x signatures scores (DataFrame, ``ScoreResult`` or scored AnnData), or the result of
        ``rs.tl.survival`` (its ``.km`` curves of the ``high``/``low`` groups are drawn for
        ``signature``, default the first one, with ``logrank_pvalue`` of its ``.table``).
    metadata
        Sample annotations with the ``time`` and ``event`` columns (default ``adata.obs``).
    time, event
        Columns of follow-up time and event indicator (1 = event, 0 = censored).
    signature
        Split the samples by this signature's score (see ``split``).
    group
        Alternatively, a metadata column defining the groups.
    split
        ``"median"`` (low/high), ``"tertiles"``, ``"quartiles"`` (equal-sized groups by rank), or a
        quantile in (0, 1): samples above it are "high".
    ci
        Shade the 95% confidence band (Greenwood, log-log transformed).
    at_risk
        Print the number at risk under the x axis ticks.
    palette
        Group colours (default: Okabe-Ito).
    xlabel
        Label of the time axis (default: the ``time`` column name).
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
        Survival curves; censored samples are marked with ``|``. The log-rank test is
        :func:`lifelines.statistics.multivariate_logrank_test` across all groups.

    Examples
    --------
    >>> import numpy as np, pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame({"efflux_abc": rng.normal(size=40)}, index=[f"p{i}" for i in range(40)])
    >>> meta = pd.DataFrame(
    ...     {"survival_time": rng.exponential(10, 40).round(1), "event": rng.integers(0, 2, 40)},
    ...     index=scores.index,
    ... )
    >>> ax = rs.pl.kaplan_meier(scores, meta, signature="efflux_abc")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['low (n=20)', 'high (n=20)']
    >>> plt.close(ax.figure)
    """
    tables, counts, pvalue, title, frame = _curves(data, metadata, time, event, signature, group, split, key)
    if palette is None and group is not None:
        palette = uns_palette(obs_source(data, metadata), group)
    colours = categorical_colors(list(tables), palette)
    with theme():
        ax = new_axes(ax, (3.8, 3.2 + (0.15 * len(tables) if at_risk else 0)))
        for g, tab in tables.items():
            _draw_curve(ax, tab, f"{g} (n={counts[g]})" if counts[g] is not None else g, colours[g], ci)
        ax.set_ylim(0, 1.05)
        ax.set_xlim(left=0)
        ax.set_ylabel("survival probability")
        params = getattr(data, "params", None)
        if (
            xlabel is None
            and frame is None
            and isinstance(params, dict)
            and isinstance(params.get("time"), str)
        ):
            xlabel = params["time"]
        ax.set_xlabel(xlabel or time)
        if title:
            ax.set_title(title)
        if np.isfinite(pvalue):
            ax.text(0.98, 0.98, f"log-rank {format_p(pvalue)}", transform=ax.transAxes, ha="right", va="top")
        ax.legend(loc="lower left", frameon=False)
        if at_risk:
            _at_risk(ax, tables, frame, colours)
    return finish(ax, save)


def _curves(
    data: Any,
    metadata: Any,
    time: str,
    event: str,
    signature: str | None,
    group: str | None,
    split: Any,
    key: str = DEFAULT_KEY,
) -> tuple[dict[str, pd.DataFrame], dict[str, int | None], float, str | None, pd.DataFrame | None]:
    """Curves per group, group sizes, log-rank p, title and the per-sample frame (None for a result)."""
    curves = getattr(data, "km", None)
    if not isinstance(curves, pd.DataFrame):
        curves = getattr(data, "curves", None)
    if isinstance(curves, pd.DataFrame):
        tables, counts, pvalue, title = _from_result(data, curves, signature)
        return tables, counts, pvalue, title, None
    from lifelines.statistics import multivariate_logrank_test

    frame, title = _groups_from_scores(data, metadata, time, event, signature, group, split, key)
    present = set(frame["group"])
    if group is None:
        canonical = _split_labels(_SPLITS[split]) if isinstance(split, str) else ["low", "high"]
        order = [g for g in canonical if g in present]
    else:
        order = sorted(present)
    tables = {
        g: km_table(frame.loc[frame["group"] == g, "time"], frame.loc[frame["group"] == g, "event"])
        for g in order
    }
    counts: dict[str, int | None] = {g: int((frame["group"] == g).sum()) for g in order}
    pvalue = np.nan
    if len(order) > 1:
        pvalue = float(multivariate_logrank_test(frame["time"], frame["group"], frame["event"]).p_value)
    return tables, counts, pvalue, title, frame


def _draw_curve(ax: Axes, tab: pd.DataFrame, label: str, colour: str, ci: bool) -> None:
    """One step curve, its confidence band and its censoring ticks."""
    ax.step(tab["time"], tab["survival"], where="post", color=colour, label=label)
    if ci and {"ci_low", "ci_high"} <= set(tab.columns):
        ax.fill_between(
            tab["time"], tab["ci_low"], tab["ci_high"], step="post", color=colour, alpha=0.15, linewidth=0
        )
    if "censored" in tab.columns:
        cens = tab[tab["censored"] > 0]
        ax.plot(cens["time"], cens["survival"], linestyle="none", marker="|", markersize=5, color=colour)


def _at_risk(ax: Axes, tables: dict[str, pd.DataFrame], frame: pd.DataFrame | None, colours: dict) -> None:
    """Return the number at risk of every group under the ticks of the time axis."""
    xmax = ax.get_xlim()[1]
    ticks = [t for t in ax.get_xticks() if 0 <= t <= xmax]
    ax.set_xticks(ticks)
    trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    dy, base = 0.075, -0.24
    ax.text(
        0, base + dy, "at risk", transform=trans, ha="right", va="center", fontsize="small", fontweight="bold"
    )
    for k, (g, tab) in enumerate(tables.items()):
        for t in ticks:
            if frame is not None:
                n = int((frame.loc[frame["group"] == g, "time"] >= t).sum())
            elif "at_risk" in tab.columns:
                later = tab[tab["time"] >= t]
                n = int(later["at_risk"].iloc[0]) if len(later) else 0
            else:
                continue
            ax.text(
                t,
                base - k * dy,
                str(n),
                transform=trans,
                ha="center",
                va="center",
                fontsize="small",
                color=colours[g],
            )
