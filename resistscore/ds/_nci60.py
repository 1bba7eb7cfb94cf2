"""Load the NCI-60 expression, drug-response (GI50) and ABC-transporter qPCR files given by path.

Nothing of these data ships with resistscore: the loader takes the folder that holds
``expression_u133a_gcrma.csv.gz``, ``gi50_dtp.csv.gz`` and ``abc_transporters_qpcr.csv``.

Cell-line names differ between the three files (``OV:NCI_ADR_RES`` in the expression table,
``NCI/ADR-RES`` in the DTP screen, ``MCF7ADRr`` in the qPCR table). They are matched on a key that
ignores case, punctuation, a panel prefix (``OV:``), the ``/ATCC`` and ``(TB)`` suffixes and the
``NCI-`` prefix of ``NCI-H`` lung lines, plus an explicit map of historical names
(:data:`CELL_LINE_ALIASES`). The canonical name of a line is its DTP spelling.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from resistscore._errors import AmbiguousGeneWarning, InputFormatError
from resistscore._validate import check_choice
from resistscore.io import read
from resistscore.pp import harmonize_genes

__all__ = ["CELL_LINE_ALIASES", "HISTORICAL_ABC_NAMES", "NCI60", "cell_line_key", "nci60"]

FILES = {
    "expression": "expression_u133a_gcrma.csv.gz",
    "gi50": "gi50_dtp.csv.gz",
    "qpcr": "abc_transporters_qpcr.csv",
}

#: historical cell-line names -> key of the current name (NCI/ADR-RES was distributed as MCF7/ADR-RES,
#: "MCF7ADRr", before it was shown to derive from OVCAR-8).
CELL_LINE_ALIASES = {
    "MCF7ADRR": "NCIADRRES",
    "MCF7ADR": "NCIADRRES",
    "MCF7ADRRES": "NCIADRRES",
    "ADRRES": "NCIADRRES",
}

#: historical ABC-transporter names used by Szakacs et al. 2004 -> current HGNC symbols
#: (HGNC withdrew ABCB2/ABCB3/ABCC7 in favour of TAP1/TAP2/CFTR).
HISTORICAL_ABC_NAMES = {"ABCB2": "TAP1", "ABCB3": "TAP2", "ABCC7": "CFTR"}

#: panel codes/names used by the three files -> DTP panel names
PANELS = {
    "BR": "Breast",
    "BREAST": "Breast",
    "CNS": "Central Nervous System",
    "CO": "Colon",
    "COLON": "Colon",
    "LE": "Leukemia",
    "LEUK": "Leukemia",
    "ME": "Melanoma",
    "MELAN": "Melanoma",
    "LC": "Non-Small Cell Lung",
    "NSCLC": "Non-Small Cell Lung",
    "OV": "Ovarian",
    "OVAR": "Ovarian",
    "PR": "Prostate",
    "PROSTATE": "Prostate",
    "RE": "Renal",
    "RENAL": "Renal",
}


def cell_line_key(name: Any) -> str:
    """Return the matching key of an NCI-60 cell-line name.

    Examples
    --------
    >>> [cell_line_key(x) for x in ["OV:NCI_ADR_RES", "NCI/ADR-RES", "MCF7ADRr"]]
    ['NCIADRRES', 'NCIADRRES', 'NCIADRRES']
    >>> [cell_line_key(x) for x in ["LC:NCI_H226", "NCI-H226", "H226", "HL-60(TB)", "A549/ATCC", "786-0"]]
    ['H226', 'H226', 'H226', 'HL60', 'A549', '7860']
    """
    s = str(name).strip().upper()
    if ":" in s:
        s = s.split(":", 1)[1]
    s = re.sub(r"/ATCC$", "", s)
    s = re.sub(r"\(TB\)$", "", s)
    key = re.sub(r"[^0-9A-Z]", "", s)
    key = re.sub(r"^NCIH(?=\d)", "H", key)
    return CELL_LINE_ALIASES.get(key, key)


@dataclass
class NCI60:
    """The NCI-60 data, harmonised.

    Attributes
    ----------
    expression
        AnnData, cell lines x genes, harmonised with the defaults of :func:`~resistscore.pp.harmonize_genes`:
        U133A probe sets of one HGNC gene averaged within each cell line (single-sample, limma
        ``avereps``), probe sets without an HGNC gene kept under their probe id; ``obs``: ``panel`` and the
        line's name in each file (``name_expression``, ``name_gi50``, ``name_qpcr``); ``var``:
        ``input_ids`` (the probes averaged, ``|``-separated), ``hgnc_id`` (empty for unmapped probes);
        ``uns["resistscore"]["gene_mapping"]`` and ``["read_report"]``.
    probes
        AnnData, cell lines x probe sets, as in the file (``var``: ``symbol``, ``entrez``).
    gi50
        Tidy DataFrame: ``drug``, ``nsc``, ``cell_line`` (canonical name, empty for lines outside the
        NCI-60 expression/qPCR files), ``cell_line_dtp``, ``panel``, ``neg_log10_gi50``.
    qpcr
        AnnData, cell lines x ABC genes (current HGNC symbols; ``var["name_in_file"]`` keeps the
        historical names); values as in the file (centred relative expression).
    cell_lines
        One row per canonical cell line: ``key``, ``panel``, and its name in each file (empty if absent).
    gene_mapping
        ``{"expression": GeneMappingReport, "qpcr": GeneMappingReport}``.
    set_aside
        DTP names that share a key with an NCI-60 line but are another stock (``MCF7/ATCC`` beside ``MCF7``).
    """

    expression: Any
    probes: Any
    gi50: pd.DataFrame
    qpcr: Any
    cell_lines: pd.DataFrame
    gene_mapping: dict[str, Any] = field(default_factory=dict)
    set_aside: list[str] = field(default_factory=list)

    @property
    def join_report(self) -> dict[str, Any]:
        """How the three files were joined on cell lines, and how many genes were mapped."""
        cl = self.cell_lines
        has = {f: cl[f"name_{f}"] != "" for f in ("expression", "gi50", "qpcr")}
        all3 = has["expression"] & has["gi50"] & has["qpcr"]
        out: dict[str, Any] = {
            "n_cell_lines": len(cl),
            "in_all_three": int(all3.sum()),
            "expression_only_missing_from": {
                f: sorted(cl.index[has["expression"] & ~has[f]]) for f in ("gi50", "qpcr")
            },
            "qpcr_not_in_expression": sorted(cl.index[has["qpcr"] & ~has["expression"]]),
            "gi50_lines_outside_nci60": int(
                self.gi50.loc[self.gi50["cell_line"] == "", "cell_line_dtp"].nunique()
            ),
            "gi50_names_set_aside": list(self.set_aside),
            "renamed_by_alias": {
                n: c for c, n in zip(cl.index, cl["name_qpcr"]) if n and cell_line_key(n) != _plain_key(n)
            },
        }
        for name, rep in self.gene_mapping.items():
            out[f"genes_{name}"] = {
                "n_input": rep.n_input,
                "n_mapped": rep.n_mapped,
                "n_genes": rep.n_genes,
                "steps": {k: int(v) for k, v in rep.summary().items()},
            }
        return out

    def gi50_wide(self, by: str = "drug") -> pd.DataFrame:
        """-log10 GI50 as a cell lines x drugs table (NCI-60 lines only).

        Parameters
        ----------
        by
            ``"drug"``: one column per drug name; 30 drugs were screened under several NSC numbers (salts,
            re-submissions), whose values are averaged. ``"nsc"``: one column per NSC number, named
            ``"<drug> (NSC <n>)"``, nothing averaged.

        Returns
        -------
        pandas.DataFrame
            Rows follow ``cell_lines``; a drug not tested on a line is NaN.
        """
        check_choice("by", by, ("drug", "nsc"))
        g = self.gi50[self.gi50["cell_line"] != ""]
        if by == "nsc":
            g = g.assign(drug=g["drug"] + " (NSC " + g["nsc"].astype(str) + ")")
        wide = g.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
        wide = wide.reindex(self.cell_lines.index)
        wide.columns.name = None
        return wide

    def __repr__(self) -> str:
        j = self.join_report
        return (
            f"NCI60(expression {self.expression.n_obs} lines x {self.expression.n_vars} genes, "
            f"qpcr {self.qpcr.n_obs} x {self.qpcr.n_vars}, gi50 {self.gi50['drug'].nunique()} drugs; "
            f"{j['in_all_three']} lines in all three files)"
        )


def _plain_key(name: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", str(name).upper())


def _cell_lines(probes, q_raw, gi: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Match the cell-line names of the three files by :func:`cell_line_key`.

    Returns the cell-line table (index: the canonical name; ``key``, ``panel`` and each file's name) and
    the names set aside (a second spelling of one key in the same file).
    """
    names: dict[str, dict[str, str]] = {}
    set_aside: list[str] = []

    def add(source: str, name: str, panel: str) -> None:
        key = cell_line_key(name)
        entry = names.setdefault(key, {"panel": "", "name_expression": "", "name_gi50": "", "name_qpcr": ""})
        prev = entry[f"name_{source}"]
        if prev and prev != name:
            # two spellings of one key in the same file (DTP lists both MCF7 and MCF7/ATCC): the one
            # that equals the key without suffix stripping is the NCI-60 line; the other is set aside
            if _plain_key(prev) == key or _plain_key(name) != key:
                set_aside.append(name)
                return
            set_aside.append(prev)
        entry[f"name_{source}"] = name
        if panel and (source == "expression" or not entry["panel"]):
            entry["panel"] = panel

    for name in probes.obs_names:
        add("expression", name, PANELS.get(name.split(":", 1)[0], ""))
    for name, panel in zip(q_raw.obs_names, q_raw.obs["panel"]):
        add("qpcr", name, PANELS.get(str(panel).upper(), ""))
    nci60_keys = set(names)
    for name in gi["cell_line"].astype(str).drop_duplicates():
        if cell_line_key(name) in nci60_keys:
            add("gi50", name, "")
    cl = pd.DataFrame.from_dict(names, orient="index")
    cl.index.name = "key"
    canonical = [
        r.name_gi50 or r.name_expression.split(":", 1)[-1].replace("_", "-") or r.name_qpcr
        for r in cl.itertuples()
    ]
    cl = cl.reset_index()
    cl.index = pd.Index(canonical, name="cell_line")
    cl = cl[["key", "panel", "name_expression", "name_gi50", "name_qpcr"]]
    return cl, set_aside


def nci60(data_dir: str | os.PathLike[str]) -> NCI60:
    """Load and harmonise the NCI-60 files of ``data_dir`` (see the module docstring).

    Parameters
    ----------
    data_dir
        Folder with ``expression_u133a_gcrma.csv.gz``, ``gi50_dtp.csv.gz`` and ``abc_transporters_qpcr.csv``.

    Returns
    -------
    NCI60

    Raises
    ------
    InputFormatError
        If the folder or one of the files is missing or malformed.

    Examples
    --------
    >>> import resistscore as rs
    >>> data = rs.ds.nci60("../shared/data/nci60")  # doctest: +SKIP
    >>> data.expression[["NCI/ADR-RES", "OVCAR-8"], "ABCB1"].X  # doctest: +SKIP
    """
    d = Path(data_dir)
    missing = [f for f in FILES.values() if not (d / f).is_file()]
    if missing:
        raise InputFormatError(
            f"{d} lacks the NCI-60 file(s) {missing}; pass the folder that holds "
            f"{', '.join(FILES.values())} (e.g. ../shared/data/nci60)."
        )

    # --- expression: probes -> genes ------------------------------------------------------------
    probes = read(d / FILES["expression"], orientation="genes_x_samples", gene_column="probe")
    if not {"symbol", "entrez"} <= set(probes.var.columns):
        raise InputFormatError(f"{FILES['expression']} must have the columns probe, symbol, entrez.")
    with warnings.catch_warnings():
        # the few probes whose annotation is ambiguous are listed in the mapping report
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        expression, expr_map = harmonize_genes(probes, annotation=["entrez", "symbol"])

    # --- qPCR: historical ABC names -> current symbols -------------------------------------------
    q_raw = read(d / FILES["qpcr"], orientation="samples_x_genes")
    qpcr, q_map = harmonize_genes(q_raw, species="human")
    got = q_map.mapping()
    for old, new in HISTORICAL_ABC_NAMES.items():
        if old in got and got[old] != new:  # pragma: no cover - guards a future gene-table rebuild
            raise InputFormatError(f"the shipped HGNC table maps {old} to {got[old]}, expected {new}.")
    qpcr.var["name_in_file"] = qpcr.var["input_ids"]

    # --- GI50 --------------------------------------------------------------------------------
    try:
        gi = pd.read_csv(d / FILES["gi50"])
    except (OSError, ValueError, EOFError) as err:
        raise InputFormatError(f"{FILES['gi50']} could not be read ({err}).") from err
    need = {"drug", "nsc", "panel", "cell_line", "neg_log10_gi50"}
    if not need <= set(gi.columns):
        raise InputFormatError(
            f"{FILES['gi50']} must have the columns {sorted(need)}; found {list(gi.columns)}."
        )

    cl, set_aside = _cell_lines(probes, q_raw, gi)
    by_key = dict(zip(cl["key"], cl.index))

    def relabel(adata) -> None:
        canon = [by_key[cell_line_key(n)] for n in adata.obs_names]
        for col in ("panel", "name_expression", "name_gi50", "name_qpcr"):
            adata.obs[col] = cl.loc[canon, col].to_numpy()
        adata.obs_names = pd.Index(canon)

    relabel(expression)
    relabel(probes)
    qpcr.obs = qpcr.obs.drop(columns=["panel"])
    relabel(qpcr)

    by_dtp_name = {n: c for c, n in zip(cl.index, cl["name_gi50"]) if n}
    gi50 = pd.DataFrame(
        {
            "drug": gi["drug"].astype(str),
            "nsc": gi["nsc"],
            "cell_line": [by_dtp_name.get(n, "") for n in gi["cell_line"].astype(str)],
            "cell_line_dtp": gi["cell_line"].astype(str),
            "panel": gi["panel"].astype(str),
            "neg_log10_gi50": pd.to_numeric(gi["neg_log10_gi50"], errors="coerce").astype(float),
        }
    )
    return NCI60(
        expression=expression,
        probes=probes,
        gi50=gi50,
        qpcr=qpcr,
        cell_lines=cl,
        gene_mapping={"expression": expr_map, "qpcr": q_map},
        set_aside=sorted(set(set_aside)),
    )
