"""``to_csv`` and ``to_excel`` of ScoreResult and StatsResult (issue 11 item 9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import resistscore as rs

GENES = [f"G{i}" for i in range(30)]


@pytest.fixture
def result():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(5, 1, (8, 30)), columns=GENES, index=[f"s{i}" for i in range(8)])
    return rs.tl.score(df, {"a": ["G1", "G2", "G3"], "=b": ["G4", "G5", "G6"]}, n_controls=10)


def test_score_result_to_excel_has_one_sheet_per_table(result, tmp_path):
    out = result.to_excel(tmp_path / "r.xlsx")
    sheets = pd.read_excel(out, sheet_name=None, index_col=0)
    assert list(sheets) == ["scores", "pvalues", "fdr", "coverage", "unscored"]
    np.testing.assert_allclose(sheets["scores"].to_numpy(), result.scores.to_numpy())
    assert list(sheets["scores"].columns) == ["a", "'=b"]  # a formula-like name is neutralised


def test_to_csv_refuses_an_excel_name(result, tmp_path):
    with pytest.raises(rs.InputFormatError, match=r"to_excel"):
        result.to_csv(tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()
    back = pd.read_csv(result.to_csv(tmp_path / "r.tsv"), sep="\t", index_col=0)
    np.testing.assert_allclose(back.to_numpy(), result.scores.to_numpy())
    with pytest.raises(rs.InputFormatError, match=r"\.xlsx workbook"):
        result.to_excel(tmp_path / "r.csv")


def test_stats_result_to_excel_and_to_csv(result, tmp_path):
    meta = pd.DataFrame({"g": ["x", "y"] * 4}, index=result.scores.index)
    st = rs.tl.compare_groups(result, meta, group="g")
    st.to_excel(tmp_path / "s.xlsx")
    back = pd.read_excel(tmp_path / "s.xlsx", sheet_name="compare_groups")
    assert list(back.columns) == list(st.table.columns) and len(back) == len(st.table)
    with pytest.raises(rs.InputFormatError, match=r"to_excel"):
        st.to_csv(tmp_path / "s.xlsx")
    st.to_csv(tmp_path / "s.csv")
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(st.table)
