"""Confounders (issue 14, item 8): correlation with them, ``adjust=`` in the statistics, residualised scores.

References are independent of the code under test: the one-covariate partial correlation formula on
Spearman's rhos (against the rank-residual method of ``associate``), statsmodels OLS with the
confounder as a covariate (``compare_groups``), statsmodels OLS residuals (``adjust_scores``) and
lifelines' Cox model fitted directly (``survival``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

import resistscore as rs
from resistscore._errors import StatisticsError


@pytest.fixture
def cohort():
    rng = np.random.default_rng(7)
    n = 48
    prolif = rng.normal(size=n)
    group = np.repeat(["sensitive", "resistant"], n // 2)
    real = (group == "resistant") * 1.0
    scores = pd.DataFrame(
        {
            "spurious": 0.9 * prolif + rng.normal(0, 0.6, n),
            "real": real + rng.normal(0, 0.7, n),
            "confounder.proliferation": prolif,
            "confounder.stromal": rng.normal(size=n),
        },
        index=[f"s{i:02d}" for i in range(n)],
    )
    meta = pd.DataFrame(
        {
            "group": group,
            "ic50": 0.8 * prolif + real + rng.normal(0, 0.5, n),
            "months": rng.exponential(20 * np.exp(-0.5 * real)),
            "dead": rng.random(n) < 0.8,
        },
        index=scores.index,
    )
    return scores, meta


def test_partial_spearman_equals_formula_on_rhos(cohort):
    scores, meta = cohort
    res = rs.tl.associate(scores, "ic50", metadata=meta, adjust="proliferation")
    t = res.table.set_index("signature")
    assert list(t.index) == ["spurious", "real"]  # confounders are not analysed themselves
    for sig in ("spurious", "real"):
        x, y, z = scores[sig], meta["ic50"], scores["confounder.proliferation"]
        rxy, rxz, ryz = (stats.spearmanr(a, b).statistic for a, b in ((x, y), (x, z), (y, z)))
        want = (rxy - rxz * ryz) / math.sqrt((1 - rxz**2) * (1 - ryz**2))
        assert t.loc[sig, "effect"] == pytest.approx(want, abs=1e-12)
        n = len(x)
        tval = want * math.sqrt((n - 3) / (1 - want**2))
        assert t.loc[sig, "pvalue"] == pytest.approx(2 * stats.t.sf(abs(tval), n - 3), rel=1e-10)
        assert t.loc[sig, "method"] == "partial_spearman" and t.loc[sig, "df"] == n - 3
    assert res.params["adjust"] == ["confounder.proliferation"]
    assert set(t["adjusted_for"]) == {"confounder.proliferation"}


def test_adjust_with_separate_confounder_scores_equals_columns(cohort):
    scores, meta = cohort
    conf = scores[["confounder.proliferation"]]
    a = rs.tl.associate(scores, "ic50", metadata=meta, adjust="proliferation").table
    b = rs.tl.associate(scores[["spurious", "real"]], "ic50", metadata=meta, adjust=conf).table
    pd.testing.assert_frame_equal(a, b)


def test_compare_groups_adjusted_equals_statsmodels_ols(cohort):
    scores, meta = cohort
    res = rs.tl.compare_groups(scores, meta, group="group", reference="sensitive", adjust="proliferation")
    t = res.table.set_index("signature")
    data = meta.assign(prolif=scores["confounder.proliferation"])
    for sig in ("spurious", "real"):
        fit = smf.ols("s ~ C(group, Treatment('sensitive')) + prolif", data.assign(s=scores[sig])).fit()
        term = "C(group, Treatment('sensitive'))[T.resistant]"
        assert t.loc[sig, "estimate"] == pytest.approx(fit.params[term], rel=1e-9)
        assert t.loc[sig, "pvalue"] == pytest.approx(fit.pvalues[term], rel=1e-8)
        lo, hi = fit.conf_int().loc[term]
        assert (t.loc[sig, "estimate_ci_low"], t.loc[sig, "estimate_ci_high"]) == pytest.approx(
            (lo, hi), rel=1e-9
        )
    assert res.params["adjust"] == ["confounder.proliferation"]
    assert t.loc["spurious", "adjusted_for"] == "confounder.proliferation"
    # unadjusted: the column is there, empty
    plain = rs.tl.compare_groups(scores, meta, group="group")
    assert set(plain.table["adjusted_for"]) == {""} and plain.params["adjust"] == []


def test_survival_adjusted_equals_lifelines_cox(cohort):
    from lifelines import CoxPHFitter

    scores, meta = cohort
    res = rs.tl.survival(scores, meta, time="months", event="dead", adjust="proliferation", signatures="real")
    row = res.table.iloc[0]
    x = scores["real"] / scores["real"].std(ddof=1)
    data = pd.DataFrame(
        {"t": meta["months"], "e": meta["dead"].astype(int), "x": x, "p": scores["confounder.proliferation"]}
    )
    cph = CoxPHFitter().fit(data, duration_col="t", event_col="e")
    assert row["effect"] == pytest.approx(math.exp(cph.params_["x"]), rel=1e-6)
    assert row["pvalue"] == pytest.approx(cph.summary.loc["x", "p"], rel=1e-5)
    assert row["adjusted_for"] == "confounder.proliferation"


def test_adjust_scores_equals_ols_residuals(cohort):
    scores, _ = cohort
    sc = scores.copy()
    sc.iloc[3, 0] = np.nan  # a missing mechanism score stays missing
    before = sc.copy()
    adj = rs.tl.adjust_scores(sc, ["proliferation", "stromal"])
    pd.testing.assert_frame_equal(sc, before)  # input not mutated
    assert list(adj.columns) == ["spurious", "real"] and adj.attrs["adjusted_for"] == [
        "confounder.proliferation",
        "confounder.stromal",
    ]
    for sig in ("spurious", "real"):
        d = sc[[sig, "confounder.proliferation", "confounder.stromal"]].dropna()
        d.columns = ["y", "p", "s"]
        fit = smf.ols("y ~ p + s", d).fit()
        np.testing.assert_allclose(adj.loc[d.index, sig], fit.resid, atol=1e-10)
    assert np.isnan(adj.iloc[3, 0])
    # residuals are uncorrelated with the confounders
    assert (
        abs(
            np.corrcoef(
                adj["spurious"].dropna(), sc.loc[adj["spurious"].notna(), "confounder.proliferation"]
            )[0, 1]
        )
        < 1e-10
    )


def test_confounder_correlation_table(cohort):
    scores, _ = cohort
    sc = scores.copy()
    sc.iloc[:5, 1] = np.nan
    t = rs.tl.confounder_correlation(sc)
    assert list(t.columns) == ["signature", "confounder", "spearman_rho", "p", "n"]
    assert len(t) == 4
    row = t[(t.signature == "real") & (t.confounder == "confounder.stromal")].iloc[0]
    ok = sc["real"].notna()
    ref = stats.spearmanr(sc.loc[ok, "real"], sc.loc[ok, "confounder.stromal"])
    assert row["n"] == ok.sum() and row["spearman_rho"] == pytest.approx(ref.statistic, abs=1e-12)
    assert row["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    one = rs.tl.confounder_correlation(sc, "proliferation", signatures="spurious")
    assert one[["signature", "confounder"]].values.tolist() == [["spurious", "confounder.proliferation"]]


def test_adjust_errors_name_the_problem(cohort):
    scores, meta = cohort
    with pytest.raises(StatisticsError, match="'immune' is not among the scores"):
        rs.tl.compare_groups(scores, meta, group="group", adjust="immune")
    with pytest.raises(StatisticsError, match="no confounder column"):
        rs.tl.confounder_correlation(scores[["real"]])
    with pytest.raises(StatisticsError, match="cannot adjust for covariates or confounders"):
        rs.tl.compare_groups(scores, meta, group="group", test="mannwhitney", adjust="proliferation")
    with pytest.raises(StatisticsError, match="also in `adjust`"):
        rs.tl.associate(
            scores,
            "ic50",
            metadata=meta,
            adjust="proliferation",
            signatures=["real", "confounder.proliferation"],
        )
    with pytest.raises(StatisticsError, match="already hold column"):
        rs.tl.associate(
            scores, "ic50", metadata=meta.assign(**{"confounder.proliferation": 1.0}), adjust="proliferation"
        )
    other = scores[["confounder.proliferation"]].set_axis([f"x{i}" for i in range(len(scores))])
    with pytest.raises(StatisticsError, match="no sample of the confounder scores"):
        rs.tl.associate(scores[["real"]], "ic50", metadata=meta, adjust=other)
    with pytest.raises(StatisticsError, match="must be confounder id"):
        rs.tl.associate(scores, "ic50", metadata=meta, adjust=3)


def test_adjust_averages_confounder_per_sample_for_cells():
    rng = np.random.default_rng(1)
    donors = np.repeat([f"d{i}" for i in range(8)], 20)
    prolif = rng.normal(size=len(donors))
    scores = pd.DataFrame(
        {"m": prolif + rng.normal(size=len(donors)), "confounder.proliferation": prolif},
        index=[f"c{i}" for i in range(len(donors))],
    )
    meta = pd.DataFrame(
        {"donor": donors, "group": np.where(np.arange(len(donors)) < 80, "a", "b")}, index=scores.index
    )
    res = rs.tl.compare_groups(scores, meta, group="group", sample_key="donor", adjust="proliferation")
    per = scores.groupby(donors).mean()
    g = meta.groupby("donor")["group"].first()
    fit = smf.ols(
        "m ~ C(g) + p", pd.DataFrame({"m": per["m"], "p": per["confounder.proliferation"], "g": g})
    ).fit()
    assert res.table.loc[0, "estimate"] == pytest.approx(fit.params["C(g)[T.b]"], rel=1e-9)
    assert res.params["n_observations"] == 8


# ------------------------------------------------------------------------- the planted toy confounder
@pytest.fixture(scope="module")
def toy_confounded():
    adata = rs.ds.toy(confounded=True)
    sigs = rs.sig.load(ids=["efflux_abc", "drug_target.antimetabolite", *rs.sig.confounders().ids])
    rs.tl.score(adata, sigs, method="singscore", pvalues=False)
    return adata, rs.get.result(adata)


def test_toy_confounded_keeps_the_other_values():
    plain, conf = rs.ds.toy(n_samples=12), rs.ds.toy(n_samples=12, confounded=True)
    others = [g for g in plain.var_names if g not in rs.ds.CONFOUNDER.up]
    np.testing.assert_array_equal(plain[:, others].X, conf[:, others].X)
    pd.testing.assert_frame_equal(plain.obs, conf.obs.drop(columns="proliferating"))
    assert "confounder" in conf.uns["toy"] and "confounder" not in plain.uns["toy"]
    with pytest.raises(rs.ResistScoreError, match="bulk data only"):
        rs.ds.toy("sc", confounded=True)


def test_adjustment_removes_planted_confounder_and_keeps_real_effect(toy_confounded):
    adata, res = toy_confounded
    assert adata.obs.groupby("group", observed=True)["proliferating"].mean().to_dict() == {
        "sensitive": 0.2,
        "resistant": 0.8,
    }
    spurious, real = "drug_target.antimetabolite", "efflux_abc"
    obs = adata.obs
    raw = rs.tl.compare_groups(res, obs, group="group", reference="sensitive").table.set_index("signature")
    adj = rs.tl.compare_groups(res, obs, group="group", reference="sensitive", adjust="proliferation")
    adj = adj.table.set_index("signature")
    assert "confounder.proliferation" not in adj.index
    # the antimetabolite targets rise with proliferation only: a group difference before, none after
    assert raw.loc[spurious, "pvalue"] < 1e-4
    assert adj.loc[spurious, "pvalue"] > 0.05
    assert abs(adj.loc[spurious, "estimate"]) < 0.25 * abs(raw.loc[spurious, "estimate"])
    # the planted efflux programme survives the adjustment
    assert raw.loc[real, "pvalue"] < 1e-15 and adj.loc[real, "pvalue"] < 1e-15
    assert adj.loc[real, "estimate"] > 0.8 * raw.loc[real, "estimate"]
    # the same with the drug response (IC50 depends on resistance, not on proliferation)
    ra = rs.tl.associate(res, "log10_ic50", metadata=obs).table.set_index("signature")
    aa = rs.tl.associate(res, "log10_ic50", metadata=obs, adjust="proliferation").table.set_index("signature")
    assert ra.loc[spurious, "pvalue"] < 0.01 and aa.loc[spurious, "pvalue"] > 0.5
    assert aa.loc[real, "pvalue"] < 1e-6
    corr = rs.tl.confounder_correlation(res).set_index(["signature", "confounder"])
    assert corr.loc[(spurious, "confounder.proliferation"), "spearman_rho"] > 0.8


def test_analyze_scores_confounders_apart_and_adjusts(tmp_path, toy_confounded):
    adata, _ = toy_confounded
    out = tmp_path / "run"
    sigs = rs.sig.load(ids=["efflux_abc", "drug_target.antimetabolite"])
    o = rs.analyze(
        adata, out, group="group", adjust="proliferation", pvalues=False, formats=("png",), signatures=sigs
    )
    scores = pd.read_csv(out / "scores.csv", index_col=0)
    assert not any(c.startswith("confounder.") for c in scores.columns)  # kept apart from the mechanisms
    conf = pd.read_csv(out / "confounder_scores.csv", index_col=0)
    assert list(conf.columns) == ["confounder.proliferation", "confounder.stromal", "confounder.immune"]
    corr = pd.read_csv(out / "confounder_correlation.csv")
    assert len(corr) == 6 and list(corr.columns) == ["signature", "confounder", "spearman_rho", "p", "n"]
    st = pd.read_csv(out / "stats_groups.csv").set_index("signature")
    assert set(st["adjusted_for"]) == {"confounder.proliferation"}
    assert st.loc["drug_target.antimetabolite", "pvalue"] > 0.05
    assert o.stats["groups"].params["adjust"] == ["confounder.proliferation"]
    # the AnnData holds the two runs documented in rs.analyze's Notes; key= reads the confounders' run
    assert rs.get.runs(adata) == ["resistscore", "resistscore_confounders"]
    held = rs.get.scores(adata, "resistscore_confounders")
    np.testing.assert_allclose(held.loc[conf.index, conf.columns].to_numpy(), conf.to_numpy(), rtol=1e-6)
    by_key = rs.tl.compare_groups(adata, group="group", key="resistscore_confounders").table
    assert set(by_key["signature"]) == set(conf.columns)
