"""Drug responses at the limits of the tested range: recognised, tested as censored, reported.

References: R ``survival::survreg`` (tests/_reference/stats/r_tobit.tsv, scripts/make_censored_reference.R)
for the censored regression; hand-computed cases for the rank test and the detection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import resistscore as rs

REF = Path(__file__).resolve().parents[2] / "_reference" / "stats"


@pytest.fixture(scope="module")
def cens():
    data = pd.read_csv(REF / "input_censored.tsv", sep="\t", index_col="sample")
    return data, pd.read_csv(REF / "r_tobit.tsv", sep="\t").set_index("response")


@pytest.mark.parametrize(
    ("response", "kwargs"),
    [
        ("y_right", {"limits": (None, 7.2)}),  # stated
        ("y_right", {}),  # detected: 27 values piled at the maximum
        ("y_both", {"limits": (5.6, 7.4), "covariates": "tissue"}),
        ("y_var", {"limits": (None, "limit_high")}),  # per-sample limits from a metadata column
    ],
)
def test_censored_regression_equals_survreg(cens, response, kwargs):
    data, ref = cens
    r = ref.loc[response]
    res = rs.tl.associate(data[["score"]], response, metadata=data, method="regression", **kwargs)
    row = res.table.iloc[0]
    assert row["method"] == "tobit" and row["effect_type"] == "slope"
    assert (row["n_censored_low"], row["n_censored_high"]) == (r["n_left"], r["n_right"])
    np.testing.assert_allclose(row["effect"], r["estimate"], rtol=1e-7)
    np.testing.assert_allclose(row["statistic"], r["z"], rtol=1e-6)
    np.testing.assert_allclose(row["pvalue"], r["p"], rtol=1e-5)
    se = (row["ci_high"] - row["ci_low"]) / (2 * stats.norm.ppf(0.975))
    np.testing.assert_allclose(se, r["std_error"], rtol=1e-6)
    # OLS on the capped values (what resistscore did before) is biased towards 0
    naive = rs.tl.associate(data[["score"]], response, metadata=data, method="regression", detect_limits=False,
                            covariates=kwargs.get("covariates"))  # fmt: skip
    assert naive.table.iloc[0]["method"] == "ols" and abs(naive.table.iloc[0]["effect"]) < abs(row["effect"])


def test_tobit_fit_equals_survreg_scale_and_likelihood(cens):
    from resistscore.tl.stats._censored import tobit

    data, ref = cens
    y = data["y_both"].to_numpy()
    side = np.where(y <= 5.6, -1, np.where(y >= 7.4, 1, 0))
    X = np.column_stack(
        [np.ones(len(y)), data["score"], pd.get_dummies(data["tissue"], drop_first=True, dtype=float)]
    )
    fit = tobit(y, X, side)
    assert fit.converged
    np.testing.assert_allclose(np.log(fit.sigma), ref.loc["y_both", "log_scale"], rtol=1e-6)
    np.testing.assert_allclose(fit.llf, ref.loc["y_both", "loglik"], rtol=1e-9)


def test_spearman_ties_censored_values_at_their_limit():
    x = np.arange(10.0)
    y = pd.Series([5.0, 5.5, 6.1, 6.0, 6.8, 7.0, 8.0, 8.0, 9.3, 8.0], index=[f"s{i}" for i in range(10)])
    sc = pd.DataFrame({"sig": x}, index=y.index)
    # stated high limit 8: 9.3 was reported beyond the tested range and is set to it
    res = rs.tl.associate(sc, y.rename("drug"), limits=(None, 8.0))
    row = res.table.iloc[0]
    capped = np.minimum(y.to_numpy(), 8.0)
    expect = stats.spearmanr(x, capped)
    assert row["method"] == "spearman" and row["n_censored_high"] == 4 and row["bound_high"] == 8.0
    np.testing.assert_allclose([row["effect"], row["pvalue"]], [expect.statistic, expect.pvalue], rtol=1e-12)
    flags = res.censoring.set_index("sample")
    assert (
        flags.loc["s8", "censored"] == "right"
        and flags.loc["s8", "value"] == 8.0
        and flags.loc["s8", "bound"] == 8.0
    )
    assert flags.loc["s0", "censored"] == "" and np.isnan(flags.loc["s0", "bound"])
    assert res.params["censoring"]["drug"]["source_high"] == "stated"


def test_spearman_with_per_sample_limits_coarsens_to_the_least_extreme_limit():
    # right-censored at 6.0 (s2) and at 9.0 (s8): above 6.0 the order of s2 with the others is unknown,
    # so every value >= 6.0 becomes "6.0 or more" (hand-computed)
    idx = [f"s{i}" for i in range(9)]
    meta = pd.DataFrame({"drug": [4.0, 5.0, 6.0, 5.5, 7.0, 6.5, 8.0, 4.5, 9.0],
                         "top": [10, 10, 6.0, 10, 10, 10, 10, 10, 9.0]}, index=idx)  # fmt: skip
    sc = pd.DataFrame({"sig": [1.0, 3.0, 2.0, 4.0, 6.0, 5.0, 8.0, 7.0, 9.0]}, index=idx)
    row = rs.tl.associate(sc, "drug", metadata=meta, limits=(None, "top")).table.iloc[0]
    coarse = [4.0, 5.0, 6.0, 5.5, 6.0, 6.0, 6.0, 4.5, 6.0]
    np.testing.assert_allclose(row["effect"], stats.spearmanr(sc["sig"], coarse).statistic, rtol=1e-12)
    assert (row["n_censored_high"], row["bound_high"]) == (2, 6.0)


def test_detection_needs_a_pile_and_respects_stated_sides():
    rng = np.random.default_rng(0)
    idx = [f"s{i}" for i in range(40)]
    sc = pd.DataFrame({"sig": rng.normal(size=40)}, index=idx)
    y = pd.Series(rng.uniform(4.5, 7.5, size=40), index=idx, name="drug")
    y.iloc[:2] = 4.0  # two at the minimum: not a pile (needs max(3, 5 %) = 3)
    row = rs.tl.associate(sc, y).table.iloc[0]
    assert (row["n_censored_low"], row["n_censored_high"]) == (0, 0) and np.isnan(row["bound_low"])
    y.iloc[:3] = 4.0
    y.iloc[-5:] = 8.0
    res = rs.tl.associate(sc, y)
    row = res.table.iloc[0]
    assert (row["n_censored_low"], row["bound_low"], row["n_censored_high"], row["bound_high"]) == (
        3,
        4.0,
        5,
        8.0,
    )
    assert res.params["censoring"]["drug"] == {"low": 4.0, "high": 8.0, "source_low": "detected",
                                               "source_high": "detected"}  # fmt: skip
    off = rs.tl.associate(sc, y, detect_limits=False).table.iloc[0]
    assert (off["n_censored_low"], off["n_censored_high"]) == (0, 0)
    # the values were already tied at the limits: Spearman's rho is the same
    assert off["effect"] == pytest.approx(row["effect"], rel=1e-12)
    stated = rs.tl.associate(sc, y, limits=(3.5, None)).table.iloc[
        0
    ]  # low stated (nothing below), high detected
    assert (stated["n_censored_low"], stated["n_censored_high"]) == (0, 5)


def test_pearson_refuses_censored_values_with_a_note_and_errors_name_the_fix():
    idx = [f"s{i}" for i in range(12)]
    sc = pd.DataFrame({"sig": np.arange(12.0)}, index=idx)
    y = pd.Series([4.0] * 4 + list(np.linspace(5, 7, 8)), index=idx, name="drug")
    row = rs.tl.associate(sc, y, method="pearson").table.iloc[0]
    assert (
        np.isnan(row["effect"]) and "Pearson's r is not defined" in row["note"] and row["n_censored_low"] == 4
    )
    with pytest.raises(rs.StatisticsError, match="'nope'"):
        rs.tl.associate(sc, "drug", metadata=y.to_frame(), limits=(None, "nope"))
    with pytest.raises(rs.StatisticsError, match="both its low and its high limit"):
        rs.tl.associate(sc, y, limits=(6.0, 5.0))
    with pytest.raises(rs.StatisticsError, match="not analysed"):
        rs.tl.associate(sc, y, limits={"other": (None, 8.0)})
    with pytest.raises(rs.StatisticsError, match="detect_limits"):
        rs.tl.associate(sc, y, detect_limits="yes")
    everything = pd.Series([4.0] * 12, index=idx, name="drug")
    row = rs.tl.associate(sc, everything, limits=(4.0, None)).table.iloc[0]
    assert np.isnan(row["effect"]) and row["n_censored_low"] == 12
