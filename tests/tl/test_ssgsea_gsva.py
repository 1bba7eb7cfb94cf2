"""ssGSEA and GSVA against R GSVA 1.46.0 (stored outputs, see tests/_reference/README.md) and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore.tl import score as rs_score
from resistscore.tl.methods import GeneSetIndex, registry
from resistscore.tl.methods import gsva as gsva_mod
from resistscore.tl.methods import ssgsea as ssgsea_mod
from resistscore.tl.methods.gsva import gsva_density, score_gsva
from resistscore.tl.methods.ssgsea import score_ssgsea, ssgsea_range_normalize

EMPTY = np.zeros(0, dtype=np.int64)


def make_index(genes, up, down=None):
    """GeneSetIndex from {name: [genes]} (+ optional {name: [down genes]}) against `genes`."""
    pos = {g: i for i, g in enumerate(genes)}
    names = tuple(up)
    down = down or {}

    def idx(members):
        return np.array([pos[g] for g in members if g in pos], dtype=np.int64)

    up_idx = tuple(idx(up[n]) for n in names)
    dn_idx = tuple(idx(down.get(n, [])) for n in names)
    return GeneSetIndex(
        names=names,
        up_idx=up_idx,
        up_w=tuple(np.ones(i.size) for i in up_idx),
        dn_idx=dn_idx,
        dn_w=tuple(np.ones(i.size) for i in dn_idx),
        n_genes=len(genes),
    )


@pytest.fixture(scope="module")
def ref(reference_dir):
    d = reference_dir / "gsva"
    sets = {}
    for line in (d / "gene_sets.gmt").read_text().splitlines():
        t = line.split("\t")
        sets[t[0]] = t[2:]

    def load(name):
        return pd.read_csv(d / name, sep="\t", index_col=0)

    out = {"sets": sets, "load": load}
    for tag in ("expr", "counts"):
        E = load(f"input_{tag}.tsv")
        out[tag] = (E.T.to_numpy(dtype=float), make_index(list(E.index), sets), E)
    return out


def r_scores(ref, name, sets=None):
    """R output (sets x samples) as samples x sets in the GMT order."""
    return ref["load"](name).loc[list(sets or ref["sets"])].T.to_numpy()


# ---------------------------------------------------------------------------------------------
# ssGSEA vs R GSVA: |diff| < 1e-9 (scores are O(100); achieved ~2e-13, last-bit rounding)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["expr", "counts"])
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_ssgsea_equals_r(ref, tag, normalize, sparse):
    X, idx, _ = ref[tag]
    got = score_ssgsea(sp.csr_matrix(X) if sparse else X, idx, normalize=normalize)
    want = r_scores(ref, f"ssgsea_{'norm' if normalize else 'raw'}_{tag}.tsv")
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_ssgsea_alpha_equals_r(ref):
    X, idx, _ = ref["expr"]
    np.testing.assert_allclose(
        score_ssgsea(X, idx, alpha=1.0), r_scores(ref, "ssgsea_raw_expr_alpha1.tsv"), rtol=0, atol=1e-9
    )


def _walk_reference(x, members, alpha):
    """ssGSEA as the explicit random walk of Barbie et al. (R GSVA's original .rndWalk), no closed form."""
    n = x.size
    ranks = pd.Series(x).rank(method="average").to_numpy().astype(int)  # R: average, then integer
    ranking = np.lexsort((np.arange(n), -ranks))  # decreasing rank, ties in gene order (stable)
    inside = np.isin(ranking, members)
    w = np.abs(ranks[ranking]) ** alpha * inside
    walk = np.cumsum(w) / w.sum() - np.cumsum(~inside) / (~inside).sum()
    return walk.sum()


def test_ssgsea_equals_explicit_random_walk_with_ties():
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(7, 60)), 1)  # many ties
    X[:, :10] = 0.0
    sets = {"a": [f"g{i}" for i in range(0, 12)], "b": [f"g{i}" for i in range(20, 45, 2)]}
    genes = [f"g{i}" for i in range(60)]
    idx = make_index(genes, sets)
    got = score_ssgsea(X, idx)
    for s, members in enumerate(idx.up_idx):
        want = [_walk_reference(X[i], members, 0.25) for i in range(X.shape[0])]
        np.testing.assert_allclose(got[:, s], want, rtol=1e-10, atol=1e-8)
    # the sparse path (implicit zeros, negative values, explicit zeros, unsorted indices) agrees
    S = sp.csr_matrix(X)
    S.data[0] = 0.0  # an explicit stored zero
    dense = S.toarray()
    rows = [slice(S.indptr[i], S.indptr[i + 1]) for i in range(S.shape[0])]
    unsorted = sp.csr_matrix(
        (
            np.concatenate([S.data[r][::-1] for r in rows]),
            np.concatenate([S.indices[r][::-1] for r in rows]),
            S.indptr,
        ),
        shape=S.shape,
    )
    assert not unsorted.has_sorted_indices
    np.testing.assert_allclose(score_ssgsea(S, idx), score_ssgsea(dense, idx), rtol=0, atol=1e-10)
    np.testing.assert_allclose(score_ssgsea(unsorted, idx), score_ssgsea(dense, idx), rtol=0, atol=1e-10)


def test_ssgsea_single_sample_and_normalisation(ref):
    X, idx, _ = ref["expr"]
    full = score_ssgsea(X, idx)
    np.testing.assert_array_equal(score_ssgsea(X[5:9], idx), full[5:9])  # independent of the cohort
    norm = score_ssgsea(X, idx, normalize=True)
    np.testing.assert_allclose(norm, full / (full.max() - full.min()), rtol=1e-15)
    np.testing.assert_allclose(ssgsea_range_normalize(full), norm, rtol=1e-15)
    # normalisation is cohort-level: a subset is divided by its own range
    assert not np.allclose(score_ssgsea(X[:3], idx, normalize=True), norm[:3])


def test_directional_is_up_minus_down(ref):
    X, _, E = ref["expr"]
    genes = list(E.index)
    up = {"s": genes[0:20], "only_dn": [], "none": []}
    dn = {"s": genes[60:75], "only_dn": genes[60:75]}
    idx = make_index(genes, up, dn)
    up_only = make_index(genes, {"u": genes[0:20], "d": genes[60:75]})
    for fn in (score_ssgsea, score_gsva):
        sep = fn(X, up_only)
        got = fn(X, idx)
        np.testing.assert_allclose(got[:, 0], sep[:, 0] - sep[:, 1], rtol=0, atol=1e-12)
        np.testing.assert_allclose(got[:, 1], -sep[:, 1], rtol=0, atol=1e-12)
        assert np.isnan(got[:, 2]).all()  # no measured gene: NaN, never a number


def test_inputs_not_mutated(ref):
    X, idx, _ = ref["counts"]
    S = sp.csr_matrix(X)
    S.data[:3] = 0.0  # explicit zeros force the canonicalising copy
    before_dense, before_sparse = X.copy(), S.copy()
    score_ssgsea(X, idx, normalize=True)
    score_ssgsea(S, idx)
    score_gsva(X, idx, kcdf="poisson")
    np.testing.assert_array_equal(X, before_dense)
    np.testing.assert_array_equal(S.data, before_sparse.data)
    np.testing.assert_array_equal(S.indices, before_sparse.indices)


# ---------------------------------------------------------------------------------------------
# GSVA vs R GSVA
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tag", "file", "kw"),
    [
        ("expr", "gsva_gaussian_expr.tsv", {}),
        ("expr", "gsva_gaussian_expr_maxdev.tsv", {"mx_diff": False}),
        ("expr", "gsva_gaussian_expr_absrank.tsv", {"abs_ranking": True}),
        ("expr", "gsva_none_expr.tsv", {"kcdf": "none"}),
        ("counts", "gsva_gaussian_counts.tsv", {}),
    ],
)
def test_gsva_equals_r(ref, tag, file, kw):
    """Gaussian / ECDF kernels: |diff| < 1e-9 (achieved ~1e-14), constant gene dropped as in R."""
    X, idx, _ = ref[tag]
    np.testing.assert_allclose(score_gsva(X, idx, **kw), r_scores(ref, file), rtol=0, atol=1e-9)


def test_gsva_one_gene_sets_equal_r_also_in_the_middle_of_the_ranking(ref):
    # one set per gene, first gene left out (498 non-constant genes): in every sample one gene has walk
    # weight |n/2 - r| = 0, where R's walk turns NaN after the hit and keeps the extremes reached before it
    X, _, E = ref["expr"]
    names = list(ref["load"]("gsva_gaussian_expr_onegene.tsv").index)  # the constant gene is dropped by R
    sets = {g: [g] for g in names}
    ours = score_gsva(X[:, 1:], make_index(list(E.index[1:]), sets), kcdf="gaussian")
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, r_scores(ref, "gsva_gaussian_expr_onegene.tsv", sets), rtol=0, atol=1e-9)


def test_gsva_poisson_close_to_r(ref):
    """Poisson kernel: scipy's Poisson CDF differs from R's ppois in the last bits (~1e-16 relative),
    which reorders a few genes whose log-odds tie in exact arithmetic; scores agree to 5e-4
    (measured 2.1e-4) and the kernel step itself to 1e-11."""
    X, idx, E = ref["counts"]
    got = score_gsva(X, idx, kcdf="poisson")
    want = r_scores(ref, "gsva_poisson_counts.tsv")
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-4)
    assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.99999
    keep = X.std(axis=0, ddof=1) >= 1e-10
    dens_r = ref["load"]("density_poisson_counts.tsv").to_numpy()
    np.testing.assert_allclose(gsva_density(X[:, keep], "poisson"), dens_r, rtol=1e-11, atol=1e-11)


def test_gsva_gaussian_density_equals_r(ref):
    X, _, _ = ref["expr"]
    keep = X.std(axis=0, ddof=1) >= 1e-10
    dens_r = ref["load"]("density_gaussian_expr.tsv").to_numpy()
    np.testing.assert_allclose(gsva_density(X[:, keep]), dens_r, rtol=1e-13, atol=1e-13)


def test_gsva_fast_and_exact_order_kernels_agree():
    """The sorted pairwise kernel evaluates the same table terms as R's loop (rounding only)."""
    rng = np.random.default_rng(3)
    XT = np.ascontiguousarray(rng.normal(size=(50, 80)) * rng.uniform(0.01, 100, size=(50, 1)))
    XT[:, :3] += 1e3 * rng.normal(size=(50, 3))  # far-apart samples: the exact 0 / 1 region
    table = gsva_mod._cdf_table()
    fast = gsva_mod._gaussian_logodds(XT, table, np.zeros(50, dtype=bool))
    exact = gsva_mod._gaussian_logodds(XT, table, np.ones(50, dtype=bool))
    np.testing.assert_allclose(fast, exact, rtol=1e-12, atol=1e-12)


def _sorted_walk(x, table):
    """The Gaussian kernel one sample at a time, in sorted order (plain Python): what the compiled
    kernel computes four samples at a time, with every sum taken in the same order."""
    n = len(x)
    bw = gsva_mod._sd(x) / 4.0  # R GSVA's two-pass sd, as the kernel
    c = 1000.0 / bw
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    lt = [0.0] * n
    i0 = 0
    for j in range(n):
        while xs[j] - xs[i0] > 10.0 * bw * (1.0 + 1e-7):
            i0 += 1
        acc = float(i0)
        for i in range(i0, j):
            d = float(xs[j] - xs[i])
            y = min(d * c, 10000.0)
            k = int(y)
            if y - k < 1e-7 or y - k > 1.0 - 1e-7:
                k = int(min(d / bw, 10.0) / 10.0 * 10000.0)
            acc += table[k]
            lt[i] += 1.0 - table[k]
        lt[j] += acc + table[0]
    out = np.empty(n)
    for j in range(n):
        f = lt[j] / n
        out[order[j]] = -np.log((1.0 - f) / f)
    return out


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 8, 9, 30, 61])
def test_gsva_blocked_kernel_is_bit_identical_to_the_one_sample_walk(n):
    rng = np.random.default_rng(n)
    table = gsva_mod._cdf_table()
    for x in (rng.normal(size=n), np.round(rng.normal(size=n), 1), np.r_[rng.normal(size=n - 1), 50.0]):
        if np.std(x) == 0:
            continue
        out = np.empty(n)
        gsva_mod._gaussian_row(np.ascontiguousarray(x), table, out)
        np.testing.assert_array_equal(out, _sorted_walk(x, table))


def test_gsva_depends_on_cohort(ref):
    """GSVA is not single-sample: the same 12 samples score differently alone (as in R)."""
    X, idx, _ = ref["expr"]
    sub = score_gsva(X[:12], idx)
    np.testing.assert_allclose(sub, r_scores(ref, "gsva_gaussian_expr_first12.tsv"), rtol=0, atol=1e-9)
    assert np.abs(sub - score_gsva(X, idx)[:12]).max() > 1e-3
    assert registry["gsva"].single_sample is False
    assert registry["ssgsea"].single_sample is True


def test_sparse_gsva_equals_dense(ref):
    X, idx, _ = ref["counts"]
    np.testing.assert_array_equal(score_gsva(sp.csr_matrix(X), idx), score_gsva(X, idx))


# ---------------------------------------------------------------------------------------------
# errors and registry
# ---------------------------------------------------------------------------------------------
def test_errors(ref):
    X, idx, _ = ref["expr"]
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InputFormatError, match="NaN"):
        score_ssgsea(bad, idx)
    with pytest.raises(InputFormatError, match="NaN"):
        score_ssgsea(sp.csr_matrix(bad), idx)
    with pytest.raises(InputFormatError, match="NaN"):
        score_gsva(bad, idx)
    with pytest.raises(ResistScoreError, match="at least 2 samples"):
        score_gsva(X[:1], idx)
    with pytest.raises(InputFormatError, match="non-negative"):
        score_gsva(X - 100.0, idx, kcdf="poisson")
    with pytest.raises(ResistScoreError, match="kcdf"):
        score_gsva(X, idx, kcdf="Gaussian")
    with pytest.raises(ResistScoreError, match="normalize"):
        score_ssgsea(X, idx, normalize="yes")
    with pytest.raises(ResistScoreError, match="columns"):
        score_ssgsea(X[:, :100], idx)
    with pytest.raises(ResistScoreError, match="GeneSetIndex"):
        score_ssgsea(X, {"a": [1, 2]})
    with pytest.raises(ResistScoreError, match="range"):
        ssgsea_range_normalize(np.ones((2, 2)))


def test_gsva_refuses_to_densify_many_cells():
    big = sp.csr_matrix((300_000, 20_000))  # 45 GiB dense: refused before any allocation
    idx = GeneSetIndex(("a",), (np.arange(5),), (np.ones(5),), (EMPTY,), (np.ones(0),), 20_000)
    with pytest.raises(ResistScoreError, match="pseudobulk"):
        score_gsva(big, idx)
    genes = [f"G{i}" for i in range(20_000)]
    with pytest.raises(ResistScoreError, match="needs the whole matrix dense"):  # before loading it
        rs_score(big, {"a": genes[:5]}, method="gsva", genes=genes, pvalues=False)


def test_registry_entries():
    for name, fn in (("ssgsea", ssgsea_mod._score_ssgsea_engine), ("gsva", gsva_mod.score_gsva)):
        info = registry[name]
        assert info.fn is fn
        assert info.weighted is False and info.directional is True
        assert "R GSVA 1.46.0" in info.validated_against
    assert registry["ssgsea"].sparse_aware is True
    assert registry["ssgsea"].defaults == {"alpha": 0.25, "normalize": False}


def test_normalisation_ignores_control_sets(ref):
    """With random control sets appended (n_primary), the range comes from the signatures only."""
    X, idx, E = ref["expr"]
    genes = list(E.index)
    controls = make_index(genes, {"ctl": genes[100:400]})  # a large set: extreme scores
    both = GeneSetIndex(
        idx.names + controls.names,
        idx.up_idx + controls.up_idx,
        idx.up_w + controls.up_w,
        idx.dn_idx + controls.dn_idx,
        idx.dn_w + controls.dn_w,
        idx.n_genes,
        len(idx),
    )
    got = score_ssgsea(X, both, normalize=True)
    np.testing.assert_allclose(got[:, : len(idx)], r_scores(ref, "ssgsea_norm_expr.tsv"), rtol=0, atol=1e-9)


def test_gsva_threads_do_not_change_results(ref):
    X, idx, _ = ref["expr"]
    np.testing.assert_array_equal(score_gsva(X, idx, n_jobs=1), score_gsva(X, idx, n_jobs=2))


def test_normalised_ssgsea_through_the_chunked_engine_equals_r(ref):
    """normalize=True is applied once to the whole matrix (finalize), not per chunk: R-exact for any chunk size."""
    import resistscore as rs

    X, idx, E = ref["expr"]
    fn = registry["ssgsea"].fn
    # the chunk entry point always returns raw scores; the cohort step is the method's finalize
    np.testing.assert_array_equal(fn(X, idx, normalize=True), score_ssgsea(X, idx))
    df = E.T
    sets = {k: v for k, v in ref["sets"].items() if k != "with_constant"}
    want = r_scores(ref, "ssgsea_norm_expr.tsv", list(sets))
    for chunk in (1, 7, 1000):
        res = rs.tl.score(
            df, sets, method="ssgsea", normalize=True, chunk_size=chunk, min_coverage=0.0, n_controls=30
        )
        np.testing.assert_allclose(res.scores[list(sets)].to_numpy(), want, rtol=0, atol=1e-9)
    raw = rs.tl.score(df, sets, method="ssgsea", chunk_size=7, min_coverage=0.0, n_controls=30)
    # a positive factor common to the whole matrix does not change the p-values
    pd.testing.assert_frame_equal(res.pvalues, raw.pvalues)


def test_through_rs_tl_score(ref):
    """rs.tl.score(method="ssgsea" / "gsva") gives the R-exact scores (engine plumbing, chunked rows)."""
    import resistscore as rs

    _, _, E = ref["expr"]
    df = E.T  # samples x genes
    sets = {k: v for k, v in ref["sets"].items() if k != "with_constant"}
    for method, file in (("ssgsea", "ssgsea_raw_expr.tsv"), ("gsva", "gsva_gaussian_expr.tsv")):
        res = rs.tl.score(df, sets, method=method, pvalues=False, chunk_size=7, min_coverage=0.0)
        want = pd.DataFrame(r_scores(ref, file, list(sets)), index=df.index, columns=list(sets))
        np.testing.assert_allclose(res.scores[list(sets)].to_numpy(), want.to_numpy(), rtol=0, atol=1e-9)


def test_engine_passes_its_threads_to_gsva(ref, monkeypatch):
    import resistscore as rs

    _, _, E = ref["expr"]
    sets = {k: v for k, v in ref["sets"].items() if k != "with_constant"}
    seen = []
    original = gsva_mod._n_jobs
    monkeypatch.setattr(gsva_mod, "_n_jobs", lambda n: seen.append(n) or original(n))
    one = rs.tl.score(E.T, sets, method="gsva", pvalues=False, n_jobs=1, min_coverage=0.0)
    two = rs.tl.score(E.T, sets, method="gsva", pvalues=False, n_jobs=2, min_coverage=0.0)
    assert seen[: len(seen) // 2] == [1] * (len(seen) // 2) and set(seen) == {
        1,
        2,
    }  # never None: engine threads
    pd.testing.assert_frame_equal(one.scores, two.scores)
