"""Single-cell data are tested per biological replicate unless cells are explicitly requested."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

import resistscore as rs


def _cells(n_per=30, seed=0, qc=True):
    rng = np.random.default_rng(seed)
    patients = [f"pt{i}" for i in range(6)]
    obs = pd.DataFrame(
        {
            "patient": np.repeat(patients, n_per),
            "arm": np.repeat(["ctrl"] * 3 + ["treated"] * 3, n_per),
        },
        index=[f"c{i}" for i in range(6 * n_per)],
    )
    if qc:
        obs["total_counts"] = rng.integers(1000, 5000, len(obs))
    u = np.repeat(rng.normal(0, 1, 6), n_per)
    X = rng.poisson(2, size=(len(obs), 4)).astype(np.float32)
    a = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=["ABCB1", "ABCG2", "TP53", "BCL2"]))
    a.obsm["resistscore_scores"] = pd.DataFrame(
        {"efflux_abc": u + rng.normal(0, 0.3, len(obs)), "apoptosis": rng.normal(0, 1, len(obs))},
        index=obs.index,
    )
    return a


def test_anndata_cells_are_aggregated_per_patient_by_default():
    a = _cells()
    res = rs.tl.compare_groups(a, group="arm")  # sample key found in obs ("patient")
    assert res.params["sample_key"] == "patient" and res.params["n_observations"] == 6
    row = res.table.query("signature == 'efflux_abc'").iloc[0]
    assert (row["n1"], row["n2"]) == (3, 3)
    means = a.obsm["resistscore_scores"].groupby(a.obs["patient"]).mean()["efflux_abc"]
    arm = a.obs.groupby("patient")["arm"].first()
    ref = stats.ttest_ind(means[arm == "treated"], means[arm == "ctrl"], equal_var=False)
    assert row["pvalue"] == pytest.approx(ref.pvalue, rel=1e-12)


def test_cells_as_replicates_warns_and_inflates():
    a = _cells()
    with pytest.warns(rs.CellsAsReplicatesWarning, match="independent replicates"):
        cell = rs.tl.compare_groups(a, group="arm", unit="cell", signatures="efflux_abc").table.iloc[0]
    per_sample = rs.tl.compare_groups(a, group="arm", signatures="efflux_abc").table.iloc[0]
    assert cell["n1"] == 90
    assert cell["pvalue"] < per_sample["pvalue"]  # the inflation the default avoids


def test_single_cell_without_sample_key_is_an_error():
    a = _cells()
    a.obs = a.obs.rename(columns={"patient": "who"})
    with pytest.raises(rs.StatisticsError, match="sample_key"):
        rs.tl.compare_groups(a, group="arm")
    res = rs.tl.compare_groups(a, group="arm", sample_key="who")
    assert res.params["n_observations"] == 6


def test_group_varying_within_sample_is_an_error():
    a = _cells()
    a.obs["arm"] = np.tile(["ctrl", "treated"], 90)
    with pytest.raises(rs.StatisticsError, match="varies within samples"):
        rs.tl.compare_groups(a, group="arm")


def test_mixed_model_keeps_cells_without_warning():
    a = _cells()
    res = rs.tl.compare_groups(a, group="arm", sample_key="patient", model="mixed", signatures="efflux_abc")
    row = res.table.iloc[0]
    assert row["test"] == "mixedlm" and row["n1"] == 90
    with pytest.raises(rs.StatisticsError, match="sample_key"):
        rs.tl.compare_groups(a.obs.assign(s=1.0)[["s"]], a.obs, group="arm", model="mixed")


def test_other_functions_aggregate_too():
    a = _cells()
    a.obs["resp"] = a.obs["patient"].map({f"pt{i}": float(i) for i in range(6)})
    t = rs.tl.associate(a, "resp").table
    assert (t["n"] == 6).all()
    r = rs.tl.roc(a, responder="arm", positive="treated", n_boot=200).table
    assert (r["n_pos"] == 3).all()


@pytest.mark.parametrize("sparse", [False, True])
def test_pseudobulk_sums_and_means(sparse):
    a = _cells(n_per=5)
    if sparse:
        a.X = sp.csr_matrix(a.X)
    pb = rs.tl.pseudobulk(a, "patient", min_cells=2)
    dense = a.X.toarray() if sparse else a.X
    expected = pd.DataFrame(dense, index=a.obs_names).groupby(a.obs["patient"]).sum()
    np.testing.assert_allclose(pb.X, expected.to_numpy())
    assert pb.obs["arm"].tolist() == ["ctrl"] * 3 + ["treated"] * 3
    assert "total_counts" not in pb.obs  # varies within patients
    assert pb.obs["n_cells"].tolist() == [5] * 6
    mean = rs.tl.pseudobulk(a, "patient", mode="mean", min_cells=2)
    np.testing.assert_allclose(mean.X, expected.to_numpy() / 5, rtol=1e-6)
    sc = a.obsm["resistscore_scores"].groupby(a.obs["patient"]).mean()
    np.testing.assert_allclose(pb.obsm["resistscore_scores"].to_numpy(), sc.to_numpy())


def test_pseudobulk_drops_small_samples_with_warning():
    a = _cells(n_per=5)
    with pytest.warns(rs.ResistScoreWarning, match="fewer than 6 cells"):
        pb = rs.tl.pseudobulk(a, "patient", min_cells=6)
    assert pb.n_obs == 0
    with pytest.raises(rs.StatisticsError, match="'nope'"):
        rs.tl.pseudobulk(a, "nope")


def test_boundary_mixed_model_fit_is_reported_with_a_note():
    # no patient effect at all: the random-intercept variance sits on the boundary (0). Until 0.1 this
    # row was NaN ("mixed model fit failed"); now the fit is reported as lme4 reports it, with a note
    # (numbers against OLS and lme4: tests/tl/stats/test_mixed_lme4.py)
    rng = np.random.default_rng(3)
    obs = pd.DataFrame(
        {"patient": np.repeat([f"p{i}" for i in range(4)], 15), "arm": np.repeat(["a", "a", "b", "b"], 15)},
        index=[f"c{i}" for i in range(60)],
    )
    sc = pd.DataFrame({"sig": rng.normal(size=60)}, index=obs.index)
    sc["sig"] -= sc["sig"].groupby(obs["patient"]).transform("mean")  # patient means exactly 0
    row = rs.tl.compare_groups(sc, obs, group="arm", sample_key="patient", model="mixed").table.iloc[0]
    assert np.isfinite(row["estimate"]) and np.isfinite(row["pvalue"]) and np.isfinite(row["ci_low"])
    assert row["note"].startswith("boundary (singular) fit") and "pseudobulk" in row["note"]
