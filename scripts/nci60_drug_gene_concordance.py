#!/usr/bin/env python
"""Check the directions of ``signatures/drugs/drug_genes.tsv`` against real NCI-60 data (validation, not tuning).

For every drug of the drug map that the NCI DTP screen measured, and every gene the map lists for it,
compute the Spearman correlation across the NCI-60 lines between the gene's expression (HG-U133A GCRMA,
mean of its probe sets) and drug sensitivity (``-log10 GI50``; higher = more sensitive). A gene
``up`` in resistance should correlate negatively with sensitivity, a gene ``down`` positively. The
script prints, per drug and overall, how many gene directions agree in sign, and how many agree with
``|rho| >= 0.3`` (roughly p < 0.02 for ~58 lines). Cell lines are matched by normalising names
(upper case, letters and digits only) with an explicit alias map.

Cell-line panels are a weak test of most mechanisms (one line per tumour, few lines express the genes
at all), so agreement is expected to be modest except for strong single determinants (e.g. ABCB1 for P-gp substrates,
TOP2A for topoisomerase II poisons). Expression of a drug's own target (ABL1 for BCR-ABL1 inhibitors) marks
sensitivity in an untreated panel (K-562 carries BCR-ABL1), the opposite of its role in acquired resistance.

Usage::

    python scripts/nci60_drug_gene_concordance.py [--data ../shared/data/nci60]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
ALIASES = {"MCF7ADRR": "NCIADRRES", "ADRRES": "NCIADRRES"}


def norm(name: str) -> str:
    """Normalise a cell-line name: drop the panel prefix, keep upper-case letters and digits."""
    name = name.split(":", 1)[-1]
    key = re.sub(r"[^A-Z0-9]", "", name.upper())
    return ALIASES.get(key, key)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "nci60"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"NCI-60 data not found at {data}; pass --data DIR")
        return 2
    expr = pd.read_csv(data / "expression_u133a_gcrma.csv.gz")
    expr = expr.dropna(subset=["symbol"]).drop(columns=["probe", "entrez"]).groupby("symbol").mean()
    expr.columns = [norm(c) for c in expr.columns]
    gi = pd.read_csv(data / "gi50_dtp.csv.gz")
    gi["line"] = gi["cell_line"].map(norm)
    gi["drug"] = gi["drug"].str.lower()
    sens = gi.pivot_table(index="line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
    dg = pd.read_csv(ROOT / "signatures" / "drugs" / "drug_genes.tsv", sep="\t")
    rows = []
    for drug, symbol, direction in dg[["drug", "symbol", "direction"]].itertuples(index=False):
        if drug not in sens.columns or symbol not in expr.index:
            continue
        y = sens[drug].dropna()
        common = [c for c in expr.columns if c in y.index]
        x = expr.loc[symbol, common]
        if x.nunique() < 3 or y.loc[common].nunique() < 3:
            continue  # constant gene or drug response: no correlation defined
        rho = spearmanr(x, y.loc[common]).statistic
        want = -1 if direction == "up" else 1
        rows.append((drug, symbol, direction, len(common), rho, rho * want > 0, rho * want >= 0.3))
    res = pd.DataFrame(
        rows, columns=["drug", "symbol", "direction", "n_lines", "rho", "sign_agrees", "agrees_rho_0.3"]
    )
    with pd.option_context("display.width", 200, "display.max_rows", 400):
        by = res.groupby("drug").agg(
            genes=("symbol", "size"), sign_agrees=("sign_agrees", "sum"), strong=("agrees_rho_0.3", "sum")
        )
        print(by)
        strong_against = res[(res["rho"] * res["direction"].map({"up": -1, "down": 1})) <= -0.3]
        print("\nstrong agreements (|rho| >= 0.3):")
        print(res[res["agrees_rho_0.3"]].sort_values("rho").to_string(index=False))
        print("\nstrong disagreements (|rho| >= 0.3, opposite sign):")
        print(strong_against.to_string(index=False))
    n = len(res)
    print(
        f"\n{n} drug-gene pairs measured; sign agrees in {int(res['sign_agrees'].sum())} "
        f"({res['sign_agrees'].mean():.0%}); strong agreement {int(res['agrees_rho_0.3'].sum())}, "
        f"strong disagreement {len(strong_against)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
