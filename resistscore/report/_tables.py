"""Tables of the report: sortable and searchable (inline script, no network), with a CSV download.

Every cell shows a rounded number and keeps the exact value in ``data-v`` (what sorting uses); every
table has a filter box and a download link of the complete table as a ``data:`` URL.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from resistscore import io as rsio
from resistscore.report._format import effect_name, fmt_ci, fmt_num, fmt_p, listing

__all__ = ["data_table", "kv_table", "stats_view", "table_view"]

#: tables are embedded as a CSV download up to this many cells (about 20 MB of HTML)
MAX_DOWNLOAD_VALUES = 2_000_000
_P_COLUMNS = {
    "pvalue",
    "fdr",
    "logrank_pvalue",
    "logrank_fdr",
    "p",
    "FDR",
    "p-value",
    "log-rank p",
    "log-rank FDR",
}


def _cell(value: Any, column: str) -> str:
    """``<td>`` of one value: rounded for display, exact in ``data-v`` for sorting."""
    if isinstance(value, (list, tuple, np.ndarray)):
        items = [str(v) for v in value]
        text = ", ".join(items[:12]) + (f" ... (+{len(items) - 12})" if len(items) > 12 else "")
        return f'<td class="{"text long" if len(text) > 40 else "text"}">{html.escape(text)}</td>'
    if isinstance(value, (bool, np.bool_)):
        return f'<td class="text">{"yes" if value else "no"}</td>'
    if isinstance(value, (int, float, np.integer, np.floating)) and not pd.isna(value):
        shown = fmt_p(value) if column in _P_COLUMNS else fmt_num(value)
        return f'<td data-v="{float(value)!r}">{shown}</td>'
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return '<td class="na" data-v="">NA</td>'
    text = str(value)
    return f'<td class="{"text long" if len(text) > 40 else "text"}">{html.escape(text)}</td>'


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def csv_link(df: pd.DataFrame, filename: str, *, index: bool = False) -> Markup | None:
    """Return a ``data:`` link that downloads ``df`` as CSV (text cells made safe for spreadsheets)."""
    if df.size > MAX_DOWNLOAD_VALUES:
        return None
    text = rsio.neutralize_formulas(df).to_csv(index=index, float_format="%.6g").encode("utf-8")
    url = "data:text/csv;base64," + base64.b64encode(text).decode("ascii")
    return Markup(f'<a class="download" download="{html.escape(filename)}" href="{url}">Download CSV</a>')


def data_table(
    df: pd.DataFrame,
    *,
    table_id: str,
    label: str,
    index: bool = False,
    max_rows: int | None = None,
    download: pd.DataFrame | None = None,
    filename: str | None = None,
) -> Markup:
    """Return a sortable, searchable table of ``df``; ``download`` (default ``df``) is offered as CSV.

    Parameters
    ----------
    df
        The table shown.
    table_id
        The HTML id of the table (unique in the report).
    label
        What the table holds, for the filter box ("Filter the rows of ...").
    index
        Show the index as the first column.
    max_rows
        Show at most this many rows (the download has all of them).
    download, filename
        The table offered as a CSV download, and its file name (no download without ``filename``).
    """
    shown = df.reset_index() if index else df
    total = len(shown)
    if max_rows is not None:
        shown = shown.head(max_rows)
    numeric = ' class="num"'
    head = "".join(
        f'<th scope="col" aria-sort="none"{numeric if _numeric(shown[c]) else ""}>{html.escape(str(c))}</th>'
        for c in shown.columns
    )
    cols = [str(c) for c in shown.columns]
    body = "".join(
        "<tr>" + "".join(_cell(v, c) for v, c in zip(row, cols)) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    tid = html.escape(table_id)
    more = f" (first {len(shown):,} of {total:,})" if len(shown) < total else ""
    link = csv_link(download if download is not None else df, filename, index=index) if filename else None
    tools = (
        f'<div class="table-tools"><input type="search" hidden placeholder="Filter rows" '
        f'aria-label="Filter the rows of {html.escape(label)}" aria-controls="{tid}">'
        f'<span class="count" aria-live="polite">{len(shown):,} rows{more}</span>'
        + (f" {link}" if link else "")
        + "</div>"
    )
    return Markup(
        f'<div class="table-block">{tools}<div class="scroll"><table class="data" id="{tid}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></div>"
    )


def kv_table(items: Mapping[str, Any]) -> Markup:
    """Return a two-column table of names and values (lists as comma-separated text, never JSON)."""
    rows = []
    for key, value in items.items():
        if isinstance(value, Mapping):
            value = "; ".join(f"{k} = {v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        elif isinstance(value, (float, np.floating)):
            value = f"{value:g}"
        rows.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>")
    return Markup(f'<table class="kv">{"".join(rows)}</table>')


#: the columns of each statistics table shown in the report (the CSV download has all of them):
#: ``(column, header)``, or ``((low, high), header)`` for a confidence interval shown as one text column
_VIEWS: dict[str, list[tuple[Any, str]]] = {
    "compare_groups": [
        ("signature", "signature"),
        ("group1", "group"),
        ("group2", "vs"),
        ("n1", "n"),
        ("n2", "n (vs)"),
        ("estimate", "difference"),
        (("estimate_ci_low", "estimate_ci_high"), "95% CI (difference)"),
        ("effect", "{effect}"),
        (("ci_low", "ci_high"), "95% CI"),
        ("pvalue", "p"),
        ("fdr", "FDR"),
        ("note", "note"),
    ],
    "associate": [
        ("signature", "signature"),
        ("response", "response"),
        ("n", "n"),
        ("n_censored_low", "censored (low)"),
        ("n_censored_high", "censored (high)"),
        ("effect", "{effect}"),
        (("ci_low", "ci_high"), "95% CI"),
        ("pvalue", "p"),
        ("fdr", "FDR"),
        ("note", "note"),
    ],
    "survival": [
        ("signature", "signature"),
        ("n", "n"),
        ("n_events", "events"),
        ("effect", "{effect}"),
        (("ci_low", "ci_high"), "95% CI"),
        ("pvalue", "p"),
        ("fdr", "FDR"),
        ("median_high", "median time (high)"),
        ("median_low", "median time (low)"),
        ("logrank_pvalue", "log-rank p"),
        ("logrank_fdr", "log-rank FDR"),
        ("note", "note"),
    ],
    "coverage": [
        ("n_genes", "genes"),
        ("n_up", "up"),
        ("n_down", "down"),
        ("n_found", "measured"),
        ("weight_covered", "weight measured"),
        ("min_coverage", "minimal coverage"),
        ("reported", "reported"),
        ("reason", "why not reported"),
        ("missing", "genes not measured"),
    ],
    "overlap": [
        ("signature_a", "signature"),
        ("signature_b", "and signature"),
        ("relation", "relation"),
        ("n_shared", "shared genes"),
        ("jaccard", "Jaccard"),
        ("weight_share_a", "weight share (1st)"),
        ("weight_share_b", "weight share (2nd)"),
        ("n_opposite", "opposite direction"),
        ("shared_genes", "genes"),
    ],
}


def _effect_header(table: pd.DataFrame) -> str:
    """Return the name of the effect column: its type when the table has one type (``Hedges' g``), else ``effect``."""
    if "effect_type" not in table.columns:
        return "effect"
    kinds = table["effect_type"].dropna().astype(str).unique()
    method = table["method"].dropna().astype(str).unique() if "method" in table.columns else []
    if len(kinds) != 1:
        return "effect"
    return effect_name(kinds[0], method[0] if len(method) == 1 else None)


def table_view(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return the columns of ``table`` worth reading (``_VIEWS[kind]``), renamed; intervals as one text column."""
    out = {}
    for source, header in _VIEWS[kind]:
        header = header.format(effect=_effect_header(table))
        if isinstance(source, tuple):
            if set(source) <= set(table.columns):
                out[header] = [fmt_ci(lo, hi) for lo, hi in zip(table[source[0]], table[source[1]])]
        elif source == "shared_genes" and source in table.columns:
            out[header] = [listing(str(g).split(", "), 8) if g else "" for g in table[source]]
        elif source in table.columns:
            out[header] = table[source].to_numpy()
    view = pd.DataFrame(out, index=table.index)
    return view.drop(columns=[c for c in view.columns if _empty_column(view[c], c)])


def _empty_column(column: pd.Series, header: str) -> bool:
    """Return a column with nothing to read: no text at all, or censored counts that are all zero."""
    if header.startswith("censored ("):
        return not (pd.to_numeric(column, errors="coerce").fillna(0) > 0).any()
    return column.dtype == object and not column.map(_has_text).any()


def _has_text(value: Any) -> bool:
    """Whether a cell shows something (a non-empty text or list, or a number)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    if isinstance(value, str):
        return value.strip() != ""
    return not pd.isna(value)


def stats_view(table: pd.DataFrame, kind: str | None) -> pd.DataFrame:
    """Return the columns of a statistics table worth reading, renamed, most significant rows first."""
    if kind not in _VIEWS and {"group1", "group2", "test"} <= set(table.columns):
        kind = "compare_groups"
    out = table_view(table, kind) if kind in _VIEWS else table.copy()
    order = "FDR" if "FDR" in out.columns else ("fdr" if "fdr" in out.columns else None)
    if order is not None:
        out = out.assign(_k=pd.to_numeric(out[order], errors="coerce")).sort_values(
            "_k", kind="mergesort", na_position="last"
        )
        out = out.drop(columns="_k")
    return out.reset_index(drop=True)
