"""Inputs of the R GSVA ssGSEA reference on the NCI-60 symbol table (tests/_reference/nci60_ssgsea/).

Run from the repository root (the NCI-60 data are not part of the repository)::

    .venv/bin/python scripts/make_nci60_ssgsea_reference.py ../shared/data/nci60 /tmp/nci60_ssgsea
    Rscript scripts/make_nci60_ssgsea_reference.R ../shared/data/nci60 /tmp/nci60_ssgsea

The symbol table is the expression file's ``symbol`` column and its 59 cell-line columns (the
``probe`` and ``entrez`` columns dropped), exactly as ``tests/pp/test_nci60_symbol_table.py`` writes it
for the CLI. This script writes

* ``tests/_reference/nci60_ssgsea/gene_sets.gmt``: the shipped mechanism signatures as ``<id>_UP`` /
  ``<id>_DN`` sets (stored; the test scores with this file, so the reference does not drift when the
  shipped signatures change);
* ``<work>/labels.tsv`` (not stored): for every data row of the file, the name the row has after
  ``rs.io.read`` + ``rs.pp.harmonize_genes`` with the defaults - its HGNC symbol, its own symbol when it
  cannot be mapped, or empty when the reader drops it (no symbol). Only names, no expression values.

R then reads the expression values itself from the original file, relabels the rows with these names,
averages rows with the same name within each sample (limma's ``avereps``, the default collapse) and runs
``gsva(method="ssgsea", ssgsea.norm=FALSE)`` on every gene.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

import resistscore as rs

REF = Path(__file__).resolve().parent.parent / "tests" / "_reference" / "nci60_ssgsea"


def symbol_table(data_dir: Path) -> pd.DataFrame:
    """The NCI-60 symbol table: ``symbol`` and the cell-line columns (what the test writes for the CLI)."""
    d = pd.read_csv(Path(data_dir) / "expression_u133a_gcrma.csv.gz", dtype={"symbol": str})
    return d.drop(columns=["probe", "entrez"])


def main(data_dir: str, work: str) -> None:
    work_dir = Path(work)
    work_dir.mkdir(parents=True, exist_ok=True)
    REF.mkdir(parents=True, exist_ok=True)
    table = work_dir / "nci60_symbols.csv"
    symbol_table(Path(data_dir)).to_csv(table, index=False)
    adata = rs.io.read(table)
    rep = adata.uns["resistscore"]["read_report"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.AmbiguousGeneWarning)
        mapping = rs.pp.map_genes(list(adata.var_names))
    t = mapping.table
    names = t["symbol"].where(t["symbol"] != "", t["input_id"]).tolist()
    # the reader drops rows without a symbol; every other row keeps its place in file order
    raw = pd.read_csv(table, usecols=["symbol"], keep_default_na=False, dtype=str)["symbol"]
    kept = raw.str.strip().map(lambda s: s not in rs.io._numbers.NA_STRINGS).to_numpy()
    assert kept.sum() == len(names) == rep["n_genes"], (kept.sum(), len(names), rep["n_genes"])
    labels = pd.Series([""] * len(raw))
    labels[kept] = names
    labels.to_frame("name").rename_axis("row").to_csv(work_dir / "labels.tsv", sep="\t")
    rs.sig.write_gmt(rs.sig.load(), REF / "gene_sets.gmt")
    renamed = int(((t["symbol"] != "") & (t["symbol"] != t["input_id"])).sum())
    print(
        f"{len(raw)} rows, {int(kept.sum())} with a symbol, {len(set(names))} distinct names after harmonising "
        f"({renamed} rows renamed, {int((t['symbol'] == '').sum())} kept under their own symbol)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
