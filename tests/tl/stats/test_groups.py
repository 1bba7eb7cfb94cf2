"""compare_groups against scipy, hand computations and on bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import resistscore as rs
from resistscore.tl.stats._groups import COMPARE_COLUMNS


@pytest.fixture
def data():
    rng = np.random.default_rng(42)
    idx = [f"s{i}" for i in range(30)]
    meta = pd.DataFrame(
        {"grp": np.repeat(["ctrl", "low", "high"], 10), "batch": np.tile(["b1", "b2"], 15)}, index=idx
    )
    scores = pd.DataFrame(
        {
            "efflux_abc": rng.normal(0, 1, 30) + np.repeat([0, 0.5, 1.5], 10),
            "apoptosis": rng.normal(0, 1, 30),
        },
        index=idx,
    )
    return scores, meta


def test_fixed_columns_and_scipy_welch(data):
    scores, meta = data
    res = rs.tl.compare_groups(scores, meta, group="grp", reference="ctrl")
    assert list(res.table.columns) == COMPARE_COLUMNS
    assert len(res.table) == 4  # 2 contrasts x 2 signatures
    row = res.table.query("signature == 'efflux_abc' and group1 == 'high'").iloc[0]
    x = scores.loc[meta.grp == "high", "efflux_abc"]
    y = scores.loc[meta.grp == "ctrl", "efflux_abc"]
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert row["estimate"] == pytest.approx(x.mean() - y.mean(), rel=1e-12)
    # Hedges' g by hand: pooled SD, exact J (n1 + n2 - 2 = 18)
    sp = math.sqrt((9 * x.var() + 9 * y.var()) / 18)
    j = math.gamma(9) / (math.sqrt(9) * math.gamma(8.5))
    assert row["effect"] == pytest.approx(j * (x.mean() - y.mean()) / sp, rel=1e-10)
    # the noncentral-t CI approaches the large-sample normal interval; here it must bracket g
    assert row["ci_low"] < row["effect"] < row["ci_high"]


def test_bh_fdr_across_signatures_within_contrast(data):
    scores, meta = data
    t = rs.tl.compare_groups(scores, meta, group="grp", reference="ctrl").table
    for _, sub in t.groupby("group1"):
        p = sub["pvalue"].to_numpy()
        order = np.argsort(p)
        m = len(p)
        expected = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
        np.testing.assert_allclose(sub["fdr"].to_numpy()[order], np.minimum(expected, 1), rtol=1e-12)


def test_all_pairs_without_reference(data):
    scores, meta = data
    t = rs.tl.compare_groups(scores, meta, group="grp", test="mannwhitney", signatures="efflux_abc").table
    assert sorted(zip(t.group1, t.group2)) == [("high", "ctrl"), ("low", "ctrl"), ("low", "high")]


def test_mannwhitney_effects_by_hand(data):
    scores, meta = data
    row = rs.tl.compare_groups(
        scores, meta, group="grp", groups=["ctrl", "high"], test="mannwhitney"
    ).table.iloc[0]
    assert (row["group1"], row["group2"]) == ("high", "ctrl")
    x = scores.loc[meta.grp == "high", "efflux_abc"].to_numpy()
    y = scores.loc[meta.grp == "ctrl", "efflux_abc"].to_numpy()
    u = sum((xi > yj) + 0.5 * (xi == yj) for xi in x for yj in y)
    assert row["statistic"] == u
    assert row["effect"] == pytest.approx(2 * u / 100 - 1)
    assert row["estimate"] == pytest.approx(np.median([xi - yj for xi in x for yj in y]))
    assert row["pvalue"] == pytest.approx(stats.mannwhitneyu(x, y).pvalue)


def test_omnibus_scipy(data):
    scores, meta = data
    an = rs.tl.compare_groups(scores, meta, group="grp", test="anova").table.set_index("signature")
    kw = rs.tl.compare_groups(scores, meta, group="grp", test="kruskal").table.set_index("signature")
    for sig in scores:
        parts = [scores.loc[meta.grp == g, sig] for g in ["ctrl", "high", "low"]]
        assert an.loc[sig, "pvalue"] == pytest.approx(stats.f_oneway(*parts).pvalue, rel=1e-10)
        assert kw.loc[sig, "pvalue"] == pytest.approx(stats.kruskal(*parts).pvalue, rel=1e-10)
        # epsilon^2 = eta^2 of the ranks
        r = pd.Series(stats.rankdata(scores[sig]), index=scores.index)
        ss_b = sum(
            len(r[meta.grp == g]) * (r[meta.grp == g].mean() - r.mean()) ** 2 for g in ["ctrl", "high", "low"]
        )
        assert kw.loc[sig, "effect"] == pytest.approx(ss_b / ((r - r.mean()) ** 2).sum(), rel=1e-10)
        assert kw.loc[sig, "ci_low"] <= kw.loc[sig, "effect"] <= kw.loc[sig, "ci_high"]
    assert an.loc["efflux_abc", "group1"] == "ctrl, high, low" and an.loc["efflux_abc", "n1"] == 30


def test_categorical_order_gives_default_reference(data):
    scores, meta = data
    meta = meta.assign(grp=pd.Categorical(meta.grp, categories=["ctrl", "low", "high"]))
    t = rs.tl.compare_groups(scores, meta, group="grp", groups=["ctrl", "high"]).table
    assert (t.group2 == "ctrl").all() and (t.group1 == "high").all()


def test_nan_and_constant_rows(data):
    scores, meta = data
    scores = scores.assign(unreported=np.nan, flat=1.0)
    t = rs.tl.compare_groups(scores, meta, group="grp", groups=["ctrl", "high"]).table.set_index("signature")
    assert t.loc["unreported", "note"] == "score not reported (all NaN)" and np.isnan(
        t.loc["unreported", "pvalue"]
    )
    assert t.loc["flat", "note"] == "constant scores" and np.isnan(t.loc["flat", "pvalue"])
    # NaN rows do not count as tests in the FDR: 2 tests, not 4
    p = t["pvalue"].dropna().sort_values()
    assert len(p) == 2
    assert t.loc[p.index[1], "fdr"] == pytest.approx(p.iloc[1], rel=1e-12)
    assert t.loc[p.index[0], "fdr"] == pytest.approx(min(2 * p.iloc[0], p.iloc[1]), rel=1e-12)


def test_partial_nan_scores_are_dropped(data):
    scores, meta = data
    s = scores.copy()
    s.iloc[:3, 0] = np.nan
    row = rs.tl.compare_groups(s, meta, group="grp", reference="ctrl", signatures="efflux_abc").table.iloc[0]
    assert row["n2"] == 7


def test_errors_name_the_problem(data):
    scores, meta = data
    with pytest.raises(rs.StatisticsError, match=r"'nope'.*available columns: grp, batch"):
        rs.tl.compare_groups(scores, meta, group="nope")
    single = meta.copy()
    single.iloc[0, 0] = "lonely"
    with pytest.raises(rs.StatisticsError, match="lonely.*single sample"):
        rs.tl.compare_groups(scores, single, group="grp")
    with pytest.raises(rs.StatisticsError, match="at least 2 groups"):
        rs.tl.compare_groups(scores, meta.assign(grp="x"), group="grp")
    with pytest.raises(rs.StatisticsError, match="`reference`='zzz'"):
        rs.tl.compare_groups(scores, meta, group="grp", reference="zzz")
    with pytest.raises(rs.ResistScoreError, match="`test` must be one of"):
        rs.tl.compare_groups(scores, meta, group="grp", test="ttest")
    with pytest.raises(rs.StatisticsError, match="signature"):
        rs.tl.compare_groups(scores, meta, group="grp", signatures=["missing_sig"])
    with pytest.raises(rs.StatisticsError, match="exactly 2 groups"):
        rs.tl.compare_groups(scores, meta, group="grp", paired_by="batch")
    with pytest.raises(rs.StatisticsError, match="more than one sample"):
        rs.tl.compare_groups(scores, meta, group="grp", groups=["ctrl", "high"], paired_by="batch")


def test_inputs_not_mutated(data):
    scores, meta = data
    s0, m0 = scores.copy(), meta.copy()
    rs.tl.compare_groups(scores, meta, group="grp", covariates="batch")
    pd.testing.assert_frame_equal(scores, s0)
    pd.testing.assert_frame_equal(meta, m0)


def test_covariate_model_matches_statsmodels(data):
    import statsmodels.formula.api as smf

    scores, meta = data
    t = rs.tl.compare_groups(scores, meta, group="grp", reference="ctrl", covariates=["batch"]).table
    fit = smf.ols("y ~ C(grp, Treatment('ctrl')) + batch", meta.assign(y=scores["efflux_abc"])).fit()
    row = t.query("signature == 'efflux_abc' and group1 == 'high'").iloc[0]
    name = "C(grp, Treatment('ctrl'))[T.high]"
    assert row["estimate"] == pytest.approx(fit.params[name], rel=1e-10)
    assert row["pvalue"] == pytest.approx(fit.pvalues[name], rel=1e-8)
    assert row["estimate_ci_low"] == pytest.approx(fit.conf_int().loc[name, 0], rel=1e-10)


def test_metadata_mismatch_warns(data):
    scores, meta = data
    with pytest.warns(rs.tl.SampleMismatchWarning, match="3 of 30"):
        res = rs.tl.compare_groups(scores, meta.iloc[3:], group="grp")
    assert res.params["n_observations"] == 27
    with pytest.raises(rs.StatisticsError, match="no sample of the scores"):
        rs.tl.compare_groups(scores, meta.set_axis([f"x{i}" for i in range(30)]), group="grp")
