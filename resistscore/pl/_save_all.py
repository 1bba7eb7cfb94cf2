"""Write every standard figure of a result into a folder (used by ``resistscore plot`` and the report)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from resistscore import get
from resistscore._atomic import atomic_files
from resistscore._design import Design, named_results
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore.pl._groups import groups, profile
from resistscore.pl._heatmap import heatmap
from resistscore.pl._matrix import matrixplot
from resistscore.pl._scatter import coverage, coverage_frame, embedding
from resistscore.pl._scatter import response as response_plot
from resistscore.pl._stats import forest, roc, volcano
from resistscore.pl._survival import kaplan_meier
from resistscore.pl._utils import (
    figure_of,
    metadata_frame,
    obs_source,
    save_figure,
    scores_frame,
    unit_means,
    uns_palette,
)

__all__ = ["StandardFigure", "save_all", "standard_figures"]

#: the standard heatmap shows at most this many samples (a seeded random subsample of larger data)
MAX_HEATMAP_SAMPLES = 2000
#: box plots overlay the individual samples up to this many
MAX_POINTS = 2000
#: the standard box plot shows at most this many signatures (the most significant ones)
MAX_GROUP_SIGNATURES = 12
#: Kaplan-Meier figures of a survival result: at most this many signatures (smallest log-rank p)
MAX_KM = 6
#: score-vs-response scatters: the signatures with the largest |Spearman rho|
MAX_RESPONSE = 4
#: embedding panels: the first reported signatures
MAX_EMBEDDING = 12


class StandardFigure(NamedTuple):
    """One standard figure: its name (file and HTML id), its caption and a function that draws it.

    ``draw()`` makes the figure and returns what the plotting function returns (an Axes, a seaborn
    ``ClusterGrid`` or a Figure); ``render()`` returns its matplotlib Figure.
    """

    name: str
    caption: str
    draw: Callable[[], Any]

    def render(self) -> Figure:
        """Draw the figure and return its :class:`matplotlib.figure.Figure`."""
        return figure_of(self.draw())


@dataclass
class _Inputs:
    """What every standard figure is drawn from: the scores, the metadata, the design and the results."""

    result: Any
    scores: pd.DataFrame
    meta: pd.DataFrame | None
    design: Design
    items: list[tuple[str, Any]]
    survival: Any
    source: Any  # the AnnData with scanpy's colours and the embedding, if any
    basis: str
    key: str = get.DEFAULT_KEY  # the run drawn, when ``result`` is an AnnData

    @property
    def per(self) -> str:
        """How a caption says that the unit is the replicate (empty for samples)."""
        key = self.design.sample_key
        return f" (one value per {key}: mean of its cells)" if key else ""

    @cached_property
    def units(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Scores and metadata of the unit the tests use: the samples, or the replicate means."""
        if self.design.sample_key is None:
            return self.scores, self.meta
        return unit_means(self.scores, self.meta, [self.design.sample_key])

    def palette(self, column: str | None) -> dict | None:
        return uns_palette(self.source, column)

    def group_stats(self) -> Any:
        """Return the first result among the statistics that compares groups (``group1`` / ``group2``)."""
        for _, s in self.items:
            t = _table(s)
            if t is not None and {"group1", "group2"} <= set(t.columns):
                return s
        return None

    def response_stats(self) -> Any:
        """Return the association result of the design's response, if one was given."""
        for _, s in self.items:
            t = _table(s)
            if (
                t is not None
                and "response" in t.columns
                and (t["response"].astype(str) == self.design.response).any()
            ):
                return s
        return None


def _inputs(result, metadata, design: Design, stats, survival, adata, basis, key=get.DEFAULT_KEY) -> _Inputs:
    scores = scores_frame(result, name="result", key=key)
    meta = metadata
    if meta is None:
        meta = obs_source(result, adata)
    if is_anndata(meta):
        meta = meta.obs
    if meta is not None:
        meta = metadata_frame(scores, meta)
    meta = design.check(meta)
    items = named_results(stats)
    if survival is None:  # a survival result among the statistics brings its Kaplan-Meier curves
        survival = next((s for _, s in items if isinstance(getattr(s, "km", None), pd.DataFrame)), None)
    source = obs_source(result, adata)
    return _Inputs(result, scores, meta, design, items, survival, source, basis, key)


def _top_signatures(names: list, table: Any, column: str, limit: int | None = None) -> list:
    """At most ``limit`` names: those with the smallest ``column`` in ``table`` (else the first ones)."""
    limit = MAX_GROUP_SIGNATURES if limit is None else limit
    if len(names) <= limit:
        return list(names)
    if isinstance(table, pd.DataFrame) and {"signature", column} <= set(table.columns):
        best = table.assign(_p=pd.to_numeric(table[column], errors="coerce")).groupby("signature")["_p"].min()
        ranked = best.reindex(names).sort_values(kind="mergesort", na_position="last")
        return list(ranked.index[:limit])
    return list(names[:limit])


def _top_correlated(scores: pd.DataFrame, resp: pd.Series, limit: int) -> list[tuple[str, float]]:
    """Return the ``limit`` signatures with the largest absolute Spearman correlation with the response."""
    resp = pd.to_numeric(resp.reindex(scores.index), errors="coerce")
    ranked = []
    for sig in scores.columns:
        ok = scores[sig].notna() & resp.notna()
        if ok.sum() >= 3 and scores.loc[ok, sig].nunique() > 1 and resp[ok].nunique() > 1:
            rho = float(pd.Series(scores.loc[ok, sig]).rank().corr(resp[ok].rank()))
            ranked.append((sig, rho))
    ranked.sort(key=lambda t: -abs(t[1]))
    return ranked[:limit]


def _first_reported(scores: pd.DataFrame, limit: int) -> list[str]:
    return [c for c in scores.columns if scores[c].notna().any()][:limit]


def _reported(scores: pd.DataFrame) -> list[str]:
    return [c for c in scores.columns if scores[c].notna().any()]


def _embedding_view(adata: Any, scores: pd.DataFrame, basis: str) -> Any:
    """Return a light AnnData with the embedding of ``adata`` and the given scores (the user's object is not modified)."""
    import anndata as ad

    key = f"X_{basis}" if f"X_{basis}" in adata.obsm else basis
    view = ad.AnnData(obs=pd.DataFrame(index=adata.obs_names.astype(str)))
    view.obsm[key] = np.asarray(adata.obsm[key])
    view.obsm[get.OBSM_SCORES] = scores.reindex(view.obs_names)
    return view


def _slug(text: str) -> str:
    """File- and HTML-id-safe version of a name: 'resistant vs sensitive' -> 'resistant-vs-sensitive'."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", str(text)).strip("-") or "x"


def _check_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ResistScoreError(
            f"`key` must be the name of a scoring run (key_added of rs.tl.score, e.g. 'resistscore'); got {key!r}."
        )
    return key


def _table(stats: Any):
    return stats if isinstance(stats, pd.DataFrame) else getattr(stats, "table", None)


def standard_figures(
    result: Any,
    metadata: Any = None,
    *,
    design: Design | None = None,
    stats: Any = None,
    survival: Any = None,
    adata: Any = None,
    basis: str = "umap",
    key: str = get.DEFAULT_KEY,
    **design_fields: Any,
) -> Iterator[StandardFigure]:
    """Yield a :class:`StandardFigure` ``(name, caption, draw)`` for every standard figure of the inputs.

    ``draw()`` makes the figure and returns what the plotting function returns; ``render()`` returns
    its Figure. Used by :func:`save_all` and by the HTML report; see :func:`save_all` for the
    parameters (``key``: the run drawn from a scored AnnData) and the figures.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> scores = pd.DataFrame(np.arange(12.0).reshape(6, 2), index=list("abcdef"), columns=["x", "y"])
    >>> meta = pd.DataFrame({"group": list("pppqqq")}, index=scores.index)
    >>> [f.name for f in rs.pl.standard_figures(scores, meta, design=rs.Design(group="group"))]
    ['heatmap', 'profile', 'groups', 'matrixplot']
    """
    design = Design.resolve(design, **design_fields)
    ctx = _inputs(result, metadata, design, stats, survival, adata, basis, _check_key(key))
    for step in (
        _heatmap_figure,
        _coverage_figure,
        _profile_figure,
        _group_figures,
        _stats_figures,
        _survival_figures,
        _response_figures,
        _embedding_figure,
    ):
        yield from step(ctx)


def _heatmap_figure(ctx: _Inputs) -> Iterator[StandardFigure]:
    scores, columns = ctx.scores, ctx.design.heatmap_annotation
    shown = scores
    caption = (
        "Scores (z-scored per signature) of every sample, clustered (average linkage, Euclidean distance)."
    )
    if len(scores) > MAX_HEATMAP_SAMPLES:
        rng = np.random.default_rng(0)
        keep = np.sort(rng.choice(len(scores), MAX_HEATMAP_SAMPLES, replace=False))
        shown = scores.iloc[keep]
        caption = (
            f"Scores (z-scored per signature) of {MAX_HEATMAP_SAMPLES} of the {len(scores)} samples/cells "
            "(uniform random subsample, seed 0), clustered (average linkage, Euclidean distance)."
        )
    annotation = ctx.meta.loc[shown.index, columns] if columns else None
    palettes = {c: p for c in columns if (p := ctx.palette(c)) is not None} or None
    yield StandardFigure("heatmap", caption, lambda: heatmap(shown, annotation=annotation, palettes=palettes))


def _coverage_figure(ctx: _Inputs) -> Iterator[StandardFigure]:
    try:
        cov = coverage_frame(ctx.result, ctx.key)
    except ResistScoreError:
        return
    yield StandardFigure(
        "coverage",
        "Share of each signature's absolute weight measured in the data; signatures below their minimal "
        "coverage are not reported.",
        lambda: coverage(cov),
    )


def _profile_figure(ctx: _Inputs) -> Iterator[StandardFigure]:
    group, key = ctx.design.group, ctx.design.sample_key
    if not group:
        yield StandardFigure(
            "profile", "Mechanism profile: mean score of all samples.", lambda: profile(ctx.scores)
        )
        return
    yield StandardFigure(
        "profile",
        f"Mechanism profile: mean score per {group} with 95% t-intervals{ctx.per}.",
        lambda: profile(ctx.scores, by=group, metadata=ctx.meta, sample_key=key, palette=ctx.palette(group)),
    )


def _group_figures(ctx: _Inputs) -> Iterator[StandardFigure]:
    """Box plots of the most significant signatures, and the group x signature matrix of all of them."""
    group = ctx.design.group
    if not group:
        return
    group_stats = ctx.group_stats()
    table = _table(group_stats) if group_stats is not None else None
    reported = _reported(ctx.scores)
    chosen = _top_signatures(reported, table, "fdr")
    caption = f"Scores by {group}{ctx.per}" + (" with test results (FDR)" if group_stats is not None else "")
    if len(chosen) < len(reported):
        how = "smallest FDR" if group_stats is not None else "first in order"
        caption += f"; the {len(chosen)} of {len(reported)} reported signatures with the {how}"
    common = {"sample_key": ctx.design.sample_key, "palette": ctx.palette(group)}
    n_units = len(ctx.units[0])
    yield StandardFigure(
        "groups",
        caption + ".",
        lambda: groups(
            ctx.scores,
            ctx.meta,
            group=group,
            signatures=chosen,
            stats=group_stats,
            points=n_units <= MAX_POINTS,
            **common,
        ),
    )
    marks = (
        " Stars: smallest FDR of the group comparison below 0.05 (*), 0.01 (**), 0.001 (***)."
        if table is not None
        else ""
    )
    yield StandardFigure(
        "matrixplot",
        f"Mean score of every reported signature per {group}{ctx.per}, z-scored per signature across "
        f"{'replicates' if ctx.design.sample_key else 'samples'}.{marks}",
        lambda: matrixplot(
            ctx.scores, ctx.meta, groupby=group, signatures=reported, stats=group_stats, **common
        ),
    )


def _stats_figures(ctx: _Inputs) -> Iterator[StandardFigure]:
    """ROC curves of a ROC result; forest and volcano plots of every result with effects."""
    for name, s in ctx.items:
        t = _table(s)
        suffix = "" if name == "stats" else "_" + _slug(name)
        if isinstance(getattr(s, "curves", None), pd.DataFrame) and "fpr" in s.curves.columns:
            yield StandardFigure(
                f"roc{suffix}", f"ROC curves of the scores as classifiers ({name}).", lambda s=s: roc(s)
            )
        if t is None or "effect" not in t.columns:
            continue
        yield StandardFigure(
            f"forest{suffix}", f"Effects with confidence intervals ({name}).", lambda s=s: forest(s)
        )
        if "pvalue" in t.columns:
            yield StandardFigure(
                f"volcano{suffix}", f"Effect against significance ({name}).", lambda s=s: volcano(s)
            )


def _survival_figures(ctx: _Inputs) -> Iterator[StandardFigure]:
    """Kaplan-Meier curves of a survival result, or of a median split computed here from time and event."""
    survival, design = ctx.survival, ctx.design
    curves = None
    if survival is not None:
        curves = next(
            (c for a in ("km", "curves") if isinstance(c := getattr(survival, a, None), pd.DataFrame)), None
        )
    if curves is not None:
        km_sigs = (
            list(pd.unique(curves["signature"].astype(str))) if "signature" in curves.columns else [None]
        )
        if design.km_signature is not None:
            km_sigs = [design.km_signature]
        elif len(km_sigs) > MAX_KM:
            km_sigs = _top_signatures(km_sigs, _table(survival), "logrank_pvalue", MAX_KM)
        for sig in km_sigs:
            suffix = f"_{_slug(sig)}" if sig and len(km_sigs) > 1 else ""
            yield StandardFigure(
                f"kaplan_meier{suffix}",
                f"Kaplan-Meier curves{f' of {sig}' if sig else ''} (high vs low score) with log-rank test.",
                lambda sig=sig: kaplan_meier(survival, signature=sig),
            )
    elif design.time and design.event and ctx.meta is not None:
        unit_scores, unit_meta = ctx.units
        unit = design.sample_key or "sample"
        sig = design.km_signature or unit_scores.columns[unit_scores.notna().any().to_numpy()][0]
        yield StandardFigure(
            "kaplan_meier",
            f"Kaplan-Meier curves of {unit}s split at the median {sig} score; log-rank test.",
            lambda: kaplan_meier(unit_scores, unit_meta, time=design.time, event=design.event, signature=sig),
        )


def _response_figures(ctx: _Inputs) -> Iterator[StandardFigure]:
    """Score against response for the signatures with the largest |rho| (the tested one when given)."""
    response, key = ctx.design.response, ctx.design.sample_key
    if response is None:
        return
    unit_scores, unit_meta = ctx.units
    if response not in unit_meta.columns:
        raise ResistScoreError(
            f"`response` {response!r} is not a metadata column (per {key}: categorical columns that vary "
            f"within a {key} are dropped); available: {list(unit_meta.columns)[:20]}."
        )
    tested = ctx.response_stats()
    for sig, rho in _top_correlated(unit_scores, unit_meta[response], MAX_RESPONSE):
        how = "tested rho with its 95% CI and FDR" if tested is not None else "Spearman rho of the points"
        yield StandardFigure(
            f"response_{_slug(sig)}",
            f"{sig} score against {response}{ctx.per}; Spearman rho={rho:.2f} (the {MAX_RESPONSE} signatures "
            f"with the largest |rho| are drawn). Dashed line: LOWESS smoother; the annotation gives the {how}.",
            lambda sig=sig: response_plot(
                ctx.scores, response, signature=sig, metadata=ctx.meta, stats=tested, sample_key=key
            ),
        )


def _embedding_figure(ctx: _Inputs) -> Iterator[StandardFigure]:
    source, basis = ctx.source, ctx.basis
    if not (is_anndata(source) and (f"X_{basis}" in source.obsm or basis in source.obsm)):
        return
    key = ctx.key
    if not is_anndata(ctx.result):  # a ScoreResult of this AnnData: put its scores beside the embedding
        source, key = _embedding_view(source, ctx.scores, basis), get.DEFAULT_KEY
    yield StandardFigure(
        "embedding",
        f"Scores on the {basis.upper()} embedding.",
        lambda: embedding(
            source, basis=basis, signatures=_first_reported(ctx.scores, MAX_EMBEDDING), key=key
        ),
    )


def save_all(
    result: Any,
    outdir: str | os.PathLike[str] = "figures",
    metadata: Any = None,
    *,
    design: Design | None = None,
    stats: Any = None,
    survival: Any = None,
    adata: Any = None,
    basis: str = "umap",
    formats: Sequence[str] = ("png", "pdf"),
    key: str = get.DEFAULT_KEY,
    **design_fields: Any,
) -> list[Path]:
    """Write all standard figures of a scoring result into a folder, in each of ``formats``.

    Figures: ``heatmap`` (a seeded random subsample of 2,000 samples when there are more; colour bars
    of the design's ``annotation`` or ``group``), ``coverage`` (when the result has a coverage table),
    ``profile``, ``groups`` (with a ``group``: box plots of at most 12 signatures, those with the
    smallest FDR in the group comparison) and ``matrixplot`` (mean z-score of every signature per group,
    starred by FDR), ``forest`` and ``volcano`` (per statistics result; ``roc`` for a ROC result),
    ``kaplan_meier`` (per signature of a survival result, at most 6: those with the smallest log-rank
    p; or from the design's ``time`` and ``event``), ``response_<signature>`` (score against the
    design's ``response`` for the 4 signatures with the largest absolute Spearman rho, with a LOWESS
    line) and ``embedding`` (AnnData with ``obsm["X_<basis>"]``). With the design's ``sample_key`` the
    figures of tests draw one mean per replicate, the unit that was tested. Categorical colours follow
    scanpy's ``adata.uns["<column>_colors"]`` when the AnnData has them. Every figure is closed after
    writing.

    Parameters
    ----------
    result
        ``ScoreResult``, scored AnnData or samples x signatures DataFrame.
    outdir
        Output folder (created if needed). ``save_all(result, metadata, outdir)`` (metadata second)
        is accepted too.
    metadata
        Sample annotations (default ``adata.obs`` for an AnnData).
    design
        The :class:`resistscore.Design` (group, response, time and event, sample key, Kaplan-Meier
        signature, heatmap annotation); checked against the metadata.
    stats
        A statistics result, a list of them, or a dict name -> result. A survival result among
        them also gives the Kaplan-Meier figures (when ``survival`` is not given).
    survival
        The result of ``rs.tl.survival`` (its Kaplan-Meier curves ``.km``).
    adata
        The AnnData that was scored, when ``result`` is a ``ScoreResult``: its embedding is drawn, its
        ``obs`` is the default metadata and its ``uns`` colours are used.
    basis
        Embedding to use for AnnData input.
    formats
        File formats (suffixes), e.g. ``("png", "pdf")`` or ``("svg",)``.
    key
        The run to draw from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        scanpy): its scores, coverage and embedding panels; e.g. ``key="resistscore_confounders"``
        for the confounders scored by :func:`resistscore.analyze`. Ignored for a ``ScoreResult`` or
        a DataFrame, which hold one run.
    **design_fields
        The fields of the design as keywords instead of ``design`` (``group="group"`` is
        ``design=rs.Design(group="group")``).

    Returns
    -------
    list of pathlib.Path
        The files written, in order.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame(
    ...     rng.normal(size=(8, 2)), index=[f"s{i}" for i in range(8)], columns=["efflux_abc", "apoptosis"]
    ... )
    >>> meta = pd.DataFrame({"group": list("aaaabbbb")}, index=scores.index)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = rs.pl.save_all(
    ...         scores, d, metadata=meta, design=rs.Design(group="group"), formats=("png",)
    ...     )
    ...     [f.name for f in files]
    ['heatmap.png', 'profile.png', 'groups.png', 'matrixplot.png']
    """
    if isinstance(outdir, pd.DataFrame) or is_anndata(outdir):  # save_all(result, metadata, outdir)
        outdir, metadata = (metadata if metadata is not None else "figures"), outdir
    formats = [f.lower().lstrip(".") for f in formats]
    from matplotlib.backend_bases import FigureCanvasBase

    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad:
        raise ResistScoreError(f"`formats` {bad} are not supported; choose among {sorted(supported)}.")
    design = Design.resolve(design, **design_fields)
    figures = standard_figures(
        result, metadata, design=design, stats=stats, survival=survival, adata=adata, basis=basis, key=key
    )
    outdir = Path(outdir)
    written: list[Path] = []
    with atomic_files(outdir) as stage:
        for figure in figures:
            fig = figure.render()
            try:
                written.extend(save_figure(fig, stage / f"{figure.name}.{fmt}") for fmt in formats)
            finally:
                plt.close(fig)
    return [outdir / p.relative_to(stage) for p in written]
