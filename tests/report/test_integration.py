"""End to end with the real pieces: toy cohort -> rs.tl.score -> statistics -> figures and report."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import resistscore as rs


@pytest.fixture(scope="module")
def scored():
    adata = rs.ds.toy(n_samples=24, seed=1)
    # explicit signatures, so that this test does not depend on the shipped signature files
    sigs = {
        "efflux_abc": ["ABCB1", "ABCC1", "ABCG2", "ABCC2", "ABCC3"],
        "apoptosis": {"BCL2": 1.0, "MCL1": 1.0, "BIRC5": 1.0, "BAX": -1.0, "BAK1": -1.0, "CASP3": -1.0},
        "dna_repair": ["ERCC1", "ERCC2", "XPA", "XPC", "BRCA1", "RAD51"],
    }
    result = rs.tl.score(adata, sigs, pvalues=False, copy=True)
    return result


def test_anndata_result_figures_and_report(scored, tmp_path):
    adata = scored
    scores = adata.obsm["resistscore_scores"]
    assert scores.shape[0] == 24
    # the planted efflux programme: resistant samples score higher; the figure shows the same numbers
    efflux = "efflux_abc"
    resistant = adata.obs["group"] == "resistant"
    assert scores.loc[resistant, efflux].mean() > scores.loc[~resistant, efflux].mean()
    ax = rs.pl.groups(adata, group="group", signatures=efflux)
    drawn = np.sort(np.concatenate([c.get_offsets()[:, 1] for c in ax.collections]))
    np.testing.assert_allclose(drawn, np.sort(scores[efflux].dropna().to_numpy()))
    plt.close(ax.figure)
    stats = rs.tl.survival(adata, time="survival_months", event="event", signatures=[efflux])
    design = rs.Design(group="group")
    files = rs.pl.save_all(adata, outdir=tmp_path / "figs", design=design, stats=stats, formats=("png",))
    assert {f.stem for f in files} >= {
        "heatmap",
        "coverage",
        "profile",
        "groups",
        "matrixplot",
        "forest",
        "kaplan_meier",
    }
    doc = rs.report.html_report(adata, design=design, stats={"survival": stats}, date="2024-01-01")
    method = adata.uns["resistscore"]["method"]
    assert f"method {method} · generated" in doc
    assert adata.uns["resistscore"]["versions"]["signatures"] in doc
    assert len(re.findall(r'<figure id="fig-', doc)) >= 6
    assert plt.get_fignums() == []


def test_score_result_contributions_and_response():
    adata = rs.ds.toy(n_samples=24, seed=2)
    import pandas as pd

    expr = pd.DataFrame(np.asarray(adata.X), index=adata.obs_names, columns=adata.var_names)
    sigs = {"efflux_abc": ["ABCB1", "ABCC1", "ABCG2", "ABCC2", "ABCC3"]}
    result = rs.tl.score(expr, sigs, pvalues=False)
    samples = list(result.scores.index[:4])
    ax = rs.pl.contributions(result, samples=samples, signature="efflux_abc")
    shown_genes = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(shown_genes) == sorted(sigs["efflux_abc"])
    drawn = np.asarray(ax.collections[0].get_array()).reshape(len(shown_genes), len(samples))
    for j, s in enumerate(samples):
        per_gene = result.contributions(s, "efflux_abc").set_index("gene")["contribution"]
        np.testing.assert_allclose(drawn[:, j], per_gene.loc[shown_genes].to_numpy())
    plt.close(ax.figure)
    ax = rs.pl.response(result, "log10_ic50", signature="efflux_abc", metadata=adata.obs, hue="tissue")
    from scipy.stats import spearmanr

    rho = spearmanr(result.scores["efflux_abc"], adata.obs["log10_ic50"]).statistic
    assert ax.texts[0].get_text().startswith(f"Spearman rho={rho:.2f}")
    assert [ln.get_linestyle() for ln in ax.get_lines()] == ["--"]  # one LOWESS guide line
    assert rho > 0.5  # the planted efflux programme raises IC50 in the toy cohort
    plt.close(ax.figure)


def test_report_states_how_the_pvalues_were_made():
    # the p-values' null, tail and FDR family (issue 15) are parameters of the report, for a ScoreResult
    # and for a scored AnnData alike
    adata = rs.ds.toy(n_samples=24, seed=3)
    sigs = {"efflux_abc": ["ABCB1", "ABCC1", "ABCG2", "ABCC2", "ABCC3"]}
    result = rs.tl.score(adata.to_df(), sigs, n_controls=200, fdr_family="all")
    scored = rs.tl.score(adata, sigs, n_controls=200, copy=True)
    for obj, family in ((result, "all"), (scored, "signature")):
        doc = rs.report.html_report(obj, date="2024-01-01")
        params = dict(re.findall(r"<tr><th>([^<]*)</th><td>([^<]*)</td></tr>", doc))
        assert params.get("FDR family") == family, params
        assert params.get("p-value null") == "pooled" and params.get("p-value tail") == "gpd", params


def test_analyze_draws_each_figure_once_and_the_report_shows_every_file(monkeypatch, tmp_path):
    """rs.analyze: every figure of the report is a file (in each format), none is missing or doubled, and each
    is drawn once (the report embeds the PNG written for the folder instead of drawing it again)."""
    adata = rs.ds.toy(n_samples=24, seed=3)
    sigs = {
        "efflux_abc": ["ABCB1", "ABCC1", "ABCG2", "ABCC2", "ABCC3"],
        "apoptosis": {"BCL2": 1.0, "MCL1": 1.0, "BIRC5": 1.0, "BAX": -1.0, "BAK1": -1.0, "CASP3": -1.0},
    }
    drawn: list[str] = []
    original = rs.pl.StandardFigure.render
    monkeypatch.setattr(
        rs.pl.StandardFigure, "render", lambda self: drawn.append(self.name) or original(self)
    )
    outputs = rs.analyze(
        adata,
        tmp_path / "out",
        signatures=sigs,
        pvalues=False,
        group="group",
        response="log10_ic50",
        time="survival_months",
        event="event",
        formats=("png", "pdf"),
    )
    files = outputs.files["figures"]
    assert len(files) == len(set(files))
    by_format = {
        fmt: sorted(f.name[: -len(fmt) - 1] for f in files if f.suffix == f".{fmt}") for fmt in ("png", "pdf")
    }
    assert by_format["png"] == by_format["pdf"]
    doc = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    in_report = re.findall(r'<figure id="fig-([^"]+)"', doc)
    assert len(in_report) == len(set(in_report))  # no figure twice
    # every figure of the report is a file, and every file is in the report
    assert sorted(in_report) == by_format["png"]
    assert {"heatmap", "groups", "matrixplot", "forest_groups", "volcano_response"} <= set(in_report)
    assert any(name.startswith("kaplan_meier") for name in in_report)
    assert sorted(drawn) == by_format["png"]  # each drawn once
    assert plt.get_fignums() == []
