"""Per-gene contributions add up to the score and point at the driving genes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from resistscore._errors import ResistScoreError
from resistscore.tl import contributions, score


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(300)]
    X = rng.normal(5, 1, size=(20, 300))
    X[0, :5] += 4
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(20)], columns=genes)
    sigs = {"p": {**dict.fromkeys(genes[:10], 1.0), **dict.fromkeys(genes[50:55], -2.0)}}
    return df, sigs


@pytest.mark.parametrize("method", ["singscore", "ucell", "aucell", "wmean", "ulm"])
def test_additive_contributions_sum_to_the_score(data, method):
    df, sigs = data
    res = score(df, sigs, method, pvalues=False)
    for s in ("s0", "s3"):
        tbl = res.contributions(s, "p")
        assert (tbl["contribution_kind"] == "additive").all()
        sc = res.scores.loc[s, "p"]
        if method == "ucell" and sc == 0:
            continue  # UCell clips at 0: the contributions add up to the unclipped value
        assert tbl["contribution"].sum() == pytest.approx(sc, abs=1e-10)


def test_table_content_and_order(data):
    df, sigs = data
    res = score(df, sigs, "singscore", pvalues=True, n_controls=20)
    tbl = contributions(res, "s0", "p")
    assert list(tbl.columns) == ["gene", "direction", "weight", "value", "typical", "z", "rank", "contribution",
                                 "contribution_kind"]  # fmt: skip
    assert len(tbl) == 15
    assert np.all(np.diff(np.abs(tbl["contribution"])) <= 0)
    # the planted genes are the top-ranked up-genes, far above their typical level
    planted = tbl[tbl["gene"].isin([f"G{i}" for i in range(5)])]
    assert (planted["rank"] >= 296).all() and (planted["z"] > 2).all()
    row = tbl.set_index("gene").loc["G50"]
    assert row["direction"] == "down" and row["weight"] == -2.0
    assert row["value"] == df.loc["s0", "G50"]
    assert row["typical"] == pytest.approx(df["G50"].mean())
    assert row["rank"] == (df.loc["s0"] <= df.loc["s0", "G50"]).sum()


def test_signed_z_for_other_methods(data):
    df, sigs = data
    res = score(df, sigs, "module_score", pvalues=False)
    tbl = res.contributions("s0", "p")
    assert (tbl["contribution_kind"] == "signed_z").all()
    row = tbl.set_index("gene").loc["G52"]
    assert row["contribution"] == pytest.approx(-2.0 * row["z"])


def test_errors(data):
    df, sigs = data
    res = score(df, sigs, pvalues=False)
    with pytest.raises(ResistScoreError, match="unknown sample"):
        res.contributions("nope", "p")
    with pytest.raises(ResistScoreError, match="unknown signature"):
        res.contributions("s0", "nope")


def test_contributions_of_a_scored_anndata(data):
    import anndata as ad

    df, sigs = data
    adata = ad.AnnData(df)
    score(adata, sigs, "ucell", n_controls=10, max_rank=100)
    res = score(df, sigs, "ucell", n_controls=10, max_rank=100)
    pd.testing.assert_frame_equal(contributions(adata, "s0", "p"), res.contributions("s0", "p"))
    with pytest.raises(ResistScoreError, match="has no scores under key"):
        contributions(ad.AnnData(df), "s0", "p")
