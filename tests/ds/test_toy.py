"""The toy cohort: deterministic, realistic and carrying its planted answer."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

import resistscore as rs


@pytest.fixture(scope="module")
def bulk():
    return rs.ds.toy()


def _digest(adata) -> str:
    X = adata.X.toarray() if sp.issparse(adata.X) else adata.X
    h = hashlib.sha256(np.ascontiguousarray(X).tobytes())
    h.update("|".join(adata.var_names).encode())
    h.update(adata.obs.to_csv().encode())
    return h.hexdigest()


def test_bulk_shape_and_genes_are_current_hgnc_symbols(bulk):
    table = rs.pp.gene_table()
    approved = set(table["symbol"])
    assert bulk.n_obs == 60
    assert 18_000 < bulk.n_vars < 21_000
    assert set(bulk.var_names) <= approved
    assert bulk.var_names.is_unique
    assert bulk.X.dtype == np.float32 and np.isfinite(bulk.X).all() and (bulk.X >= 0).all()
    # log2(TPM + 1)-like scale: nothing above ~20, a realistic spread
    assert bulk.X.max() < 20 and 3 < np.median(bulk.X) < 7


def test_deterministic_and_seed_dependent():
    a = rs.ds.toy(n_samples=10, n_genes=500, seed=3)
    b = rs.ds.toy(n_samples=10, n_genes=500, seed=3)
    c = rs.ds.toy(n_samples=10, n_genes=500, seed=4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_metadata_is_balanced(bulk):
    obs = bulk.obs
    assert obs["group"].value_counts().to_dict() == {"sensitive": 30, "resistant": 30}
    # tissue is balanced within groups, so it is a covariate, not a confounder
    crosstab = obs.groupby(["group", "tissue"], observed=True).size()
    assert (crosstab == 10).all()
    assert obs["dna_repair"].sum() == 20
    # the DNA-repair flag is crossed with group and tissue (a Latin square), not confounded with either
    per_cell = obs.groupby(["group", "tissue"], observed=True)["dna_repair"].sum()
    assert set(per_cell) <= {3, 4}
    assert set(obs["event"].unique()) <= {0, 1}
    assert (obs["survival_months"] > 0).all()


@pytest.mark.parametrize(("programme", "sign"), [("efflux", 1), ("anti_apoptotic", 1), ("pro_apoptotic", -1)])
def test_planted_group_programmes(bulk, programme, sign):
    prog = rs.ds.PROGRAMMES[programme]
    genes = list(prog.up or prog.down)
    resistant = bulk.obs["group"].to_numpy() == "resistant"
    x = bulk[:, genes].X
    diff = x[resistant].mean(axis=0) - x[~resistant].mean(axis=0)
    # on average the genes move by the planted shift; each one clearly in the planted direction
    assert diff.mean() == pytest.approx(sign * prog.shift, abs=0.2)
    assert (sign * diff > 0.5).all()


def test_planted_dna_repair_programme_independent_of_group(bulk):
    genes = list(rs.ds.PROGRAMMES["dna_repair"].up)
    flag = bulk.obs["dna_repair"].to_numpy()
    x = bulk[:, genes].X.mean(axis=1)
    assert stats.ttest_ind(x[flag], x[~flag]).pvalue < 1e-10
    assert x[flag].mean() - x[~flag].mean() == pytest.approx(1.5, abs=0.3)


def test_outcomes_follow_resistance(bulk):
    obs = bulk.obs
    resistant = obs["group"] == "resistant"
    assert (
        stats.mannwhitneyu(obs.loc[resistant, "log10_ic50"], obs.loc[~resistant, "log10_ic50"]).pvalue < 1e-6
    )
    assert obs.loc[resistant, "survival_months"].median() < obs.loc[~resistant, "survival_months"].median()


def test_unplanted_genes_do_not_differ(bulk):
    resistant = bulk.obs["group"].to_numpy() == "resistant"
    planted = {g for p in rs.ds.PROGRAMMES.values() for g in (*p.up, *p.down)}
    other = [g for g in bulk.var_names if g not in planted]
    p = stats.ttest_ind(bulk[resistant, other].X, bulk[~resistant, other].X).pvalue
    # null genes: p-values uniform, about 5% below 0.05
    assert 0.03 < np.mean(p < 0.05) < 0.07


def test_single_cell_flavour():
    adata = rs.ds.toy("sc", n_patients=4, cells_per_patient=50, n_genes=3000)
    assert adata.shape == (200, 3000)
    assert sp.issparse(adata.X) and adata.X.format == "csr"
    np.testing.assert_array_equal(adata.X.data, np.round(adata.X.data))  # raw counts
    assert adata.obs.groupby("patient", observed=True)["group"].nunique().max() == 1
    nnz_per_cell = np.diff(adata.X.indptr)
    assert 200 < nnz_per_cell.mean() < 3000
    tumour = (adata.obs["cell_type"] == "tumour").to_numpy()
    resistant = (adata.obs["group"] == "resistant").to_numpy()
    libsize = np.asarray(adata.X.sum(axis=1)).ravel()
    abcb1 = adata[:, "ABCB1"].X.toarray().ravel() / libsize * 1e4
    assert abcb1[tumour & resistant].mean() > 2.5 * abcb1[tumour & ~resistant].mean()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "spatial"}, "`kind`"),
        ({"n_samples": 2}, "`n_samples`"),
        ({"n_genes": 10}, "`n_genes`"),
        ({"seed": -1}, "`seed`"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    with pytest.raises(rs.ResistScoreError, match=match):
        rs.ds.toy(**kwargs)
