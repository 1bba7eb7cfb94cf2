"""Figures of a test draw the unit that was tested; categorical colours follow scanpy's uns["<key>_colors"];
the group x signature matrix plot; the design object of the standard figures."""

from __future__ import annotations

import anndata as ad
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.patches import PathPatch
from scipy import stats as st

import resistscore as rs
import resistscore.pl as rspl
from resistscore._errors import ResistScoreError, StatisticsError


@pytest.fixture
def cells():
    """60 cells of 6 patients (3 resistant, 3 sensitive), unequal numbers of cells per patient."""
    rng = np.random.default_rng(11)
    sizes = [4, 16, 10, 6, 14, 10]
    patient = np.repeat([f"P{i}" for i in range(6)], sizes)
    arm = np.where(np.isin(patient, ["P0", "P1", "P2"]), "resistant", "sensitive")
    idx = [f"c{i:02d}" for i in range(len(patient))]
    scores = pd.DataFrame(
        rng.normal(size=(len(idx), 3)), index=idx, columns=["efflux_abc", "apoptosis", "dna_repair"]
    )
    scores.loc[arm == "resistant", "efflux_abc"] += 2.0
    meta = pd.DataFrame({"patient": patient, "arm": pd.Categorical(arm)}, index=idx)
    return scores, meta


def _adata(scores, meta):
    adata = ad.AnnData(np.zeros((len(scores), 1), dtype=np.float32), obs=meta.copy())
    adata.obsm["resistscore_scores"] = scores
    adata.uns["arm_colors"] = ["#aa0000", "#0000bb"]  # scanpy's colours, in category order
    return adata


def _hex(c):
    return mcolors.to_hex(c)


def _box_colours(ax):
    """Face colours of the boxes, distinct, in drawing order (one per group)."""
    return list(dict.fromkeys(_hex(p.get_facecolor()) for p in ax.patches if isinstance(p, PathPatch)))


def _dots(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


# ----------------------------------------------------------------------------- the unit that was tested
def test_groups_draw_the_replicate_means_of_a_per_patient_test(cells):
    scores, meta = cells
    tested = rs.tl.compare_groups(scores, meta, group="arm", sample_key="patient")
    assert tested.params["sample_key"] == "patient"
    ax = rspl.groups(scores, meta, group="arm", signatures="efflux_abc", stats=tested)
    drawn = np.sort(np.concatenate([c.get_offsets()[:, 1] for c in ax.collections]))
    means = scores["efflux_abc"].groupby(meta["patient"]).mean()
    np.testing.assert_allclose(drawn, np.sort(means.to_numpy()))  # 6 patients, not 60 cells
    assert ax.get_ylabel() == "score (mean per patient)"
    plt.close(ax.figure)
    # cells as replicates (unit="cell") were tested: the figure draws the cells
    with pytest.warns(rs.CellsAsReplicatesWarning):
        per_cell = rs.tl.compare_groups(scores, meta, group="arm", unit="cell")
    ax = rspl.groups(scores, meta, group="arm", signatures="efflux_abc", stats=per_cell)
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(scores)
    plt.close(ax.figure)


def test_profile_intervals_are_over_replicates(cells):
    scores, meta = cells
    ax = rspl.profile(scores, by="arm", metadata=meta, sample_key="patient", signatures=["efflux_abc"])
    means = scores["efflux_abc"].groupby(meta["patient"]).mean()
    arm = meta.groupby("patient")["arm"].first()
    res = means[arm == "resistant"]
    half = st.t.ppf(0.975, 2) * res.std(ddof=1) / np.sqrt(3)  # t-interval over 3 patients
    centre = _dots(ax)[0].get_offsets()[0, 0]  # the dot of the first level
    assert np.isclose(centre, res.mean())
    seg = [c for c in ax.collections if isinstance(c, LineCollection)][0].get_segments()[0]
    np.testing.assert_allclose(seg[:, 0], [res.mean() - half, res.mean() + half])
    assert "over patient means" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["resistant (n=3)", "sensitive (n=3)"]
    plt.close(ax.figure)


# ----------------------------------------------------------------------------- scanpy's colours
def test_figures_take_scanpys_uns_colours(cells):
    scores, meta = cells
    adata = _adata(scores, meta)
    ax = rspl.groups(adata, group="arm", signatures="efflux_abc")
    faces = _box_colours(ax)
    assert faces == ["#aa0000", "#0000bb"]
    plt.close(ax.figure)
    ax = rspl.profile(adata, by="arm")
    assert [_hex(c.get_facecolor()[0]) for c in ax.collections if len(c.get_offsets()) == 3] == [
        "#aa0000",
        "#0000bb",
    ]
    plt.close(ax.figure)
    grid = rspl.heatmap(adata, annotation=meta[["arm"]])
    legend = {
        t.get_text(): _hex(h.get_facecolor())
        for t, h in zip(grid.ax_heatmap.get_legend().get_texts(), grid.ax_heatmap.get_legend().legend_handles)
    }
    assert legend["resistant"] == "#aa0000" and legend["sensitive"] == "#0000bb"
    plt.close(grid.figure)
    # an explicit palette wins; stale colours (fewer than the categories) are ignored
    ax = rspl.groups(adata, group="arm", signatures="efflux_abc", palette=["#00ff00", "#ff00ff"])
    assert _box_colours(ax) == ["#00ff00", "#ff00ff"]
    plt.close(ax.figure)
    adata.uns["arm_colors"] = ["#aa0000"]
    ax = rspl.groups(adata, group="arm", signatures="efflux_abc")
    assert _box_colours(ax) == list(rspl.OKABE_ITO[:2])
    plt.close(ax.figure)


def test_standard_figures_take_the_colours_of_the_scored_anndata(cells):
    scores, meta = cells
    adata = _adata(scores, meta)
    figs = {f.name: f for f in rspl.standard_figures(scores, design=rs.Design(group="arm"), adata=adata)}
    ax = figs["groups"].draw()
    assert _box_colours(ax) == ["#aa0000", "#0000bb"]
    plt.close(ax.figure)


# ----------------------------------------------------------------------------- matrix plot
def test_matrixplot_values_are_group_means_of_the_tested_unit(cells):
    scores, meta = cells
    ax = rspl.matrixplot(scores, meta, groupby="arm", standard_scale=None)
    values = np.asarray(ax.images[0].get_array())
    expected = scores.groupby(meta["arm"].astype(str)).mean()
    np.testing.assert_allclose(values, expected.to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["resistant (n=30)", "sensitive (n=30)"]
    plt.close(ax.figure)
    # per patient: every patient weighs the same, whatever its number of cells
    ax = rspl.matrixplot(scores, meta, groupby="arm", standard_scale=None, sample_key="patient")
    per_patient = scores.groupby(meta["patient"]).mean()
    arm = meta.groupby("patient")["arm"].first().astype(str)
    np.testing.assert_allclose(
        np.asarray(ax.images[0].get_array()), per_patient.groupby(arm).mean().to_numpy()
    )
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "resistant (patients=3)",
        "sensitive (patients=3)",
    ]
    plt.close(ax.figure)


def test_matrixplot_scales_and_stars(cells):
    scores, meta = cells
    tested = rs.tl.compare_groups(scores, meta, group="arm", sample_key="patient")
    ax = rspl.matrixplot(scores, meta, groupby="arm", stats=tested)  # z-scores over the patients tested
    per_patient = scores.groupby(meta["patient"]).mean()
    z = (per_patient - per_patient.mean()) / per_patient.std(ddof=1)
    arm = meta.groupby("patient")["arm"].first().astype(str)
    np.testing.assert_allclose(np.asarray(ax.images[0].get_array()), z.groupby(arm).mean().to_numpy())
    fdr = tested.table.set_index("signature")["fdr"]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    for sig, label in zip(scores.columns, labels):
        stars = int((fdr[sig] < 0.05) + (fdr[sig] < 0.01) + (fdr[sig] < 0.001))
        assert label == (f"{sig} {'*' * stars}" if stars else sig)
    assert "*" in labels[0]  # the planted efflux difference
    plt.close(ax.figure)
    ax = rspl.matrixplot(scores, meta, groupby="arm", standard_scale="var", swap_axes=True)
    values = np.asarray(ax.images[0].get_array())  # signatures x groups
    assert values.shape == (3, 2) and set(np.unique(values)) == {0.0, 1.0}
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="standard_scale"):
        rspl.matrixplot(scores, meta, groupby="arm", standard_scale="minmax")


# ----------------------------------------------------------------------------- the design object
def test_standard_figures_take_one_design(cells):
    scores, meta = cells
    design = rs.Design(group="arm", sample_key="patient")
    names = [f.name for f in rspl.standard_figures(scores, meta, design=design)]
    assert names == ["heatmap", "profile", "groups", "matrixplot"]
    # the keyword shortcut builds the same design
    assert names == [f.name for f in rspl.standard_figures(scores, meta, group="arm", sample_key="patient")]
    with pytest.raises(StatisticsError, match="not both"):
        list(rspl.standard_figures(scores, meta, design=design, group="arm"))
    with pytest.raises(StatisticsError, match="unknown argument"):
        list(rspl.standard_figures(scores, meta, grup="arm"))
    with pytest.raises(StatisticsError, match="`group` 'nope' is not a column of the metadata"):
        list(rspl.standard_figures(scores, meta, design=rs.Design(group="nope")))
    figure = next(iter(rspl.standard_figures(scores, meta, design=design)))
    fig = figure.render()
    assert isinstance(fig, plt.Figure)
    plt.close(fig)
