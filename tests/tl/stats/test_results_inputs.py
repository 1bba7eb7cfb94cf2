"""Result objects and the accepted score inputs."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import resistscore as rs


@pytest.fixture
def simple():
    idx = [f"s{i}" for i in range(8)]
    s = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6, 7, 8], "b": [2.0, 1, 2, 1, 2, 1, 2, 1.5]}, index=idx)
    m = pd.DataFrame({"g": ["x"] * 4 + ["y"] * 4}, index=idx)
    return s, m


def test_to_csv_html_and_repr(simple, tmp_path):
    s, m = simple
    res = rs.tl.compare_groups(s, m, group="g")
    res.to_csv(tmp_path / "out.tsv")
    back = pd.read_csv(tmp_path / "out.tsv", sep="\t", keep_default_na=False, na_values=[""])
    assert back.columns.tolist() == res.table.columns.tolist()
    np.testing.assert_allclose(back["pvalue"], res.table["pvalue"])
    res.to_csv(tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().startswith("signature,test,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.tsv"]  # no temporary files left
    html = res._repr_html_()
    assert "<table" in html and "compare_groups" in html
    assert "StatsResult(compare_groups" in repr(res)
    assert res.significant(0.05)["signature"].tolist() == ["a"]


def test_anndata_and_scoreresult_inputs_agree(simple):
    s, m = simple
    a = ad.AnnData(np.zeros((8, 1), dtype=np.float32), obs=m.copy())
    a.obsm["resistscore_scores"] = s.copy()
    from_adata = rs.tl.compare_groups(a, group="g").table

    class FakeScoreResult:  # duck type of rs.tl.ScoreResult
        scores = s

    from_result = rs.tl.compare_groups(FakeScoreResult(), m, group="g").table
    from_frame = rs.tl.compare_groups(s, m, group="g").table
    pd.testing.assert_frame_equal(from_adata, from_frame)
    pd.testing.assert_frame_equal(from_result, from_frame)


def test_bad_score_inputs(simple):
    s, m = simple
    with pytest.raises(rs.StatisticsError, match="obsm"):
        rs.tl.compare_groups(ad.AnnData(np.zeros((8, 1), dtype=np.float32), obs=m), group="g")
    with pytest.raises(rs.StatisticsError, match="numeric"):
        rs.tl.compare_groups(s.assign(c="text"), m, group="g")
    with pytest.raises(rs.StatisticsError, match="cannot read scores"):
        rs.tl.compare_groups([1, 2, 3], m, group="g")
    with pytest.raises(rs.StatisticsError, match="not unique"):
        rs.tl.compare_groups(pd.concat([s, s]), m, group="g")
    with pytest.raises(rs.StatisticsError, match="metadata"):
        rs.tl.compare_groups(s, group="g")


class _FakeResult:
    """Duck type of ScoreResult with additive contributions: score = sum of weight * value / 10."""

    def __init__(self):
        self.expr = pd.DataFrame({"G1": [9.0, 1.0], "G2": [2.0, 3.0], "G3": [1.0, 1.0]}, index=["res", "par"])
        self.weights = {"sig": {"G1": 1.0, "G2": -0.5, "G3": 1.0}}
        self.scores = pd.DataFrame(
            {
                "sig": [
                    sum(w * self.expr.loc[s, g] / 10 for g, w in self.weights["sig"].items())
                    for s in self.expr.index
                ]
            },
            index=self.expr.index,
        )

    def contributions(self, sample, signature):
        w = self.weights[signature]
        return pd.DataFrame(
            {
                "gene": list(w),
                "direction": ["up" if v > 0 else "down" for v in w.values()],
                "weight": list(w.values()),
                "value": [self.expr.loc[sample, g] for g in w],
                "contribution": [v * self.expr.loc[sample, g] / 10 for g, v in w.items()],
                "contribution_kind": "additive",
            }
        )


def test_compare_samples_explains_the_difference():
    res = rs.tl.compare_samples(_FakeResult(), "res", "par")
    t = res.table
    assert t["gene"].tolist() == ["G1", "G2", "G3"]  # by decreasing |difference|
    np.testing.assert_allclose(t["difference"], [0.8, 0.05, 0.0])
    assert t["difference"].sum() == pytest.approx(res.scores.loc[0, "difference"])
    np.testing.assert_allclose(t["share"], np.array([0.8, 0.05, 0.0]) / 0.85)
    assert t.loc[0, "value_reference"] == 1.0
    with pytest.raises(rs.StatisticsError, match="`reference`='zz'"):
        rs.tl.compare_samples(_FakeResult(), "res", "zz")
    with pytest.raises(rs.StatisticsError, match="ScoreResult"):
        rs.tl.compare_samples(pd.DataFrame({"sig": [1.0]}), "res", "par")
