"""The report's opening: which mechanisms are high or low in which groups and samples, in words and numbers.

Every sentence is generated from a result table (effect, confidence interval, FDR) or from the per-sample
FDR of the scores; nothing is said that a table of the report does not hold.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from resistscore._design import Design
from resistscore.report._format import effect_name, fmt_ci, fmt_num, fmt_p, listing, plural, test_name
from resistscore.report._inputs import ResultView

__all__ = ["findings", "unit_one", "unit_words"]

#: signatures named per direction in a sentence (the rest are counted)
MAX_NAMED = 5


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _number(row: pd.Series, key: str) -> float:
    try:
        return float(row.get(key, np.nan))
    except (TypeError, ValueError):
        return float("nan")


def _hit(row: pd.Series, method: Any = None) -> str:
    """``efflux_abc (Hedges' g 2.31 [1.66, 2.95], FDR 3.2e-12)``."""
    ci = fmt_ci(row.get("ci_low"), row.get("ci_high"))
    effect = (
        f"{effect_name(row.get('effect_type'), method or row.get('method'))} {fmt_num(row.get('effect'))}"
    )
    return (
        f"<b>{_esc(row['signature'])}</b> ({_esc(effect)}{' ' + ci if ci else ''}, FDR {fmt_p(row['fdr'])})"
    )


def _hits(rows: pd.DataFrame) -> str:
    named = [_hit(r) for _, r in rows.head(MAX_NAMED).iterrows()]
    more = len(rows) - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _significant(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    fdr = pd.to_numeric(table["fdr"], errors="coerce")
    rows = table.assign(fdr=fdr)[fdr < alpha]
    return rows.sort_values("fdr", kind="mergesort")


def _none_found(table: pd.DataFrame, alpha: float) -> str:
    fdr = pd.to_numeric(table["fdr"], errors="coerce")
    if not fdr.notna().any():
        return "no signature could be tested"
    best = table.loc[fdr.idxmin()]
    return (
        f"no signature at FDR &lt; {alpha:g} (smallest FDR {fmt_p(best['fdr'])}, {_esc(best['signature'])})"
    )


def unit_words(params: dict[str, Any], n: Any = None) -> str:
    """Return what one observation of a test was: ``"30 samples"``, ``"6 patients (mean of their cells)"``."""
    key = params.get("sample_key") if isinstance(params, dict) else None
    unit = str(params.get("unit", "sample")) if isinstance(params, dict) else "sample"
    count = "" if n is None else f"{n} "
    if unit == "cell":
        how = f", random intercept per {key}" if key and params.get("model") == "mixed" else ""
        return f"{count}cells{how}"
    if key:
        within = " and group" if unit.startswith("sample x") else ""
        return f"{count}{key}s (mean of their cells per {key}{within})"
    return f"{count}samples"


def unit_one(params: dict[str, Any]) -> str:
    """Return what one observation of a test was, in the singular: ``"sample"``, ``"patient (mean of its cells)"``."""
    key = params.get("sample_key") if isinstance(params, dict) else None
    unit = str(params.get("unit", "sample")) if isinstance(params, dict) else "sample"
    if unit == "cell":
        return f"cell (random intercept per {key})" if key and params.get("model") == "mixed" else "cell"
    if key:
        return (
            f"{key} and group (mean of its cells)"
            if unit.startswith("sample x")
            else f"{key} (mean of its cells)"
        )
    return "sample"


def _direction(rows: pd.DataFrame) -> pd.Series:
    est = pd.to_numeric(rows["estimate"], errors="coerce") if "estimate" in rows.columns else None
    eff = pd.to_numeric(rows["effect"], errors="coerce")
    return np.sign(est.fillna(eff)) if est is not None else np.sign(eff)


def adjusted_words(params: dict[str, Any]) -> str:
    """Return what a test was adjusted for: ``", adjusted for tissue and the proliferation score"``.

    Covariates of the metadata by name; confounders (``params["adjust"]``, ``rs.tl.*(adjust=)``) as scores.
    """
    adjust = [str(c) for c in params.get("adjust") or []]
    covs = [str(c) for c in params.get("covariates") or [] if str(c) not in adjust]
    conf = [c.removeprefix("confounder.") for c in adjust]
    if conf:
        covs.append(f"the {_and(conf)} score" + ("s" if len(conf) > 1 else ""))
    return f", adjusted for {_and(covs)}" if covs else ""


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _sentence(
    head: str, rows: pd.DataFrame, alpha: float, verb: str, sign: pd.Series, labels: tuple[str, str]
) -> str:
    """``head: k of n signatures <verb> at FDR < alpha; <labels[0]>: hits; <labels[1]>: hits.``.

    ``sign`` is the direction of each row (> 0: the first label, < 0: the second).
    """
    sig = _significant(rows, alpha)
    if not len(sig):
        return f"{head}: {_none_found(rows, alpha)}."
    sign = sign.reindex(sig.index)
    parts = [f"{label}: {_hits(sig[m])}" for label, m in zip(labels, (sign > 0, sign < 0)) if m.any()]
    return (
        f"{head}: {len(sig)} of {len(rows)} signatures {verb} at FDR &lt; {alpha:g}; "
        + "; ".join(parts)
        + "."
    )


def _group_findings(name: str, obj: Any, table: pd.DataFrame, alpha: float) -> list[str]:
    params = getattr(obj, "params", {}) or {}
    out = []
    for (g1, g2), rows in table.groupby(["group1", "group2"], dropna=False, sort=False):
        test = test_name(rows["test"].dropna().iloc[0]) if rows["test"].notna().any() else "test"
        test += adjusted_words(params)
        if pd.isna(g2):  # omnibus: no direction
            n = rows["n1"].dropna().max() if "n1" in rows else None
            head = f"<b>{_esc(name)}: {_esc(g1)}</b> ({_esc(test)} on {_esc(unit_words(params, n))})"
            sig = _significant(rows, alpha)
            body = (
                f"{len(sig)} of {len(rows)} signatures differ between the groups: {_hits(sig)}"
                if len(sig)
                else _none_found(rows, alpha)
            )
            out.append(f"{head}: {body}.")
            continue
        n1 = rows["n1"].dropna().max() if "n1" in rows else None
        n2 = rows["n2"].dropna().max() if "n2" in rows else None
        unit = unit_words(params, f"{n1} vs {n2}" if n1 is not None and n2 is not None else None)
        head = f"<b>{_esc(g1)} vs {_esc(g2)}</b> ({_esc(test)} on {_esc(unit)})"
        labels = (f"higher in {_esc(g1)}", f"lower in {_esc(g1)}")
        out.append(_sentence(head, rows, alpha, "differ", _direction(rows), labels))
    return out


def _association_findings(obj: Any, table: pd.DataFrame, alpha: float) -> list[str]:
    params = getattr(obj, "params", {}) or {}
    out = []
    for response, rows in table.groupby("response", sort=False):
        method = rows["method"].dropna().iloc[0] if rows["method"].notna().any() else ""
        n = rows["n"].dropna().max() if "n" in rows else None
        adj = adjusted_words(params)
        head = (
            f"<b>{_esc(response)}</b> ({_esc(test_name(method))}{_esc(adj)} on {_esc(unit_words(params, n))})"
        )
        up = np.sign(pd.to_numeric(rows["effect"], errors="coerce"))
        labels = (f"higher scores with higher {_esc(response)}", f"higher scores with lower {_esc(response)}")
        out.append(_sentence(head, rows, alpha, "are associated", up, labels))
    return out


def _survival_findings(obj: Any, table: pd.DataFrame, alpha: float) -> list[str]:
    params = getattr(obj, "params", {}) or {}
    n = table["n"].dropna().max() if "n" in table else None
    adj = adjusted_words(params)
    head = f"<b>Survival</b> (Cox proportional hazards{_esc(adj)} on {_esc(unit_words(params, n))})"
    up = np.sign(pd.to_numeric(table["effect"], errors="coerce") - 1)
    labels = ("higher scores with shorter survival", "higher scores with longer survival")
    return [_sentence(head, table, alpha, "predict survival", up, labels)]


def _roc_findings(obj: Any, table: pd.DataFrame, alpha: float) -> list[str]:
    positive = (getattr(obj, "params", {}) or {}).get("positive", "the positive class")
    sig = _significant(table, alpha)
    head = f"<b>Classification of {_esc(positive)}</b> (ROC AUC)"
    if not len(sig):
        return [f"{head}: {_none_found(table, alpha)}."]
    return [
        f"{head}: {len(sig)} of {len(table)} signatures discriminate at FDR &lt; {alpha:g}: {_hits(sig)}."
    ]


def _generic_findings(name: str, table: pd.DataFrame, alpha: float) -> list[str]:
    sig = _significant(table, alpha)
    head = f"<b>{_esc(name)}</b>"
    if "term" in table.columns and len(sig):
        terms = ", ".join(f"{_esc(t)}: {_hits(r)}" for t, r in sig.groupby("term", sort=False))
        return [f"{head}: {len(sig)} of {len(table)} tests at FDR &lt; {alpha:g}; {terms}."]
    if not len(sig):
        return [f"{head}: {_none_found(table, alpha)}."]
    return [f"{head}: {len(sig)} of {len(table)} tests at FDR &lt; {alpha:g}: {_hits(sig)}."]


def _stats_findings(name: str, obj: Any, alpha: float) -> list[str]:
    table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "table", None)
    if not isinstance(table, pd.DataFrame) or not {"signature", "fdr"} <= set(table.columns) or table.empty:
        return []
    kind = getattr(obj, "kind", None)
    cols = set(table.columns)
    if {"group1", "group2", "test"} <= cols:
        return _group_findings(name, obj, table, alpha)
    if kind == "associate" or {"response", "method"} <= cols:
        return _association_findings(obj, table, alpha)
    if kind == "survival" or "logrank_pvalue" in cols:
        return _survival_findings(obj, table, alpha)
    if kind == "roc":
        return _roc_findings(obj, table, alpha)
    return _generic_findings(name, table, alpha)


def _sample_calls(view: ResultView, metadata: pd.DataFrame | None, design: Design, alpha: float) -> list[str]:
    """Per-sample significance: in how many samples (of each group) each signature is called."""
    if view.fdr is None:
        return ["<b>Per sample</b>: significance was not computed (scored with <code>pvalues=False</code>)."]
    fdr = view.fdr.reindex(index=view.scores.index, columns=view.reported)
    called = fdr < alpha
    counts = called.sum().sort_values(ascending=False, kind="mergesort")
    counts = counts[counts > 0]
    n = len(fdr)
    unit = "cells" if view.data_kind == "single_cell" else "samples"
    head = (
        f"<b>Per sample</b> (score above expression-matched random gene sets, FDR &lt; {alpha:g}; "
        f"{_esc(fdr_family_words(view))})"
    )
    if counts.empty:
        return [f"{head}: no {unit[:-1]} is called for any signature."]
    group = (
        design.group if metadata is not None and design.group in getattr(metadata, "columns", ()) else None
    )
    parts = []
    for sig, k in counts.head(MAX_NAMED + 3).items():
        text = f"<b>{_esc(sig)}</b> in {k} of {n} {unit}"
        if group is not None:
            labels = metadata[group].reindex(fdr.index)
            per = (
                called[sig].groupby(labels.astype(str).where(labels.notna()), sort=True).agg(["sum", "size"])
            )
            text += (
                " ("
                + ", ".join(f"{int(r['sum'])} of {int(r['size'])} {_esc(g)}" for g, r in per.iterrows())
                + ")"
            )
        elif k <= 6:
            text += f" ({_esc(', '.join(map(str, fdr.index[called[sig]])))})"
        parts.append(text)
    more = len(counts) - len(parts)
    tail = f"; {more} more signatures in fewer {unit}" if more > 0 else ""
    return [f"{head}: " + "; ".join(parts) + tail + "."]


def fdr_family_words(view: ResultView) -> str:
    """Return the family of tests the per-sample FDR of the scores was adjusted over, in words."""
    family = view.fdr_family
    if family in ("signature", "per_signature"):
        return "Benjamini-Hochberg over the samples of each signature"
    unit = "cells" if view.data_kind == "single_cell" else "samples"
    return f"Benjamini-Hochberg over all {unit} x signatures of the run"


def _coverage_note(view: ResultView) -> list[str]:
    missing = [c for c in view.scores.columns if c not in view.reported]
    if not missing:
        return []
    return [
        f"<b>Not reported</b>: {plural(len(missing), 'signature')} had too little of their gene weight measured in "
        f'the data ({_esc(listing(missing, 8))}); see <a href="#coverage">Coverage</a>.'
    ]


def _overlap_note(overlap: pd.DataFrame | None, named: set[str]) -> list[str]:
    if overlap is None or overlap.empty:
        return []
    rows = overlap[overlap["signature_a"].isin(named) & overlap["signature_b"].isin(named)]
    if rows.empty:
        return []
    pairs = [
        f"{_esc(r.signature_a)} and {_esc(r.signature_b)} ({r.n_shared} genes)"
        for r in rows.head(4).itertuples()
    ]
    more = f" and {len(rows) - 4} more pairs" if len(rows) > 4 else ""
    return [
        f"<b>Shared genes</b>: some of these signatures share genes ({'; '.join(pairs)}{more}), so their results are "
        'not independent; see <a href="#shared-genes">Shared genes</a>.'
    ]


def findings(
    view: ResultView,
    stats: Sequence[tuple[str, Any]],
    design: Design,
    metadata: pd.DataFrame | None,
    *,
    alpha: float = 0.05,
    overlap: pd.DataFrame | None = None,
    n_warnings: int = 0,
) -> list[Markup]:
    """Return the sentences of the summary, most important first (each an HTML fragment)."""
    lines: list[str] = []
    for name, obj in stats:
        lines += _stats_findings(name, obj, alpha)
    named = {
        str(s)
        for _, obj in stats
        if isinstance(t := getattr(obj, "table", obj), pd.DataFrame)
        and {"signature", "fdr"} <= set(t.columns)
        for s in t.loc[pd.to_numeric(t["fdr"], errors="coerce") < alpha, "signature"]
    }
    lines += _overlap_note(overlap, named)
    lines += _sample_calls(view, metadata, design, alpha)
    lines += _coverage_note(view)
    if n_warnings:
        lines.append(
            f"<b>Warnings</b>: {plural(n_warnings, 'warning was', 'warnings were')} raised during the run; "
            'see <a href="#qc">Quality control</a>.'
        )
    return [Markup(line) for line in lines]
