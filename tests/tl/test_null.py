"""Calibration of the empirical p-values: uniform on null data, planted programmes found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import kstest

from resistscore.tl import score
from resistscore.tl._null import gene_bins, make_controls
from resistscore.tl.methods import GeneSetIndex


def _null_bulk(n=150, g=2000, seed=0):
    # genes differ in mean and variance (as in real data) but no sample carries any programme
    rng = np.random.default_rng(seed)
    mean = rng.gamma(2.0, 2.0, size=g)
    sd = rng.uniform(0.2, 2.0, size=g)
    X = mean + sd * rng.normal(size=(n, g))
    return pd.DataFrame(X, columns=[f"G{i}" for i in range(g)], index=[f"s{i}" for i in range(n)]), mean


def _random_sigs(rng, genes, k, n_down=0):
    out = {}
    for i in range(k):
        size = int(rng.integers(5, 40))
        pick = rng.choice(genes, size=size, replace=False)
        out[f"r{i}"] = list(pick[: size - n_down]) + [g + "-" for g in pick[size - n_down :]]
    return out


@pytest.mark.parametrize("method", ["singscore", "wmean"])
def test_pvalues_uniform_on_null_cohort(method):
    df, _ = _null_bulk()
    rng = np.random.default_rng(1)
    sigs = _random_sigs(rng, df.columns.to_numpy(), 12, n_down=2)
    res = score(df, sigs, method, n_controls=199, random_state=5)
    p = res.pvalues.to_numpy().ravel()
    assert kstest(p, "uniform").pvalue > 0.01
    assert 0.035 <= np.mean(p <= 0.05) <= 0.065
    assert res.fdr.min().min() > 0.05  # nothing is called on null data


def test_matched_controls_calibrate_signatures_of_highly_expressed_genes():
    # signatures of highly expressed genes: unmatched random genes would call every sample. With a
    # fixed signature the p-values of all samples are alike (the genes' baseline levels decide), so
    # calibration is over signatures: many signatures, few samples.
    df, mean = _null_bulk(n=12, seed=2)
    top = df.columns[np.argsort(mean)[::-1][:300]].to_numpy()
    rng = np.random.default_rng(3)
    sigs = {f"hi{i}": list(rng.choice(top, size=15, replace=False)) for i in range(150)}
    res = score(df, sigs, "singscore", n_controls=99)
    p = res.pvalues.to_numpy().ravel()
    assert 0.03 <= np.mean(p <= 0.05) <= 0.075
    assert 0.07 <= np.mean(p <= 0.1) <= 0.13
    unmatched = (df[top].rank(axis=1).mean(axis=1) > 0).all()  # sanity: the genes are far above typical
    assert unmatched


def test_pvalues_uniform_on_sparse_null_cells_with_ucell():
    rng = np.random.default_rng(4)
    lam = rng.gamma(0.5, 1.0, size=1500)
    X = sp.csr_matrix(np.log1p(rng.poisson(lam, size=(300, 1500)).astype(float)))
    genes = np.array([f"G{i}" for i in range(1500)])
    expressed = genes[lam > 0.3]
    sigs = _random_sigs(rng, expressed, 60)
    res = score(X[:40], sigs, "ucell", genes=genes, n_controls=99, max_rank=300)
    p = res.pvalues.to_numpy().ravel()
    # UCell scores tie (genes beyond max_rank share one rank): ties count against the signature, so
    # the p-values are valid (never below their level too often) and slightly conservative
    for level in (0.01, 0.05, 0.1, 0.25):
        assert level * 0.6 <= np.mean(p <= level) <= level * 1.25 + 0.005


def test_planted_programme_is_found():
    df, _ = _null_bulk(n=60, seed=6)
    genes = df.columns.to_numpy()
    up, dn = list(genes[100:120]), list(genes[300:310])
    df.loc[df.index[:15], up] += 3.0
    df.loc[df.index[:15], dn] -= 3.0
    res = score(df, {"prog": up + [g + "-" for g in dn], "decoy": list(genes[500:530])}, n_controls=999)
    called = res.fdr["prog"] < 0.05
    assert called.iloc[:15].mean() >= 0.9 and called.iloc[15:].mean() <= 0.05
    assert (res.fdr["decoy"] < 0.05).mean() <= 0.05


def test_controls_respect_bins_directions_weights_and_seed():
    rng = np.random.default_rng(0)
    mean, var = rng.gamma(2, 2, size=500), rng.gamma(2, 1, size=500)
    bins = gene_bins(mean, var)
    sets = GeneSetIndex(("a",), (np.array([1, 2, 3]),), (np.array([1.0, 2.0, 3.0]),), (np.array([7]),),
                        (np.array([0.5]),), 500)  # fmt: skip
    c = make_controls(sets, bins, 50, seed=1)
    assert len(c) == 51 and c.n_primary == 1
    for j in range(1, 51):
        np.testing.assert_array_equal(bins[c.up_idx[j]], bins[[1, 2, 3]])
        np.testing.assert_array_equal(bins[c.dn_idx[j]], bins[[7]])
        np.testing.assert_array_equal(c.up_w[j], [1.0, 2.0, 3.0])
        assert len(set(c.up_idx[j]) | set(c.dn_idx[j])) == 4
    again = make_controls(sets, bins, 50, seed=1)
    other = make_controls(sets, bins, 50, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(c.up_idx, again.up_idx))
    assert not all(np.array_equal(a, b) for a, b in zip(c.up_idx[1:], other.up_idx[1:]))


def test_n_controls_and_seed_recorded_and_reproducible():
    df, _ = _null_bulk(n=20, g=500)
    sigs = {"a": list(df.columns[:10])}
    r1 = score(df, sigs, n_controls=50, random_state=7)
    r2 = score(df, sigs, n_controls=50, random_state=7)
    assert r1.n_controls == 50 and r1.seed == 7
    pd.testing.assert_frame_equal(r1.pvalues, r2.pvalues)
    assert r1.pvalues.isin(np.arange(1, 52) / 51).all().all()
    assert score(df, sigs, pvalues=False).pvalues is None


def test_toy_cohort_planted_programmes_are_found():
    from resistscore.ds import PROGRAMMES, toy

    adata = toy()
    sigs = {k: list(p.up) + [g + "-" for g in p.down] for k, p in PROGRAMMES.items()}
    res = score(adata.to_df(), sigs, random_state=1)
    called = res.fdr < 0.05
    resistant = (adata.obs["group"] == "resistant").to_numpy()
    repair = adata.obs["dna_repair"].astype(bool).to_numpy()
    for prog in ("efflux", "pro_apoptotic"):
        assert called.loc[resistant, prog].mean() >= 0.9
        assert called.loc[~resistant, prog].mean() <= 0.05
    assert called.loc[resistant, "anti_apoptotic"].mean() >= 0.5
    assert called.loc[~resistant, "anti_apoptotic"].mean() <= 0.05
    assert called.loc[repair, "dna_repair"].mean() >= 0.9
    assert called.loc[~repair, "dna_repair"].mean() <= 0.05


def test_pooled_null_is_calibrated_fine_grained_and_chunk_invariant():
    rng = np.random.default_rng(8)
    lam = rng.gamma(0.5, 1.0, size=1500)
    X = np.log1p(rng.poisson(lam, size=(400, 1500)).astype(float))
    genes = np.array([f"G{i}" for i in range(1500)])
    expressed = genes[lam > 0.3]
    sigs = _random_sigs(rng, expressed, 30)
    prog = list(expressed[:15])
    X[:40, np.isin(genes, prog)] += 1.5  # planted in 40 cells
    sigs["prog"] = prog
    Xs = sp.csr_matrix(X)
    kw = {"genes": genes, "n_controls": 50, "null": "pooled", "method": "ucell", "max_rank": 300}
    res = score(Xs, sigs, chunk_size=64, **kw)
    other = score(Xs, sigs, chunk_size=1000, n_jobs=1, **kw)
    pd.testing.assert_frame_equal(res.pvalues, other.pvalues, check_exact=True)
    assert res.null == "pooled" and "pooled" in repr(res)
    p = res.pvalues.drop(columns="prog").iloc[40:].to_numpy().ravel()  # null signatures, null cells
    for level in (0.01, 0.05, 0.2):
        assert np.mean(p <= level) <= level * 1.3 + 0.005
    assert np.mean(p <= 0.2) >= 0.2 * 0.6
    pp = res.pvalues["prog"]
    assert pp.iloc[:40].median() < 1e-3  # far below 1 / (1 + n_controls)
    assert (res.fdr["prog"].iloc[:40] < 0.05).mean() >= 0.9


@pytest.mark.parametrize("seed", range(5))
def test_bh_from_counts_equals_statsmodels_bh_of_the_pvalues(seed):
    from resistscore.tl._null import bh_fdr, bh_fdr_counts, pvalues_from_counts

    rng = np.random.default_rng(seed)
    n, s = 300, 7
    n_null = rng.choice([1, 3, 6, 12, 99, 1000], size=s)  # grids that share values (1/2 = 2/4 ...)
    counts = np.stack([rng.integers(-1, k + 1, size=n) for k in n_null], axis=1)
    counts[rng.random(counts.shape) < 0.3] = 0  # many ties at the smallest p-value
    p = pvalues_from_counts(counts, n_null)
    assert np.isnan(p[counts < 0]).all()
    np.testing.assert_allclose(p[counts >= 0], ((1.0 + counts) / (1.0 + n_null))[counts >= 0], rtol=0, atol=0)
    np.testing.assert_allclose(bh_fdr_counts(counts, n_null), bh_fdr(p), rtol=1e-13, atol=0, equal_nan=True)


def test_pvalues_from_counts_in_place_reuses_the_counts_memory():
    from resistscore.tl._null import pvalues_from_counts

    counts = np.array([[0, 4], [-1, 9]], dtype=np.int64)
    p = pvalues_from_counts(counts, 9, inplace=True)
    assert np.shares_memory(p, counts)
    np.testing.assert_array_equal(p, [[0.1, 0.5], [np.nan, 1.0]])


def test_pooled_null_matches_a_direct_numpy_computation():
    # reference: z against each row's own controls (ddof=1), pooled standardised controls of every
    # stride-th row, p = (1 + #{pool >= z}) / (1 + pool size), compared at single precision
    from resistscore.tl._null import PooledNull, pvalues_from_counts

    rng = np.random.default_rng(3)
    n, s, k = 120, 4, 25
    obs = rng.normal(size=(n, s)) + np.array([0.0, 0.5, 2.0, 0.0])
    ctrl = rng.normal(size=(n, s, k))
    ctrl[:5, 3, :] = 0.25  # sd 0: z is +-inf or 0
    obs[:2, 3], obs[2:4, 3] = 0.25, 0.5
    obs[7, 1] = np.nan
    scores = np.concatenate([obs, ctrl.reshape(n, s * k)], axis=1)
    pn = PooledNull(n, s, k, max_pool=1000)  # stride 3
    for a in range(0, n, 17):  # uneven chunks
        pn.add(a, scores[a : a + 17])
    counts, n_null = pn.counts(n_jobs=2)
    p = pvalues_from_counts(counts, n_null)

    mu, sd = ctrl.mean(axis=2), ctrl.std(axis=2, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (obs - mu) / np.where(sd > 0, sd, 1), np.sign(obs - mu) * np.inf)
    z[np.isclose(obs, mu, rtol=1e-12, atol=1e-12) & ~(sd > 0)] = 0.0
    rows = np.arange(0, n, 3)
    pool = (ctrl[rows] - mu[rows, :, None]) / np.where(sd[rows] > 0, sd[rows], 1.0)[:, :, None]
    for j in range(s):
        null = pool[:, j, :].ravel().astype(np.float32)
        assert n_null[j] == null.size
        ge = (null[None, :] >= z[:, j].astype(np.float32)[:, None]).sum(axis=1)
        expect = (1.0 + ge) / (1.0 + null.size)
        expect[np.isnan(z[:, j])] = np.nan
        np.testing.assert_allclose(p[:, j], expect, rtol=1e-15, atol=0, equal_nan=True)
    assert (z[:2, 3] == 0).all() and (z[2:4, 3] == np.inf).all()  # the degenerate cases were exercised
    assert np.isnan(p[7, 1]) and (p[2:4, 3] == 1 / (1 + n_null[3])).all()
