"""roc, associate, survival and fit_model: hand computations, scipy / statsmodels / lifelines, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import resistscore as rs
from resistscore.tl.stats._models import MODEL_COLUMNS
from resistscore.tl.stats._response import ASSOC_COLUMNS
from resistscore.tl.stats._roc import ROC_COLUMNS
from resistscore.tl.stats._survival import SURVIVAL_COLUMNS


@pytest.fixture
def cohort():
    rng = np.random.default_rng(7)
    n = 40
    idx = [f"p{i:02d}" for i in range(n)]
    s = pd.DataFrame({"efflux_abc": rng.normal(size=n), "dna_repair": rng.normal(size=n)}, index=idx)
    meta = pd.DataFrame(
        {
            "tissue": np.tile(["lung", "breast", "colon", "skin"], 10),
            "resp": rng.random(n) < 1 / (1 + np.exp(-2 * s["efflux_abc"].to_numpy())),
            "months": rng.exponential(20 * np.exp(-0.7 * s["efflux_abc"].to_numpy())),
            "dead": (rng.random(n) < 0.8).astype(int),
        },
        index=idx,
    )
    gi50 = pd.DataFrame(
        {"doxorubicin": 7 - 0.4 * s["efflux_abc"] + rng.normal(0, 0.5, n), "cisplatin": rng.normal(5, 0.3, n)}
    )
    return s, meta, gi50


# ---------------------------------------------------------------- ROC
def test_auc_by_hand_and_ties():
    s = pd.DataFrame({"x": [1.0, 2.0, 2.0, 3.0, 0.5, 2.0]}, index=list("abcdef"))
    y = pd.DataFrame({"r": [0, 0, 1, 1, 0, 1]}, index=s.index)
    res = rs.tl.roc(s, y, responder="r", n_boot=500)
    # positives {2, 3, 2} vs negatives {1, 2, 0.5}: ties count 1/2
    pos, neg = [2.0, 3.0, 2.0], [1.0, 2.0, 0.5]
    expected = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / 9
    assert list(res.table.columns) == ROC_COLUMNS
    assert res.table.loc[0, "effect"] == pytest.approx(expected)
    assert (res.table.loc[0, "n_pos"], res.table.loc[0, "n_neg"]) == (3, 3)
    curve = res.curves
    assert curve.iloc[0][["fpr", "tpr"]].tolist() == [0, 0] and curve.iloc[-1][["fpr", "tpr"]].tolist() == [
        1,
        1,
    ]
    # trapezoidal area under the returned curve equals the Mann-Whitney AUC
    assert np.trapezoid(curve["tpr"], curve["fpr"]) == pytest.approx(expected)


def test_roc_bootstrap_is_deterministic(cohort):
    s, meta, _ = cohort
    a = rs.tl.roc(s, meta, responder="resp", n_boot=500, random_state=3).table
    b = rs.tl.roc(s, meta, responder="resp", n_boot=500, random_state=3).table
    c = rs.tl.roc(s, meta, responder="resp", n_boot=500, random_state=4).table
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    assert (a["ci_low"] <= a["effect"]).all() and (a["effect"] <= a["ci_high"]).all()
    # bootstrap CI agrees with the Hanley-McNeil normal interval within sampling noise
    row = a.iloc[0]
    n1, n0, auc = row["n_pos"], row["n_neg"], row["effect"]
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    se = np.sqrt((auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0))
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 1.96 * se, rel=0.3)
    x = s.loc[meta.resp, "efflux_abc"]
    z = s.loc[~meta.resp, "efflux_abc"]
    assert row["pvalue"] == pytest.approx(stats.mannwhitneyu(x, z).pvalue)


def test_roc_errors(cohort):
    s, meta, _ = cohort
    with pytest.raises(rs.StatisticsError, match="positive="):
        rs.tl.roc(s, meta.assign(lab=np.where(meta.resp, "R", "S")), responder="lab")
    with pytest.raises(rs.StatisticsError, match="exactly 2 classes"):
        rs.tl.roc(s, meta.assign(t3=np.tile(["a", "b", "c", "d"], 10)), responder="t3", positive="a")
    with pytest.raises(rs.StatisticsError, match="`positive`='x'"):
        rs.tl.roc(s, meta, responder="resp", positive="x")


# ---------------------------------------------------------------- associate
def test_spearman_and_ci(cohort):
    s, _, gi50 = cohort
    res = rs.tl.associate(s, gi50)
    t = res.table
    assert list(t.columns) == ASSOC_COLUMNS and len(t) == 4
    row = t.query("signature == 'efflux_abc' and response == 'doxorubicin'").iloc[0]
    ref = stats.spearmanr(s["efflux_abc"], gi50["doxorubicin"])
    assert row["effect"] == pytest.approx(ref.statistic, rel=1e-12)
    assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-10)
    z, se = np.arctanh(row["effect"]), np.sqrt((1 + row["effect"] ** 2 / 2) / 37)
    assert row["ci_low"] == pytest.approx(np.tanh(z - 1.959963984540054 * se), rel=1e-10)
    assert row["effect"] < 0 and row["fdr"] < 0.05


def test_pearson_matches_scipy_ci(cohort):
    s, _, gi50 = cohort
    row = rs.tl.associate(s, gi50["doxorubicin"], method="pearson", signatures="efflux_abc").table.iloc[0]
    ref = stats.pearsonr(s["efflux_abc"], gi50["doxorubicin"])
    ci = ref.confidence_interval()
    assert row["response"] == "doxorubicin"
    assert (row["effect"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (ref.statistic, ci.low, ci.high), rel=1e-10
    )


def test_regression_with_covariates_matches_statsmodels(cohort):
    import statsmodels.formula.api as smf

    s, meta, gi50 = cohort
    row = (
        rs.tl.associate(
            s, gi50, metadata=meta, covariates="tissue", method="regression", signatures="efflux_abc"
        )
        .table.query("response == 'doxorubicin'")
        .iloc[0]
    )
    fit = smf.ols("y ~ x + C(tissue)", meta.assign(y=gi50["doxorubicin"], x=s["efflux_abc"])).fit()
    assert row["effect"] == pytest.approx(fit.params["x"], rel=1e-10)
    assert row["pvalue"] == pytest.approx(fit.pvalues["x"], rel=1e-8)
    assert row["df"] == fit.df_resid


def test_associate_missing_values_and_errors(cohort):
    s, meta, gi50 = cohort
    g = gi50.copy()
    g.iloc[:5, 0] = np.nan
    t = rs.tl.associate(s, g).table.set_index(["signature", "response"])
    assert t.loc[("efflux_abc", "doxorubicin"), "n"] == 35 and t.loc[("efflux_abc", "cisplatin"), "n"] == 40
    few = rs.tl.associate(s.iloc[:4], gi50).table
    assert few["pvalue"].isna().all() and few["note"].str.contains("fewer than 5").all()
    with pytest.raises(rs.StatisticsError, match=r"\['nope'\].*available columns"):
        rs.tl.associate(s, "nope", metadata=meta)
    with pytest.raises(rs.StatisticsError, match="metadata"):
        rs.tl.associate(s, gi50, covariates="tissue")
    with pytest.raises(rs.StatisticsError, match="not numeric"):
        rs.tl.associate(s, meta[["tissue"]])


# ---------------------------------------------------------------- survival
def test_survival_matches_lifelines_and_km(cohort):
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import logrank_test

    s, meta, _ = cohort
    res = rs.tl.survival(s, meta, time="months", event="dead", per="unit")
    assert list(res.table.columns) == SURVIVAL_COLUMNS
    row = res.table.set_index("signature").loc["efflux_abc"]
    cph = CoxPHFitter().fit(pd.DataFrame({"t": meta.months, "e": meta.dead, "x": s.efflux_abc}), "t", "e")
    assert row["effect"] == pytest.approx(np.exp(cph.params_["x"]), rel=1e-6)
    assert row["effect"] > 1 and row["effect_type"] == "hazard_ratio_per_unit"
    high = s.efflux_abc > s.efflux_abc.median()
    assert (row["n_high"], row["n_low"]) == (20, 20)
    lr = logrank_test(meta.months[high], meta.months[~high], meta.dead[high], meta.dead[~high])
    assert row["logrank_pvalue"] == pytest.approx(lr.p_value, rel=1e-10)
    km = res.km.query("signature == 'efflux_abc' and group == 'low'")
    kmf = KaplanMeierFitter().fit(meta.months[~high], meta.dead[~high])
    np.testing.assert_allclose(km["survival"], kmf.survival_function_.iloc[:, 0])
    assert row["median_low"] == pytest.approx(kmf.median_survival_time_)
    # per SD: the hazard ratio is exp(coef * sd)
    sd = rs.tl.survival(s, meta, time="months", event="dead").table.set_index("signature").loc["efflux_abc"]
    assert sd["effect"] == pytest.approx(np.exp(cph.params_["x"] * s.efflux_abc.std()), rel=1e-5)


def test_survival_errors(cohort):
    s, meta, _ = cohort
    with pytest.raises(rs.StatisticsError, match="event"):
        rs.tl.survival(s, meta, time="months", event="tissue")
    with pytest.raises(rs.StatisticsError, match="non-negative"):
        rs.tl.survival(s, meta.assign(months=-meta.months), time="months", event="dead")
    with pytest.raises(rs.StatisticsError, match=r"\['time'\]"):
        rs.tl.survival(s, meta, time="time", event="dead")


# ---------------------------------------------------------------- fit_model
def test_fit_model_term_and_errors(cohort):
    s, meta, _ = cohort
    res = rs.tl.fit_model(s, meta, formula="score ~ resp + C(tissue)", term="resp")
    assert list(res.table.columns) == MODEL_COLUMNS
    assert res.table["term"].unique().tolist() == ["resp[T.True]"]
    assert set(res.models) == {"efflux_abc", "dna_repair"}
    assert res.table.loc[0, "pvalue"] == pytest.approx(res.models["efflux_abc"].pvalues["resp[T.True]"])
    all_terms = rs.tl.fit_model(s, meta, formula="score ~ resp + C(tissue)")
    assert len(all_terms) == 2 * 4
    with pytest.raises(rs.StatisticsError, match=r"\['stage'\].*available columns"):
        rs.tl.fit_model(s, meta, formula="score ~ stage")
    with pytest.raises(rs.StatisticsError, match="left-hand side"):
        rs.tl.fit_model(s, meta, formula="y ~ resp")
    with pytest.raises(rs.StatisticsError, match="matches no coefficient"):
        rs.tl.fit_model(s, meta, formula="score ~ resp", term="tissue")


def test_formula_with_contrast_coding_and_functions(cohort):
    s, meta, _ = cohort
    m = meta.assign(dose=np.linspace(1, 10, len(meta)))
    res = rs.tl.fit_model(s, m, formula="score ~ C(tissue, Sum) + np.log(dose)", term="np.log(dose)")
    assert res.table["term"].unique().tolist() == ["np.log(dose)"]


def test_auc_and_rank_biserial_agree(cohort):
    """Two routes to the same quantity: AUC = (1 + rank-biserial r) / 2; flipping the classes gives 1 - AUC."""
    s, meta, _ = cohort
    m = meta.assign(lab=np.where(meta.resp, "R", "S"))
    auc = rs.tl.roc(s, m, responder="lab", positive="R", n_boot=100).table.set_index("signature")["effect"]
    flip = rs.tl.roc(s, m, responder="lab", positive="S", n_boot=100).table.set_index("signature")["effect"]
    rb = rs.tl.compare_groups(s, m, group="lab", reference="S", test="mannwhitney").table.set_index(
        "signature"
    )
    np.testing.assert_allclose(auc, (1 + rb["effect"]) / 2, rtol=1e-12)
    np.testing.assert_allclose(flip, 1 - auc, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.integers(-1000, 1000), min_size=6, max_size=20, unique=True),
    seed=st.integers(0, 10_000),
)
def test_rank_statistics_invariant_to_monotone_transforms(values, seed):
    """AUC, Spearman rho and the Mann-Whitney p-value depend on ranks only."""
    rng = np.random.default_rng(seed)
    n = len(values)
    labels = np.r_[np.ones(n // 2, bool), np.zeros(n - n // 2, bool)]
    rng.shuffle(labels)
    idx = [f"s{i}" for i in range(n)]
    x = np.array(values, dtype=float)
    s = pd.DataFrame({"raw": x, "mono": x**3 + 2 * x}, index=idx)  # strictly increasing, exact on integers
    meta = pd.DataFrame({"r": labels, "y": rng.normal(size=n)}, index=idx)
    roc = rs.tl.roc(s, meta, responder="r", n_boot=100).table.set_index("signature")
    assert roc.loc["raw", "effect"] == pytest.approx(roc.loc["mono", "effect"])
    assert roc.loc["raw", "pvalue"] == pytest.approx(roc.loc["mono", "pvalue"])
    rho = rs.tl.associate(s, meta["y"]).table.set_index("signature")["effect"]
    assert rho["raw"] == pytest.approx(rho["mono"])


def test_roc_seed_is_a_deprecated_alias_of_random_state(cohort):
    s, meta, _ = cohort
    with pytest.warns(rs.DeprecatedArgumentWarning, match="random_state"):
        old = rs.tl.roc(s, meta, responder="resp", n_boot=200, seed=5).table
    new = rs.tl.roc(s, meta, responder="resp", n_boot=200, random_state=5).table
    pd.testing.assert_frame_equal(old, new)
