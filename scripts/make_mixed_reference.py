"""Write the input of the lme4 reference for resistscore's mixed models (tests/tl/stats/test_mixed_lme4.py).

The single-cell toy cohort (``rs.ds.toy("sc")``: 6 patients x 300 cells), normalised to 10,000 counts
per cell and log1p-transformed (scanpy), scored with the default method (UCell, no p-values) for six
signatures; written with the cell annotations the models use, scores with 17 significant digits (R and
Python then read identical doubles). Then run ``Rscript scripts/make_mixed_reference.R``.

Run from the repository root: ``.venv/bin/python scripts/make_mixed_reference.py``
"""

from __future__ import annotations

from pathlib import Path

import scanpy as sc

import resistscore as rs

SIGNATURES = [
    "efflux_abc",
    "apoptosis",
    "apoptosis.anti_apoptotic",
    "dna_repair.ner",
    "microenvironment",
    "cancer_stem_cells",
]
OUT = Path("tests/_reference/stats/toy_sc_cells.tsv")


def main() -> None:
    adata = rs.ds.toy("sc")
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    res = rs.tl.score(adata.to_df(), SIGNATURES, method="ucell", pvalues=False)
    table = adata.obs[["patient", "group", "dna_repair", "cell_type"]].copy()
    table["dna_repair"] = table["dna_repair"].map({True: "yes", False: "no"})
    table = table.join(res.scores[SIGNATURES])
    table.index.name = "cell"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, sep="\t", float_format="%.17g")
    print(f"wrote {OUT}: {table.shape[0]} cells, {len(SIGNATURES)} signatures")


if __name__ == "__main__":
    main()
