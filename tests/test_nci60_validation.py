"""Real-data check on NCI-60 (issue 6, item 6): known P-glycoprotein biology, without tuning signatures.

* NCI/ADR-RES (a doxorubicin-selected OVCAR-8 derivative) over-expresses ABCB1: the shipped P-gp
  sub-signature ``efflux_abc.abcb1`` must rank it first of the panel, and its difference from the
  parent line OVCAR-8 must be explained by ABCB1 in the per-gene contributions.
* Across the panel the score must associate negatively (weakly) with -log10 GI50 of P-gp substrates
  (doxorubicin, paclitaxel, docetaxel, vinblastine) and not with cisplatin (not a P-gp substrate).

The signatures are the shipped ones, scored with singscore (the bulk default) and no parameter
chosen from these data. Skipped when ../shared/data/nci60 is absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import resistscore as rs

pytestmark = pytest.mark.realdata

PGP_SUBSTRATES = ["doxorubicin", "paclitaxel", "docetaxel", "vinblastine"]
PGP = "efflux_abc.abcb1"
BROAD = "efflux_abc"


def _load(nci60_dir):
    return rs.ds.nci60(nci60_dir)


@pytest.fixture(scope="module")
def nci60(nci60_dir):
    data = _load(nci60_dir)
    expr = data.expression.to_df()
    res = rs.tl.score(expr, rs.sig.load(ids=[BROAD, PGP]), method="singscore", pvalues=False)
    gi = data.gi50[data.gi50["cell_line"] != ""]
    gi50 = gi.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
    gi50.columns = [c.lower() for c in gi50.columns]
    return {"data": data, "expr": expr, "res": res, "gi50": gi50}


def test_pgp_signature_ranks_nci_adr_res_first(nci60):
    s = nci60["res"].scores[PGP]
    assert s.notna().sum() == 59
    ranked = s.sort_values(ascending=False)
    assert ranked.index[0] == "NCI/ADR-RES"
    assert ranked.iloc[0] - ranked.iloc[1] > 0.02  # a clear first, not a tie
    assert s["NCI/ADR-RES"] > s["OVCAR-8"] + 0.3


def test_difference_from_ovcar8_with_per_gene_contributions(nci60):
    res, expr = nci60["res"], nci60["expr"]
    cmp = rs.tl.compare_samples(res, "NCI/ADR-RES", "OVCAR-8", signatures=[PGP, BROAD])
    summary = cmp.scores.set_index("signature")
    for sig in (PGP, BROAD):
        t = cmp.table[cmp.table["signature"] == sig].reset_index(drop=True)
        assert t.loc[0, "gene"] == "ABCB1" and t.loc[0, "difference"] > 0  # ABCB1 dominates
        # singscore contributions are additive: they explain the score difference exactly
        assert t["difference"].sum() == pytest.approx(summary.loc[sig, "difference"], abs=1e-9)
        assert t.loc[0, "share"] > 0.5
    # independent check on the expression itself: ABCB1 is up by several log2 units (README: ~ +8 per probe)
    row = cmp.table[(cmp.table["signature"] == PGP) & (cmp.table["gene"] == "ABCB1")].iloc[0]
    assert row["value"] == pytest.approx(expr.loc["NCI/ADR-RES", "ABCB1"])
    assert row["value"] - row["value_reference"] > 5


def test_pgp_score_tracks_gi50_of_substrates_not_cisplatin(nci60):
    res, gi50 = nci60["res"], nci60["gi50"]
    assoc = rs.tl.associate(res, gi50[[*PGP_SUBSTRATES, "cisplatin"]], signatures=PGP).table.set_index(
        "response"
    )
    assert (assoc.loc[PGP_SUBSTRATES, "n"] >= 55).all()
    rho = assoc.loc[PGP_SUBSTRATES, "effect"]
    # weak negative associations (README: about -0.15 to -0.35 for ABCB1 expression)
    assert (rho < 0).all() and (rho > -0.6).all()
    assert rho.mean() < -0.1
    assert assoc.loc["cisplatin", "pvalue"] > 0.05
    assert abs(assoc.loc["cisplatin", "effect"]) < 0.2
    # independent reference: scipy on the same pairs
    s = res.scores[PGP]
    y = gi50["doxorubicin"].reindex(s.index)
    ok = y.notna()
    assert assoc.loc["doxorubicin", "effect"] == pytest.approx(
        stats.spearmanr(s[ok], y[ok]).statistic, rel=1e-12
    )


def test_broad_and_drug_specific_signatures_are_reported(nci60):
    """Reported in the NCI-60 notebook whatever they show: here only that the analysis is complete."""
    drugs = [*PGP_SUBSTRATES, "cisplatin"]
    dsig = rs.sig.drug_signatures(drugs)
    res = rs.tl.score(nci60["expr"], dsig, method="singscore", pvalues=False)
    rows = []
    for drug in drugs:
        own = [c for c in res.scores.columns if c.endswith(drug)]
        assert len(own) == 1
        rows.append(rs.tl.associate(res, nci60["gi50"][[drug]], signatures=own).table)
    broad = rs.tl.associate(nci60["res"], nci60["gi50"][drugs], signatures=BROAD).table
    table = pd.concat([*rows, broad], ignore_index=True)
    assert len(table) == 2 * len(drugs)
    reported = table[table["note"] == ""]
    assert np.isfinite(reported[["effect", "ci_low", "ci_high", "pvalue"]].to_numpy()).all()
    assert (reported["ci_low"] < reported["effect"]).all() and (
        reported["effect"] < reported["ci_high"]
    ).all()
