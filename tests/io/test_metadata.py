from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore.io import normalize_sample_id, read_metadata


@pytest.fixture
def adata():
    return ad.AnnData(
        X=np.zeros((4, 2)),
        obs=pd.DataFrame(index=["NCI/ADR-RES", "OVCAR-8", "K-562", "MCF7"]),
        var=pd.DataFrame(index=["ABCB1", "ABCG2"]),
    )


def test_join_report_from_csv(tmp_path, adata):
    p = tmp_path / "meta.csv"
    p.write_text("sample,resistant,dose\nNCI/ADR-RES,yes,1.5\nOVCAR-8,no,2\nextra_line,no,3\nmcf7,no,\n")
    meta, rep = read_metadata(p, adata)
    assert list(meta.index) == list(adata.obs_names)
    assert rep.id_column == "sample"
    assert rep.matched == ["NCI/ADR-RES", "OVCAR-8", "MCF7"]
    assert rep.only_in_data == ["K-562"]
    assert rep.only_in_metadata == ["extra_line"]
    assert rep.renamed == {"mcf7": "MCF7"}
    assert meta.loc["NCI/ADR-RES", "resistant"] == "yes"
    assert meta["dose"].dtype.kind == "f"
    assert np.isnan(meta.loc["MCF7", "dose"]) and np.isnan(meta.loc["K-562", "dose"])
    d = rep.to_dict()
    assert d["n_matched"] == 3 and d["only_in_data"] == ["K-562"]
    assert "matched=3" in repr(rep)


def test_exact_matching_only(adata):
    meta = pd.DataFrame({"id": ["mcf7", "OVCAR-8"], "x": [1, 2]})
    out, rep = read_metadata(meta, adata, match="exact")
    assert rep.matched == ["OVCAR-8"]
    assert rep.only_in_metadata == ["mcf7"]
    assert np.isnan(out.loc["MCF7", "x"])


def test_id_column_autodetected_among_columns(adata):
    meta = pd.DataFrame({"batch": ["a", "b"], "line": ["K-562", "OVCAR-8"]})
    out, rep = read_metadata(meta, adata)
    assert rep.id_column == "line"
    assert out.loc["K-562", "batch"] == "a"


def test_index_as_ids_and_input_untouched(adata):
    meta = pd.DataFrame({"x": [1, 2]}, index=["K-562", "MCF7"])
    before = meta.copy()
    out, rep = read_metadata(meta, adata)
    assert rep.id_column == "index"
    pd.testing.assert_frame_equal(meta, before)
    assert out.loc["MCF7", "x"] == 2


def test_dataframe_data_and_no_data(tmp_path):
    p = tmp_path / "m.tsv"
    p.write_text("id\tgroup\nS1\tA\nS2\tB\n")
    meta, rep = read_metadata(p)
    assert rep is None and list(meta.index) == ["S1", "S2"] and list(meta.columns) == ["group"]
    expr = pd.DataFrame({"ABCB1": [1.0, 2.0, 3.0]}, index=["S2", "S3", "S1"])
    meta2, rep2 = read_metadata(p, expr)
    assert list(meta2["group"].fillna("-")) == ["B", "-", "A"]


def test_excel_metadata(tmp_path, adata):
    p = tmp_path / "m.xlsx"
    pd.DataFrame({"sample": ["K-562", "MCF7"], "grade": [2, 3]}).to_excel(p, index=False)
    meta, rep = read_metadata(p, adata)
    assert meta.loc["MCF7", "grade"] == 3


def test_errors(tmp_path, adata):
    with pytest.raises(InputFormatError, match="duplicated"):
        read_metadata(pd.DataFrame({"id": ["a", "a"]}), adata, id_column="id")
    with pytest.raises(InputFormatError, match="id_column"):
        read_metadata(pd.DataFrame({"id": ["a"]}), adata, id_column="nope")
    with pytest.raises(InputFormatError, match="does not exist"):
        read_metadata(tmp_path / "none.csv", adata)
    with pytest.raises(ResistScoreError, match="match"):
        read_metadata(pd.DataFrame({"id": ["a"]}), adata, match="fuzzy")
    with pytest.raises(InputFormatError, match="no rows"):
        read_metadata(pd.DataFrame({"id": []}), adata)


def test_normalize_sample_id():
    assert normalize_sample_id(" ov:nci_adr-res ") == "OVNCIADRRES"


def test_read_table(tmp_path):
    from resistscore.io import read_table

    p = tmp_path / "scores.tsv.gz"
    pd.DataFrame({"sample": ["S1", "S2"], "efflux": [0.5, -1.25], "grp": ["a", None]}).to_csv(
        p, sep="\t", index=False, compression="gzip"
    )
    t = read_table(p, what="scores")
    assert list(t.index) == ["S1", "S2"] and t.index.name == "sample"
    assert t["efflux"].tolist() == [0.5, -1.25]
    assert t.loc["S1", "grp"] == "a" and pd.isna(t.loc["S2", "grp"])
    assert read_table(p, index_col="sample").shape == (2, 2)
    q = tmp_path / "dup.csv"
    q.write_text("id,x\na,1\na,2\n")
    with pytest.raises(InputFormatError, match="duplicated ids"):
        read_table(q, what="metadata")
    with pytest.raises(InputFormatError, match="no column"):
        read_table(q, index_col="nope")
    e = tmp_path / "empty.csv"
    e.write_text("id,x\n")
    with pytest.raises(InputFormatError, match="no rows"):
        read_table(e)
