"""One self-contained HTML report of a scoring analysis that answers first (figures embedded, nothing loaded).

Order: a generated summary with the heatmap and the group figures; the statistics (sortable, searchable
tables and their figures); the scores; quality control and gene mapping in plain words; coverage; a
methods paragraph with references and the FDR families; versions and parameters last.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import importlib.metadata
import importlib.resources
import io
import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from resistscore._atomic import atomic_write
from resistscore._design import Design, named_results
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int, check_probability
from resistscore._version import __version__
from resistscore.report._format import plural, test_name
from resistscore.report._inputs import ResultView, result_view
from resistscore.report._methods import fdr_families, methods_paragraph
from resistscore.report._qc import qc_sections
from resistscore.report._summary import adjusted_words, findings, unit_one
from resistscore.report._tables import MAX_DOWNLOAD_VALUES, data_table, kv_table, stats_view, table_view

__all__ = ["content_security_policy", "html_report", "script_hash", "write"]

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
    ("statistics", "Statistics"),
    ("scores", "Scores"),
    ("qc", "Quality control"),
    ("coverage", "Coverage"),
    ("methods", "Methods"),
    ("versions", "Versions and parameters"),
)
_KIND_TEXT = {
    "compare_groups": "Comparison of groups",
    "fit_model": "Linear / mixed model",
    "associate": "Association with drug response",
    "survival": "Survival",
    "roc": "ROC analysis",
}
#: figures of the summary, in this order; the others go to the section of what they show
_SUMMARY_FIGURES = ("heatmap", "matrixplot", "groups")
_WIDE = {"heatmap", "matrixplot", "groups", "embedding"}


@dataclass
class _Figures:
    """Embedded figures by place: the summary, each statistics result, the scores, the coverage."""

    summary: list[Markup] = field(default_factory=list)
    by_result: dict[str, list[Markup]] = field(default_factory=dict)
    statistics: list[Markup] = field(default_factory=list)
    scores: list[Markup] = field(default_factory=list)
    coverage: list[Markup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    """As the figure names of ``rs.pl.standard_figures`` ('resistant vs sensitive' -> 'resistant-vs-sensitive')."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", str(text)).strip("-") or "x"


def _svg_body(svg: str) -> str:
    return svg[svg.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML


def _png_body(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'


def _png_at(path: Path, dpi: int) -> bytes:
    """Return the PNG at ``path`` at ``dpi`` at most: as it is, or scaled down (area average) from a higher resolution."""
    from PIL import Image

    with Image.open(path) as im:  # a PNG: checked by _figure_files
        file_dpi = float((im.info.get("dpi") or (dpi,))[0]) or float(dpi)
        if file_dpi <= dpi * 1.05:
            return path.read_bytes()
        im.load()
        if im.mode == "RGBA" and im.getchannel("A").getextrema() == (255, 255):
            im = im.convert("RGB")  # an opaque figure (the theme's white background): a quarter fewer bytes
        scale = dpi / file_dpi
        small = im.resize(
            (max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.Resampling.BOX
        )
        buf = io.BytesIO()
        small.save(buf, format="png", dpi=(dpi, dpi))
        return buf.getvalue()


def _embed(figure: Any, fmt: str, dpi: int, file: Path | None = None) -> Markup:
    """One standard figure as ``<figure>``: base64 PNG or inline SVG, with its caption.

    From ``file`` (the figure as ``rs.pl.save_all`` wrote it) when given, else drawn here.
    """
    if file is not None:
        if fmt == "svg":
            body = _svg_body(file.read_text(encoding="utf-8"))
        else:
            body = _png_body(_png_at(file, dpi), figure.caption)
    else:
        body = _drawn(figure, fmt, dpi)
    wide = ' class="wide"' if figure.name.split("_")[0] in _WIDE else ""
    return Markup(
        f'<figure id="fig-{html.escape(figure.name)}"{wide}>{body}<figcaption><b>{html.escape(figure.name)}.</b> '
        f"{html.escape(figure.caption)}</figcaption></figure>"
    )


def _drawn(figure: Any, fmt: str, dpi: int) -> str:
    """Draw one standard figure and return its PNG ``<img>`` or inline SVG."""
    import matplotlib.pyplot as plt

    from resistscore import pl

    fig = figure.render()
    buf = io.BytesIO()
    try:
        with pl.theme():
            if fmt == "svg":
                fig.savefig(buf, format="svg", metadata={"Date": None})
                return _svg_body(buf.getvalue().decode("utf-8"))
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
            return _png_body(buf.getvalue(), figure.caption)
    finally:
        plt.close(fig)


def _figure_files(figures: Any, fmt: str) -> dict[str, Path]:
    """``figures`` (files or a folder of ``rs.pl.save_all``) as figure name -> file in ``fmt``."""
    if figures is None:
        return {}
    if isinstance(figures, (str, os.PathLike)):
        folder = Path(figures)
        if not folder.is_dir():
            raise ResistScoreError(
                f"`figures` {str(figures)!r} is not a folder; give the folder or the files rs.pl.save_all wrote."
            )
        paths = sorted(folder.iterdir())
    else:
        try:
            paths = [Path(p) for p in figures]
        except TypeError:
            raise ResistScoreError(
                f"`figures` must be the files (or the folder) rs.pl.save_all wrote; got {type(figures).__name__}."
            ) from None
    out = {}
    for path in paths:
        if path.suffix.lower() != f".{fmt}":
            continue
        if not path.is_file():
            raise ResistScoreError(
                f"`figures`: {str(path)!r} is not a file; give the files rs.pl.save_all wrote."
            )
        if fmt == "png":
            with open(path, "rb") as fh:
                if fh.read(8) != b"\x89PNG\r\n\x1a\n":
                    raise ResistScoreError(
                        f"`figures`: {path.name} is not a PNG image; give the files rs.pl.save_all wrote."
                    )
        out[path.name[: -len(path.suffix)]] = path
    return out


def _owner(name: str, items: Sequence[tuple[str, Any]]) -> str | None:
    """Return the statistics result a figure belongs to (forest/volcano/roc by suffix, KM and response by kind)."""
    for result_name, _ in items:
        suffix = "" if result_name == "stats" else "_" + _slug(result_name)
        if name in (f"forest{suffix}", f"volcano{suffix}", f"roc{suffix}"):
            return result_name
    kind = (
        "survival"
        if name.startswith("kaplan_meier")
        else "associate"
        if name.startswith("response_")
        else None
    )
    return next((n for n, obj in items if kind and getattr(obj, "kind", None) == kind), None)


def _figures(
    result, metadata, design, stats, survival, adata, items, fmt: str, dpi: int, files: dict[str, Path]
) -> _Figures:
    from resistscore import pl

    out = _Figures()
    figures = pl.standard_figures(
        result, metadata, design=design, stats=stats, survival=survival, adata=adata
    )
    for figure in figures:
        try:
            block = _embed(figure, fmt, dpi, files.get(figure.name))
        except ResistScoreError as exc:
            out.notes.append(f"Figure {figure.name!r} was not drawn: {exc}")
            continue
        out.names.append(figure.name)
        if figure.name in _SUMMARY_FIGURES:
            out.summary.append(block)
        elif figure.name == "coverage":
            out.coverage.append(block)
        elif figure.name in ("profile", "embedding"):
            out.scores.append(block)
        elif (owner := _owner(figure.name, items)) is not None:
            out.by_result.setdefault(owner, []).append(block)
        else:
            out.statistics.append(block)
    out.summary.sort(key=lambda m: next(i for i, n in enumerate(_SUMMARY_FIGURES) if f'id="fig-{n}"' in m))
    return out


def _describe(obj: Any, table: pd.DataFrame, alpha: float) -> str:
    """One sentence on a statistics result: what was tested, on what unit, how many rows pass the FDR."""
    params = getattr(obj, "params", None) or {}
    text = _KIND_TEXT.get(getattr(obj, "kind", None), "Statistics")
    tests = sorted(
        {
            test_name(t)
            for col in ("test", "method", "model")
            if col in table.columns
            for t in table[col].dropna().unique()
        }
    )
    if tests:
        text += f" ({', '.join(tests)})"
    text += adjusted_words(params)
    text += f"; one observation per {unit_one(params)}"
    if "fdr" in table.columns:
        n_sig = int((pd.to_numeric(table["fdr"], errors="coerce") < alpha).sum())
        text += f"; {n_sig} of {plural(len(table), 'row')} with FDR < {alpha:g}"
    return text + ". Rows are sorted by FDR; click a column header to sort, type in the box to filter."


def _stats_blocks(items: Sequence[tuple[str, Any]], figs: _Figures, alpha: float) -> list[dict[str, Any]]:
    blocks = []
    for i, (name, obj) in enumerate(items):
        table = obj if isinstance(obj, pd.DataFrame) else getattr(obj, "table", None)
        if not isinstance(table, pd.DataFrame):
            raise ResistScoreError(
                f"`stats` item {name!r} is not a statistics result with a `.table` nor a DataFrame "
                f"({type(obj).__name__})."
            )
        view = stats_view(table, getattr(obj, "kind", None))
        blocks.append(
            {
                "name": name,
                "id": f"stats-{_slug(name)}",
                "description": _describe(obj, table, alpha),
                "table": data_table(
                    view,
                    table_id=f"table-{i + 1}-{_slug(name)}",
                    label=f"the statistics {name}",
                    download=table,
                    filename=f"stats_{_slug(name)}.csv",
                ),
                "figures": figs.by_result.get(name, []),
            }
        )
    return blocks


def _overlap(signatures: Any, view: ResultView) -> pd.DataFrame | None:
    """Pairs of reported signatures that share genes (parent and child excluded: they always do)."""
    if signatures is None:
        return None
    from resistscore import sig

    table = sig.overlap(signatures)
    if table.empty:
        return None
    reported = set(view.reported)
    keep = (
        table["signature_a"].isin(reported)
        & table["signature_b"].isin(reported)
        & (table["n_shared"] > 0)
        & (table["relation"] != "parent-child")
    )
    table = table[keep].sort_values(["n_shared", "jaccard"], ascending=False, kind="mergesort")
    return table.reset_index(drop=True) if len(table) else None


def _score_summary(view: ResultView, alpha: float) -> pd.DataFrame:
    scores = view.scores
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
    if view.fdr is not None:
        f = view.fdr.reindex(index=scores.index, columns=scores.columns)
        summary[f"n FDR < {alpha:g}"] = (f < alpha).sum().astype(int)
    cov = view.coverage
    if cov is not None and "reported" in cov.columns:
        summary["reported"] = (
            cov["reported"]
            .reindex(summary.index)
            .map(lambda v: "NA" if pd.isna(v) else ("yes" if bool(v) else "no"))
        )
    return summary


def _coverage_text(view: ResultView) -> str:
    cov = view.coverage
    if cov is not None and "reported" in cov.columns:
        missing = [str(s) for s, ok in cov["reported"].items() if not (pd.notna(ok) and bool(ok))]
    else:
        missing = [c for c in view.scores.columns if c not in view.reported]
    n = view.scores.shape[1]
    text = f"{n - len(missing)} of {plural(n, 'signature')} were reported."
    if cov is not None and "weight_covered" in cov.columns:
        share = pd.to_numeric(cov["weight_covered"], errors="coerce")
        text += (
            f" The measured genes carry {share.min():.0%} to {share.max():.0%} of a signature's gene weight."
        )
    if missing:
        why = cov["reason"] if cov is not None and "reason" in cov.columns else pd.Series(dtype=object)
        text += " Not reported: " + "; ".join(
            f"{s} ({why[s]})" if isinstance(why.get(s), str) and why.get(s) else s for s in missing[:10]
        )
        text += f" and {len(missing) - 10} more." if len(missing) > 10 else "."
    return text


def _file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _input_sha256(input_path: Any, input_sha256: str | None) -> str | None:
    if input_path is not None:
        if not Path(input_path).is_file():
            raise ResistScoreError(
                f"`input_path` {str(input_path)!r} is not a file; give the input expression file."
            )
        return _file_sha256(input_path)
    if input_sha256 is not None and not (
        isinstance(input_sha256, str)
        and len(input_sha256) == 64
        and all(c in "0123456789abcdef" for c in input_sha256)
    ):
        raise ResistScoreError("`input_sha256` must be 64 lower-case hexadecimal digits (a sha256 digest).")
    return input_sha256


def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _versions_and_parameters(view: ResultView, design: Design, alpha: float) -> tuple[Markup, Markup]:
    versions = {"resistscore": __version__}
    versions.update({f"{k} (at scoring)": v for k, v in view.versions.items()})
    versions.update(_package_versions())
    params: dict[str, Any] = {
        "method": view.method,
        "seed": view.seed,
        "control gene sets per signature": view.n_controls,
        "p-value null": view.null,
        "p-value tail": view.tail,
        "FDR family": view.fdr_family,
    }
    shown = ("n_controls", "null", "tail", "fdr_family")
    params.update({k.replace("_", " "): v for k, v in view.params.items() if k not in shown})
    params.update({f"design: {k.replace('_', ' ')}": v for k, v in design.to_dict().items()})
    params["report: significance level"] = alpha
    return kv_table(versions), kv_table({k: v for k, v in params.items() if v is not None and v != ""})


def _check_warnings(warnings: Any) -> list[str]:
    if isinstance(warnings, str) or not all(isinstance(w, str) for w in warnings or ()):
        raise ResistScoreError("`warnings` must be a list of texts (one warning each).")
    return list(warnings or ())


def html_report(
    result: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    metadata: pd.DataFrame | None = None,
    design: Design | None = None,
    stats: Any = None,
    survival: Any = None,
    qc: Any = None,
    adata: Any = None,
    signatures: Any = None,
    title: str = "resistscore report",
    input_path: str | os.PathLike[str] | None = None,
    input_sha256: str | None = None,
    figure_format: str = "png",
    dpi: int = 110,
    max_rows: int = 500,
    alpha: float = 0.05,
    date: str | None = None,
    warnings: Sequence[str] | None = None,
    figures: Any = None,
    **design_fields: Any,
) -> str:
    """Build one self-contained HTML report of a scoring analysis, answers first.

    The report opens with a generated summary - which signatures are higher or lower in which groups,
    associated with the response or survival, and called in which samples, each with its effect size, CI
    and FDR - beside the heatmap, the group x signature matrix and the group box plots. Then come the
    statistics (sortable, searchable tables with a CSV download, and their forest, volcano, Kaplan-Meier
    and response figures; the genes shared by the signatures compared), the scores, quality control and
    gene mapping in plain words (samples without expression, identifiers that matched several genes, the
    collapse rule, samples not scored, the warnings of the run), coverage, a methods paragraph with
    numbered references and the FDR families, and versions and parameters last. Figures are embedded
    (base64 PNG or inline SVG); the only script is inline; nothing is loaded from outside the file (the
    only web links are the references' DOIs).

    Parameters
    ----------
    result
        ``ScoreResult``, scored AnnData or samples x signatures DataFrame.
    path
        When given, the report is also written there atomically (UTF-8); use :func:`write` to get
        the path back.
    metadata
        Sample annotations (default ``adata.obs`` for an AnnData).
    design
        The :class:`resistscore.Design` of the analysis (group, response, time and event, sample key, ...),
        used for the figures and to say per group in how many samples a signature is called.
    stats
        A statistics result (``rs.tl.compare_groups`` ...), a list of them or a dict name -> result.
    survival
        Result of ``rs.tl.survival`` for the Kaplan-Meier curves (default: the survival result in ``stats``).
    qc
        QC and gene-mapping reports: the report of ``rs.pp.qc`` / ``rs.pp.clean``, the mapping report
        of ``rs.pp.harmonize_genes``, their dict forms, or a list of these. Default: what is stored in
        ``adata.uns["resistscore"]`` (``qc``, ``gene_mapping``) or the result's ``.qc``.
    adata
        The scored AnnData, when ``result`` is a ``ScoreResult`` (its embedding, ``obs`` and colours).
    signatures
        The signatures that were scored (anything ``rs.sig.load`` reads): the pairs that share genes are
        listed, since their results are not independent.
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
        Maximum number of samples in the HTML score table (the CSV download has all).
    alpha
        FDR threshold of the summary's sentences.
    date
        Date printed in the report (default: now, UTC).
    warnings
        Warnings raised while the data were read and scored (e.g. low coverage, an unexpected
        scale); each is listed under quality control. ``rs.analyze`` and the command line pass them.
    figures
        The files :func:`resistscore.pl.save_all` wrote for the same inputs (the list it returns, or
        its folder): a standard figure with a file in ``figure_format`` there is embedded from that
        file instead of being drawn again (a PNG of a higher resolution than ``dpi`` is scaled down to
        ``dpi``); the others are drawn. ``rs.analyze`` and the command line pass the figures they
        wrote, so each figure is drawn once.
    **design_fields
        The fields of the design as keywords instead of ``design`` (``group="group"``).

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
    check_choice("figure_format", figure_format, ("png", "svg"))
    dpi = check_int("dpi", dpi, minimum=20, maximum=600)
    max_rows = check_int("max_rows", max_rows, minimum=1)
    alpha = check_probability("alpha", alpha)
    warnings = _check_warnings(warnings)
    design = Design.resolve(design, **design_fields)
    view = result_view(result)
    if metadata is None:
        source = next((x for x in (result, adata) if is_anndata(x)), None)
        metadata = source.obs if source is not None else None
    sha = _input_sha256(input_path, input_sha256)
    items = named_results(stats)
    files = _figure_files(figures, figure_format)
    figs = _figures(result, metadata, design, stats, survival, adata, items, figure_format, dpi, files)
    context = _context(view, design, metadata, items, figs, qc, signatures, warnings, max_rows, alpha)
    context.update(title=title, sha=sha, version=__version__, toc=_SECTIONS)
    context["date"] = date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = _render(context)
    if path is not None:
        with atomic_write(path, encoding="utf-8") as fh:
            fh.write(doc)
    return doc


def _context(
    view, design, metadata, items, figs, qc, signatures, warnings, max_rows, alpha
) -> dict[str, Any]:
    """Everything the template shows, section by section."""
    overlap = _overlap(signatures, view)
    scores = view.scores
    notes = list(figs.notes)
    if scores.size > MAX_DOWNLOAD_VALUES:
        notes.append(
            f"The scores ({scores.shape[0]} x {scores.shape[1]}) are too many to embed in the report; "
            "save them with result.tidy().to_csv(...) or rs.io.write."
        )
    methods, references = methods_paragraph(
        view,
        items,
        survival=any(n.startswith("kaplan_meier") for n in figs.names),
        response_figures=any(n.startswith("response_") for n in figs.names),
    )
    versions, params = _versions_and_parameters(view, design, alpha)
    unit = "cells" if view.data_kind == "single_cell" else "samples"
    return {
        "subtitle": f"{plural(scores.shape[0], unit[:-1])} · {len(view.reported)} of "
        f"{plural(scores.shape[1], 'signature')} reported"
        + (f" · method {view.method}" if view.method else ""),
        "findings": findings(
            view, items, design, metadata, alpha=alpha, overlap=overlap, n_warnings=len(warnings)
        ),
        "figures": figs,
        "notes": notes,
        "stats_blocks": _stats_blocks(items, figs, alpha),
        "overlap": None
        if overlap is None
        else data_table(
            table_view(overlap, "overlap"),
            download=overlap,
            table_id="table-shared-genes",
            label="the genes shared by signatures",
            filename="shared_genes.csv",
        ),
        "score_summary": data_table(
            _score_summary(view, alpha), table_id="table-score-summary", label="the score summary", index=True
        ),
        "scores_table": data_table(
            scores,
            table_id="table-scores",
            label="the scores",
            index=True,
            max_rows=max_rows,
            filename="scores.csv" if scores.size <= MAX_DOWNLOAD_VALUES else None,
        ),
        "qc_sections": qc_sections(qc if qc is not None else view.qc, view.unscored, warnings),
        "coverage_text": _coverage_text(view),
        "coverage_table": None
        if view.coverage is None
        else data_table(
            table_view(view.coverage, "coverage"),
            download=view.coverage,
            table_id="table-coverage",
            label="the coverage",
            index=True,
            filename="coverage.csv",
        ),
        "methods": methods,
        "references": references,
        "fdr_families": fdr_families(view, items),
        "versions_table": versions,
        "params_table": params,
    }


def _render(context: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals.update(style=Markup(_load_template("report.css")), script=Markup(_load_template("report.js")))
    return env.get_template("report.html.j2").render(**context)


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


def script_hash() -> str:
    """Return the Content-Security-Policy source that allows the report's one inline script.

    The report's only script (sorting and filtering of the tables) is inline, so a page served under a
    strict Content-Security-Policy runs it only when the policy names its hash. Without it the report
    reads the same: the tables are shown, in their order, without the filter boxes.

    Returns
    -------
    str
        ``'sha256-<base64 digest>'`` of the script exactly as the report embeds it.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.report.script_hash().startswith("'sha256-")
    True
    """
    digest = hashlib.sha256(_load_template("report.js").encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy() -> str:
    """Return the strictest Content-Security-Policy under which the report works fully, for a server to send.

    Nothing may load (``default-src 'none'``); the embedded styles and ``data:`` images are allowed, and
    the one inline script by its hash (:func:`script_hash`). A server may add ``sandbox allow-scripts
    allow-downloads`` (the CSV downloads are ``data:`` links) and ``frame-ancestors``.

    Returns
    -------
    str
        The policy, e.g. for the ``Content-Security-Policy`` header.

    Examples
    --------
    >>> import resistscore as rs
    >>> "default-src 'none'" in rs.report.content_security_policy()
    True
    """
    return (
        f"default-src 'none'; script-src {script_hash()}; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


def _load_template(name: str) -> str:
    return (importlib.resources.files("resistscore.report") / "templates" / name).read_text(encoding="utf-8")
