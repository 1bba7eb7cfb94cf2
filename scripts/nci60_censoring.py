"""NCI-60: which drugs' GI50 values are piled at the limits of the tested range, and what changes
when they are analysed as censored (docs/statistics.md, "Censored responses").

For every drug of the DTP screen (``rs.ds.nci60(...).gi50_wide()``: -log10 GI50 per line, several
NSC numbers of one drug averaged), the values piled at the smallest (GI50 at the highest tested
concentration, 100 uM: -log10 GI50 = 4, left-censored) and the largest value (10 nM: 8, right-censored)
are counted; the shipped P-glycoprotein sub-signature ``efflux_abc.abcb1`` (singscore) is then
associated with every drug three ways: Spearman (censored values tied at their limit), OLS on the
capped values as if exact (``detect_limits=False``, what resistscore did before) and censored normal
(Tobit) regression.

Run from the repository root:
``.venv/bin/python scripts/nci60_censoring.py ../shared/data/nci60``
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

import resistscore as rs

PGP = "efflux_abc.abcb1"
SUBSTRATES = ["Doxorubicin", "Paclitaxel", "Docetaxel", "Vinblastine", "Actinomycin D", "Cisplatin"]


def main(folder: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        nci = rs.ds.nci60(folder)
        res = rs.tl.score(nci.expression.to_df(), PGP, method="singscore", pvalues=False)
    gi50 = nci.gi50_wide().reindex(res.scores.index)
    sp = rs.tl.associate(res, gi50).table.set_index("response")
    ols = rs.tl.associate(res, gi50, method="regression", detect_limits=False).table.set_index("response")
    tob = rs.tl.associate(res, gi50, method="regression").table.set_index("response")
    cens = sp[(sp["n_censored_low"] > 0) | (sp["n_censored_high"] > 0)]
    print(f"{len(cens)} of {len(sp)} drugs have values piled at a limit of the tested range")
    print(
        f"  at -log10 GI50 = 4 (GI50 >= 100 uM, left-censored): {int((cens['n_censored_low'] > 0).sum())} drugs"
    )
    print(
        f"  at -log10 GI50 = 8 (GI50 <= 10 nM, right-censored): {int((cens['n_censored_high'] > 0).sum())} drugs"
    )
    both = cens.index
    changed = both[(ols.loc[both, "pvalue"] < 0.05) != (tob.loc[both, "pvalue"] < 0.05)]
    ratio = (tob.loc[both, "effect"] / ols.loc[both, "effect"]).abs()
    print(
        f"  P-gp score vs response, slope censored / slope as if exact: median {ratio.median():.2f} "
        f"(IQR {ratio.quantile(0.25):.2f}-{ratio.quantile(0.75):.2f}); p < 0.05 changes for {len(changed)} "
        f"drugs: {', '.join(changed)}"
    )
    rows = []
    for drug in [d for d in SUBSTRATES if d in sp.index] + [d for d in changed if d not in SUBSTRATES]:
        rows.append(
            {
                "drug": drug,
                "n": int(sp.loc[drug, "n"]),
                "at 4 (left)": int(sp.loc[drug, "n_censored_low"]),
                "at 8 (right)": int(sp.loc[drug, "n_censored_high"]),
                "Spearman rho": round(float(sp.loc[drug, "effect"]), 3),
                "p (Spearman)": float(sp.loc[drug, "pvalue"]),
                "slope as if exact (OLS)": round(float(ols.loc[drug, "effect"]), 3),
                "p (OLS)": float(ols.loc[drug, "pvalue"]),
                "slope censored (Tobit)": round(float(tob.loc[drug, "effect"]), 3),
                "p (Tobit)": float(tob.loc[drug, "pvalue"]),
            }
        )
    table = pd.DataFrame(rows)
    for c in [c for c in table.columns if c.startswith("p (")]:
        table[c] = table[c].map(lambda v: f"{v:.2g}" if np.isfinite(v) else "")
    print()
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for r in table.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in r) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nci60")
