"""``key=``: every statistic reads the run it is given from an AnnData holding several (``key_added``)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import resistscore as rs


@pytest.fixture
def two_runs():
    """An AnnData with two runs: ``resistscore`` (signatures a, b) and ``other`` (a, c and a confounder)."""
    rng = np.random.default_rng(7)
    idx = [f"s{i}" for i in range(16)]
    obs = pd.DataFrame(
        {
            "g": ["x"] * 8 + ["y"] * 8,
            "resp": rng.normal(size=16),
            "time": rng.uniform(1, 10, size=16),
            "event": [1, 0, 1, 1] * 4,
            "responder": [1, 0] * 8,
        },
        index=idx,
    )
    default = pd.DataFrame(rng.normal(size=(16, 2)), index=idx, columns=["a", "b"])
    other = pd.DataFrame(rng.normal(size=(16, 3)), index=idx, columns=["a", "c", "confounder.proliferation"])
    other["a"] += np.repeat([0.0, 1.5], 8)
    adata = ad.AnnData(np.zeros((16, 1), dtype=np.float32), obs=obs)
    adata.obsm["resistscore_scores"] = default
    adata.obsm["other_scores"] = other
    adata.uns["resistscore"] = {"method": "singscore"}
    adata.uns["other"] = {"method": "wmean"}
    return adata, default, other


CALLS = {
    "compare_groups": lambda s, m, **k: rs.tl.compare_groups(s, m, group="g", **k).table,
    "compare_groups_model": lambda s, m, **k: (
        rs.tl.compare_groups(s, m, group="g", covariates="resp", **k).table
    ),
    "fit_model": lambda s, m, **k: rs.tl.fit_model(s, m, formula="score ~ g + resp", **k).table,
    "associate": lambda s, m, **k: rs.tl.associate(s, "resp", metadata=m, **k).table,
    "survival": lambda s, m, **k: rs.tl.survival(s, m, time="time", event="event", **k).table,
    "roc": lambda s, m, **k: rs.tl.roc(s, m, responder="responder", n_boot=200, **k).table,
}


@pytest.mark.parametrize("name", CALLS)
def test_each_statistic_reads_the_run_named_by_key(two_runs, name):
    adata, default, other = two_runs
    call = CALLS[name]
    from_key = call(adata, None, key="other")
    pd.testing.assert_frame_equal(from_key, call(other, adata.obs))
    assert "c" in set(from_key["signature"]) and "b" not in set(from_key["signature"])
    # the default run is still the default
    pd.testing.assert_frame_equal(call(adata, None), call(default, adata.obs))


def test_adjust_reads_the_confounders_of_the_run(two_runs):
    adata, _, other = two_runs
    got = rs.tl.compare_groups(adata, group="g", adjust="proliferation", key="other").table
    want = rs.tl.compare_groups(other, adata.obs, group="g", adjust="proliferation").table
    pd.testing.assert_frame_equal(got, want)
    assert set(got["adjusted_for"]) == {"confounder.proliferation"}
    got = rs.tl.associate(adata, "resp", adjust="proliferation", key="other").table
    pd.testing.assert_frame_equal(
        got, rs.tl.associate(other, "resp", metadata=adata.obs, adjust="proliferation").table
    )
    with pytest.raises(rs.StatisticsError, match="proliferation"):  # the default run has no confounder
        rs.tl.compare_groups(adata, group="g", adjust="proliferation")


def test_confounder_functions_read_the_run_named_by_key(two_runs):
    adata, _, other = two_runs
    pd.testing.assert_frame_equal(
        rs.tl.confounder_correlation(adata, key="other"), rs.tl.confounder_correlation(other)
    )
    pd.testing.assert_frame_equal(rs.tl.adjust_scores(adata, key="other"), rs.tl.adjust_scores(other))


def test_a_missing_run_names_the_runs_held(two_runs):
    adata, _, _ = two_runs
    with pytest.raises(rs.StatisticsError, match=r"no scores under key 'nope'.*\['resistscore', 'other'\]"):
        rs.tl.compare_groups(adata, group="g", key="nope")


def test_compare_samples_reads_a_run_of_an_anndata():
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(40)]
    adata = ad.AnnData(rng.lognormal(size=(4, 40)), obs=pd.DataFrame(index=["p", "q", "r", "t"]))
    adata.var_names = genes
    rs.tl.score(adata, {"s": genes[:8]}, pvalues=False, progress=False)
    rs.tl.score(adata, {"u": genes[8:20]}, "wmean", pvalues=False, progress=False, key_added="w")
    got = rs.tl.compare_samples(adata, "p", "q", key="w").table
    pd.testing.assert_frame_equal(got, rs.tl.compare_samples(rs.get.result(adata, "w"), "p", "q").table)
    assert set(got["signature"]) == {"u"}
    assert set(rs.tl.compare_samples(adata, "p", "q").table["signature"]) == {"s"}
