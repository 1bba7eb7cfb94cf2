"""Quality control and gene mapping in plain words ("3 samples had no expression: S1, S2, S3")."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup

from resistscore._errors import ResistScoreError
from resistscore.report._format import listing, plural

__all__ = ["qc_sections"]

#: findings of ``rs.pp.qc``: (count key, ids key, sentence); {n} and {ids} are filled in
_DATA_FINDINGS = (
    ("n_empty_samples", "empty_samples", "{n} had no expression (all values missing or zero)"),
    ("n_constant_samples", "constant_samples", "{n} had the same value for every gene"),
    ("n_samples_mostly_missing", "samples_mostly_missing", "{n} had more than half of their values missing"),
    ("n_duplicated_samples", "duplicated_samples", "{n} appeared more than once"),
)
_GENE_FINDINGS = (
    ("n_empty_genes", "empty_genes", "{n} had no value in any sample"),
    ("n_duplicated_genes", "duplicated_genes", "{n} appeared more than once"),
    ("n_constant_genes", None, "{n} had the same value in every sample"),
)
_STEPS = {
    "user": "given mapping",
    "exact": "approved symbol",
    "case": "symbol in another case",
    "alias": "alias symbol",
    "previous": "previous symbol",
    "excel_date": "symbol turned into a date by Excel",
    "ensembl": "Ensembl gene id",
    "entrez": "NCBI (Entrez) gene id",
    "probe": "microarray probe id",
    "ortholog": "mouse ortholog",
}


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _as_dict(report: Any) -> dict[str, Any]:
    if isinstance(report, Mapping):
        return dict(report)
    to_dict = getattr(report, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise ResistScoreError(
        "`qc` takes the reports of rs.pp.qc / rs.pp.clean and rs.pp.harmonize_genes, their stored dict forms "
        f"(adata.uns['resistscore']), or a list of them; got {type(report).__name__}."
    )


def _is_mapping(d: Mapping[str, Any]) -> bool:
    return "table" in d and ("n_mapped" in d or "collapse_rule" in d)


def _items(what: str, findings: Mapping[str, Any], rules: Sequence[tuple[str, str | None, str]]) -> list[str]:
    out = []
    for count_key, ids_key, sentence in rules:
        n = int(findings.get(count_key) or 0)
        if not n:
            continue
        text = sentence.format(n=plural(n, what))
        ids = list(findings.get(ids_key) or []) if ids_key else []
        if ids:
            text += f": {listing(ids, 20)}" if len(ids) >= n else f", e.g. {listing(ids, 20)}"
        out.append(_esc(text) + ".")
    return out


def _data_qc(d: Mapping[str, Any]) -> list[str]:
    """Sentences of a QC report (``rs.pp.qc``): shape, scale, problems, actions."""
    findings = dict(d.get("findings") or {})
    scale = d.get("scale") or {}
    lines = []
    if "n_samples" in d and "n_genes" in d:
        kind = scale.get("kind") if isinstance(scale, Mapping) else None
        on = f", on a {kind} scale" if kind else ""
        why = f" ({scale.get('reason')})" if isinstance(scale, Mapping) and scale.get("reason") else ""
        lines.append(
            _esc(
                f"The data hold {plural(int(d['n_samples']), 'sample')} and {plural(int(d['n_genes']), 'gene')}{on}{why}."
            )
        )
    lines += _items("sample", findings, _DATA_FINDINGS)
    lines += _items("gene", findings, _GENE_FINDINGS)
    for key, what in (("n_nan", "missing (NaN) value"), ("n_inf", "infinite value")):
        if findings.get(key):
            lines.append(_esc(f"{plural(int(findings[key]), what)} in the matrix."))
    problem = scale.get("problem") if isinstance(scale, Mapping) else None
    for p in d.get("problems") or ([problem] if problem else []):
        if "scale" in str(p) or "z-score" in str(p):
            lines.append(_esc(str(p)[0].upper() + str(p)[1:] + "."))
    if not any(
        int(findings.get(k) or 0) for k in findings if k.startswith("n_") and k != "n_negative"
    ) and not d.get("problems"):
        lines.append("No problem was found in the expression matrix.")
    lines += [_esc(f"Cleaning: {a}") for a in d.get("actions") or []]
    return lines


def _free_form(d: Mapping[str, Any]) -> list[str]:
    """Return a QC dict of the user's own: one ``key: value`` sentence each (lists shortened)."""
    out = []
    for key, value in d.items():
        if isinstance(value, Mapping):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            value = listing(value, 20)
        out.append(_esc(f"{key}: {value}."))
    return out


def _is_qc_report(d: Mapping[str, Any]) -> bool:
    return "findings" in d or {"n_samples", "n_genes"} <= set(d)


def _mapping(d: Mapping[str, Any]) -> list[str]:
    """Sentences of a gene-mapping report (``rs.pp.harmonize_genes``)."""
    table = pd.DataFrame({k: list(v) for k, v in (d.get("table") or {}).items()})
    lines = []
    n_input = int(d.get("n_input", len(table)))
    if "step" in table.columns:
        steps = table["step"].value_counts()
        how = [f"{plural(int(steps[s]), _STEPS[s], _STEPS[s] + 's')}" for s in _STEPS if steps.get(s)]
        mapped = int(d.get("n_mapped", steps.drop(["ambiguous", "unmapped"], errors="ignore").sum()))
        genes = d.get("n_genes")
        to = f" to {plural(int(genes), 'HGNC gene')}" if genes is not None else ""
        lines.append(
            _esc(
                f"{plural(n_input, 'identifier')} were read; {mapped:,} were mapped{to}"
                + (f" ({'; '.join(how)})." if how else ".")
            )
        )
        for step, text in (
            ("ambiguous", "matched several genes and were left unmapped (resolve them with mapping=)"),
            (
                "unmapped",
                "matched no gene"
                + (
                    " and were kept under their own name"
                    if d.get("unmapped_kept", True)
                    else " and were dropped"
                ),
            ),
        ):
            ids = (
                table.loc[table["step"] == step, "input_id"].astype(str).tolist()
                if "input_id" in table
                else []
            )
            if ids:
                lines.append(_esc(f"{plural(len(ids), 'identifier')} {text}: {listing(ids, 25)}."))
    rule = d.get("collapse_rule_description") or ""
    n_coll = int(d.get("n_collapsed") or 0)
    if rule and n_coll:
        single = d.get("collapse_single_sample")
        scope = (
            " A sample's values never depend on the other samples of the file."
            if single
            else " This rule is cohort-level: a sample's values depend on the other samples of the file."
            if single is False
            else ""
        )
        lines.append(
            _esc(
                f"Several identifiers were mapped to the same gene for {plural(n_coll, 'gene')}; rule used: {rule}.{scope}"
            )
        )
    elif rule:
        lines.append(_esc("No two identifiers were mapped to the same gene (nothing was collapsed)."))
    return lines


def _unscored(unscored: pd.DataFrame | None) -> list[str]:
    if unscored is None or not len(unscored):
        return []
    by_reason = unscored.groupby(unscored["reason"].astype(str), sort=False).groups
    parts = [f"{listing(list(ids), 20)} ({reason})" for reason, ids in by_reason.items()]
    return [
        _esc(
            f"{plural(len(unscored), 'sample was', 'samples were')} not scored (their scores are missing): {'; '.join(parts)}."
        )
    ]


def qc_sections(
    qc: Any, unscored: pd.DataFrame | None, warnings: Sequence[str]
) -> list[tuple[str, list[Markup]]]:
    """``(heading, sentences)`` for the data, the gene mapping, the samples not scored and the warnings."""
    parts = qc if isinstance(qc, (list, tuple)) else ([qc] if qc is not None else [])
    data, mapping = [], []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, pd.DataFrame):
            raise ResistScoreError(
                "`qc` takes QC and gene-mapping reports (rs.pp.qc, rs.pp.harmonize_genes), not a table."
            )
        d = _as_dict(part)
        if _is_mapping(d):
            mapping.extend(_mapping(d))
        else:
            data.extend(_data_qc(d) if _is_qc_report(d) else _free_form(d))
    sections = [
        ("Expression data", data),
        ("Gene identifiers", mapping),
        ("Samples not scored", _unscored(unscored)),
        ("Warnings raised during the run", [_esc(w) for w in warnings]),
    ]
    return [(head, [Markup(line) for line in lines]) for head, lines in sections if lines]
