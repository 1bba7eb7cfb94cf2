"""``key=``: every plot that reads scores from an AnnData draws the run it is given (``key_added``)."""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import resistscore as rs


@pytest.fixture(scope="module")
def two_runs():
    """An AnnData scored twice: the default run (s1, s2) and the run ``other`` (t1, another method)."""
    rng = np.random.default_rng(11)
    genes = [f"G{i}" for i in range(60)]
    obs = pd.DataFrame(
        {
            "g": pd.Categorical(["x"] * 12 + ["y"] * 12),
            "resp": rng.normal(size=24),
            "time": rng.uniform(1, 10, size=24),
            "event": [1, 0, 1] * 8,
        },
        index=[f"c{i}" for i in range(24)],
    )
    adata = ad.AnnData(rng.lognormal(size=(24, 60)), obs=obs)
    adata.var_names = genes
    adata.obsm["X_umap"] = rng.normal(size=(24, 2))
    rs.tl.score(adata, {"s1": genes[:10], "s2": genes[10:20]}, pvalues=False, progress=False)
    rs.tl.score(adata, {"t1": genes[20:32]}, "wmean", pvalues=False, progress=False, key_added="other")
    return adata


def _labels(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def test_matrixplot_and_group_means(two_runs):
    other = rs.get.scores(two_runs, "other")
    got = rs.pl.matrixplot(two_runs, groupby="g", key="other")
    want = rs.pl.matrixplot(other, two_runs.obs, groupby="g")
    np.testing.assert_array_equal(got.images[0].get_array(), want.images[0].get_array())
    assert _labels(got.get_xticklabels()) == ["t1"]
    default = rs.pl.matrixplot(two_runs, groupby="g")
    assert _labels(default.get_xticklabels()) == ["s1", "s2"]
    plt.close("all")


def test_groups_profile_heatmap(two_runs):
    assert _labels(rs.pl.groups(two_runs, group="g", key="other").get_xticklabels()) == ["t1"]
    assert _labels(rs.pl.profile(two_runs, "g", key="other").get_yticklabels()) == ["t1"]
    grid = rs.pl.heatmap(two_runs, key="other", z_score=False, cluster=False)
    assert "t1" in {*map(str, grid.data2d.index), *map(str, grid.data2d.columns)}
    plt.close("all")


def test_response_and_kaplan_meier(two_runs):
    other = rs.get.scores(two_runs, "other")
    got = rs.pl.response(two_runs, "resp", signature="t1", fit=None, key="other")
    want = rs.pl.response(other, "resp", signature="t1", metadata=two_runs.obs, fit=None)
    assert got.texts[0].get_text() == want.texts[0].get_text()
    km = rs.pl.kaplan_meier(two_runs, time="time", event="event", signature="t1", key="other")
    km_want = rs.pl.kaplan_meier(other, two_runs.obs, time="time", event="event", signature="t1")
    assert _labels(km.get_legend().get_texts()) == _labels(km_want.get_legend().get_texts())
    plt.close("all")


def test_embedding_and_coverage(two_runs):
    ax = rs.pl.embedding(two_runs, key="other")
    assert "t1" in ax.get_title()
    cov = rs.pl.coverage(two_runs, key="other")
    assert "t1" in _labels(cov.get_yticklabels()) + _labels(cov.get_xticklabels())
    plt.close("all")


def test_a_missing_run_names_the_runs_held(two_runs):
    with pytest.raises(rs.ResistScoreError, match=r"\['resistscore', 'other'\]"):
        rs.pl.matrixplot(two_runs, groupby="g", key="nope")
    with pytest.raises(rs.ResistScoreError, match=r"\['resistscore', 'other'\]"):
        rs.pl.coverage(two_runs, key="nope")


def test_standard_figures_and_save_all(two_runs, tmp_path):
    """``rs.pl.standard_figures`` / ``rs.pl.save_all`` draw the run ``key``: scores, coverage and embedding."""
    figs = {f.name: f for f in rs.pl.standard_figures(two_runs, design=rs.Design(group="g"), key="other")}
    assert {"heatmap", "coverage", "groups", "matrixplot", "embedding"} <= set(figs)
    assert _labels(figs["matrixplot"].draw().get_xticklabels()) == ["t1"]
    assert "t1" in figs["embedding"].draw().get_title()
    cov = figs["coverage"].draw()
    labels = _labels(cov.get_yticklabels()) + _labels(cov.get_xticklabels())
    assert "t1" in labels and "s1" not in labels
    default = {f.name: f for f in rs.pl.standard_figures(two_runs, design=rs.Design(group="g"))}
    assert _labels(default["matrixplot"].draw().get_xticklabels()) == ["s1", "s2"]
    plt.close("all")
    files = rs.pl.save_all(two_runs, tmp_path / "figs", group="g", formats=("png",), key="other")
    assert {p.name for p in files} == {f"{name}.png" for name in figs}
    with pytest.raises(rs.ResistScoreError, match=r"\['resistscore', 'other'\]"):
        rs.pl.save_all(two_runs, tmp_path / "nope", formats=("png",), key="nope")
    with pytest.raises(rs.ResistScoreError, match="`key`"):
        list(rs.pl.standard_figures(two_runs, key=3))
    assert not (tmp_path / "nope").exists()
    assert plt.get_fignums() == []
