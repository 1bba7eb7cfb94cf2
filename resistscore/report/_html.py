"""One self-contained HTML report of a scoring analysis (figures embedded, no external resources)."""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import importlib.metadata
import importlib.resources
import io
import json
import os
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from resistscore._atomic import atomic_write
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int
from resistscore._version import __version__
from resistscore.io._write import neutralize_formulas
from resistscore.report._citations import CITATIONS, METHOD_CITATION, Citation, doi_of

__all__ = ["html_report", "write"]

#: the scores are embedded as a TSV download up to this many values (about 20 MB of HTML)
MAX_DOWNLOAD_VALUES = 2_000_000

_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "anndata",
    "scanpy",
    "statsmodels",
    "lifelines",
    "matplotlib",
    "seaborn",
    "jinja2",
)
_SECTIONS = (
    ("summary", "Summary"),
    ("qc", "QC and gene mapping"),
    ("coverage", "Coverage per signature"),
    ("scores", "Scores"),
    ("statistics", "Statistical tests"),
    ("methods", "Methods"),
    ("versions", "Versions and parameters"),
)
_KIND_TEXT = {
    "compare_groups": "comparison of groups",
    "fit_model": "linear / mixed model",
    "associate": "association with drug response",
    "survival": "survival analysis",
    "roc": "ROC analysis",
}


def _significance(record) -> dict[str, str]:
    """How the p-values were made (null, tail, FDR family), from ``uns["resistscore"]`` or a ScoreResult."""
    return {
        f"p-value {k}" if k != "fdr_family" else "FDR family": str(record.get(k))
        for k in ("null", "tail", "fdr_family")
        if isinstance(record.get(k), str) and record.get(k)
    }


def _result_info(result: Any) -> dict[str, Any]:
    """Method, parameters, versions, coverage and QC of a ScoreResult, scored AnnData or DataFrame."""
    info: dict[str, Any] = {
        "method": None,
        "params": {},
        "seed": None,
        "versions": {},
        "coverage": None,
        "qc": None,
    }
    if is_anndata(result):
        uns = dict(result.uns.get("resistscore") or {})
        info.update({k: uns.get(k, info[k]) for k in ("method", "params", "seed", "versions")})
        stored = [uns[k] for k in ("qc", "gene_mapping") if uns.get(k) is not None]
        info["qc"] = stored or None
        if uns.get("n_controls") is not None:
            info["params"] = {**dict(info["params"] or {}), "n_controls": uns["n_controls"]}
        info["params"] = {**dict(info["params"] or {}), **_significance(uns)}
        if uns.get("coverage") is not None:
            info["coverage"] = pd.DataFrame(uns["coverage"])
        info["kind"] = "AnnData"
    elif isinstance(result, pd.DataFrame):
        info["kind"] = "DataFrame"
    else:
        for key in ("method", "params", "seed", "versions", "qc"):
            value = getattr(result, key, None)
            if value is not None:
                info[key] = value
        cov = getattr(result, "coverage", None)
        info["coverage"] = cov if isinstance(cov, pd.DataFrame) else None
        info["kind"] = type(result).__name__
        sig = {k: getattr(result, k, None) for k in ("null", "tail", "fdr_family")}
        info["params"] = {**dict(info["params"] or {}), **_significance(sig)}
    if isinstance(info["coverage"], pd.DataFrame) and "signature" in info["coverage"].columns:
        info["coverage"] = info["coverage"].set_index("signature")
    info["params"] = dict(info["params"] or {})
    info["versions"] = dict(info["versions"] or {})
    return info


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return "NA" if not np.isfinite(value) else f"{value:.4g}"
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):  # pragma: no cover - exotic content
            return str(value)
    return str(value)


def _kv_table(items: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> Markup:
    rows = items.items() if isinstance(items, Mapping) else items
    body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows)
    return Markup(f'<table class="kv">{body}</table>')


def _cell(value: Any, limit: int = 12) -> Any:
    """Show list-like cells (e.g. the missing genes of a signature) as a short comma-separated text."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(v) for v in value]
        more = f" ... (+{len(items) - limit})" if len(items) > limit else ""
        return ", ".join(items[:limit]) + more
    return value


def _df_html(df: pd.DataFrame, *, index: bool = True, max_rows: int | None = None) -> Markup:
    shown = df if max_rows is None else df.head(max_rows)
    listy = [c for c in shown.columns if shown[c].dtype == object and shown[c].map(np.ndim).gt(0).any()]
    if listy:
        shown = shown.assign(**{c: shown[c].map(_cell) for c in listy})
    out = shown.to_html(
        index=index, border=0, na_rep="NA", float_format=lambda v: f"{v:.4g}", escape=True, classes="data"
    )
    return Markup(out)


def _short(value: Any, limit: int = 20) -> Any:
    """Lists longer than ``limit`` are cut (with the count of the rest) so that QC stays readable."""
    if isinstance(value, (list, tuple)) and len(value) > limit:
        return [*list(value[:limit]), f"... (+{len(value) - limit})"]
    if isinstance(value, Mapping):
        return {k: _short(v, limit) for k, v in value.items()}
    return value


def _mapping_html(d: Mapping[str, Any], steps: pd.Series | None) -> Markup:
    """A gene-mapping report (``rs.pp.harmonize_genes``) or its stored dict form."""
    keys = (
        "n_input",
        "n_mapped",
        "n_genes",
        "species",
        "collapse_rule",
        "collapse_rule_description",
        "source",
    )
    out = str(_kv_table({k.replace("_", " "): d[k] for k in keys if d.get(k) is not None}))
    table = d.get("table")
    if steps is None and isinstance(table, Mapping) and "step" in table:
        steps = pd.Series(table["step"]).value_counts().rename("n")
    if steps is not None:
        out += "<p>Input identifiers per mapping step:</p>" + str(
            _df_html(steps.rename_axis("step").to_frame())
        )
    if isinstance(table, Mapping) and {"input_id", "step"} <= set(table):
        t = pd.DataFrame({k: list(v) for k, v in table.items()})
        for step in ("ambiguous", "unmapped"):
            ids = t.loc[t["step"] == step, "input_id"].astype(str).tolist()
            if ids:
                out += f"<p>{len(ids)} {step} identifier(s): {html.escape(', '.join(_short(ids, 30)))}</p>"
    return Markup(out)


def _qc_part(qc: Any) -> Markup:
    if isinstance(qc, pd.DataFrame):
        return _df_html(qc)
    # a gene-mapping report object: summary per step instead of its per-identifier table
    if (
        callable(getattr(qc, "summary", None))
        and hasattr(qc, "n_mapped")
        and callable(getattr(qc, "to_dict", None))
    ):
        return Markup("<h3>Gene mapping</h3>") + _mapping_html(qc.to_dict(), qc.summary())
    problems = getattr(qc, "problems", None)
    if not isinstance(qc, Mapping) and callable(getattr(qc, "to_dict", None)):
        qc = qc.to_dict()
    if isinstance(qc, Mapping):
        if "n_mapped" in qc and "table" in qc:
            return Markup("<h3>Gene mapping</h3>") + _mapping_html(qc, None)
        qc = dict(qc)
        problems = qc.pop("problems", problems)
        actions = qc.pop("actions", None)
        out = "<h3>Data QC</h3>"
        if problems is not None:
            items = (
                "".join(f"<li>{html.escape(str(p))}</li>" for p in problems) or "<li>no problems found</li>"
            )
            out += f"<ul>{items}</ul>"
        flat: dict[str, Any] = {}
        for k, v in qc.items():
            if isinstance(v, Mapping):
                flat.update({f"{k}: {kk}": _short(vv) for kk, vv in v.items()})
            else:
                flat[str(k)] = _short(v)
        out += str(_kv_table(flat))
        if actions:
            out += (
                "<p>Actions:</p><ul>" + "".join(f"<li>{html.escape(str(a))}</li>" for a in actions) + "</ul>"
            )
        return Markup(out)
    return Markup(f"<pre>{html.escape(str(qc))}</pre>")


def _qc_html(qc: Any) -> Markup | None:
    """QC reports (``rs.pp.qc``), gene-mapping reports (``rs.pp.harmonize_genes``), dicts or tables."""
    if qc is None:
        return None
    parts = qc if isinstance(qc, (list, tuple)) else [qc]
    return Markup("".join(str(_qc_part(p)) for p in parts if p is not None)) or None


def _figure_html(fig: Any, name: str, caption: str, fmt: str, dpi: int) -> Markup:
    buf = io.BytesIO()
    from resistscore.pl._theme import theme

    with theme():
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None})
            svg = buf.getvalue().decode("utf-8")
            svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE (not allowed inside HTML)
            body = svg
        else:
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            body = f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
    return Markup(
        f'<figure id="fig-{html.escape(name)}">{body}<figcaption><b>{html.escape(name)}.</b> '
        f"{html.escape(caption)}</figcaption></figure>"
    )


def _figures(
    result: Any, metadata: Any, fig_kwargs: dict[str, Any], fmt: str, dpi: int
) -> tuple[dict, list[str]]:
    import matplotlib.pyplot as plt

    from resistscore.pl._save_all import standard_figures
    from resistscore.pl._utils import figure_of

    section_of = {"coverage": "coverage", "heatmap": "scores", "profile": "scores", "groups": "scores"}
    out: dict[str, list[Markup]] = {"coverage": [], "scores": [], "statistics": []}
    notes: list[str] = []
    for name, caption, draw in standard_figures(result, metadata, **fig_kwargs):
        section = section_of.get(name, "scores" if name == "embedding" else "statistics")
        try:
            fig = figure_of(draw())
        except ResistScoreError as exc:
            notes.append(f"Figure {name!r} was not drawn: {exc}")
            continue
        try:
            out[section].append(_figure_html(fig, name, caption, fmt, dpi))
        finally:
            plt.close(fig)
    return out, notes


def _stats_items(stats: Any) -> list[tuple[str, Any]]:
    from resistscore.pl._save_all import _stats_items as items

    return items(stats)


def _stats_description(obj: Any, table: pd.DataFrame) -> str:
    kind = getattr(obj, "kind", None)
    parts = [_KIND_TEXT.get(kind, kind or "statistics table")]
    if "test" in table.columns:
        tests = sorted({str(t) for t in table["test"].dropna().unique()})
        if tests:
            parts.append("tests: " + ", ".join(tests))
    params = getattr(obj, "params", None)
    if isinstance(params, Mapping):
        shown = {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool)) and v is not None}
        if shown:
            parts.append("parameters: " + ", ".join(f"{k}={v}" for k, v in list(shown.items())[:12]))
    if "fdr" in table.columns:
        n_sig = int((pd.to_numeric(table["fdr"], errors="coerce") < 0.05).sum())
        parts.append(f"{n_sig} of {len(table)} rows with FDR < 0.05")
    return "; ".join(parts) + "."


class _Refs:
    """Numbered references in order of first citation."""

    def __init__(self) -> None:
        self.items: list[Citation] = []

    def cite(self, citation: Citation) -> str:
        if citation not in self.items:
            self.items.append(citation)
        n = self.items.index(citation) + 1
        return f'<a href="#ref-{html.escape(citation.key)}">[{n}]</a>'


def _method_citation(method: str | None) -> Citation | None:
    if not method:
        return None
    key = METHOD_CITATION.get(str(method).lower())
    if key:
        return CITATIONS[key]
    try:
        from resistscore.tl.methods import registry

        info = registry.get(method)
    except ImportError:  # pragma: no cover - partial installation
        info = None
    if info is not None and info.reference:
        return Citation(f"method-{method}", info.reference, doi_of(info.reference))
    return None


def _methods_paragraph(
    info: dict[str, Any], n_signatures: int, stats: list[tuple[str, Any]], anndata: bool, survival: bool
) -> tuple[Markup, list[Citation]]:
    refs = _Refs()
    esc = html.escape
    method = info.get("method")
    versions = info.get("versions") or {}
    sig_version = versions.get("signatures")
    version = esc(str(versions.get("resistscore", __version__)))
    review = refs.cite(CITATIONS["review"])
    if sig_version and "resistscore" in str(sig_version).lower():
        first = (
            f"Gene-expression profiles were scored for {n_signatures} drug-resistance signature(s) curated from "
            f"the mechanisms reviewed by Mansoori et al. {review}, with resistscore {version} (signature set "
            f"{esc(str(sig_version))})."
        )
    else:
        first = (
            f"Gene-expression profiles were scored for {n_signatures} user-supplied gene signature(s) of "
            f"drug-resistance mechanisms (reviewed by Mansoori et al. {review}) with resistscore {version}"
            + (f" (signatures: {esc(str(sig_version))})" if sig_version else "")
            + "."
        )
    text = [first]
    cit = _method_citation(method)
    if method:
        text.append(
            f"Scores were computed with the {esc(str(method))} method"
            + (f" {refs.cite(cit)}" if cit else "")
            + (f" (random seed {esc(str(info['seed']))})" if info.get("seed") is not None else "")
            + "."
        )
    min_cov = (info.get("params") or {}).get("min_coverage")
    coverage = info.get("coverage")
    if min_cov is None and isinstance(coverage, pd.DataFrame) and "min_coverage" in coverage.columns:
        values = sorted({float(v) for v in coverage["min_coverage"].dropna()})
        min_cov = values[0] if len(values) == 1 else (f"{values[0]:g}-{values[-1]:g}" if values else None)
    text.append(
        "A signature was reported only when the measured genes carried at least "
        + (f"{esc(str(min_cov))} of" if min_cov is not None else "its minimal share (default 0.5) of")
        + " its total absolute weight; other scores are missing."
    )
    if anndata:
        text.append(f"Data were handled as AnnData objects with scanpy {refs.cite(CITATIONS['scanpy'])}.")
    kinds = {getattr(obj, "kind", None) for _, obj in stats}
    clauses = []
    if stats and (kinds - {"survival", "roc"} or not kinds & {"survival", "roc"}):
        clauses.append(
            f"statistical tests and models used scipy and statsmodels {refs.cite(CITATIONS['statsmodels'])}"
        )
    if "survival" in kinds or survival:
        clauses.append(
            "Cox models, Kaplan-Meier estimates and log-rank tests used lifelines "
            f"{refs.cite(CITATIONS['lifelines'])}"
        )
    if stats:
        clauses.append(
            "p-values were adjusted across signatures with the Benjamini-Hochberg false discovery rate "
            f"{refs.cite(CITATIONS['bh'])}"
        )
    if clauses:
        sentence = "; ".join(clauses)
        text.append(sentence[0].upper() + sentence[1:] + ".")
    text.append(
        f"Figures use the colour-blind-safe Okabe-Ito palette {refs.cite(CITATIONS['okabe_ito'])} and "
        "perceptually uniform colour maps."
    )
    return Markup(" ".join(text)), refs.items


def _fdr_frame(result: Any) -> pd.DataFrame | None:
    """Per-sample FDR of the scores (ScoreResult ``.fdr`` or ``obsm["resistscore_fdr"]``), if computed."""
    if is_anndata(result):
        fdr = result.obsm.get("resistscore_fdr", None)
    else:
        fdr = getattr(result, "fdr", None)
    return fdr if isinstance(fdr, pd.DataFrame) else None


def _score_summary(
    scores: pd.DataFrame, coverage: pd.DataFrame | None, fdr: pd.DataFrame | None = None
) -> pd.DataFrame:
    summary = pd.DataFrame(
        {
            "n": scores.notna().sum(),
            "mean": scores.mean(),
            "sd": scores.std(ddof=1),
            "min": scores.min(),
            "median": scores.median(),
            "max": scores.max(),
        }
    )
    summary.index.name = "signature"
    if fdr is not None:
        f = fdr.reindex(index=scores.index, columns=scores.columns)
        summary["n FDR < 0.05"] = (f < 0.05).sum().astype(int)
    if coverage is not None and "reported" in coverage.columns:
        summary["reported"] = (
            coverage["reported"]
            .reindex(summary.index)
            .map(lambda v: "NA" if pd.isna(v) else ("yes" if bool(v) else "no"))
        )
    return summary


def _file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def html_report(
    result: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    metadata: pd.DataFrame | None = None,
    stats: Any = None,
    survival: Any = None,
    qc: Any = None,
    group: str | None = None,
    annotation: Sequence[str] | None = None,
    time: str | None = None,
    event: str | None = None,
    km_signature: str | None = None,
    response: Any = None,
    sample_key: str | None = None,
    adata: Any = None,
    title: str = "resistscore report",
    input_path: str | os.PathLike[str] | None = None,
    input_sha256: str | None = None,
    figure_format: str = "png",
    dpi: int = 110,
    max_rows: int = 500,
    date: str | None = None,
    warnings: Sequence[str] | None = None,
) -> str:
    """Build one self-contained HTML report of a scoring analysis.

    The report has the sections *Summary*, *QC and gene mapping*, *Coverage per signature*,
    *Scores* (summary table, heatmap, profile, group plots, full table with a TSV download),
    *Statistical tests* (tables, forest and volcano plots, Kaplan-Meier curves), *Methods* (a
    paragraph with numbered citations: the review, the scoring method's paper, scanpy,
    statsmodels, lifelines, Benjamini-Hochberg) and *Versions and parameters*. Figures are
    embedded (base64 PNG or inline SVG) and no CSS, script or font is loaded from outside the file;
    the only web links are the references' DOIs. Attach it to a lab notebook or a supplement.

    Parameters
    ----------
    result
        ``ScoreResult``, scored AnnData or samples x signatures DataFrame.
    path
        When given, the report is also written there atomically (UTF-8); use :func:`write` to get
        the path back.
    metadata
        Sample annotations (default ``adata.obs`` for an AnnData).
    stats
        A statistics result (``rs.tl.compare_groups`` ...), a list of them or a dict name -> result.
    survival
        Result of ``rs.tl.survival`` (drawn as Kaplan-Meier curves; add it to ``stats`` as well to
        list its table).
    qc
        QC and gene-mapping reports: the report of ``rs.pp.qc`` / ``rs.pp.clean``, the
        ``GeneMappingReport`` of ``rs.pp.harmonize_genes`` (summarised per mapping step, with the
        ambiguous and unmapped identifiers), a dict, a DataFrame, or a list of these. Default: what is
        stored in ``adata.uns["resistscore"]`` (``qc``, ``gene_mapping``) or the result's ``.qc``.
    group
        Metadata column of the groups (profile, box plots, heatmap annotation).
    annotation
        Metadata columns for the heatmap colour bars (default ``[group]``).
    time, event
        Metadata columns for Kaplan-Meier curves computed here (when ``survival`` is not given).
    km_signature, response, sample_key, adata
        As in :func:`resistscore.pl.save_all` (Kaplan-Meier signature, drug-response scatter plots,
        per-replicate figures for single-cell data, the scored AnnData of a ``ScoreResult``).
    title
        Title of the report.
    input_path
        The input expression file; its sha256 is printed in the report.
    input_sha256
        The sha256 of the input, when the file is not at hand.
    figure_format
        ``"png"`` (base64, smaller for big heatmaps) or ``"svg"`` (inline vector graphics).
    dpi
        Resolution of PNG figures.
    max_rows
        Maximum number of samples in the HTML score table (the TSV download always has all).
    date
        Date printed in the report (default: now, UTC, ISO 8601).
    warnings
        Warnings raised while the data were read and scored (e.g. low coverage, an unexpected
        scale); each is listed in the summary. ``rs.analyze`` and the command line pass them.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame(
    ...     rng.normal(size=(6, 2)), index=[f"s{i}" for i in range(6)], columns=["efflux_abc", "apoptosis"]
    ... )
    >>> doc = rs.report.html_report(scores, date="2024-01-01")
    >>> doc.startswith("<!DOCTYPE html>") and 'id="methods"' in doc
    True
    """
    import jinja2

    from resistscore.pl._utils import scores_frame

    check_choice("figure_format", figure_format, ("png", "svg"))
    dpi = check_int("dpi", dpi, minimum=20, maximum=600)
    max_rows = check_int("max_rows", max_rows, minimum=1)
    scores = scores_frame(result, name="result")
    info = _result_info(result)
    if qc is None:
        qc = info["qc"]
    if metadata is None and is_anndata(result):
        metadata = result.obs
    if metadata is None and is_anndata(adata):
        metadata = adata.obs
    if input_path is not None:
        if not Path(input_path).is_file():
            raise ResistScoreError(
                f"`input_path` {str(input_path)!r} is not a file; give the input expression file."
            )
        input_sha256 = _file_sha256(input_path)
    if input_sha256 is not None and not (
        isinstance(input_sha256, str)
        and len(input_sha256) == 64
        and all(c in "0123456789abcdef" for c in input_sha256)
    ):
        raise ResistScoreError("`input_sha256` must be 64 lower-case hexadecimal digits (a sha256 digest).")
    stats_items = _stats_items(stats)
    if isinstance(warnings, str) or not all(isinstance(w, str) for w in warnings or ()):
        raise ResistScoreError("`warnings` must be a list of texts (one warning each).")
    if date is None:
        date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    figs, notes = _figures(
        result,
        metadata,
        {
            "group": group,
            "annotation": annotation,
            "stats": stats,
            "survival": survival,
            "time": time,
            "event": event,
            "km_signature": km_signature,
            "response": response,
            "sample_key": sample_key,
            "adata": adata,
        },
        figure_format,
        dpi,
    )
    coverage = info["coverage"]
    n_reported = int(scores.notna().any().sum())
    summary = {
        "input": info["kind"],
        "samples": scores.shape[0],
        "signatures scored": scores.shape[1],
        "signatures reported": n_reported,
        "scoring method": info["method"] or "not recorded",
        "seed": info["seed"] if info["seed"] is not None else "not recorded",
        "statistical analyses": len(stats_items),
        "input sha256": input_sha256 or "not given",
    }
    highlights = []
    for name, obj in stats_items:
        table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "table", None)
        if isinstance(table, pd.DataFrame) and {"fdr", "signature"} <= set(table.columns):
            sig = table[pd.to_numeric(table["fdr"], errors="coerce") < 0.05]
            names = ", ".join(pd.unique(sig["signature"].astype(str))[:10])
            highlights.append(
                f"{name}: {len(sig)} of {len(table)} tests with FDR < 0.05"
                + (f" ({names})." if names else ".")
            )
    notes.extend(f"Warning: {w}" for w in warnings or ())
    if n_reported < scores.shape[1]:
        notes.append(
            f"{scores.shape[1] - n_reported} signature(s) were not reported (insufficient gene coverage); "
            "see the coverage section."
        )
    stats_blocks = []
    for name, obj in stats_items:
        table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "table", None)
        if not isinstance(table, pd.DataFrame):
            raise ResistScoreError(
                f"`stats` item {name!r} is not a statistics result with a `.table` nor a DataFrame "
                f"({type(obj).__name__})."
            )
        stats_blocks.append(
            {
                "name": name,
                "description": _stats_description(obj, table),
                "table": _df_html(table, index=False),
            }
        )
    methods, references = _methods_paragraph(
        info,
        n_reported,
        stats_items,
        is_anndata(result),
        survival is not None or bool(time and event) or any(hasattr(o, "km") for _, o in stats_items),
    )
    versions = {"resistscore": __version__}
    versions.update({f"{k} (at scoring)": v for k, v in info["versions"].items()})
    versions.update(_package_versions())
    params: dict[str, Any] = {"method": info["method"], "seed": info["seed"], **info["params"]}
    params.update({"report: group": group, "report: time": time, "report: event": event})
    params = {k: v for k, v in params.items() if v is not None}

    download = None
    if scores.size <= MAX_DOWNLOAD_VALUES:
        tsv = neutralize_formulas(scores).to_csv(sep="\t", float_format="%.6g").encode("utf-8")
        download = "data:text/tab-separated-values;base64," + base64.b64encode(tsv).decode("ascii")
    else:
        notes.append(
            f"The scores ({scores.shape[0]} x {scores.shape[1]}) are too many to embed in the report; "
            "save them with result.tidy().to_csv(...) or rs.io.write."
        )
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    doc = env.get_template("report.html.j2").render(
        title=title,
        date=date,
        version=__version__,
        method=info["method"],
        toc=_SECTIONS,
        summary_table=_kv_table(summary),
        highlights=highlights,
        notes=notes,
        qc_html=_qc_html(qc),
        coverage_html=_df_html(coverage) if isinstance(coverage, pd.DataFrame) else None,
        figures=figs,
        score_summary=_df_html(_score_summary(scores, coverage, _fdr_frame(result))),
        scores_download=download,
        scores_truncated=scores.shape[0] > max_rows,
        max_rows=max_rows,
        n_samples=scores.shape[0],
        scores_table=_df_html(scores, max_rows=max_rows),
        stats_blocks=stats_blocks,
        methods=methods,
        references=references,
        versions_table=_kv_table(versions),
        params_table=_kv_table(params),
        input_sha256=input_sha256,
    )
    if path is not None:
        with atomic_write(path, encoding="utf-8") as fh:
            fh.write(doc)
    return doc


def write(result: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write the HTML report of ``result`` to ``path`` (atomically) and return the path.

    Takes the keyword arguments of :func:`html_report`.

    Examples
    --------
    >>> import tempfile, os, pandas as pd
    >>> import resistscore as rs
    >>> scores = pd.DataFrame({"efflux_abc": [0.1, 0.5, 0.3]}, index=["a", "b", "c"])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = rs.report.write(scores, os.path.join(d, "report.html"), date="2024-01-01")
    ...     out.name, out.stat().st_size > 1000
    ('report.html', True)
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ResistScoreError(f"the report is HTML: give `path` a .html suffix (got {path.name!r}).")
    html_report(result, path=path, **kwargs)
    return path


def _load_template(name: str) -> str:
    return (importlib.resources.files("resistscore.report") / "templates" / name).read_text(encoding="utf-8")
