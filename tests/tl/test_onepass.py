"""The one-pass UCell + pooled null kernel gives the general way's numbers bit for bit; counting and BH in place."""

import numba as nb
import numpy as np
import pytest
import scipy.sparse as sp

from resistscore.tl import _onepass
from resistscore.tl._null import (
    PooledNull,
    _count_ge,
    _moments,
    bh_fdr,
    empirical_pvalues,
    gene_bins,
    make_controls,
    pvalues_from_counts,
)
from resistscore.tl._rows import call_rows
from resistscore.tl.methods import GeneSetIndex
from resistscore.tl.methods.ucell import ucell


def _data(seed=0, n=150, g=400):
    rng = np.random.default_rng(seed)
    X = rng.poisson(rng.gamma(0.4, 2.0, size=g), size=(n, g)).astype(np.float64)
    X[rng.random(X.shape) < 0.5] = 0.0
    X[3] = 0.0  # unscorable: all zero
    X[7, :] = 2.0  # unscorable: constant
    X[11, :] = 0.0
    X[11, :5] = [3.0, 3.0, 2.0, 1.0, 1.0]  # few values: many ties
    code = np.zeros(n, dtype=np.int8)
    code[[3, 7]] = [2, 3]
    up = (rng.choice(g, 12, replace=False), rng.choice(g, 3, replace=False), np.zeros(0, np.int64),
          rng.choice(g, 1, replace=False))  # fmt: skip
    dn = (np.zeros(0, np.int64), rng.choice(g, 4, replace=False), rng.choice(g, 5, replace=False),
          np.zeros(0, np.int64))  # fmt: skip
    sets = GeneSetIndex(
        ("a", "b", "down_only", "one"),
        up,
        tuple(np.ones(len(x)) for x in up),
        dn,
        tuple(np.ones(len(x)) for x in dn),
        g,
    )
    bins = gene_bins(X.mean(axis=0), X.var(axis=0), min_bin_size=20)
    return sp.csr_matrix(X), code, sets, bins


def _general(X, sets, params, code, n, k, chunks, max_pool):
    model = PooledNull(X.shape[0], n, k, max_pool=max_pool)
    out = np.empty((X.shape[0], n))
    for a, b in chunks:
        sc, _ = call_rows(ucell, X[a:b], sets, params, code[a:b])
        model.add(a, sc)
        out[a:b] = sc[:, :n]
    return out, model


@pytest.mark.parametrize(
    "params",
    [
        {"max_rank": 1500},
        {"max_rank": 60, "w_neg": 0.5},
        {"max_rank": 25, "ties": "ordinal"},
        {"ties": "min"},
    ],
)
def test_one_pass_equals_scoring_every_control_set_then_standardising(params):
    X, code, sets, bins = _data()
    k = 30
    all_sets = make_controls(sets, bins, k, seed=4)
    chunks = [(0, 40), (40, 41), (41, 150)]
    ref, ref_model = _general(X, all_sets, params, code, len(sets), k, chunks, max_pool=1000)  # stride 5
    model = PooledNull(X.shape[0], len(sets), k, max_pool=1000)
    got = np.empty_like(ref)
    for a, b in [(0, 77), (77, 150)]:
        sc, ex = _onepass.score_block(ucell, X[a:b], all_sets, params, code[a:b], len(sets), model, a)
        assert ex == {}
        got[a:b] = sc
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(model.z, ref_model.z)
    np.testing.assert_array_equal(model.pool, ref_model.pool)
    assert np.isnan(got[[3, 7]]).all() and np.isfinite(got[0, :2]).all()


@pytest.mark.parametrize("k", [3, 8200])
def test_one_pass_equals_the_general_way_with_genes_in_many_sets_and_32_bit_slots(k):
    # k = 8,200 controls of 4 signatures: 65,608 slots, beyond 16 bits (uint32 slots); each gene in
    # dozens of sets (many groups of four slots per gene); k = 3: most genes in no set or one group
    X, code, sets, bins = _data(3, n=24)
    all_sets = make_controls(sets, bins, k, seed=2)
    inc = _onepass.incidence(all_sets, False)
    ptr, slot = _onepass._padded_incidence(all_sets, inc)
    assert slot.dtype == (np.uint32 if k > 1000 else np.uint16) and ptr.dtype == np.uint32
    width = np.diff(ptr.astype(np.int64))
    assert (width > 8).any() if k > 1000 else (width == 0).any()
    params = {"max_rank": 50, "w_neg": 0.5}
    ref, ref_model = _general(X, all_sets, params, code, len(sets), k, [(0, 24)], max_pool=10 * k)  # stride 3
    model = PooledNull(X.shape[0], len(sets), k, max_pool=10 * k)
    got, _ = _onepass.score_block(ucell, X, all_sets, params, code, len(sets), model, 0)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(model.z, ref_model.z)
    np.testing.assert_array_equal(model.pool, ref_model.pool)


def test_one_pass_is_taken_for_sparse_ucell_with_the_pooled_null(monkeypatch):
    X, code, sets, bins = _data(1)
    all_sets = make_controls(sets, bins, 10, seed=0)

    def fail(*a, **k):
        raise AssertionError("the rows x control sets matrix was made")

    monkeypatch.setattr(_onepass, "call_rows", fail)
    model = PooledNull(X.shape[0], len(sets), 10)
    _onepass.score_block(ucell, X, all_sets, {"max_rank": 100}, code, len(sets), model, 0)
    with pytest.raises(AssertionError, match="matrix was made"):  # ties "expected": the general way
        _onepass.score_block(ucell, X, all_sets, {"ties": "expected"}, code, len(sets), model, 0)


def test_partitions_of_the_one_pass_put_together_equal_one_pass_over_all_rows():
    X, code, sets, bins = _data(2)
    k = 20
    all_sets = make_controls(sets, bins, k, seed=1)
    whole = PooledNull(X.shape[0], len(sets), k, max_pool=700)
    _onepass.score_block(ucell, X, all_sets, {}, code, len(sets), whole, 0)
    joined = PooledNull(X.shape[0], len(sets), k, max_pool=700)
    for a, b in [(0, 33), (33, 150)]:
        part = PooledNull(X.shape[0], len(sets), k, max_pool=700, rows=(a, b))
        _onepass.score_block(ucell, X[a:b], all_sets, {}, code[a:b], len(sets), part, a)
        joined.put(*part.part())
    np.testing.assert_array_equal(joined.z, whole.z)
    np.testing.assert_array_equal(joined.pool, whole.pool)


# with NaN: the general loop; without: the loop without branches
@pytest.mark.parametrize("nan", [True, False])
def test_four_interleaved_moments_equal_one_at_a_time(nan):
    rng = np.random.default_rng(5)
    c = rng.normal(size=(4, 101)) * [[1.0], [1e-9], [1e6], [3.0]] + [[0.0], [7.0], [-1e6], [0.0]]
    if nan:
        c[1, :3] = np.nan
        c[3, :] = np.nan
    out = np.empty((4, 4))
    nb.njit(lambda c, out: _onepass._moments4(c, out))(
        c, out
    )  # compiled code calls it (it has no Python wrapper)
    for lane in range(4):
        np.testing.assert_array_equal(out[:, lane], np.array(_moments(c[lane]), dtype=np.float64))


@pytest.mark.parametrize("n_scored", [0, 1, 2, 5, 100])
def test_pooled_controls_are_standardised_by_the_other_controls(n_scored):
    # _z_pool's pooled values (no branch per control): each scored control against the mean and SD of
    # the other scored controls (divisor 1 when that SD is 0), NaN for a control not scored
    from resistscore.tl._null import _z_pool

    rng = np.random.default_rng(n_scored)
    ctrl = np.full(104, np.nan)
    ctrl[rng.choice(104, n_scored, replace=False)] = rng.normal(3.0, 2.0, size=n_scored)
    pool = np.full(104, np.nan, dtype=np.float32)  # no scored control: the row is left as it is
    shift, s1, s2, m = _moments(ctrl)
    z = nb.njit(lambda *a: _z_pool(*a))(1.5, ctrl, shift, s1, s2, m, pool, True)
    ok = ~np.isnan(ctrl)
    expect = np.full(104, np.nan)
    for j in np.flatnonzero(ok) if n_scored > 1 else []:
        others = ctrl[ok & (np.arange(104) != j)]
        sd = others.std(ddof=1) if len(others) > 1 else 0.0
        expect[j] = (ctrl[j] - others.mean()) / (sd if sd > 0 else 1.0)
    np.testing.assert_allclose(pool, expect.astype(np.float32), rtol=1e-5)
    if n_scored > 1:
        v = ctrl[ok]
        np.testing.assert_allclose(z, (1.5 - v.mean()) / v.std(ddof=1), rtol=1e-12)


def test_count_ge_equals_brute_force_with_ties_signed_zeros_infinities_and_nan():
    rng = np.random.default_rng(0)
    null = np.sort(np.concatenate([rng.normal(size=500), [0.0, -0.0, 1.5, 1.5]]).astype(np.float32))
    q = np.concatenate([rng.normal(size=300), [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, -np.nan, 9.0]])
    q = q.astype(np.float32)
    out = np.empty(len(q), dtype=np.int32)
    _count_ge(null, q.copy(), out)
    expect = (null[None, :] >= q[:, None]).sum(axis=1)
    expect[np.isnan(q)] = -1
    np.testing.assert_array_equal(out, expect)
    inplace = q.copy()
    _count_ge(null, inplace, inplace.view(np.int32))  # the counts over the queries
    np.testing.assert_array_equal(inplace.view(np.int32), expect)


@pytest.mark.parametrize("family", ["signature", "all"])
def test_pvalues_over_the_counts_buffer_and_float32_equal_float64_rounded(family):
    X, code, sets, bins = _data(3)
    all_sets = make_controls(sets, bins, 25, seed=2)

    def run(dtype):
        model = PooledNull(X.shape[0], len(sets), 25, max_pool=900)
        _onepass.score_block(ucell, X, all_sets, {"max_rank": 80}, code, len(sets), model, 0)
        null = model.finish(n_jobs=2)
        counts = np.array(null.counts, dtype=np.int64)
        p, fdr = empirical_pvalues(null, family, n_jobs=2, dtype=dtype)
        return null, counts, p, fdr

    null, counts, p, fdr = run(np.float64)
    assert np.shares_memory(p, null.buffer)  # the p-values take the counts' memory
    expect_p = pvalues_from_counts(counts, null.n_null)
    if len(null.tail):
        expect_p[null.tail.rows, null.tail.cols] = null.tail.p
    np.testing.assert_array_equal(p, expect_p)
    if family == "all":
        np.testing.assert_allclose(fdr, bh_fdr(expect_p), rtol=1e-13, atol=0, equal_nan=True)
    else:
        for j in range(p.shape[1]):
            np.testing.assert_allclose(fdr[:, j], bh_fdr(expect_p[:, j]), rtol=1e-13, atol=0, equal_nan=True)
    null32, _, p32, fdr32 = run(np.float32)
    assert p32.dtype == fdr32.dtype == np.float32 and np.shares_memory(p32, null32.buffer)
    np.testing.assert_array_equal(p32, p.astype(np.float32))
    np.testing.assert_array_equal(fdr32, fdr.astype(np.float32))


def test_one_rule_decides_the_one_pass_path():
    """The chunk size, the parameter check and score_block follow one rule: ties="expected" keeps the controls'
    scores (its ranks are not multiples of 1/2), so the chunk is sized for every control set."""
    from resistscore.tl._onepass import stores_control_scores
    from resistscore.tl.methods.ucell import ucell

    assert not stores_control_scores(ucell, "pooled", True, {})
    assert not stores_control_scores(ucell, "pooled", True, {"ties": "ordinal"})
    assert stores_control_scores(ucell, "pooled", True, {"ties": "expected"})
    assert stores_control_scores(ucell, "pooled", False, {})
    assert stores_control_scores(ucell, "per_sample", True, {})
    assert stores_control_scores(ucell, None, True, {})
