"""Coverage QC, score versus drug response, and scores on an embedding."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from resistscore import get
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_int, check_real
from resistscore.get import DEFAULT_KEY
from resistscore.pl._theme import GREY, OKABE_ITO, categorical_colors, theme
from resistscore.pl._utils import (
    finish,
    format_p,
    metadata_frame,
    new_axes,
    obs_source,
    score_cmap,
    scores_frame,
    stats_table,
    unit_of_test,
    uns_palette,
)

__all__ = ["coverage", "embedding", "response"]


def coverage_frame(data: Any, key: str = DEFAULT_KEY) -> pd.DataFrame:
    """Return the coverage table (one row per signature) of a result, AnnData (its run ``key``) or DataFrame."""
    if isinstance(data, pd.DataFrame):
        table = data
    elif is_anndata(data):
        raw = (data.uns.get(key) or {}).get("coverage")
        if raw is None:
            raise ResistScoreError(
                f'the AnnData has no uns["{key}"]["coverage"]; score it first with rs.tl.score(adata) '
                f"(runs it holds: {get.runs(data)}; pass `key=` one of them)."
            )
        table = pd.DataFrame(raw)
    elif isinstance(getattr(data, "coverage", None), pd.DataFrame):
        table = data.coverage
    else:
        raise ResistScoreError(
            "`coverage` must be the coverage DataFrame of a ScoreResult (result.coverage), the ScoreResult "
            f"itself or a scored AnnData; got {type(data).__name__}."
        )
    if "signature" in table.columns:
        table = table.set_index("signature")
    if "weight_covered" not in table.columns:
        if {"n_found", "n_genes"} <= set(table.columns):
            table = table.assign(
                weight_covered=table["n_found"] / table["n_genes"].where(table["n_genes"] > 0)
            )
        else:
            raise ResistScoreError(
                "the coverage table needs a `weight_covered` column (or `n_found` and `n_genes`); "
                f"it has {list(table.columns)}."
            )
    if table.empty:
        raise ResistScoreError("the coverage table is empty: there is nothing to plot.")
    return table


def coverage(
    coverage: Any,
    *,
    min_coverage: float | None = None,
    sort: bool = False,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Coverage QC: share of each signature's weight measured in the data, and whether it was reported.

    Parameters
    ----------
    coverage
        ``result.coverage`` (columns ``n_genes``, ``n_found``, ``weight_covered``, ``reported``,
        ``min_coverage`` optional), the ``ScoreResult`` itself or a scored AnnData.
    min_coverage
        Threshold line to draw. Default: the table's ``min_coverage`` column (one mark per
        signature), else 0.5 (the engine's default).
    sort
        Sort signatures by coverage (default: table order).
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
    >>> cov = pd.DataFrame(
    ...     {"n_genes": [10, 8], "n_found": [9, 2], "weight_covered": [0.93, 0.2], "reported": [True, False]},
    ...     index=["efflux_abc", "apoptosis"],
    ... )
    >>> ax = rs.pl.coverage(cov)
    >>> [float(p.get_width()) for p in ax.patches]
    [0.93, 0.2]
    >>> plt.close(ax.figure)
    """
    table = coverage_frame(coverage, key)
    if sort:
        table = table.sort_values("weight_covered", ascending=False, kind="mergesort")
    frac = table["weight_covered"].to_numpy(float)
    reported = (
        table["reported"].astype(bool).to_numpy()
        if "reported" in table.columns
        else np.ones(len(table), bool)
    )
    y = np.arange(len(table))[::-1]
    ok, bad = OKABE_ITO[3], OKABE_ITO[4]
    with theme():
        ax = new_axes(ax, (4.2, 0.9 + 0.25 * len(table)))
        ax.barh(y, frac, height=0.7, color=[ok if r else bad for r in reported])
        if min_coverage is not None:
            ax.axvline(
                check_real("min_coverage", min_coverage, minimum=0, maximum=1),
                color="#333333",
                linestyle="--",
                linewidth=0.8,
            )
        elif "min_coverage" in table.columns:
            for yi, m in zip(y, table["min_coverage"].to_numpy(float)):
                ax.plot([m, m], [yi - 0.42, yi + 0.42], color="#333333", linewidth=1.0)
        else:
            ax.axvline(0.5, color="#333333", linestyle="--", linewidth=0.8)
        if {"n_found", "n_genes"} <= set(table.columns):
            for yi, f, nf, ng in zip(y, frac, table["n_found"], table["n_genes"]):
                ax.text(
                    min(np.nan_to_num(f), 1.0) + 0.01,
                    yi,
                    f"{int(nf)}/{int(ng)}",
                    va="center",
                    fontsize="small",
                )
        ax.set_yticks(y, table.index.astype(str))
        ax.set_xlim(0, 1.15)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_ylim(-0.6, len(table) - 0.4)
        ax.set_xlabel("share of signature weight measured")
        handles = [Patch(color=ok, label="reported"), Patch(color=bad, label="not reported")]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False)
    return finish(ax, save)


def response(
    scores: Any,
    response: pd.Series | str,
    *,
    signature: str,
    metadata: pd.DataFrame | None = None,
    hue: str | None = None,
    palette: Mapping[Any, Any] | Sequence[Any] | str | None = None,
    fit: str | bool | None = "lowess",
    stats: Any = None,
    sample_key: str | None = None,
    censored: pd.Series | str | None = None,
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes:
    """Scatter of a signature's score against drug response, with the rank correlation that was tested.

    The line is a guide for the eye that matches a rank statistic: a LOWESS smoother (default) or a
    Theil-Sen line, never a least-squares fit. With ``stats`` (the result of ``rs.tl.associate``) the
    annotation shows the tested statistic, its confidence interval and FDR; with ``sample_key`` (or a
    ``stats`` result computed per replicate) each point is one replicate's mean, the unit that was tested.

    Parameters
    ----------
    scores
        Samples x signatures DataFrame, ``ScoreResult`` or scored AnnData.
    response
        Drug response per sample (e.g. log GI50 or AUC): a Series indexed by sample, or the name
        of a ``metadata`` column.
    signature
        The signature on the horizontal axis.
    metadata
        Sample annotations (for ``response``/``hue``/``sample_key`` given by name; default ``adata.obs``).
    hue
        Optional categorical ``metadata`` column colouring the points (e.g. tissue).
    palette
        Colours of the ``hue`` levels (default: scanpy's ``adata.uns["<hue>_colors"]`` when available,
        else Okabe-Ito).
    fit
        ``"lowess"`` (locally weighted smoother, statsmodels, ``frac=2/3``), ``"theilsen"`` (Theil-Sen
        line: median of pairwise slopes) or ``None`` / ``False`` (no line). ``True`` is ``"lowess"``.
    stats
        The result of ``rs.tl.associate`` (or its ``.table``) with a row for ``signature`` (and the
        response): its statistic, CI and FDR are printed instead of a Spearman correlation computed here.
    sample_key
        Metadata column of the biological replicate: one point per replicate (mean score and mean
        response). Default: the replicate the ``stats`` result was computed on, if any.
    censored
        Observations at an assay limit (a metadata column or a Series indexed by sample): ``True``
        (or ``"upper"``/``"right"``, ``"lower"``/``"left"``) marks a censored response, drawn as an open
        triangle pointing to where the true value lies (a plain open circle when the direction is not
        given). Default: the censoring ``rs.tl.associate`` found (``stats.censoring``), when ``stats`` is
        its result.
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
        Without ``stats`` the annotation reads ``Spearman rho=..., p=..., n=...`` (two-sided p from
        :func:`scipy.stats.spearmanr`), computed on the samples with both values.

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> scores = pd.DataFrame({"efflux_abc": [0.1, 0.4, 0.2, 0.9, 0.5]}, index=list("abcde"))
    >>> gi50 = pd.Series([1.0, 2.0, 1.5, 3.0, 4.0], index=list("abcde"))
    >>> ax = rs.pl.response(scores, gi50, signature="efflux_abc", fit=None)
    >>> ax.texts[0].get_text()
    'Spearman rho=0.90, p=0.037, n=5'
    >>> plt.close(ax.figure)
    """
    fit = _fit_kind(fit)
    data, ylabel, unit = _response_data(
        scores, response, signature, metadata, hue, stats, sample_key, censored, key
    )
    if len(data) < 3:
        raise ResistScoreError(
            f"only {len(data)} samples have both a score and a response; at least 3 are needed."
        )
    label = _association_label(data, stats, signature, ylabel)
    if hue and palette is None:
        palette = uns_palette(obs_source(scores, metadata), hue)
    with theme():
        ax = new_axes(ax, (3.4, 3.0))
        _scatter_points(ax, data, hue, palette)
        if fit is not None and data["x"].nunique() > 1:
            xs, ys = _trend(data["x"].to_numpy(float), data["y"].to_numpy(float), fit)
            ax.plot(xs, ys, color="#333333", linewidth=0.9, linestyle="--")
        # headroom above the highest point so that the annotation never hides data
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.15 * (hi - lo))
        ax.text(0.02, 0.98, label, transform=ax.transAxes, va="top", ha="left")
        ax.set_xlabel(f"{signature} score" + (f" (mean per {unit})" if unit else ""))
        ax.set_ylabel(str(ylabel))
    return finish(ax, save)


_FITS = {True: "lowess", "lowess": "lowess", "theilsen": "theilsen", "theil-sen": "theilsen"}


def _fit_kind(fit: Any) -> str | None:
    if fit is None or fit is False:
        return None
    if fit not in _FITS:
        raise ResistScoreError(f"`fit` must be 'lowess', 'theilsen' or None; got {fit!r}.")
    return _FITS[fit]


def _response_data(
    scores, response, signature, metadata, hue, stats, sample_key, censored, key=DEFAULT_KEY
) -> tuple[pd.DataFrame, str, str | None]:
    """Columns ``x`` (score of the run ``key``), ``y`` (response), optional ``hue`` and ``censored``, one row per unit."""
    df = scores_frame(scores, key=key)
    if signature not in df.columns:
        raise ResistScoreError(
            f"`signature` {signature!r} is not scored; choose from {list(df.columns)[:20]}."
        )
    unit = sample_key if sample_key is not None else unit_of_test(stats)
    if censored is None:
        censored = _censored_of(stats, response)
    names = [c for c in (response, hue, unit, censored) if isinstance(c, str)]
    meta = metadata_frame(scores, metadata, required=names, key=key) if names else None
    resp, ylabel = _response_values(response, meta, df.index)
    data = pd.DataFrame({"x": df[signature], "y": resp.astype(float)}, index=df.index)
    if hue:
        data["hue"] = meta[hue]
    if censored is not None:
        flags = meta[censored] if isinstance(censored, str) else pd.Series(censored).reindex(df.index)
        data["censored"] = flags.map(_censor_direction)
    if unit is not None:
        data = _replicate_means(data, meta[unit])
    return data.dropna(subset=["x", "y"]), ylabel, unit


def _response_values(response: Any, meta: pd.DataFrame | None, index: pd.Index) -> tuple[pd.Series, str]:
    if isinstance(response, str):
        resp, ylabel = meta[response], response
    elif isinstance(response, pd.Series):
        resp = response.reindex(index)
        ylabel = response.name or "response"
        if resp.notna().sum() == 0:
            raise ResistScoreError("`response` shares no sample with the scores; index it by sample name.")
    else:
        raise ResistScoreError(
            f"`response` must be a Series indexed by sample or a metadata column name; got {type(response).__name__}."
        )
    if not pd.api.types.is_numeric_dtype(resp):
        raise ResistScoreError(f"`response` must be numeric (e.g. log GI50); got dtype {resp.dtype}.")
    return resp, str(ylabel)


def _censored_of(stats: Any, response: Any) -> pd.Series | None:
    """Return the per-sample censoring flags (``"left"`` / ``"right"`` / ``""``) of ``rs.tl.associate``'s result.

    Read from its ``censoring`` table (``sample``, ``response``, ``censored``), for this response.
    """
    table = getattr(stats, "censoring", None)
    if not isinstance(table, pd.DataFrame) or not {"sample", "response", "censored"} <= set(table.columns):
        return None
    name = response if isinstance(response, str) else getattr(response, "name", None)
    rows = table[table["response"].astype(str) == str(name)] if name is not None else table
    if rows.empty and table["response"].nunique() == 1:
        rows = table
    if rows.empty or not rows["censored"].astype(str).str.len().any():
        return None
    return rows.drop_duplicates("sample").set_index("sample")["censored"]


_UPPER = {"upper", "right", ">", ">=", "above"}
_LOWER = {"lower", "left", "<", "<=", "below"}


def _censor_direction(flag: Any) -> str:
    """``"upper"`` (true value at or above the one shown), ``"lower"``, ``"yes"`` (direction unknown) or ``""``."""
    if isinstance(flag, str):
        text = flag.strip().lower()
        if text in _UPPER:
            return "upper"
        if text in _LOWER:
            return "lower"
        return "yes" if text in {"true", "yes", "1", "censored"} else ""
    return "yes" if pd.notna(flag) and bool(flag) else ""


def _replicate_means(data: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """One row per replicate: mean score and response, its hue (if constant) and any censoring."""
    if keys.isna().any():
        raise ResistScoreError(
            f"`sample_key` {keys.name!r} has missing values; every cell needs its replicate."
        )
    grouped = data.groupby(keys.astype(str), sort=True)
    out = grouped[["x", "y"]].mean()
    if "hue" in data.columns:
        constant = grouped["hue"].nunique(dropna=False) <= 1
        out["hue"] = grouped["hue"].first().where(constant)
    if "censored" in data.columns:
        out["censored"] = grouped["censored"].agg(lambda v: next((c for c in v if c), ""))
    return out


def _association_label(data: pd.DataFrame, stats: Any, signature: str, response: str) -> str:
    """Return the tested statistic (from ``stats``), or Spearman's rho computed on the points drawn."""
    from scipy import stats as st

    if stats is not None:
        row = _association_row(stats, signature, response)
        name = {"spearman": "Spearman rho", "pearson": "Pearson r", "ols": "slope"}.get(
            str(row.get("method", "")), str(row.get("method", "effect")).replace("_", " ")
        )
        name = {"partial spearman": "partial Spearman rho", "partial pearson": "partial Pearson r"}.get(
            name, name
        )
        ci = ""
        if np.isfinite([row.get("ci_low", np.nan), row.get("ci_high", np.nan)]).all():
            ci = f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
        sig = format_p(row["fdr"], "FDR") if pd.notna(row.get("fdr")) else format_p(row.get("pvalue"))
        return f"{name}={row['effect']:.2f}{ci}, {sig}, n={int(row['n'])}"
    rho, p = st.spearmanr(data["x"], data["y"])
    return f"Spearman rho={rho:.2f}, {format_p(p)}, n={len(data)}"


def _association_row(stats: Any, signature: str, response: str) -> pd.Series:
    table = stats_table(stats, required=["signature", "effect"])
    rows = table[table["signature"].astype(str) == signature]
    if "response" in rows.columns and (rows["response"].astype(str) == response).any():
        rows = rows[rows["response"].astype(str) == response]
    if rows.empty:
        raise ResistScoreError(
            f"`stats` has no row for signature {signature!r}; pass the result that tested it."
        )
    return rows.iloc[0]


def _scatter_points(ax: Axes, data: pd.DataFrame, hue: str | None, palette: Any) -> None:
    """Return the points (coloured by ``hue``); censored observations as open triangles or circles."""
    cens = data["censored"] if "censored" in data.columns else pd.Series("", index=data.index)
    exact = data[cens == ""]
    if hue:
        levels = sorted(data["hue"].dropna().astype(str).unique())
        colours = categorical_colors(levels, palette)
        for lv in levels:
            sub = exact[exact["hue"].astype(str) == lv]
            ax.scatter(sub["x"], sub["y"], color=colours[lv], s=16, edgecolor="none", label=lv)
        rest = exact[exact["hue"].isna()]
        if len(rest):
            ax.scatter(rest["x"], rest["y"], color=GREY, s=16, edgecolor="none", label="NA")
    else:
        ax.scatter(exact["x"], exact["y"], color=OKABE_ITO[3], s=16, edgecolor="none")
    for kind, marker in (("upper", "^"), ("lower", "v"), ("yes", "o")):
        sub = data[cens == kind]
        if len(sub):
            label = "censored" if kind == "yes" else f"censored ({kind} limit)"
            ax.scatter(
                sub["x"],
                sub["y"],
                s=22,
                marker=marker,
                facecolor="white",
                edgecolor="#333333",
                linewidth=0.8,
                zorder=3,
                label=label,
            )
    if hue:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title=hue, frameon=False)
    elif (cens != "").any():
        ax.legend(loc="lower right", frameon=False, fontsize="small")


def _trend(x: np.ndarray, y: np.ndarray, fit: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a rank-robust guide line: LOWESS (frac 2/3, 3 robustifying iterations) or a Theil-Sen line."""
    if fit == "theilsen":
        from scipy.stats import theilslopes

        slope, intercept, _, _ = theilslopes(y, x)
        xs = np.array([x.min(), x.max()])
        return xs, intercept + slope * xs
    from statsmodels.nonparametric.smoothers_lowess import lowess

    smooth = lowess(y, x, frac=2 / 3, it=3, return_sorted=True)
    return smooth[:, 0], smooth[:, 1]


def _embedding_coords(adata: Any, basis: str) -> np.ndarray:
    for key in (f"X_{basis}", basis):
        if key in adata.obsm:
            xy = np.asarray(adata.obsm[key])[:, :2]
            return xy.astype(float)
    raise ResistScoreError(
        f"the AnnData has no embedding {basis!r} (obsm keys: {list(adata.obsm.keys())}); compute it first, "
        f"e.g. sc.pp.neighbors(adata); sc.tl.{basis}(adata), or pass basis=<an obsm key>."
    )


def embedding(
    adata: Any,
    basis: str = "umap",
    signatures: Sequence[str] | str | None = None,
    *,
    ncols: int = 3,
    size: float | None = None,
    cmap: str | None = None,
    center: float | None | str = "auto",
    key: str = DEFAULT_KEY,
    ax: Axes | None = None,
    save: str | os.PathLike[str] | None = None,
) -> Axes | Figure:
    """Overlay signature scores on a 2-D embedding of an AnnData (UMAP, t-SNE, PCA, ...).

    Works with matplotlib alone (scanpy's plotting is not needed).

    Parameters
    ----------
    adata
        AnnData with ``obsm["X_<basis>"]`` and scores in ``obsm["resistscore_scores"]`` (or in
        ``obs`` columns of the same names).
    basis
        Embedding name (``"umap"`` reads ``obsm["X_umap"]``) or an ``obsm`` key.
    signatures
        Signatures to show (default: all), one panel each.
    ncols
        Panels per row.
    size
        Marker size in points^2 (default: 60000 / number of cells, within [0.3, 12]).
    cmap, center
        Colormap and centre. Default: diverging ``"RdBu_r"`` centred at 0 when the scores take both
        signs, else ``"viridis"``; the limits are the 1st/99th percentiles (symmetric when centred).
    key
        The run to plot from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``.
    ax
        Axes to draw into; only with a single signature.
    save
        Optional output path (format from the suffix). Points are rasterised in vector formats.

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The Axes with one signature, else the Figure of panels.

    Examples
    --------
    >>> import numpy as np, pandas as pd, anndata as ad, matplotlib.pyplot as plt
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> adata = ad.AnnData(np.zeros((50, 2)))
    >>> adata.obsm["X_umap"] = rng.normal(size=(50, 2))
    >>> adata.obsm["resistscore_scores"] = pd.DataFrame(
    ...     {"efflux_abc": rng.normal(size=50)}, index=adata.obs_names
    ... )
    >>> ax = rs.pl.embedding(adata, signatures="efflux_abc")
    >>> ax.get_title()
    'efflux_abc'
    >>> plt.close(ax.figure)
    """
    if not is_anndata(adata):
        raise ResistScoreError(f"`adata` must be an AnnData with an embedding; got {type(adata).__name__}.")
    ncols = check_int("ncols", ncols, minimum=1)
    xy = _embedding_coords(adata, basis)
    values = _embedding_values(adata, signatures, key)
    if ax is not None and len(values) > 1:
        raise ResistScoreError(
            "`ax` can only be given with a single signature; omit it to get a panel figure."
        )
    if size is None:  # half of scanpy's 120000 / n: the panels are smaller
        size = float(np.clip(60000 / max(len(xy), 1), 0.3, 12))
    n = len(values)
    with theme():
        if ax is None:
            nc = min(ncols, n)
            nr = math.ceil(n / nc)
            fig, axes = plt.subplots(
                nr, nc, figsize=(3.3 * nc, 2.9 * nr), squeeze=False, layout="constrained"
            )
            axes_list = list(axes.ravel())
            for extra in axes_list[n:]:
                extra.set_visible(False)
        else:
            axes_list = [new_axes(ax, (3.3, 2.9))]
            fig = axes_list[0].figure
        for a, (name, v) in zip(axes_list, values.items()):
            _embedding_panel(fig, a, xy, v, name, basis, size, cmap, center)
    out: Axes | Figure = axes_list[0] if n == 1 else fig
    return finish(out, save)


def _embedding_values(adata: Any, signatures: Any, key: str = DEFAULT_KEY) -> dict[str, np.ndarray]:
    """Return the values of every panel: scored signatures (of the run ``key``), or numeric obs columns."""
    scores = scores_frame(adata, key=key) if get.obsm_key(key) in adata.obsm else None
    if isinstance(signatures, str):
        signatures = [signatures]
    if signatures is None:
        if scores is None:
            raise ResistScoreError(
                f'the AnnData has no obsm["{get.obsm_key(key)}"] (runs it holds: {get.runs(adata)}; pass `key=` one '
                "of them); run rs.tl.score(adata) or name obs columns in `signatures`."
            )
        signatures = list(scores.columns)
    values = {}
    for s in signatures:
        if scores is not None and s in scores.columns:
            values[s] = scores[s].to_numpy(float)
        elif s in adata.obs.columns and pd.api.types.is_numeric_dtype(adata.obs[s]):
            values[s] = adata.obs[s].to_numpy(float)
        else:
            known = list(scores.columns) if scores is not None else []
            raise ResistScoreError(
                f"`signatures`: {s!r} is neither a scored signature {known[:20]} nor a numeric obs column."
            )
    return values


def _embedding_panel(
    fig, a: Axes, xy: np.ndarray, v: np.ndarray, name: str, basis: str, size, cmap, center
) -> None:
    """One panel: cells coloured by ``v`` (extreme values on top, missing values grey underneath)."""
    cm, cen = score_cmap(v, cmap, center)
    finite = v[np.isfinite(v)]
    if cen is not None and finite.size:
        lim = float(np.percentile(np.abs(finite - cen), 99)) or 1.0
        vmin, vmax = cen - lim, cen + lim
    elif finite.size:
        vmin, vmax = np.percentile(finite, [1, 99])
    else:
        vmin, vmax = 0.0, 1.0
    order = np.argsort(np.where(np.isfinite(v), np.abs(v - (cen or np.nanmedian(v))), -np.inf), kind="stable")
    nan_idx = order[~np.isfinite(v[order])]
    ok_idx = order[np.isfinite(v[order])]
    if nan_idx.size:
        a.scatter(xy[nan_idx, 0], xy[nan_idx, 1], s=size, color="#DDDDDD", edgecolor="none", rasterized=True)
    sc = a.scatter(
        xy[ok_idx, 0],
        xy[ok_idx, 1],
        c=v[ok_idx],
        s=size,
        cmap=cm,
        vmin=vmin,
        vmax=vmax,
        edgecolor="none",
        rasterized=True,
    )
    fig.colorbar(sc, ax=a, shrink=0.7, label="score")
    a.set_title(name)
    a.set_xticks([])
    a.set_yticks([])
    a.set_xlabel(f"{basis.upper()}1" if not basis.startswith("X_") else f"{basis[2:]}1")
    a.set_ylabel(f"{basis.upper()}2" if not basis.startswith("X_") else f"{basis[2:]}2")
