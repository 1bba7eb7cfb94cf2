"""NCI-60 GI50: values piled at the limits of the tested range are recognised and analysed as censored
(scripts/nci60_censoring.py prints the full comparison; docs/statistics.md). Skipped without the data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import resistscore as rs

pytestmark = pytest.mark.realdata

PGP = "efflux_abc.abcb1"


@pytest.fixture(scope="module")
def nci(nci60_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        data = rs.ds.nci60(nci60_dir)
        res = rs.tl.score(data.expression.to_df(), PGP, method="singscore", pvalues=False)
    return res, data.gi50_wide().reindex(res.scores.index)


def test_piled_gi50_values_are_recognised_as_censored(nci):
    res, gi50 = nci
    out = rs.tl.associate(res, gi50)
    t = out.table.set_index("response")
    piled = t[(t["n_censored_low"] > 0) | (t["n_censored_high"] > 0)]
    assert len(piled) >= 60  # 65 of 149 drugs at the 59 lines with expression
    assert set(piled["bound_low"].dropna()) == {4.0} and set(piled["bound_high"].dropna()) == {8.0}
    # P-gp substrates capped at the lowest tested concentration (GI50 <= 10 nM) in many lines
    assert t.loc["Paclitaxel", "n_censored_high"] == 26 and t.loc["Docetaxel", "n_censored_high"] == 31
    assert t.loc["Doxorubicin", "n_censored_high"] == 0 and t.loc["Cisplatin", "n_censored_low"] == 0
    flags = out.censoring[out.censoring["response"] == "Paclitaxel"]
    assert (flags["censored"] == "right").sum() == 26 and (
        flags.loc[flags["censored"] == "right", "value"] == 8.0
    ).all()
    # the capped values were exactly tied already: Spearman's rho and p are unchanged, but now reported
    plain = rs.tl.associate(res, gi50, detect_limits=False).table.set_index("response")
    np.testing.assert_allclose(t["effect"], plain["effect"], rtol=1e-12, equal_nan=True)


def test_censored_regression_undoes_the_bias_of_capped_values(nci):
    res, gi50 = nci
    drugs = ["Paclitaxel", "Docetaxel", "Vinblastine", "Actinomycin D"]
    tob = rs.tl.associate(res, gi50[drugs], method="regression").table.set_index("response")
    ols = rs.tl.associate(res, gi50[drugs], method="regression", detect_limits=False).table.set_index(
        "response"
    )
    assert (tob["method"] == "tobit").all() and (ols["method"] == "ols").all()
    # OLS on values capped at the limit flattens the slope towards 0; the censored fit does not
    assert (tob["effect"] < ols["effect"]).all() and (ols["effect"] < 0).all()
    # docetaxel, 31 of 56 lines at the cap: slope -1.94 as if exact, -3.85 censored
    assert tob.loc["Docetaxel", "effect"] < 1.8 * ols.loc["Docetaxel", "effect"]
