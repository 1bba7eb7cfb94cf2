"""Figures of real NCI-60 data (skipped when ../shared/data/nci60 is absent)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

import resistscore as rs

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def nci60(nci60_dir):
    return rs.ds.nci60(nci60_dir)


def test_pgp_score_vs_paclitaxel_and_contributions(nci60, tmp_path):
    data = nci60
    expr = pd.DataFrame(
        np.asarray(data.expression.X), index=data.expression.obs_names, columns=data.expression.var_names
    )
    # P-gp alone: the README's known biology is about ABCB1 (Spearman about -0.15 to -0.35 with
    # -log10 GI50 of P-gp substrates, none with cisplatin)
    pgp = rs.tl.score(expr, {"pgp": ["ABCB1"]}, method="singscore", pvalues=False)
    gi50 = data.gi50_wide()
    rhos = {}
    for drug in ("Docetaxel", "Doxorubicin", "Cisplatin"):
        y = gi50[drug].rename(f"{drug} -log10 GI50")
        ax = rs.pl.response(pgp, y, signature="pgp", save=tmp_path / f"pgp_{drug}.pdf")
        both = pd.concat([pgp.scores["pgp"], y], axis=1).dropna()
        rhos[drug] = st.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic
        assert ax.texts[0].get_text().startswith(f"Spearman rho={rhos[drug]:.2f}")
        assert ax.texts[0].get_text().endswith(f"n={len(both)}")
        assert ax.get_ylabel() == f"{drug} -log10 GI50"
        assert (tmp_path / f"pgp_{drug}.pdf").read_bytes().startswith(b"%PDF")
        plt.close(ax.figure)
    assert rhos["Docetaxel"] < -0.1 and rhos["Doxorubicin"] < -0.1
    assert abs(rhos["Cisplatin"]) < 0.15
    sigs = {"pgp_efflux": ["ABCB1", "ABCC1", "ABCG2"]}
    result = rs.tl.score(expr, sigs, method="singscore", pvalues=False)
    # NCI/ADR-RES over-expresses ABCB1: its largest contribution, and larger than in OVCAR-8
    ax = rs.pl.contributions(result, samples=["NCI/ADR-RES", "OVCAR-8"], signature="pgp_efflux")
    genes = [t.get_text() for t in ax.get_yticklabels()]
    values = pd.DataFrame(
        np.asarray(ax.collections[0].get_array()).reshape(len(genes), 2),
        index=genes,
        columns=["adr", "ovcar8"],
    )
    assert values["adr"].idxmax() == "ABCB1"
    assert values.loc["ABCB1", "adr"] > values.loc["ABCB1", "ovcar8"]
    plt.close(ax.figure)
