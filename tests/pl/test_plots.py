"""Semantic tests of the plotting functions: what is drawn equals independently computed values."""

from __future__ import annotations

import anndata as ad
import matplotlib as mpl
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats as st
from scipy.cluster import hierarchy

import resistscore.pl as rspl
from resistscore._errors import ResistScoreError

OKABE = [
    c.lower()
    for c in ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000")
]


class FakeResult:
    """Duck-typed ScoreResult: scores, coverage and per-gene contributions."""

    def __init__(self, scores, coverage=None, contributions=None):
        self.scores = scores
        self.coverage = coverage
        self._contrib = contributions
        self.method = "singscore"
        self.params = {"min_coverage": 0.5}
        self.seed = 0
        self.versions = {"resistscore": "0.1.0", "signatures": "test-1"}

    def contributions(self, sample, signature):
        return pd.DataFrame({"gene": self._contrib.index, "contribution": self._contrib[sample].to_numpy()})


# ---------------------------------------------------------------- theme


def test_theme_is_temporary_and_set_theme_global():
    before = dict(mpl.rcParams)
    with rspl.theme(font_scale=2):
        assert mpl.rcParams["font.size"] == 16
        assert mpl.rcParams["pdf.fonttype"] == 42
        assert [mcolors.to_hex(c) for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]] == OKABE
    assert dict(mpl.rcParams) == before
    with mpl.rc_context():
        try:
            rspl.set_theme(rc={"font.size": 11})
            assert mpl.rcParams["font.size"] == 11 and mpl.rcParams["axes.spines.right"] is False
        finally:
            rspl.set_theme()  # back to the default theme of the rs.pl functions
    assert dict(mpl.rcParams) == before


def test_plots_follow_the_users_font_scale(group_table):
    ax = rspl.forest(group_table)
    assert ax.get_yticklabels()[0].get_fontsize() == 7.0  # 8 pt base - 1
    plt.close(ax.figure)
    with rspl.theme(font_scale=2):
        ax = rspl.forest(group_table)
    assert ax.get_yticklabels()[0].get_fontsize() == 15.0
    plt.close(ax.figure)
    with mpl.rc_context():
        try:
            rspl.set_theme(font_scale=1.5)
            ax = rspl.forest(group_table)
            assert ax.get_yticklabels()[0].get_fontsize() == 11.0
            plt.close(ax.figure)
        finally:
            rspl.set_theme()
    ax = rspl.forest(group_table)
    assert ax.get_yticklabels()[0].get_fontsize() == 7.0
    plt.close(ax.figure)


def test_importing_resistscore_does_not_touch_rcparams():
    import subprocess
    import sys

    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import resistscore as rs; rs.pl; rs.report; "
        "assert dict(mpl.rcParams) == before, 'rcParams changed on import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_categorical_colors():
    assert list(rspl.categorical_colors(list("abc")).values()) == OKABE[:3]
    many = rspl.categorical_colors([f"l{i}" for i in range(10)])
    assert len(set(many.values())) == 10
    assert rspl.categorical_colors(["x", "y"], {"x": "red", "y": "blue"}) == {"x": "#ff0000", "y": "#0000ff"}
    with pytest.raises(ResistScoreError, match="no colour for"):
        rspl.categorical_colors(["x", "y"], {"x": "red"})
    with pytest.raises(ResistScoreError, match="at least one per level"):
        rspl.categorical_colors(["x", "y"], ["red"])


# ---------------------------------------------------------------- heatmap


def test_heatmap_zscore_clustering_and_annotation(scores, metadata):
    original = scores.copy()
    grid = rspl.heatmap(scores, annotation=metadata[["group", "age"]])
    # z-score per signature with the sample SD, as scipy.stats.zscore(ddof=1)
    expected = pd.DataFrame(
        st.zscore(scores.to_numpy(), axis=0, ddof=1), index=scores.index, columns=scores.columns
    ).T
    data = grid.data2d
    np.testing.assert_allclose(data.to_numpy(), expected.loc[data.index, data.columns].to_numpy(), atol=1e-12)
    # order = scipy average linkage (Euclidean, optimal leaf ordering) of the z-scores
    link = hierarchy.linkage(expected.to_numpy(), method="average", metric="euclidean", optimal_ordering=True)
    assert list(data.index) == list(expected.index[hierarchy.leaves_list(link)])
    # annotation bar: colours of the samples (seaborn keeps them in data order and reorders when drawing)
    colours = grid.col_colors
    assert colours is not None
    group_colour = {"resistant": OKABE[0], "sensitive": OKABE[1]}
    shown_group = metadata.loc[scores.index, "group"].map(group_colour).tolist()
    drawn = [mcolors.to_hex(c) for c in np.asarray(colours)[0]]
    assert drawn == shown_group
    legend_texts = [t.get_text() for t in grid.ax_heatmap.get_legend().get_texts()]
    assert legend_texts[:3] == ["group", "resistant", "sensitive"] and "age" in legend_texts
    pd.testing.assert_frame_equal(scores, original)  # input not mutated
    plt.close(grid.figure)


def test_heatmap_keeps_order_and_drops_unreported(scores):
    df = scores.copy()
    df["not_reported"] = np.nan
    grid = rspl.heatmap(df, cluster=False, z_score=False)
    assert list(grid.data2d.index) == list(scores.columns)
    assert list(grid.data2d.columns) == list(scores.index)
    np.testing.assert_array_equal(grid.data2d.to_numpy(), scores.T.to_numpy())
    plt.close(grid.figure)
    with pytest.raises(ResistScoreError, match="no signature has a reported score"):
        rspl.heatmap(pd.DataFrame({"a": [np.nan, np.nan]}, index=["x", "y"]))


def test_heatmap_inputs(scores, metadata):
    adata = ad.AnnData(np.zeros((len(scores), 2), dtype=np.float32), obs=metadata.copy())
    adata.obs_names = scores.index
    adata.obsm["resistscore_scores"] = scores
    grid = rspl.heatmap(adata, cluster=False)
    assert grid.data2d.shape == (4, 24)
    plt.close(grid.figure)
    grid = rspl.heatmap(FakeResult(scores), cluster="rows")
    assert list(grid.data2d.columns) == list(scores.index)
    plt.close(grid.figure)
    with pytest.raises(ResistScoreError, match="missing from `annotation`"):
        rspl.heatmap(scores, annotation=metadata.iloc[:5])
    with pytest.raises(ResistScoreError, match="non-numeric"):
        rspl.heatmap(scores.assign(group="a"))
    with pytest.raises(ResistScoreError, match="score it first"):
        rspl.heatmap(ad.AnnData(np.zeros((2, 2), dtype=np.float32)))
    with pytest.raises(ResistScoreError, match="`cluster`"):
        rspl.heatmap(scores, cluster="both")


# ---------------------------------------------------------------- groups / profile


def test_groups_draws_given_axes_and_annotations(scores, metadata, group_table):
    fig, ax = plt.subplots()
    out = rspl.groups(scores, metadata, group="group", stats=group_table, ax=ax)
    assert out is ax
    assert len(fig.axes) == 1
    # one box per signature and group, coloured per group
    boxes = [p for p in ax.patches if isinstance(p, mpl.patches.PathPatch)]
    assert len(boxes) == 8
    assert {mcolors.to_hex(b.get_facecolor()) for b in boxes} == {OKABE[0], OKABE[1]}
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["FDR=0.002", "FDR=0.90", "FDR=0.82", "FDR=0.90"]
    # every sample is drawn as a point
    n_points = sum(len(c.get_offsets()) for c in ax.collections)
    assert n_points == scores.size
    plt.close(fig)


def test_groups_pvalue_and_omnibus(scores, metadata, group_table):
    omnibus = pd.DataFrame({"signature": ["efflux_abc"], "test": ["kruskal"], "pvalue": [0.0123]})
    ax = rspl.groups(scores, metadata, group="tissue", signatures="efflux_abc", kind="violin", stats=omnibus)
    assert [t.get_text() for t in ax.texts] == ["kruskal: p=0.012"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["efflux_abc"]
    plt.close(ax.figure)
    ax = rspl.groups(scores, metadata, group="group", stats=group_table, significance="pvalue", points=False)
    assert [t.get_text() for t in ax.texts][0] == "p=4.0e-04"
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="no column"):
        rspl.groups(scores, metadata, group="nope")
    with pytest.raises(ResistScoreError, match="`kind`"):
        rspl.groups(scores, metadata, group="group", kind="bar")
    with pytest.raises(ResistScoreError, match="not among the scored signatures"):
        rspl.groups(scores, metadata, group="group", signatures=["nope"])


def test_profile_group_means_and_t_intervals(scores, metadata):
    ax = rspl.profile(scores, by="group", metadata=metadata)
    means = scores.groupby(metadata["group"]).mean()
    drawn = [c for c in ax.collections if c.get_label() and not c.get_label().startswith("_")]
    assert [c.get_label() for c in drawn] == ["resistant (n=12)", "sensitive (n=12)"]
    for c, g in zip(drawn, ["resistant", "sensitive"]):
        np.testing.assert_allclose(c.get_offsets()[:, 0], means.loc[g].to_numpy())
    # the error bar of the first group / first signature: mean +- t(0.975, 11) * sd / sqrt(12)
    x = scores.loc[metadata["group"] == "resistant", "efflux_abc"]
    half = st.t.ppf(0.975, 11) * x.std(ddof=1) / np.sqrt(12)
    segments = [
        s for c in ax.collections if isinstance(c, mpl.collections.LineCollection) for s in c.get_segments()
    ]
    assert any(np.allclose(s[:, 0], [x.mean() - half, x.mean() + half]) for s in segments)
    plt.close(ax.figure)


def test_profile_samples_bar(scores):
    ax = rspl.profile(scores, by=["S00", "S05"], kind="bar")
    widths = np.array([p.get_width() for p in ax.patches])
    np.testing.assert_allclose(widths, np.concatenate([scores.loc["S00"], scores.loc["S05"]]))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(scores.columns)
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="neither samples"):
        rspl.profile(scores, by=["S00", "zzz"])


# ---------------------------------------------------------------- forest / volcano


def test_forest(group_table):
    ax = rspl.forest(group_table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(group_table["signature"])
    markers = [line for line in ax.get_lines() if line.get_marker() == "s"]
    np.testing.assert_allclose([m.get_xdata()[0] for m in markers], group_table["effect"])
    # filled marker only for FDR <= 0.05
    filled = [mcolors.to_hex(m.get_markerfacecolor()) != "#ffffff" for m in markers]
    assert filled == [True, False, False, False]
    ci = [
        line
        for line in ax.get_lines()
        if line.get_marker() in ("None", "", None) and len(line.get_xdata()) == 2
    ]
    ci = [line for line in ci if line.get_xdata()[0] != line.get_xdata()[1]]
    np.testing.assert_allclose(
        sorted(tuple(line.get_xdata()) for line in ci),
        sorted(zip(group_table["ci_low"], group_table["ci_high"])),
    )
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.texts] == ["FDR=0.002", "FDR=0.90", "FDR=0.82", "FDR=0.90"]
    plt.close(ax.figure)


def test_forest_ratio_effects_use_log_axis():
    table = pd.DataFrame(
        {
            "signature": ["a", "b"],
            "effect": [2.0, 0.5],
            "ci_low": [1.2, 0.3],
            "ci_high": [3.3, 0.9],
            "effect_type": ["hazard_ratio_per_sd"] * 2,
            "pvalue": [0.01, 0.02],
        }
    )
    ax = rspl.forest(table)
    assert ax.get_xscale() == "log"
    null = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert null and null[0].get_xdata()[0] == 1.0
    assert ax.get_xlabel() == "hazard ratio per sd (log scale)"
    plt.close(ax.figure)


def test_forest_labels_rows_of_several_responses_by_response():
    # an rs.tl.associate table with one row per signature and drug: each row says which drug it is
    table = pd.DataFrame(
        {
            "signature": ["pgp", "pgp", "broad"],
            "response": ["doxorubicin", "cisplatin", "doxorubicin"],
            "effect": [-0.2, 0.03, -0.1],
            "ci_low": [-0.4, -0.2, -0.3],
            "ci_high": [0.04, 0.3, 0.1],
            "effect_type": ["rho"] * 3,
            "pvalue": [0.09, 0.8, 0.3],
        }
    )
    ax = rspl.forest(table)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["pgp: doxorubicin", "pgp: cisplatin", "broad: doxorubicin"]
    plt.close(ax.figure)


def test_volcano(group_table):
    ax = rspl.volcano(group_table)
    pts = ax.collections[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], group_table["effect"])
    np.testing.assert_allclose(pts[:, 1], -np.log10(group_table["pvalue"]))
    colours = [mcolors.to_hex(c) for c in ax.collections[0].get_facecolors()]
    assert colours[0] == OKABE[4] and set(colours[1:]) == {"#9e9e9e"}
    assert [t.get_text() for t in ax.texts] == ["efflux_abc"]
    plt.close(ax.figure)
    down = group_table.assign(effect=-group_table["effect"])
    ax = rspl.volcano(down, y="fdr", n_labels=0)
    assert mcolors.to_hex(ax.collections[0].get_facecolors()[0]) == OKABE[3]
    assert ax.texts == [] or len(ax.texts) == 0
    assert any(np.isclose(line.get_ydata()[0], -np.log10(0.05)) for line in ax.get_lines())
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="lacks column"):
        rspl.volcano(group_table.drop(columns="effect"))


# ---------------------------------------------------------------- Kaplan-Meier


def test_km_table_matches_hand_computed_product_limit():
    # times 1,2,2,3,4 ; events 1,1,0,1,0 -> S(1)=4/5, S(2)=4/5*3/4=0.6, S(3)=0.6*1/2=0.3, S(4)=0.3
    tab = rspl.km_table([1, 2, 2, 3, 4], [1, 1, 0, 1, 0])
    np.testing.assert_allclose(tab["survival"], [1.0, 0.8, 0.6, 0.3, 0.3])
    assert tab["at_risk"].tolist() == [5, 5, 4, 2, 1]


def test_kaplan_meier_from_scores(scores, metadata):
    from lifelines.statistics import logrank_test

    fig, ax = plt.subplots()
    out = rspl.kaplan_meier(
        scores, metadata, time="survival_time", event="event", signature="efflux_abc", ax=ax
    )
    assert out is ax
    med = scores["efflux_abc"].rank(method="first") > 12
    high, low = metadata[med], metadata[~med]
    steps = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    assert [s.get_label() for s in steps] == ["low (n=12)", "high (n=12)"]
    for line, sub in zip(steps, (low, high)):
        expected = rspl.km_table(sub["survival_time"], sub["event"])
        np.testing.assert_allclose(line.get_ydata(), expected["survival"])
    p = logrank_test(low["survival_time"], high["survival_time"], low["event"], high["event"]).p_value
    assert f"log-rank p={p:.2f}" in [t.get_text() for t in ax.texts] or f"log-rank p={p:.3f}" in [
        t.get_text() for t in ax.texts
    ]
    # number at risk under tick 0 equals the group sizes
    counts = [t.get_text() for t in ax.texts if t.get_position()[0] == 0 and t.get_text().isdigit()]
    assert counts == ["12", "12"]
    plt.close(fig)


def test_kaplan_meier_group_column_and_errors(scores, metadata):
    ax = rspl.kaplan_meier(
        scores, metadata, time="survival_time", event="event", group="tissue", at_risk=False
    )
    assert [line.get_label() for line in ax.get_lines() if line.get_drawstyle() == "steps-post"] == [
        "breast (n=8)",
        "lung (n=8)",
        "ovary (n=8)",
    ]
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="give `signature`"):
        rspl.kaplan_meier(scores, metadata, time="survival_time", event="event")
    bad = metadata.assign(event=2)
    with pytest.raises(ResistScoreError, match="`event` must be 0"):
        rspl.kaplan_meier(scores, bad, time="survival_time", event="event", signature="efflux_abc")


def test_kaplan_meier_from_survival_result(scores, metadata):
    from resistscore.tl import survival

    res = survival(scores, metadata, time="survival_time", event="event")
    ax = rspl.kaplan_meier(res, signature="dna_repair")
    km = res.km[res.km["signature"] == "dna_repair"]
    steps = {line.get_label(): line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"}
    assert set(steps) == {"low (n=12)", "high (n=12)"}
    np.testing.assert_allclose(steps["high (n=12)"].get_ydata(), km[km["group"] == "high"]["survival"])
    p = res.table.set_index("signature").loc["dna_repair", "logrank_pvalue"]
    assert any(t.get_text().startswith("log-rank p=") and f"{p:.2f}"[:3] in t.get_text() for t in ax.texts)
    assert ax.get_xlabel() == "survival_time"
    plt.close(ax.figure)


# ---------------------------------------------------------------- contributions / coverage / response


def test_contributions_order_and_limit(scores):
    rng = np.random.default_rng(1)
    contrib = pd.DataFrame(
        rng.normal(size=(40, 3)), index=[f"G{i}" for i in range(40)], columns=["S00", "S01", "S02"]
    )
    result = FakeResult(scores, contributions=contrib)
    ax = rspl.contributions(result, samples=["S00", "S01", "S02"], signature="efflux_abc", n_genes=10)
    expected = contrib.abs().mean(axis=1).sort_values(ascending=False).index[:10]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(expected)
    mesh = ax.collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(10, 3), contrib.loc[expected].to_numpy())
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="`signature` is required"):
        rspl.contributions(result)


def test_coverage(coverage_table):
    ax = rspl.coverage(coverage_table)
    np.testing.assert_allclose([p.get_width() for p in ax.patches], coverage_table["weight_covered"])
    colours = [mcolors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours == [OKABE[3], OKABE[3], OKABE[4], OKABE[4]]
    assert [t.get_text() for t in ax.texts] == ["12/12", "18/20", "6/15", "2/9"]
    plt.close(ax.figure)
    # from n_found / n_genes only, and from an AnnData's uns
    ax = rspl.coverage(coverage_table[["n_genes", "n_found"]], min_coverage=0.6)
    np.testing.assert_allclose([p.get_width() for p in ax.patches], [1.0, 0.9, 0.4, 2 / 9])
    plt.close(ax.figure)
    adata = ad.AnnData(np.zeros((2, 2), dtype=np.float32))
    adata.uns["resistscore"] = {"coverage": coverage_table.reset_index().to_dict(orient="list")}
    ax = rspl.coverage(adata)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(coverage_table.index)
    plt.close(ax.figure)


def test_response(scores, metadata):
    ax = rspl.response(scores, "log_gi50", signature="efflux_abc", metadata=metadata)
    rho, p = st.spearmanr(scores["efflux_abc"], metadata["log_gi50"])
    assert ax.texts[0].get_text().startswith(f"Spearman rho={rho:.2f}, p=")
    assert ax.texts[0].get_text().endswith("n=24")
    fit = [line for line in ax.get_lines() if line.get_linestyle() == "--"][0]
    slope, intercept = np.polyfit(scores["efflux_abc"], metadata["log_gi50"], 1)
    x = fit.get_xdata()
    np.testing.assert_allclose(fit.get_ydata(), intercept + slope * x)
    plt.close(ax.figure)
    ax = rspl.response(scores, metadata["log_gi50"], signature="efflux_abc", metadata=metadata, hue="tissue")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["breast", "lung", "ovary"]
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="at least 3"):
        rspl.response(scores.iloc[:2], metadata["log_gi50"], signature="efflux_abc")


# ---------------------------------------------------------------- embedding


def _adata(n=60):
    rng = np.random.default_rng(0)
    adata = ad.AnnData(np.zeros((n, 2), dtype=np.float32))
    adata.obsm["X_umap"] = rng.normal(size=(n, 2))
    adata.obsm["resistscore_scores"] = pd.DataFrame(
        {"efflux_abc": rng.normal(size=n), "dna_repair": rng.random(n)}, index=adata.obs_names
    )
    adata.obs["qc_score"] = rng.random(n)
    return adata


def test_embedding_single_and_panels():
    adata = _adata()
    fig, ax = plt.subplots()
    out = rspl.embedding(adata, signatures="efflux_abc", ax=ax)
    assert out is ax
    sc = ax.collections[-1]
    values = adata.obsm["resistscore_scores"]["efflux_abc"].to_numpy()
    assert sorted(np.asarray(sc.get_array())) == sorted(values)
    vmin, vmax = sc.get_clim()
    assert np.isclose(-vmin, vmax)  # diverging, centred at 0
    assert sc.get_cmap().name == "RdBu_r"
    plt.close(fig)
    fig = rspl.embedding(adata, signatures=["efflux_abc", "dna_repair", "qc_score"], ncols=2)
    assert isinstance(fig, Figure)
    titles = [a.get_title() for a in fig.axes if a.get_title()]
    assert titles == ["efflux_abc", "dna_repair", "qc_score"]
    positive = [a for a in fig.axes if a.get_title() == "dna_repair"][0].collections[-1]
    assert positive.get_cmap().name == "viridis"
    plt.close(fig)


def test_embedding_errors():
    adata = _adata()
    with pytest.raises(ResistScoreError, match="no embedding 'tsne'"):
        rspl.embedding(adata, basis="tsne")
    fig, ax = plt.subplots()
    with pytest.raises(ResistScoreError, match="single signature"):
        rspl.embedding(adata, ax=ax)
    plt.close(fig)
    with pytest.raises(ResistScoreError, match="neither a scored signature"):
        rspl.embedding(adata, signatures="nope")


# ---------------------------------------------------------------- saving


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_save_formats_are_written_atomically(group_table, tmp_path, suffix, magic):
    out = tmp_path / f"forest{suffix}"
    ax = rspl.forest(group_table, save=out)
    plt.close(ax.figure)
    assert out.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind
    if suffix == ".svg":
        assert "<text" in out.read_text()  # text stays text (svg.fonttype none)


def test_vector_output_is_reproducible(group_table, tmp_path):
    for name in ("a.pdf", "b.pdf", "a.svg", "b.svg"):
        ax = rspl.forest(group_table, save=tmp_path / name)
        plt.close(ax.figure)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_save_rejects_unknown_suffix(group_table, tmp_path):
    ax = rspl.forest(group_table)
    with pytest.raises(ResistScoreError, match="suffix"):
        rspl.save_figure(ax, tmp_path / "forest.docx")
    plt.close(ax.figure)
    assert list(tmp_path.iterdir()) == []


def test_save_all(scores, metadata, group_table, coverage_table, tmp_path):
    result = FakeResult(scores, coverage=coverage_table)
    files = rspl.save_all(
        result,
        metadata,
        tmp_path / "figs",
        group="group",
        stats=group_table,
        time="survival_time",
        event="event",
        km_signature="efflux_abc",
    )
    names = [f.name for f in files]
    expected = ["heatmap", "coverage", "profile", "groups", "forest", "volcano", "kaplan_meier"]
    assert names == [f"{n}.{ext}" for n in expected for ext in ("png", "pdf")]
    assert all(f.stat().st_size > 1000 for f in files)
    assert plt.get_fignums() == []
    with pytest.raises(ResistScoreError, match="not supported"):
        rspl.save_all(result, metadata, tmp_path / "x", formats=("docx",))


def test_functions_return_axes_or_grid(scores, metadata, group_table, coverage_table):
    outs = [
        rspl.groups(scores, metadata, group="group"),
        rspl.profile(scores),
        rspl.forest(group_table),
        rspl.volcano(group_table),
        rspl.coverage(coverage_table),
        rspl.response(scores, "log_gi50", signature="efflux_abc", metadata=metadata),
        rspl.kaplan_meier(scores, metadata, time="survival_time", event="event", signature="apoptosis"),
    ]
    assert all(isinstance(o, Axes) for o in outs)
    assert len(plt.get_fignums()) == len(outs)  # exactly one figure each, nothing else
    plt.close("all")


def test_anndata_metadata_defaults_to_obs(scores, metadata):
    adata = ad.AnnData(np.zeros((len(scores), 2), dtype=np.float32), obs=metadata.copy())
    adata.obs_names = scores.index
    adata.obsm["resistscore_scores"] = scores
    outs = [
        rspl.groups(adata, group="group"),
        rspl.profile(adata, by="tissue"),
        rspl.response(adata, "log_gi50", signature="efflux_abc"),
        rspl.kaplan_meier(adata, time="survival_time", event="event", signature="efflux_abc"),
    ]
    assert [t.get_text() for t in outs[1].get_legend().get_texts()] == [
        "breast (n=8)",
        "lung (n=8)",
        "ovary (n=8)",
    ]
    plt.close("all")


def test_standard_heatmap_subsamples_large_data(monkeypatch, scores, metadata):
    import resistscore.pl._save_all as save_all_module

    monkeypatch.setattr(save_all_module, "MAX_HEATMAP_SAMPLES", 10)
    figures = {
        name: (caption, draw)
        for name, caption, draw in rspl.standard_figures(scores, metadata, group="group")
    }
    caption, draw = figures["heatmap"]
    assert "10 of the 24 samples" in caption
    grid = draw()
    shown = list(grid.data2d.columns)
    assert len(shown) == 10 and set(shown) <= set(scores.index)
    rng = np.random.default_rng(0)
    assert sorted(shown) == sorted(scores.index[np.sort(rng.choice(24, 10, replace=False))])
    plt.close(grid.figure)


def test_heatmap_does_not_cluster_too_many_samples(monkeypatch, scores):
    import resistscore.pl._heatmap as heatmap_module

    monkeypatch.setattr(heatmap_module, "MAX_CLUSTER_SAMPLES", 10)
    grid = rspl.heatmap(scores)
    assert list(grid.data2d.columns) == list(scores.index)  # input order
    assert "not clustered" in grid.ax_heatmap.get_xlabel()
    assert grid.dendrogram_row is not None  # signatures are still clustered
    plt.close(grid.figure)


def test_standard_figures_pick_the_most_significant(monkeypatch, scores, metadata, group_table):
    import resistscore.pl._save_all as save_all_module

    monkeypatch.setattr(save_all_module, "MAX_GROUP_SIGNATURES", 2)
    figures = {
        n: (c, d) for n, c, d in rspl.standard_figures(scores, metadata, group="group", stats=group_table)
    }
    caption, draw = figures["groups"]
    assert "the 2 of 4 reported signatures with the smallest FDR" in caption
    ax = draw()
    # FDR: efflux_abc 0.0016, apoptosis 0.82, dna_repair 0.9, drug_inactivation 0.9
    assert [t.get_text() for t in ax.get_xticklabels()] == ["efflux_abc", "apoptosis"]
    plt.close(ax.figure)


def test_save_all_response_replicates_and_embedding(scores, metadata, group_table, tmp_path):
    # single-cell-like: 4 cells per patient; figures comparing groups use one mean per patient
    meta = metadata.assign(patient=[f"P{i // 4}" for i in range(len(scores))])
    meta["group"] = ["resistant" if i < 12 else "sensitive" for i in range(len(scores))]
    rng = np.random.default_rng(0)
    adata = ad.AnnData(np.zeros((len(scores), 2), dtype=np.float32), obs=meta.copy())
    adata.obs_names = scores.index
    adata.obsm["X_umap"] = rng.normal(size=(len(scores), 2))
    result = FakeResult(scores)
    figures = {
        n: (c, d)
        for n, c, d in rspl.standard_figures(
            result, group="group", response="log_gi50", sample_key="patient", adata=adata
        )
    }
    assert {"heatmap", "profile", "groups", "embedding"} <= set(figures)
    response_figs = [n for n in figures if n.startswith("response_")]
    per_patient = scores.groupby(meta["patient"]).mean()
    gi50 = meta.groupby("patient")["log_gi50"].mean()  # varies within a patient: averaged
    rho = {s: st.spearmanr(per_patient[s], gi50).statistic for s in scores.columns}
    expected = sorted(rho, key=lambda s: -abs(rho[s]))
    assert response_figs == [f"response_{s}" for s in expected]
    caption, draw = figures["groups"]
    assert "one value per patient" in caption
    ax = draw()
    n_points = sum(len(c.get_offsets()) for c in ax.collections)
    assert n_points == per_patient.size  # 6 patients x 4 signatures, not 24 cells x 4
    plt.close(ax.figure)
    fig = figures["embedding"][1]()
    assert [a.get_title() for a in fig.axes if a.get_title()] == list(scores.columns)
    plt.close(fig)
    assert "resistscore_scores" not in adata.obsm  # the user's AnnData is not modified
    # the argument order (result, outdir, metadata=...) used by the command line, and a survival
    # result found among the statistics
    if hasattr(__import__("resistscore").tl, "survival"):
        import resistscore as rs

        surv = rs.tl.survival(scores, metadata, time="survival_time", event="event")
        files = rspl.save_all(
            scores,
            tmp_path,
            metadata=metadata,
            stats={"surv": surv},
            formats=("png",),
            km_signature="apoptosis",
        )
        assert [f.name for f in files][-1] == "kaplan_meier.png"
        assert "forest_surv.png" in [f.name for f in files]


def test_roc_from_real_result(scores, metadata):
    import resistscore as rs

    res = rs.tl.roc(scores, metadata, responder="group", positive="resistant")
    ax = rspl.roc(res)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    table = res.table.set_index("signature").rename(columns={"effect": "auc"})
    assert all("auc" in k for k in res.table["effect_type"])
    order = (table["auc"] - 0.5).abs().sort_values(ascending=False, kind="mergesort").index
    assert [lab.split(":")[0] for lab in labels] == list(order)
    top = order[0]
    assert labels[0].startswith(f"{top}: AUC {table.loc[top, 'auc']:.2f}")
    line = [ln for ln in ax.get_lines() if ln.get_label() == labels[0]][0]
    curve = res.curves[res.curves["signature"] == top]
    np.testing.assert_allclose(line.get_xdata(), curve["fpr"])
    np.testing.assert_allclose(line.get_ydata(), curve["tpr"])
    # trapezoid area under the drawn curve equals the reported AUC
    assert np.isclose(np.trapezoid(line.get_ydata(), line.get_xdata()), table.loc[top, "auc"], atol=1e-9)
    plt.close(ax.figure)
    figs = {n: d for n, _, d in rspl.standard_figures(scores, metadata, stats={"roc": res})}
    assert "roc_roc" in figs
    ax = figs["forest_roc"]()
    null = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert null[0].get_xdata()[0] == 0.5  # no discrimination
    plt.close(ax.figure)
    ax = figs["volcano_roc"]()
    np.testing.assert_allclose(ax.collections[0].get_offsets()[:, 0], res.table["effect"] - 0.5)
    plt.close(ax.figure)


def test_groups_skip_unreported_signatures(scores, metadata, group_table):
    df = scores.assign(not_reported=np.nan)
    table = pd.concat(
        [
            group_table,
            pd.DataFrame(
                {
                    "signature": ["not_reported"],
                    "group1": ["resistant"],
                    "group2": ["sensitive"],
                    "fdr": [np.nan],
                }
            ),
        ]
    )
    ax = rspl.groups(df, metadata, group="group", stats=table)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(scores.columns)
    assert np.isfinite(ax.get_ylim()).all()
    plt.close(ax.figure)
    ax = rspl.groups(df, metadata, group="group", signatures=["efflux_abc", "not_reported"], stats=table)
    assert [t.get_text() for t in ax.texts] == ["FDR=0.002"]
    plt.close(ax.figure)


def test_kaplan_meier_splits(scores, metadata):
    ax = rspl.kaplan_meier(
        scores, metadata, time="survival_time", event="event", signature="dna_repair", split="tertiles"
    )
    assert [ln.get_label() for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"] == [
        "low (n=8)",
        "mid (n=8)",
        "high (n=8)",
    ]
    plt.close(ax.figure)
    ax = rspl.kaplan_meier(
        scores, metadata, time="survival_time", event="event", signature="dna_repair", split=0.75
    )
    # above the 75th percentile: 6 of 24 samples
    assert [ln.get_label() for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"] == [
        "low (n=18)",
        "high (n=6)",
    ]
    high = scores.index[scores["dna_repair"] > scores["dna_repair"].quantile(0.75)]
    steps = [ln for ln in ax.get_lines() if ln.get_drawstyle() == "steps-post"]
    expected = rspl.km_table(metadata.loc[high, "survival_time"], metadata.loc[high, "event"])
    np.testing.assert_allclose(steps[1].get_ydata(), expected["survival"])
    plt.close(ax.figure)
    with pytest.raises(ResistScoreError, match="`split`"):
        rspl.kaplan_meier(
            scores, metadata, time="survival_time", event="event", signature="dna_repair", split="thirds"
        )
