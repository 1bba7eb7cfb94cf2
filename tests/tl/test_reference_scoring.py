"""Scores equal independent references stored in tests/_reference/scoring (see its README section)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs  # noqa: F401
from resistscore.tl import score


@pytest.fixture(scope="module")
def ref(reference_dir):
    d = reference_dir / "scoring"
    z = np.load(d / "inputs.npz", allow_pickle=False)
    genes = z["genes"].astype(str)
    dense = pd.DataFrame(z["dense"], index=[f"S{i}" for i in range(z["dense"].shape[0])], columns=genes)
    shape = tuple(z["sc_shape"])
    sc = sp.csr_matrix((z["sc_data"], z["sc_indices"], z["sc_indptr"]), shape=shape)
    net = pd.read_csv(d / "network.tsv", sep="\t")

    def read(name):
        return pd.read_csv(d / name, sep="\t", index_col=0)

    return {"dense": dense, "sc": sc, "genes": genes, "net": net, "read": read}


def _score(ref, data, method, net=None, **kw):
    net = ref["net"] if net is None else net
    if sp.issparse(data):
        res = score(data, net, method, genes=ref["genes"], samples=[f"C{i}" for i in range(data.shape[0])],
                    pvalues=False, **kw)  # fmt: skip
    else:
        res = score(data, net, method, pvalues=False, **kw)
    return res


def _unweighted(ref):
    return ref["net"].assign(weight=np.sign(ref["net"]["weight"]))


def test_singscore_equals_r_definition(ref):
    res = _score(ref, ref["dense"], "singscore")
    expected = ref["read"]("R_singscore.tsv")
    np.testing.assert_allclose(res.scores.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    disp = ref["read"]("R_singscore_dispersion.tsv")
    np.testing.assert_allclose(res.extras["dispersion"].to_numpy(), disp.to_numpy(), rtol=0, atol=1e-9)


def test_singscore_sparse_equals_r_definition(ref):
    res = _score(ref, ref["sc"], "singscore")
    expected = ref["read"]("R_singscore_sc.tsv")
    np.testing.assert_allclose(res.scores.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("max_rank", "fname"), [(100, "R_ucell_maxrank100.tsv"), (1500, "R_ucell_maxrank1500.tsv")]
)
def test_ucell_equals_r_definition_on_sparse_data(ref, max_rank, fname):
    res = _score(ref, ref["sc"], "ucell", net=_unweighted(ref), max_rank=max_rank)
    expected = ref["read"](fname)
    np.testing.assert_allclose(res.scores.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)


def test_ucell_dense(ref):
    res = _score(ref, ref["dense"], "ucell", net=_unweighted(ref))
    np.testing.assert_allclose(res.scores.to_numpy(), ref["read"]("R_ucell_dense.tsv").to_numpy(), atol=1e-12)


def test_ucell_equals_pyucell_where_pyucell_follows_r(ref):
    # pyucell 0.8 ranks only the non-zero values; with max_rank=100 < n_genes=600 and cells with more
    # than 100 expressed genes it agrees with R UCell (stored as float32: tolerance 1e-6)
    res = _score(ref, ref["sc"], "ucell", net=_unweighted(ref), max_rank=100)
    expected = ref["read"]("pyucell_maxrank100.tsv")
    np.testing.assert_allclose(res.scores.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)


def test_aucell_equals_r_definition_and_decoupler(ref):
    # ties broken by gene order: R's ties.method = "first" (decoupler's input was made tie-free in that order)
    up_only = _unweighted(ref).query("weight > 0")
    res = _score(ref, ref["dense"], "aucell", net=up_only, ties="ordinal")
    np.testing.assert_allclose(
        res.scores.to_numpy(), ref["read"]("R_aucell_dense.tsv").to_numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        res.scores.to_numpy(), ref["read"]("decoupler_aucell.tsv").to_numpy(), atol=1e-12
    )


def test_aucell_sparse_ordinal_ties_of_zeros(ref):
    # cells with fewer expressed genes than the threshold: zeros are ranked by gene order
    up_only = _unweighted(ref).query("weight > 0")
    res = _score(ref, ref["sc"], "aucell", net=up_only, ties="ordinal")
    np.testing.assert_allclose(res.scores.to_numpy(), ref["read"]("R_aucell_sc.tsv").to_numpy(), atol=1e-12)


@pytest.mark.parametrize("data", ["dense", "sc"])
def test_aucell_default_is_the_expected_auc_over_r_random_ties(ref, data):
    # issue 10 item 19: R AUCell ranks with ties.method = "random"; the default is the exact expectation
    # of its AUC, written out in R from the ranks "min" .. "max" of each tie group (R_aucell_expected_*)
    up_only = _unweighted(ref).query("weight > 0")
    res = _score(ref, ref[data], "aucell", net=up_only)
    expected = ref["read"](f"R_aucell_expected_{data}.tsv")
    np.testing.assert_allclose(res.scores.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    if data == "sc":
        # and the mean of 2,000 draws of R's own rank(-x, ties.method = "random") agrees within 5 SE
        mc = ref["read"]("R_aucell_random_mc_sc.tsv")
        se = ref["read"]("R_aucell_random_se_sc.tsv")
        assert (np.abs(res.scores.to_numpy() - mc.to_numpy()) <= 5 * se.to_numpy() + 1e-12).all()


def test_wmean_equals_decoupler(ref):
    res = _score(ref, ref["dense"], "wmean")
    np.testing.assert_allclose(
        res.scores.to_numpy(), ref["read"]("decoupler_wmean.tsv").to_numpy(), atol=1e-10
    )


def test_ulm_equals_decoupler(ref):
    res = _score(ref, ref["dense"], "ulm")
    # decoupler adds 2.2e-16 to 1 - r and 1 + r: relative 1e-9
    np.testing.assert_allclose(res.scores.to_numpy(), ref["read"]("decoupler_ulm.tsv").to_numpy(), rtol=1e-9)
