"""Calibration of the empirical p-values: uniform on null data down to the extreme tail, planted
programmes found, and the p-value contract (a pure function of the scores of the signature and its
controls)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.stats import binom, kstest

import resistscore as rs
from resistscore.tl import score
from resistscore.tl._null import gene_bins, make_controls
from resistscore.tl.methods import GeneSetIndex


def _within_binomial_bounds(p, levels=(1e-2, 1e-3, 1e-4), q=5e-4):
    """The number of p-values <= each level lies within the central 1 - 2q of Binomial(n, level)."""
    p = p[np.isfinite(p)]
    out = {}
    for a in levels:
        k = int((p <= a).sum())
        lo, hi = binom.ppf(q, p.size, a), binom.ppf(1 - q, p.size, a)
        out[a] = (k, lo, hi)
        assert lo <= k <= hi, (
            f"{k} p-values <= {a} of {p.size}; expected {p.size * a:.0f}, bounds [{lo:.0f}, {hi:.0f}]"
        )
    return out


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
@pytest.mark.parametrize("null", ["pooled", "per_sample"])
def test_pvalues_uniform_on_null_cohort(method, null):
    df, _ = _null_bulk()
    rng = np.random.default_rng(1)
    sigs = _random_sigs(rng, df.columns.to_numpy(), 12, n_down=2)
    res = score(df, sigs, method, n_controls=199, random_state=5, null=null, fdr_family="all")
    p = res.pvalues.to_numpy().ravel()
    assert kstest(p, "uniform").pvalue > 0.01
    assert 0.035 <= np.mean(p <= 0.05) <= 0.065
    assert res.fdr.min().min() > 0.05  # nothing is called on null data over all tests


def test_bulk_null_pvalues_are_uniform_down_to_1e4():
    # 400 samples x 250 random signatures = 100,000 tests on null data (genes alike, so that the tests
    # are independent): the share of p-values below 1e-2, 1e-3 and 1e-4 within binomial bounds (99.9 %)
    rng = np.random.default_rng(0)
    genes = np.array([f"G{i}" for i in range(1000)])
    df = pd.DataFrame(rng.normal(5.0, 1.0, size=(400, 1000)), columns=genes)
    sigs = {
        f"r{i}": list(rng.choice(genes, size=int(rng.integers(5, 25)), replace=False)) for i in range(250)
    }
    for i in range(0, 250, 5):  # one in five directional
        sigs[f"r{i}"] = sigs[f"r{i}"][:-3] + [g + "-" for g in sigs[f"r{i}"][-3:]]
    res = score(df, sigs, n_controls=100, random_state=3)  # the default: pooled null with a GPD tail
    assert res.null == "pooled" and res.tail == "gpd"
    _within_binomial_bounds(res.pvalues.to_numpy().ravel())
    # per signature, the FDR controls the family-wise error under this complete null: few signatures
    # have any call (expected <= 5 %, i.e. <= 12.5 of 250)
    assert (res.fdr < 0.05).any().sum() <= 20


def test_single_cell_null_pvalues_are_uniform_down_to_1e4():
    # sparse null cells, UCell, the default pooled null: 4,000 cells x 25 random signatures of expressed
    # genes = 100,000 tests. Until this check, the pooled null standardised each control by a mean and SD
    # that included it (in-sample), which shrank the pool's tails: 1,339 / 190 / 37 p-values below 1e-2 /
    # 1e-3 / 1e-4 here (expected 1,000 / 100 / 10)
    rng = np.random.default_rng(0)
    lam = rng.gamma(0.5, 1.0, size=1500)
    X = sp.csr_matrix(np.log1p(rng.poisson(lam, size=(4000, 1500)).astype(float)))
    genes = np.array([f"G{i}" for i in range(1500)])
    expressed = genes[lam > 0.3]
    sigs = {
        f"r{i}": list(rng.choice(expressed, size=int(rng.integers(5, 40)), replace=False)) for i in range(25)
    }
    res = score(X, sigs, "ucell", genes=genes, n_controls=100, max_rank=300)
    assert res.null == "pooled"
    _within_binomial_bounds(res.pvalues.to_numpy().ravel())


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
    pd.testing.assert_frame_equal(r1.pvalues, r2.pvalues, check_exact=True)
    pd.testing.assert_frame_equal(r1.fdr, r2.fdr, check_exact=True)
    exact = score(df, sigs, n_controls=50, random_state=7, null="per_sample", tail=None)
    assert exact.pvalues.isin(np.arange(1, 52) / 51).all().all()
    assert score(df, sigs, pvalues=False).pvalues is None


def _planted_network():
    from resistscore import sig
    from resistscore.ds import PROGRAMMES

    rows = [
        (f"planted.{k}", g, w)
        for k, p in PROGRAMMES.items()
        for gs, w in ((p.up, 1.0), (p.down, -1.0))
        for g in gs
    ]
    planted = pd.DataFrame(rows, columns=["source", "target", "weight"])
    return pd.concat([sig.load().to_network()[["source", "target", "weight"]], planted], ignore_index=True)


def test_toy_cohort_planted_programmes_are_found_among_all_signatures():
    # the planted programmes scored with the whole shipped collection (58 signatures x 60 samples), all
    # defaults: each programme is called in most of its carriers and in none of the other samples
    from resistscore.ds import toy

    adata = toy()
    res = score(adata.to_df(), _planted_network(), random_state=1)
    assert res.fdr_family == "signature"
    called = res.fdr < 0.05
    resistant = (adata.obs["group"] == "resistant").to_numpy()
    repair = adata.obs["dna_repair"].astype(bool).to_numpy()
    for prog, carriers, most in (("efflux", resistant, 0.9), ("pro_apoptotic", resistant, 0.9),
                                 ("dna_repair", repair, 0.9), ("anti_apoptotic", resistant, 0.4)):  # fmt: skip
        # anti-apoptotic is the weakest programme (+1.5 log2 on 8 genes: a median z of ~2 in a sample)
        assert called.loc[carriers, f"planted.{prog}"].mean() >= most, prog
        assert not called.loc[~carriers, f"planted.{prog}"].any(), prog
    # the shipped signatures that hold planted genes are called in carriers only too
    for sig_id, carriers, most in (("apoptosis", resistant, 0.8), ("apoptosis.pro_apoptotic", resistant, 0.8),
                                   ("dna_repair.ner", repair, 0.5)):  # fmt: skip
        assert called.loc[carriers, sig_id].mean() >= most, sig_id
        assert not called.loc[~carriers, sig_id].any(), sig_id
    # below the old floor: with 1,000 controls per sample, p-values stopped at 1 / 1001
    assert res.pvalues.min().min() < 1e-4


def test_toy_single_cell_planted_programmes_called_per_patient_and_nowhere_else():
    # single cell: per-cell evidence of the toy's programmes is weak (a handful of genes at a few counts),
    # and no programme is called in a cell of a non-carrier or outside the tumour; per patient
    # (pseudobulk of the tumour cells), each programme is called in every carrier patient and no other
    import scanpy as sc

    from resistscore.ds import PROGRAMMES, toy
    from resistscore.tl import pseudobulk

    net = _planted_network()
    net = net[net["source"].str.startswith("planted.")]
    adata = toy("sc")
    cells = adata.copy()
    sc.pp.normalize_total(cells, target_sum=1e4)
    sc.pp.log1p(cells)
    score(cells, net)
    res = rs.get.result(cells)
    tumour = (cells.obs["cell_type"] == "tumour").to_numpy()
    for prog in PROGRAMMES:
        carrier = (
            cells.obs["dna_repair"] if prog == "dna_repair" else cells.obs["group"] == "resistant"
        ).to_numpy(bool)
        assert not (res.fdr.loc[~(carrier & tumour), f"planted.{prog}"] < 0.05).any(), prog
    pb = pseudobulk(adata[adata.obs["cell_type"] == "tumour"].copy(), "patient", mode="sum")
    sc.pp.normalize_total(pb, target_sum=1e6)
    sc.pp.log1p(pb)
    per_patient = score(pb.to_df(), net)
    for prog in PROGRAMMES:
        carrier = (pb.obs["dna_repair"] if prog == "dna_repair" else pb.obs["group"] == "resistant").to_numpy(
            bool
        )
        called = (per_patient.fdr[f"planted.{prog}"] < 0.05).to_numpy()
        np.testing.assert_array_equal(called, carrier, err_msg=prog)


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
    # each pooled control standardised by the other k - 1 controls of its row (leave one out)
    c = ctrl[rows]
    others = (c.sum(axis=2, keepdims=True) - c) / (k - 1)
    sq = ((c[:, :, None, :] - others[..., None]) ** 2).sum(axis=3) - (c - others) ** 2
    sd_o = np.sqrt(sq / (k - 2))
    pool = (c - others) / np.where(sd_o > 0, sd_o, 1.0)
    for j in range(s):
        null = pool[:, j, :].ravel().astype(np.float32)
        assert n_null[j] == null.size
        ge = (null[None, :] >= z[:, j].astype(np.float32)[:, None]).sum(axis=1)
        expect = (1.0 + ge) / (1.0 + null.size)
        expect[np.isnan(z[:, j])] = np.nan
        np.testing.assert_allclose(p[:, j], expect, rtol=1e-15, atol=0, equal_nan=True)
    assert (z[:2, 3] == 0).all() and (z[2:4, 3] == np.inf).all()  # the degenerate cases were exercised
    assert np.isnan(p[7, 1]) and (p[2:4, 3] == 1 / (1 + n_null[3])).all()
