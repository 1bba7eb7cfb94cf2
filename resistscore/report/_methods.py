"""The methods paragraph of the report, with numbered references, ready to paste into a paper."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup

from resistscore._version import __version__
from resistscore.report._citations import CITATIONS, Citation, method_citation
from resistscore.report._format import test_name
from resistscore.report._inputs import ResultView
from resistscore.report._summary import fdr_family_words

__all__ = ["fdr_families", "methods_paragraph"]

#: how each statistics result adjusts its p-values (the family of its Benjamini-Hochberg FDR)
_FAMILY = {
    "compare_groups": "across signatures within each comparison of two groups (or omnibus test)",
    "fit_model": "across signatures within each model term",
    "associate": "across signatures within each response",
    "survival": "across signatures (Cox and log-rank tests separately)",
    "roc": "across signatures",
}


class _Refs:
    """Numbered references in order of first citation."""

    def __init__(self) -> None:
        self.items: list[Citation] = []

    def cite(self, citation: Citation) -> str:
        if citation not in self.items:
            self.items.append(citation)
        n = self.items.index(citation) + 1
        return f'<a href="#ref-{html.escape(citation.key)}">[{n}]</a>'


def _scoring(view: ResultView, refs: _Refs) -> list[str]:
    esc = html.escape
    versions = view.versions or {}
    sig_version = versions.get("signatures")
    version = esc(str(versions.get("resistscore", __version__)))
    review = refs.cite(CITATIONS["review"])
    n = len(view.reported)
    if sig_version and "resistscore" in str(sig_version).lower():
        first = (
            f"Gene-expression profiles were scored for {n} drug-resistance signature(s) curated from the "
            f"mechanisms reviewed by Mansoori et al. {review}, with resistscore {version} (signature set "
            f"{esc(str(sig_version))})."
        )
    else:
        first = (
            f"Gene-expression profiles were scored for {n} user-supplied gene signature(s) of drug-resistance "
            f"mechanisms (reviewed by Mansoori et al. {review}) with resistscore {version}"
            + (f" (signatures: {esc(str(sig_version))})" if sig_version else "")
            + "."
        )
    text = [first]
    if view.method:
        cit = method_citation(view.method)
        text.append(
            f"Scores were computed with the {esc(str(view.method))} method"
            + (f" {refs.cite(cit)}" if cit else "")
            + (f" (random seed {esc(str(view.seed))})" if view.seed is not None else "")
            + "."
        )
    text.append(_coverage_rule(view))
    if view.fdr is not None:
        controls = f"{view.n_controls} " if view.n_controls else ""
        text.append(
            f"The significance of each sample's score was assessed against {controls}random gene sets matched "
            "to the signature's genes on mean expression and variance (empirical p-values); the false discovery "
            f"rate {refs.cite(CITATIONS['bh'])} was controlled with {esc(fdr_family_words(view))}."
        )
    return text


def _coverage_rule(view: ResultView) -> str:
    min_cov = view.params.get("min_coverage")
    cov = view.coverage
    rest = ""
    if min_cov is None and isinstance(cov, pd.DataFrame) and "min_coverage" in cov.columns:
        values = pd.to_numeric(cov["min_coverage"], errors="coerce").dropna()
        if len(values):
            counts = values.value_counts()
            min_cov = f"{counts.index[0]:g}"
            others = values[values != counts.index[0]]
            if len(others):
                rest = f" ({len(others)} signature(s) required {', '.join(f'{v:g}' for v in sorted(set(others)))})"
    share = f"{html.escape(str(min_cov))} of" if min_cov is not None else "its minimal share (default 0.5) of"
    return (
        f"A signature was reported only when the measured genes carried at least {share} its total absolute "
        f"gene weight{rest}; other scores are missing."
    )


def _statistics(stats: Sequence[tuple[str, Any]], refs: _Refs, survival: bool) -> list[str]:
    kinds = {getattr(obj, "kind", None) for _, obj in stats}
    tests = sorted(
        {
            test_name(t)
            for _, obj in stats
            if isinstance(table := getattr(obj, "table", obj), pd.DataFrame)
            for col in ("test", "method", "model")
            if col in table.columns
            for t in table[col].dropna().unique()
        }
    )
    text = []
    if stats and (kinds - {"survival", "roc"} or not kinds & {"survival", "roc"}):
        used = f" ({', '.join(map(html.escape, tests))})" if tests else ""
        text.append(
            f"Statistical tests{used} used scipy and statsmodels {refs.cite(CITATIONS['statsmodels'])}."
        )
    if "survival" in kinds or survival:
        text.append(
            "Cox proportional-hazards models, Kaplan-Meier estimates and log-rank tests used lifelines "
            f"{refs.cite(CITATIONS['lifelines'])}."
        )
    keys = sorted({str(k) for _, obj in stats if (k := (getattr(obj, "params", {}) or {}).get("sample_key"))})
    if keys:
        text.append(
            f"Cells were not treated as independent: tests used one mean score per {html.escape(' / '.join(keys))} "
            "(or a mixed model with a random intercept per replicate)."
        )
    if stats:
        text.append(
            "The p-values of each analysis were adjusted with the Benjamini-Hochberg false discovery rate "
            f"{refs.cite(CITATIONS['bh'])}."
        )
    return text


def methods_paragraph(
    view: ResultView,
    stats: Sequence[tuple[str, Any]],
    *,
    survival: bool = False,
    response_figures: bool = False,
) -> tuple[Markup, list[Citation]]:
    """Return the paragraph and the references it cites, in order of first citation."""
    refs = _Refs()
    text = _scoring(view, refs)
    if view.anndata:
        text.append(f"Data were handled as AnnData objects with scanpy {refs.cite(CITATIONS['scanpy'])}.")
    text += _statistics(stats, refs, survival)
    if response_figures:
        text.append(
            "Trend lines of scores against drug response are LOWESS smoothers "
            f"{refs.cite(CITATIONS['lowess'])}, drawn under the rank correlation that was tested."
        )
    text.append(
        f"Figures use the colour-blind-safe Okabe-Ito palette {refs.cite(CITATIONS['okabe_ito'])} and "
        "perceptually uniform colour maps."
    )
    return Markup(" ".join(text)), refs.items


def fdr_families(view: ResultView, stats: Sequence[tuple[str, Any]]) -> list[str]:
    """One sentence per family of tests whose p-values were adjusted together."""
    out = []
    if view.fdr is not None:
        out.append(f"Per-sample scores: {fdr_family_words(view)}.")
    for name, obj in stats:
        kind = getattr(obj, "kind", None)
        if kind in _FAMILY:
            out.append(f"{name}: Benjamini-Hochberg {_FAMILY[kind]}.")
    return out
