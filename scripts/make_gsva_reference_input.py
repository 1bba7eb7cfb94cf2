"""Write the deterministic inputs of the ssGSEA / GSVA reference outputs (tests/_reference/gsva/).

Run from the repository root::

    .venv/bin/python scripts/make_gsva_reference_input.py
    Rscript scripts/make_gsva_reference.R

The first command writes ``input_expr.tsv`` (continuous, log-scale), ``input_counts.tsv``
(integer counts with many ties and zeros) and ``gene_sets.gmt``; the second runs R GSVA on them
(see tests/_reference/README.md). Values are written with 6 decimals so that R and Python parse
exactly the same doubles.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "tests" / "_reference" / "gsva"
N_GENES, N_SAMPLES, SEED = 500, 30, 20261128


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    genes = [f"G{i:03d}" for i in range(1, N_GENES + 1)]
    samples = [f"S{j:02d}" for j in range(1, N_SAMPLES + 1)]

    # continuous log2-expression-like values: gene baseline + sample effect + programme effects
    base = rng.normal(6.0, 2.0, size=(N_GENES, 1))
    noise = rng.normal(0.0, 1.0, size=(N_GENES, N_SAMPLES))
    prog = np.zeros((N_GENES, N_SAMPLES))
    for start in (0, 60, 150):
        prog[start : start + 40] += rng.normal(0.0, 1.5, size=(1, N_SAMPLES))
    expr = np.round(base + noise + prog, 6)
    expr[-1, :] = 5.0  # one constant gene: R GSVA drops it for method="gsva", keeps it for "ssgsea"
    expr[10, :5] = expr[10, 5]  # a few tied values inside one gene
    pd.DataFrame(expr, index=genes, columns=samples).to_csv(
        OUT / "input_expr.tsv", sep="\t", index_label="gene"
    )

    # counts: negative binomial with gene means spanning 0.2 .. 200, many zeros and ties
    mu = np.exp(rng.uniform(np.log(0.2), np.log(200.0), size=(N_GENES, 1)))
    mu = mu * np.exp(prog * 0.5)
    size = 2.0
    counts = rng.negative_binomial(size, size / (size + mu)).astype(float)
    counts[-1, :] = 3.0  # constant gene
    pd.DataFrame(counts.astype(int), index=genes, columns=samples).to_csv(
        OUT / "input_counts.tsv", sep="\t", index_label="gene"
    )

    # gene sets: sizes 5..60, overlapping the programmes, one containing the constant gene,
    # one containing identifiers absent from the matrix (ignored by both R and resistscore)
    sets = {
        "prog_a": genes[0:40],
        "prog_a_small": genes[0:5],
        "prog_b_mixed": genes[60:80] + genes[300:320],
        "prog_c": genes[150:190] + ["NOT_A_GENE1", "NOT_A_GENE2"],
        "random_25": sorted(rng.choice(genes[:-1], 25, replace=False).tolist()),
        "random_60": sorted(rng.choice(genes[:-1], 60, replace=False).tolist()),
        "with_constant": genes[200:210] + [genes[-1]],
        "with_ties": [genes[10]] + genes[400:414],
    }
    with open(OUT / "gene_sets.gmt", "w", encoding="utf-8") as fh:
        for name, members in sets.items():
            fh.write("\t".join([name, "reference set", *members]) + "\n")


if __name__ == "__main__":
    main()
