"""The generalised Pareto tail of the empirical p-values: fit, goodness of fit, calibration beyond the
controls, power, and the contract that the engine's p-values are a pure function of the scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from resistscore.tl import score
from resistscore.tl._null import (
    TailPvalues,
    bh_fdr,
    bh_fdr_counts,
    gene_bins,
    make_controls,
    pvalues_from_counts,
)
from resistscore.tl._tail import (
    AD_CRITICAL_5PCT,
    ad_statistic,
    empirical_pvalue,
    gpd_fit,
    tail_pvalue,
)


@pytest.mark.parametrize("xi", [-0.3, 0.0, 0.3])
def test_gpd_fit_agrees_with_maximum_likelihood(xi):
    # Zhang-Stephens against scipy's maximum likelihood on the same exceedances
    y = stats.genpareto(xi, scale=2.0).rvs(size=3000, random_state=np.random.default_rng(1))
    fit = gpd_fit(y)
    c, _, scale = stats.genpareto.fit(y, floc=0)
    assert fit.xi == pytest.approx(c, abs=0.03)
    assert fit.sigma == pytest.approx(scale, rel=0.03)
    assert fit.xi == pytest.approx(xi, abs=0.06) and fit.accepted
    assert fit.grid_weight.sum() == pytest.approx(1.0)


def test_anderson_darling_statistic_equals_scipy():
    y = stats.genpareto(0.1, scale=1.5).rvs(size=200, random_state=np.random.default_rng(2))
    ref = stats.goodness_of_fit(
        stats.genpareto, y, known_params={"c": 0.1, "loc": 0.0, "scale": 1.5}, statistic="ad",
        n_mc_samples=10, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert ad_statistic(y, 0.1, 1.5) == pytest.approx(ref.statistic, rel=1e-10)


@pytest.mark.parametrize("xi", [-0.3, 0.0, 0.3])
def test_goodness_of_fit_test_holds_its_level_and_rejects_a_wrong_model(xi):
    rng = np.random.default_rng(3)
    rejected = [not gpd_fit(stats.genpareto(xi).rvs(size=100, random_state=rng)).accepted for _ in range(400)]
    assert 0.005 <= np.mean(rejected) <= 0.09  # 5 % level (the table is for maximum likelihood)
    # uniform data shifted away from 0: not a generalised Pareto tail
    bad = [not gpd_fit(0.5 + rng.random(100)).accepted for _ in range(50)]
    assert np.mean(bad) > 0.9
    assert AD_CRITICAL_5PCT[0.0] == 0.974


PARENTS = {
    "normal": lambda r, n: r.normal(size=n),
    "gamma": lambda r, n: r.gamma(2.0, size=n),
    "lognormal": lambda r, n: r.lognormal(0.0, 1.0, size=n),
    "beta": lambda r, n: r.beta(2.0, 5.0, size=n),
    "student_t5": lambda r, n: r.standard_t(5, size=n),
}


@pytest.mark.parametrize("parent", list(PARENTS))
def test_tail_pvalues_are_calibrated_beyond_the_controls(parent):
    # Null: the observed score and its N = 1000 controls are exchangeable. Only a score above every
    # control (probability 1 / (N + 1)) can get p < 1 / (N + 1); so P(p <= a) = P(tail p <= a | largest)
    # / (N + 1), estimated from 1,500 draws of the largest of N + 1 values (= 1.5 million null tests).
    # Valid: at most a (up to a 99.9 % binomial margin), for a = 1e-4 and 1e-5.
    rng = np.random.default_rng(11)
    n = 1000
    draws = 1500
    hits = {1e-4: 0, 1e-5: 0}
    for _ in range(draws):
        v = np.sort(PARENTS[parent](rng, n + 1))
        p = empirical_pvalue(v[-1], v[:-1])
        assert 0 < p <= 1 / (n + 1)
        for a in hits:
            hits[a] += p <= a
    for a, k in hits.items():
        expected = draws * a * (n + 1)  # hits among the largest values if P(p <= a) = a
        assert k <= stats.binom.ppf(0.999, draws, min(1.0, a * (n + 1))), (parent, a, k, expected)


def test_tail_pvalues_are_monotone_positive_and_never_above_the_permutation_floor():
    null = np.random.default_rng(4).normal(size=1000)
    xs = np.linspace(null.max() + 1e-6, null.max() + 20, 60)
    p = np.array([tail_pvalue(x, null) for x in xs])
    assert np.all(np.isfinite(p)) and np.all(p > 0) and np.all(p <= 1 / 1001)
    assert np.all(np.diff(p) <= 0)
    # within the controls' range the exact permutation p-value is kept
    assert empirical_pvalue(np.sort(null)[-3], null) == 4 / 1001  # 3 controls >= it (one is itself)
    assert empirical_pvalue(null.max() + 1.0, null, tail=False) == 1 / 1001


def test_tail_resolves_strong_scores_beyond_the_controls():
    rng = np.random.default_rng(5)
    p5 = np.median([empirical_pvalue(5.0, rng.normal(size=1000)) for _ in range(50)])
    p8 = np.median([empirical_pvalue(8.0, rng.normal(size=1000)) for _ in range(50)])
    assert p5 < 2e-4 and p8 < p5 / 5  # floor without the tail: 1 / 1001


def test_no_tail_for_discrete_or_incomplete_nulls():
    rng = np.random.default_rng(6)
    tied = np.round(rng.normal(size=1000) * 2) / 2  # few distinct values: no continuous tail
    assert np.isnan(tail_pvalue(10.0, tied)) and empirical_pvalue(10.0, tied) == 1 / 1001
    assert np.isnan(tail_pvalue(10.0, rng.normal(size=100)))  # 25 exceedances at most: too few
    with_nan = rng.normal(size=1000)
    with_nan[3] = np.nan
    assert np.isnan(tail_pvalue(10.0, with_nan))
    assert empirical_pvalue(10.0, with_nan) == 2 / 1001  # a control without a score counts as exceeding


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("family", ["all", "signature"])
def test_bh_with_tail_pvalues_equals_statsmodels(seed, family):
    rng = np.random.default_rng(seed)
    n, s = 200, 5
    n_null = rng.choice([99, 1000, 250_000], size=s)
    counts = np.stack([rng.integers(-1, k + 1, size=n) for k in n_null], axis=1)
    counts[rng.random(counts.shape) < 0.3] = 0
    zero = np.argwhere(counts == 0)
    pick = zero[rng.random(len(zero)) < 0.7]
    tail_p = rng.random(len(pick)) / (1 + n_null[pick[:, 1]])  # below each column's floor
    tail_p[:3] = 1 / (1 + n_null[pick[:3, 1]])  # ties with the grid
    tail = TailPvalues(pick[:, 0].astype(np.int64), pick[:, 1].astype(np.int64), tail_p)
    p = pvalues_from_counts(counts, n_null)
    p[tail.rows, tail.cols] = tail.p
    expect = bh_fdr(p) if family == "all" else np.column_stack([bh_fdr(p[:, j]) for j in range(s)])
    got = bh_fdr_counts(counts, n_null, tail, family, n_jobs=2)
    np.testing.assert_allclose(got, expect, rtol=1e-13, atol=0, equal_nan=True)


def _controls_of(df, sigs, n_controls, seed, method_fn):
    """Observed and control scores of every sample, recomputed outside the engine."""
    from resistscore.tl._coverage import resolve_sets
    from resistscore.tl._score import as_network

    net, _, _ = as_network(sigs)
    sets = resolve_sets(net, df.columns, list(pd.unique(net["source"])))
    X = df.to_numpy(np.float64)
    mean = X.mean(axis=0)
    var = X.var(axis=0, ddof=1)
    allsets = make_controls(sets, gene_bins(mean, var), n_controls, seed)
    sc = method_fn(X, allsets)
    sc = np.asarray(sc["score"] if isinstance(sc, dict) else sc)
    k = len(sets)
    return sc[:, :k], sc[:, k:].reshape(len(df), k, n_controls)


def test_per_sample_pvalues_are_a_pure_function_of_the_sample_scores():
    # the contract: the engine's per-sample p-value of a sample and signature is empirical_pvalue(score,
    # its control scores) - computed here from scratch, one test at a time, with a planted signal so
    # that tail estimates occur
    from resistscore.tl.methods._registry import get_method

    rng = np.random.default_rng(7)
    df = pd.DataFrame(rng.normal(5.0, 1.0, size=(40, 600)), columns=[f"G{i}" for i in range(600)])
    df.iloc[:8, :12] += 2.0
    sigs = {"planted": list(df.columns[:12]), "other": list(df.columns[100:130]) + ["G200-", "G201-"]}
    res = score(df, sigs, n_controls=400, random_state=9, null="per_sample", chunk_size=7)
    obs, ctrl = _controls_of(df, sigs, 400, 9, get_method("singscore").fn)
    expect = np.array([[empirical_pvalue(obs[i, j], ctrl[i, j]) for j in range(2)] for i in range(len(df))])
    np.testing.assert_array_equal(res.pvalues[["planted", "other"]].to_numpy(), expect)
    assert (expect[:8, 0] < 1 / 401).all()  # the tail was used
    np.testing.assert_allclose(res.fdr.to_numpy(), np.column_stack([bh_fdr(expect[:, j]) for j in range(2)]),
                               rtol=1e-13)  # fmt: skip
