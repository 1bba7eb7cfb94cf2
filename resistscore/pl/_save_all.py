"""Write every standard figure of a result into a folder (used by ``resistscore plot`` and the report)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from resistscore import get
from resistscore._atomic import atomic_files
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore.pl._groups import groups, profile
from resistscore.pl._heatmap import heatmap
from resistscore.pl._scatter import coverage, coverage_frame, embedding
from resistscore.pl._scatter import response as response_plot
from resistscore.pl._stats import forest, roc, volcano
from resistscore.pl._survival import kaplan_meier
from resistscore.pl._utils import figure_of, metadata_frame, save_figure, scores_frame

__all__ = ["save_all", "standard_figures"]

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


def _stats_items(stats: Any) -> list[tuple[str, Any]]:
    if stats is None:
        return []
    if isinstance(stats, Mapping):
        return [(str(k), v) for k, v in stats.items()]
    if isinstance(stats, (list, tuple)):
        return [(f"stats{i + 1}" if len(stats) > 1 else "stats", s) for i, s in enumerate(stats)]
    return [("stats", stats)]


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


def _per_replicate(scores: pd.DataFrame, meta: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean score per replicate (e.g.

    patient) and its metadata: columns constant within a replicate, plus the mean of numeric columns that
    vary within it.
    """
    if key not in meta.columns:
        raise ResistScoreError(
            f"`sample_key` {key!r} is not a metadata column; available: {list(meta.columns)[:20]}."
        )
    keys = meta[key]
    if keys.isna().any():
        raise ResistScoreError(f"`sample_key` {key!r} has missing values; every cell needs its replicate.")
    agg = scores.groupby(keys, sort=True, observed=True).mean()
    grouped = meta.groupby(keys, sort=True, observed=True)
    others = [c for c in meta.columns if c != key]
    constant = [c for c in others if (grouped[c].nunique(dropna=False) <= 1).all()]
    # numeric columns that vary within a replicate (e.g. a per-cell measure) are averaged
    varying = [c for c in others if c not in constant and pd.api.types.is_numeric_dtype(meta[c])]
    rep_meta = (
        grouped[constant].first().join(grouped[varying].mean()) if varying else grouped[constant].first()
    )
    rep_meta = rep_meta[[c for c in others if c in rep_meta.columns]]
    agg.index = agg.index.astype(str)
    rep_meta.index = rep_meta.index.astype(str)
    return agg, rep_meta


def _top_correlated(scores: pd.DataFrame, resp: Any, limit: int) -> list[tuple[str, float]]:
    """Return the ``limit`` signatures with the largest absolute Spearman correlation with the response."""
    if not isinstance(resp, pd.Series):
        raise ResistScoreError("`response` must be a metadata column name or a Series indexed by sample.")
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


def _check_columns(meta: pd.DataFrame, asked: Sequence[tuple[str, Any]]) -> None:
    """Refuse a metadata column that does not exist, naming the argument and the available columns."""
    for arg, col in asked:
        if col is not None and col not in meta.columns:
            avail = ", ".join(map(str, list(meta.columns)[:20])) or "(none)"
            raise ResistScoreError(f"`{arg}` {col!r} is not a metadata column; available columns: {avail}.")


def _table(stats: Any):
    return stats if isinstance(stats, pd.DataFrame) else getattr(stats, "table", None)


def standard_figures(
    result: Any,
    metadata: Any = None,
    *,
    group: str | None = None,
    annotation: Sequence[str] | None = None,
    stats: Any = None,
    survival: Any = None,
    time: str | None = None,
    event: str | None = None,
    km_signature: str | None = None,
    response: Any = None,
    sample_key: str | None = None,
    adata: Any = None,
    basis: str = "umap",
) -> Iterator[tuple[str, str, Callable[[], Any]]]:
    """Yield ``(name, caption, draw)`` for every standard figure that applies to the inputs.

    ``draw()`` makes the figure and returns what the plotting function returns. Used by
    :func:`save_all` and by the HTML report; see :func:`save_all` for the parameters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> scores = pd.DataFrame(np.arange(12.0).reshape(6, 2), index=list("abcdef"), columns=["x", "y"])
    >>> meta = pd.DataFrame({"group": list("pppqqq")}, index=scores.index)
    >>> [name for name, caption, draw in rs.pl.standard_figures(scores, meta, group="group")]
    ['heatmap', 'profile', 'groups']
    """
    scores = scores_frame(result, name="result")
    meta = metadata
    if meta is None and is_anndata(result):
        meta = result.obs
    if meta is None and is_anndata(adata):
        meta = adata.obs
    if is_anndata(meta):
        meta = meta.obs
    ann_cols = list(annotation) if annotation is not None else ([group] if group else [])
    if (ann_cols or sample_key or isinstance(response, str)) and meta is None:
        raise ResistScoreError(
            "`group`/`annotation`/`sample_key`/`response` need `metadata` (or an AnnData, whose .obs is used)."
        )
    if meta is not None:
        meta = metadata_frame(scores, meta)
        _check_columns(
            meta,
            [
                ("group", group),
                ("response", response if isinstance(response, str) else None),
                ("time", time),
                ("event", event),
                ("sample_key", sample_key),
                *(("annotation", c) for c in (annotation or ())),
            ],
        )
    items = _stats_items(stats)
    if survival is None:  # a survival result among the statistics brings its Kaplan-Meier curves
        survival = next((s for _, s in items if isinstance(getattr(s, "km", None), pd.DataFrame)), None)
    # compare replicates, not cells: per-replicate mean scores for the group / survival / response figures
    unit_scores, unit_meta, unit = scores, meta, "sample"
    if sample_key is not None:
        unit_scores, unit_meta = _per_replicate(scores, meta, sample_key)
        unit = sample_key

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
    yield (
        "heatmap",
        caption,
        lambda: heatmap(shown, annotation=meta.loc[shown.index, ann_cols] if ann_cols else None),
    )
    try:
        cov = coverage_frame(result)
    except ResistScoreError:
        cov = None
    if cov is not None:
        yield (
            "coverage",
            "Share of each signature's absolute weight measured in the data; signatures below their minimal "
            "coverage are not reported.",
            lambda: coverage(cov),
        )
    per = f" (one value per {unit}: mean of its cells)" if sample_key else ""
    if group:
        yield (
            "profile",
            f"Mechanism profile: mean score per {group} with 95% t-intervals{per}.",
            lambda: profile(unit_scores, by=group, metadata=unit_meta),
        )
    else:
        yield ("profile", "Mechanism profile: mean score of all samples.", lambda: profile(scores))
    if group:
        group_stats = None
        for _, s in items:
            t = _table(s)
            if t is not None and {"group1", "group2"} <= set(t.columns):
                group_stats = s
                break
        reported = [c for c in scores.columns if scores[c].notna().any()]
        chosen = _top_signatures(reported, _table(group_stats) if group_stats is not None else None, "fdr")
        caption = f"Scores by {group}{per}" + (" with test results (FDR)" if group_stats is not None else "")
        if len(chosen) < len(reported):
            how = "smallest FDR" if group_stats is not None else "first in order"
            caption += f"; the {len(chosen)} of {len(reported)} reported signatures with the {how}"
        yield (
            "groups",
            caption + ".",
            lambda: groups(
                unit_scores,
                unit_meta,
                group=group,
                signatures=chosen,
                stats=group_stats,
                points=len(unit_scores) <= MAX_POINTS,
            ),
        )
    for name, s in items:
        t = _table(s)
        if isinstance(getattr(s, "curves", None), pd.DataFrame) and "fpr" in s.curves.columns:
            suffix = "" if name == "stats" else "_" + _slug(name)
            yield (f"roc{suffix}", f"ROC curves of the scores as classifiers ({name}).", lambda s=s: roc(s))
        if t is None or "effect" not in t.columns:
            continue
        suffix = "" if name == "stats" else "_" + _slug(name)
        yield (f"forest{suffix}", f"Effects with confidence intervals ({name}).", lambda s=s: forest(s))
        if "pvalue" in t.columns:
            yield (f"volcano{suffix}", f"Effect against significance ({name}).", lambda s=s: volcano(s))
    has_curves = survival is not None and any(
        isinstance(getattr(survival, a, None), pd.DataFrame) for a in ("km", "curves")
    )
    if has_curves:
        curves = survival.km if isinstance(getattr(survival, "km", None), pd.DataFrame) else survival.curves
        km_sigs = (
            list(pd.unique(curves["signature"].astype(str))) if "signature" in curves.columns else [None]
        )
        if km_signature is not None:
            km_sigs = [km_signature]
        elif len(km_sigs) > MAX_KM:
            km_sigs = _top_signatures(km_sigs, _table(survival), "logrank_pvalue", MAX_KM)
        for sig in km_sigs:
            suffix = f"_{_slug(sig)}" if sig and len(km_sigs) > 1 else ""
            yield (
                f"kaplan_meier{suffix}",
                f"Kaplan-Meier curves{f' of {sig}' if sig else ''} (high vs low score) with log-rank test.",
                lambda sig=sig: kaplan_meier(survival, signature=sig),
            )
    elif time and event and meta is not None:
        sig = km_signature or unit_scores.columns[unit_scores.notna().any().to_numpy()][0]
        yield (
            "kaplan_meier",
            f"Kaplan-Meier curves of {unit}s split at the median {sig} score; log-rank test.",
            lambda: kaplan_meier(unit_scores, unit_meta, time=time, event=event, signature=sig),
        )
    if response is not None:
        if isinstance(response, str) and response not in unit_meta.columns:
            raise ResistScoreError(
                f"`response` {response!r} is not a metadata column (per {unit}: categorical columns that vary "
                f"within a {unit} are dropped); available: {list(unit_meta.columns)[:20]}."
            )
        resp = unit_meta[response] if isinstance(response, str) else response
        if isinstance(resp, pd.Series) and sample_key is not None and not isinstance(response, str):
            resp = resp.reindex(unit_scores.index)
        for sig, rho in _top_correlated(unit_scores, resp, MAX_RESPONSE):
            yield (
                f"response_{_slug(sig)}",
                f"{sig} score against {getattr(resp, 'name', None) or 'response'}{per}; Spearman rho={rho:.2f} "
                f"(the {MAX_RESPONSE} signatures with the largest |rho| are drawn).",
                lambda sig=sig: response_plot(unit_scores, resp, signature=sig),
            )
    source = result if is_anndata(result) else adata
    if is_anndata(source) and (f"X_{basis}" in source.obsm or basis in source.obsm):
        if not is_anndata(result):  # a ScoreResult of this AnnData: put its scores beside the embedding
            source = _embedding_view(source, scores, basis)
        yield (
            "embedding",
            f"Scores on the {basis.upper()} embedding.",
            lambda: embedding(source, basis=basis, signatures=_first_reported(scores, MAX_EMBEDDING)),
        )


def save_all(
    result: Any,
    outdir: str | os.PathLike[str] = "figures",
    metadata: Any = None,
    *,
    group: str | None = None,
    annotation: Sequence[str] | None = None,
    stats: Any = None,
    survival: Any = None,
    time: str | None = None,
    event: str | None = None,
    km_signature: str | None = None,
    response: Any = None,
    sample_key: str | None = None,
    adata: Any = None,
    basis: str = "umap",
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """Write all standard figures of a scoring result into a folder, in each of ``formats``.

    Figures: ``heatmap`` (a seeded random subsample of 2,000 samples when there are more),
    ``coverage`` (when the result has a coverage table), ``profile``, ``groups`` (with ``group``; at
    most 12 signatures, those with the smallest FDR in the group-comparison result), ``forest`` and
    ``volcano`` (per statistics result), ``kaplan_meier`` (per signature of a survival result, at most
    6: those with the smallest log-rank p; or from ``time`` and ``event`` columns), ``embedding``
    (AnnData with ``obsm["X_<basis>"]``). Every figure is closed after writing.

    Parameters
    ----------
    result
        ``ScoreResult``, scored AnnData or samples x signatures DataFrame.
    outdir
        Output folder (created if needed). ``save_all(result, metadata, outdir)`` (metadata second)
        is accepted too.
    metadata
        Sample annotations (default ``adata.obs`` for an AnnData).
    group
        Metadata column of the groups to compare (profile, box plots, heatmap annotation).
    annotation
        Metadata columns for the heatmap's colour bars (default: ``[group]``).
    stats
        A statistics result, a list of them, or a dict name -> result. A survival result among
        them also gives the Kaplan-Meier figures (when ``survival`` is not given).
    survival
        The result of ``rs.tl.survival`` (its Kaplan-Meier curves ``.km``).
    time, event
        Metadata columns of follow-up time and event (Kaplan-Meier computed here).
    km_signature
        Signature whose median split defines the Kaplan-Meier groups (default: the first reported one),
        or the only signature drawn from a survival result.
    response
        Drug response (a metadata column name or a Series indexed by sample): scatter plots of the 4
        signatures with the largest absolute Spearman correlation.
    sample_key
        Metadata column of the biological replicate (single-cell data): the group, profile,
        Kaplan-Meier and response figures use the mean score of each replicate, not the cells.
    adata
        The AnnData that was scored, when ``result`` is a ``ScoreResult``: its embedding is drawn and
        its ``obs`` is the default metadata.
    basis
        Embedding to use for AnnData input.
    formats
        File formats (suffixes), e.g. ``("png", "pdf")`` or ``("svg",)``.

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
    ...     files = rs.pl.save_all(scores, d, metadata=meta, group="group", formats=("png",))
    ...     [f.name for f in files]
    ['heatmap.png', 'profile.png', 'groups.png']
    """
    if isinstance(outdir, pd.DataFrame) or is_anndata(outdir):  # save_all(result, metadata, outdir)
        outdir, metadata = (metadata if metadata is not None else "figures"), outdir
    formats = [f.lower().lstrip(".") for f in formats]
    from matplotlib.backend_bases import FigureCanvasBase

    supported = FigureCanvasBase.get_supported_filetypes()
    bad = [f for f in formats if f not in supported]
    if bad:
        raise ResistScoreError(f"`formats` {bad} are not supported; choose among {sorted(supported)}.")
    outdir = Path(outdir)
    written: list[Path] = []
    with atomic_files(outdir) as stage:
        _draw_all(
            stage,
            formats,
            written,
            result,
            metadata,
            group=group,
            annotation=annotation,
            stats=stats,
            survival=survival,
            time=time,
            event=event,
            km_signature=km_signature,
            response=response,
            sample_key=sample_key,
            adata=adata,
            basis=basis,
        )
    return [outdir / p.relative_to(stage) for p in written]


def _draw_all(
    stage: Path, formats: Sequence[str], written: list[Path], result: Any, metadata: Any, **kw
) -> None:
    for name, _, draw in standard_figures(result, metadata, **kw):
        fig = figure_of(draw())
        try:
            for fmt in formats:
                written.append(save_figure(fig, stage / f"{name}.{fmt}"))
        finally:
            plt.close(fig)
