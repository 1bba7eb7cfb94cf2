"""Image regression tests: every figure, drawn from fixed data, matches its stored baseline.

Tolerance: RMS 2.0 grey levels (matplotlib.testing.compare.compare_images) at 72 dpi; see
tests/_reference/README.md for how the baselines were made and how to regenerate them.
"""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.testing.compare import compare_images

import resistscore.pl as rspl

from ._images import TOLERANCE, check_image, render


def test_image_heatmap(scores, metadata, tmp_path):
    grid = rspl.heatmap(scores, annotation=metadata[["group", "tissue", "age"]])
    check_image(grid.figure, "heatmap", tmp_path)
    plt.close(grid.figure)


def test_image_heatmap_unclustered_raw(scores, tmp_path):
    grid = rspl.heatmap(scores.iloc[:10], cluster=False, z_score=False)
    check_image(grid.figure, "heatmap_raw", tmp_path)
    plt.close(grid.figure)


@pytest.mark.parametrize("kind", ["box", "violin"])
def test_image_groups(scores, metadata, group_table, kind, tmp_path):
    ax = rspl.groups(scores, metadata, group="group", stats=group_table, kind=kind)
    check_image(ax.figure, f"groups_{kind}", tmp_path)
    plt.close(ax.figure)


def test_image_profile(scores, metadata, tmp_path):
    ax = rspl.profile(scores, by="tissue", metadata=metadata)
    check_image(ax.figure, "profile", tmp_path)
    plt.close(ax.figure)


def test_image_forest(group_table, tmp_path):
    ax = rspl.forest(group_table)
    check_image(ax.figure, "forest", tmp_path)
    plt.close(ax.figure)


def test_image_volcano(group_table, tmp_path):
    ax = rspl.volcano(group_table)
    check_image(ax.figure, "volcano", tmp_path)
    plt.close(ax.figure)


def test_image_kaplan_meier(scores, metadata, tmp_path):
    ax = rspl.kaplan_meier(scores, metadata, time="survival_time", event="event", signature="efflux_abc")
    check_image(ax.figure, "kaplan_meier", tmp_path)
    plt.close(ax.figure)


def test_image_contributions(tmp_path):
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        rng.normal(size=(8, 5)), index=[f"GENE{i}" for i in range(8)], columns=[f"S{i}" for i in range(5)]
    )
    ax = rspl.contributions(table, signature="efflux_abc")
    check_image(ax.figure, "contributions", tmp_path)
    plt.close(ax.figure)


def test_image_coverage(coverage_table, tmp_path):
    ax = rspl.coverage(coverage_table)
    check_image(ax.figure, "coverage", tmp_path)
    plt.close(ax.figure)


def test_image_response(scores, metadata, tmp_path):
    ax = rspl.response(scores, "log_gi50", signature="efflux_abc", metadata=metadata, hue="tissue")
    check_image(ax.figure, "response", tmp_path)
    plt.close(ax.figure)


def test_image_matrixplot(scores, metadata, group_table, tmp_path):
    ax = rspl.matrixplot(scores, metadata, groupby="group", stats=group_table)
    check_image(ax.figure, "matrixplot", tmp_path)
    plt.close(ax.figure)


def test_image_embedding(tmp_path):
    rng = np.random.default_rng(5)
    adata = ad.AnnData(np.zeros((200, 3), dtype=np.float32))
    adata.obsm["X_umap"] = rng.normal(size=(200, 2))
    adata.obsm["resistscore_scores"] = pd.DataFrame(
        {
            "efflux_abc": adata.obsm["X_umap"][:, 0] + rng.normal(scale=0.3, size=200),
            "dna_repair": rng.random(200),
        },
        index=adata.obs_names,
    )
    fig = rspl.embedding(adata)
    check_image(fig, "embedding", tmp_path)
    plt.close(fig)


def test_image_comparison_detects_a_change(group_table, tmp_path):
    """The tolerance is tight enough to catch a real change: one effect moved by 0.5."""
    ax = rspl.forest(group_table)
    render(ax.figure, tmp_path / "a.png")
    plt.close(ax.figure)
    changed = group_table.assign(effect=group_table["effect"] + np.array([0, 0.5, 0, 0]))
    ax = rspl.forest(changed)
    render(ax.figure, tmp_path / "b.png")
    plt.close(ax.figure)
    result = compare_images(
        str(tmp_path / "a.png"), str(tmp_path / "b.png"), tol=TOLERANCE, in_decorator=True
    )
    assert result is not None and result["rms"] > TOLERANCE


def test_image_roc(tmp_path):
    fpr = np.array([0, 0, 0.25, 0.25, 0.5, 0.75, 1.0])

    class Roc:
        curves = pd.DataFrame(
            {
                "signature": ["efflux_abc"] * 7 + ["apoptosis"] * 7,
                "fpr": np.concatenate([fpr, fpr]),
                "tpr": np.concatenate([[0, 0.5, 0.5, 0.75, 1, 1, 1], [0, 0.25, 0.25, 0.5, 0.5, 0.75, 1]]),
            }
        )
        table = pd.DataFrame(
            {
                "signature": ["efflux_abc", "apoptosis"],
                "effect": [0.86, 0.56],
                "ci_low": [0.7, 0.35],
                "ci_high": [1.0, 0.77],
            }
        )

    ax = rspl.roc(Roc())
    check_image(ax.figure, "roc", tmp_path)
