"""Hand-computed cases of every scoring method, dense = sparse, and the method registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from resistscore._errors import ResistScoreError
from resistscore.tl import score, show_methods
from resistscore.tl.methods import GeneSetIndex, get_method
from resistscore.tl.methods.aucell import aucell
from resistscore.tl.methods.singscore import singscore
from resistscore.tl.methods.ucell import ucell
from resistscore.tl.methods.ulm import ulm
from resistscore.tl.methods.wmean import wmean


def gsi(n, *sets):
    """GeneSetIndex from (up, down[, up_w, dn_w]) tuples."""
    names, ui, uw, di, dw = [], [], [], [], []
    for i, s in enumerate(sets):
        up, dn = np.asarray(s[0], dtype=np.int64), np.asarray(s[1], dtype=np.int64)
        names.append(f"s{i}")
        ui.append(up)
        di.append(dn)
        uw.append(np.asarray(s[2], float) if len(s) > 2 else np.ones(len(up)))
        dw.append(np.asarray(s[3], float) if len(s) > 3 else np.ones(len(dn)))
    return GeneSetIndex(tuple(names), tuple(ui), tuple(uw), tuple(di), tuple(dw), n)


# ---- singscore ------------------------------------------------------------------------------------
# row [5, 3, 3, 1, 4, 2]: ascending ranks with ties "min" = [6, 3, 3, 1, 5, 2], n = 6
ROW = np.array([[5.0, 3.0, 3.0, 1.0, 4.0, 2.0]])


def test_singscore_hand_computed():
    sets = gsi(6, ([0, 4], [3, 1]), ([1, 2, 5], []))
    out = singscore(ROW, sets)
    # up {0,4}: mean rank 5.5, bounds 1.5..5.5 -> 1 -> 0.5; down {3,1}: mean 2 -> 0.125 -> 1-0.125-0.5
    # up-only {1,2,5}: mean 8/3, bounds 2..5 -> 2/9 -> 2/9 - 0.5
    np.testing.assert_allclose(out["score"], [[0.875, 2 / 9 - 0.5]], atol=1e-15)
    # dispersion: MAD(6, 5) = 0.5 * 1.4826, MAD(1, 3) = 1.4826 -> mean; MAD(3, 3, 2) = 0
    np.testing.assert_allclose(out["dispersion"], [[(0.5 * 1.4826 + 1.4826) / 2, 0.0]], atol=1e-15)


def test_singscore_stable_genes_mode():
    sets = gsi(6, ([0, 4], [3, 1]))
    # stable genes 1 and 5 (values 3, 2): rank = (#stable below + 1) / 3 -> [1, 2/3, 2/3, 1/3, 1, 1/3]
    out = singscore(ROW, sets, stable_genes=[1, 5])
    np.testing.assert_allclose(out["score"], [[0.5 + (1 - 0.5 - 0.5)]], atol=1e-15)
    named = score(pd.DataFrame(ROW, columns=list("ABCDEF")), {"s": ["A", "E", "D-", "B-"]}, "singscore",
                  pvalues=False, stable_genes=["B", "F"])  # fmt: skip
    assert named.scores.iloc[0, 0] == pytest.approx(0.5)


def test_singscore_is_independent_of_the_cohort():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 50))
    sets = gsi(50, ([1, 2, 3], [7, 8]))
    alone = singscore(X[:1], sets)["score"]
    together = singscore(X, sets)["score"][:1]
    np.testing.assert_array_equal(alone, together)


# ---- UCell ------------------------------------------------------------------------------------------
# row [0, 5, 3, 3, 0, 1, 0, 0]: descending ranks with average ties = [6.5, 1, 2.5, 2.5, 6.5, 4, 6.5, 6.5]
UROW = np.array([[0.0, 5.0, 3.0, 3.0, 0.0, 1.0, 0.0, 0.0]])


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_ucell_hand_computed(fmt):
    X = UROW if fmt == "dense" else sp.csr_matrix(UROW)
    sets = gsi(8, ([1, 2, 5], []), ([0, 6], []), ([1, 2, 5], [3]))
    # maxRank 4: ranks {1, 2.5, 4}: 1 - (7.5 - 6) / (12 - 6) = 0.75; zeros capped: 0;
    # signed: 0.75 - (1 - (2.5 - 1) / (4 - 1)) = 0.25
    np.testing.assert_allclose(ucell(X, sets, max_rank=4), [[0.75, 0.0, 0.25]], atol=1e-15)
    # maxRank 1500 > 8 genes is capped at 8 (R UCell): the zeros' shared rank 6.5 counts
    # {1, 2.5, 4}: 1 - 1.5 / 18; {6.5, 6.5}: 1 - 10 / 13; signed: 1 - 1.5/18 - (1 - 1.5 / 7)
    np.testing.assert_allclose(
        ucell(X, sets, max_rank=1500),
        [[1 - 1.5 / 18, 1 - 10 / 13, max(0.0, (1 - 1.5 / 18) - (1 - 1.5 / 7))]],
        atol=1e-15,
    )


def test_ucell_rejects_sets_longer_than_max_rank():
    with pytest.raises(ResistScoreError, match="max_rank"):
        ucell(UROW, gsi(8, ([0, 1, 2], [])), max_rank=2)


# ---- AUCell -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_aucell_hand_computed(fmt):
    X = UROW if fmt == "dense" else sp.csr_matrix(UROW)
    # descending ordinal ranks: 5->1, 3 (gene 2)->2, 3 (gene 3)->3, 1->4, zeros (genes 0,4,6,7)->5,6,7,8
    # T = 6: {2, 4}: ranks 2, 6 -> (6-2) / ((6-1) + (6-2)) = 4/9; {0, 7}: ranks 5, 8 -> 1/9
    sets = gsi(8, ([2, 4], []), ([0, 7], []), ([2, 4], [0, 7]))
    np.testing.assert_allclose(
        aucell(X, sets, auc_max_rank=6, ties="ordinal"), [[4 / 9, 1 / 9, 3 / 9]], atol=1e-15
    )
    # default: the expected AUC over random tie-breaking (R AUCell). The two 3s share ranks 2-3: each
    # contributes mean(6-2, 6-3) = 3.5; the four zeros share ranks 5-8: each mean(1, 0, 0, 0) = 0.25
    # {2, 4}: (3.5 + 0.25) / 9; {0, 7}: (0.25 + 0.25) / 9; up {2, 4} minus down {0, 7}: 3.25 / 9
    np.testing.assert_allclose(aucell(X, sets, auc_max_rank=6), [[3.75 / 9, 0.5 / 9, 3.25 / 9]], atol=1e-15)
    # ... which does not depend on the order of the genes (the ordinal ranking does)
    perm = np.array([7, 6, 5, 4, 3, 2, 1, 0])
    Xp = UROW[:, perm] if fmt == "dense" else sp.csr_matrix(UROW[:, perm])
    inv = np.argsort(perm)
    sets_p = gsi(
        8,
        (inv[[2, 4]].tolist(), []),
        (inv[[0, 7]].tolist(), []),
        (inv[[2, 4]].tolist(), inv[[0, 7]].tolist()),
    )
    np.testing.assert_allclose(
        aucell(Xp, sets_p, auc_max_rank=6), [[3.75 / 9, 0.5 / 9, 3.25 / 9]], atol=1e-15
    )
    assert not np.allclose(aucell(Xp, sets_p, auc_max_rank=6, ties="ordinal"), [[4 / 9, 1 / 9, 3 / 9]])


# ---- wmean / ulm ------------------------------------------------------------------------------------
def test_wmean_hand_computed():
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    sets = gsi(4, ([0, 1], [3], [1.0, 3.0], [2.0]))
    np.testing.assert_allclose(wmean(X, sets), [[(1 + 6 - 8) / 6]])
    np.testing.assert_allclose(wmean(sp.csr_matrix(X), sets), [[(1 + 6 - 8) / 6]])


def test_ulm_equals_statsmodels_ols():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, 40))
    X[X < -0.5] = 0.0
    sets = gsi(40, ([0, 1, 2, 3], [10, 11], [1.0, 2.0, 0.5, 1.5], [1.0, 0.3]))
    w = np.zeros(40)
    w[[0, 1, 2, 3]] = [1.0, 2.0, 0.5, 1.5]
    w[[10, 11]] = [-1.0, -0.3]
    expected = [sm.OLS(X[i], sm.add_constant(w)).fit().tvalues[1] for i in range(3)]
    np.testing.assert_allclose(ulm(X, sets)[:, 0], expected, rtol=1e-10)
    np.testing.assert_allclose(ulm(sp.csr_matrix(X), sets)[:, 0], expected, rtol=1e-10)


# ---- sparse == dense for every single-sample method ------------------------------------------------
@pytest.mark.parametrize("method", ["singscore", "ucell", "aucell", "wmean", "ulm"])
def test_sparse_equals_dense(method):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 120))
    X[rng.random(X.shape) < 0.6] = 0.0  # sparse, with negative values (zeros are not the smallest)
    X = np.round(X, 1)  # ties
    S = sp.csr_matrix(X)
    S.data[:5] = 0.0  # explicit zeros must behave as zeros
    Xd = S.toarray()
    genes = [f"g{i}" for i in range(120)]
    sigs = {
        "a": genes[:10],
        "b": {g: (-1.0 if i % 3 else 2.0) for i, g in enumerate(genes[20:45])},
        "c": genes[60:62],
    }
    kw = {"max_rank": 50} if method == "ucell" else {}
    d = score(Xd, sigs, method, genes=genes, pvalues=False, **kw).scores
    s = score(S, sigs, method, genes=genes, pvalues=False, **kw).scores
    np.testing.assert_allclose(s.to_numpy(), d.to_numpy(), rtol=0, atol=1e-12)


def test_registry_listing_and_unknown_method():
    tbl = show_methods()
    for m in ("singscore", "ucell", "aucell", "module_score", "wmean", "ulm"):
        assert m in tbl.index
    assert set(tbl.columns) >= {"directional", "weighted", "single_sample", "sparse_aware", "reference"}
    assert not tbl.loc["module_score", "single_sample"]
    assert tbl.loc["wmean", "weighted"] and tbl.loc["ulm", "weighted"]
    with pytest.raises(ResistScoreError, match="show_methods"):
        get_method("nope")


# ---- the ranking kernel equals scipy.stats.rankdata, on both of its paths ---------------------------
@pytest.mark.parametrize("n_unique", [3, 200, 5000])  # <= 256 distinct values: hash path; else radix sort
@pytest.mark.parametrize("ties", ["min", "average", "max", "ordinal", "expected"])
@pytest.mark.parametrize("descending", [False, True])
def test_row_ranks_equal_scipy(n_unique, ties, descending):
    from scipy.stats import rankdata

    from resistscore.tl.methods._kernels import gather

    rng = np.random.default_rng(n_unique)
    n = 6000
    pool = rng.normal(size=n_unique)
    pool[pool == 0] = 1.0
    full = rng.choice(pool, size=n)
    full[rng.random(n) < 0.3] = 0.0  # implicit zeros
    key = -full if descending else full
    cols = np.arange(n)
    for X in (sp.csr_matrix(full[None]), full[None]):  # stored values and zeros; the dense layout
        ranks = gather(X, cols, transform="rank", descending=descending, ties=ties)[0]
        np.testing.assert_array_equal(ranks, rankdata(key, method="average" if ties == "expected" else ties))
    if ties == "expected":  # the mean of min(rank, 2000) over each tie group's ranks: uses the group sizes
        clip = gather(sp.csr_matrix(full[None]), cols, transform="rank_clip", descending=descending, ties=ties,
                      param=2000.0)[0]  # fmt: skip
        lo, hi = rankdata(key, method="min"), rankdata(key, method="max")
        expect = [np.minimum(np.arange(a, b + 1), 2000.0).mean() for a, b in zip(lo, hi)]
        np.testing.assert_allclose(clip, expect, rtol=1e-14)


# <= 256 distinct values: the hash path (the transform once per tie group); else the radix sort
@pytest.mark.parametrize("n_unique", [3, 200, 5000])
@pytest.mark.parametrize("ties", ["min", "average", "max"])
@pytest.mark.parametrize("transform", ["rank_clip", "rank_recovery"])
def test_row_transforms_of_tie_groups_equal_per_value(n_unique, ties, transform):
    # on the hash path (<= 256 distinct values) min(rank, p) (UCell) and max(0, p - rank) (AUCell) are
    # evaluated once per tie group and read by each of its values: the same numbers as per value
    from scipy.stats import rankdata

    from resistscore.tl.methods._kernels import gather

    rng = np.random.default_rng(7 * n_unique)
    n = 5000
    pool = np.round(rng.lognormal(size=n_unique), 6)
    full = rng.choice(pool, size=n)
    full[rng.random(n) < 0.4] = 0.0
    cols = np.arange(n)
    r = rankdata(-full, method=ties)
    param = 1500.5 if transform == "rank_clip" else 1200.0
    expect = np.minimum(r, param) if transform == "rank_clip" else np.maximum(0.0, param - r)
    for X in (sp.csr_matrix(full[None]), full[None]):
        got = gather(X, cols, transform=transform, descending=True, ties=ties, param=param)[0]
        np.testing.assert_array_equal(got, expect)


def test_kernel_workspace_reuses_output_arrays_without_changing_values():
    from resistscore.tl.methods._kernels import set_sums, workspace

    X = sp.random(30, 50, density=0.3, format="csr", random_state=1)
    sets = GeneSetIndex(
        ("a", "b"), (np.array([1, 2, 3]), np.array([4, 9])), (np.ones(3), np.ones(2)),
        (np.array([7]), np.array([], int)), (np.ones(1), np.ones(0)), 50,
    )  # fmt: skip
    fresh = set_sums(X, sets, transform="rank", descending=True)
    store: dict = {}
    with workspace(store):
        first = set_sums(X[:20], sets, transform="rank", descending=True)
        np.testing.assert_array_equal(first[0], fresh[0][:20])
        second = set_sums(X, sets, transform="rank", descending=True)  # grows the kept arrays
        third = set_sums(X[:10], sets, transform="rank", descending=True)
        assert np.shares_memory(third[0], store["up"]) and np.shares_memory(third[1], store["dn"])
    np.testing.assert_array_equal(second[0], fresh[0])
    np.testing.assert_array_equal(third[0], fresh[0][:10])
    np.testing.assert_array_equal(third[1], fresh[1][:10])
    assert not np.shares_memory(set_sums(X, sets, transform="rank")[0], store["up"])  # outside: new arrays


# ---- a method's knowledge lives in its module (issue 11 item 2) -------------------------------------------
def test_registry_is_the_explicit_list_of_the_method_modules():
    import importlib
    import pkgutil

    import resistscore.tl.methods as methods
    from resistscore.tl.methods import registry

    modules = {
        m.name
        for m in pkgutil.iter_modules(methods.__path__)
        if not m.name.startswith("_")
        and hasattr(importlib.import_module(f"{methods.__name__}.{m.name}"), "INFO")
    }
    assert set(registry) == modules  # every method module is listed, nothing registers itself
    for name, info in registry.items():
        module = importlib.import_module(f"{methods.__name__}.{name}")
        assert module.INFO is info and info.fn.__module__ == module.__name__
        assert info.citation.doi and info.reference.endswith(info.citation.doi)


def test_report_and_contributions_read_the_registry(monkeypatch):
    import dataclasses

    from resistscore.report._citations import CITATIONS, method_citation
    from resistscore.tl.methods import Citation, registry

    assert not set(CITATIONS) & set(registry)  # no second table of method citations
    for name, info in registry.items():
        assert method_citation(name) is info.citation
    assert method_citation("not-a-method") is None
    # the contributions follow the rule of the method's module: replacing it changes them
    df = pd.DataFrame([[1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]], index=["s1", "s2"], columns=list("ABCDE"))
    res = score(df, {"sig": {"E": 1.0, "A": -1.0}}, "singscore", pvalues=False)
    assert res.contributions("s1", "sig")["contribution_kind"].iloc[0] == "additive"
    fake = dataclasses.replace(registry["singscore"], contributions=None, citation=Citation("x", "X"))
    monkeypatch.setitem(registry, "singscore", fake)
    assert res.contributions("s1", "sig")["contribution_kind"].iloc[0] == "signed_z"
    assert method_citation("singscore").key == "x"


def test_canonical_csr_blocks_are_not_copied():
    # scipy keeps indptr as int32 when it fits: such a block is canonical, scored without a copy
    from resistscore.tl.methods._kernels import as_csr_block

    X = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]], dtype=np.float32))
    assert X.indptr.dtype == np.int32
    assert as_csr_block(X) is X
    Y = sp.csr_matrix(X, dtype=np.float64)
    Y.indptr = Y.indptr.astype(np.int64)
    assert as_csr_block(Y) is Y
    Z = sp.csr_matrix(X, copy=True)
    Z.data[0] = 0.0  # a stored zero: copied and removed, the input left alone
    out = as_csr_block(Z)
    assert out is not Z and out.nnz == 2 and Z.nnz == 3
