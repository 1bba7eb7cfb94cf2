from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resistscore._errors import InputFormatError
from resistscore.io import read, write
from resistscore.io._write import (
    FORMULA_START,
    neutralize_formulas,
    restore_formulas,
    safe_text,
    write_table,
)

DF = pd.DataFrame([[1.5, 2.0, 0.0], [3.0, 4.25, 7.0]], index=["s1", "s2"], columns=["ABCB1", "ABCG2", "TP53"])


@pytest.mark.parametrize("name", ["o.csv", "o.tsv.gz", "o.parquet", "o.xlsx", "o.h5ad"])
def test_roundtrip(tmp_path, name):
    p = write(DF, tmp_path / name)
    back = read(p, as_frame=True)
    np.testing.assert_array_equal(back.to_numpy(), DF.to_numpy())
    assert list(back.index) == ["s1", "s2"] and list(back.columns) == ["ABCB1", "ABCG2", "TP53"]


def test_anndata_and_no_overwrite(tmp_path):
    a = ad.AnnData(X=DF.to_numpy(), obs=pd.DataFrame(index=DF.index), var=pd.DataFrame(index=DF.columns))
    p = write(a, tmp_path / "x.tsv", orientation="samples_x_genes")
    assert p.read_text().splitlines()[0] == "sample\tABCB1\tABCG2\tTP53"
    with pytest.raises(InputFormatError, match="exists"):
        write(a, p)
    write(a, p, overwrite=True)
    with pytest.raises(InputFormatError, match="suffix"):
        write(a, tmp_path / "x.weird")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.tsv"]  # no temporary files left behind


# ------------------------------------------------------------------ spreadsheet formulas (issue 10)
NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
TEXT = st.text(alphabet=st.sampled_from(list("=+-@\t\r'a1.,e ") + ["é"]), max_size=6)


@given(TEXT)
def test_safe_text_is_safe_and_exactly_undone(text):
    import re

    safe = safe_text(text)
    assert safe[:1] not in FORMULA_START or re.fullmatch(NUMBER, safe), safe
    assert restore_formulas(pd.DataFrame({"x": [safe]}))["x"].iloc[0] == text
    if re.fullmatch(NUMBER, text) or text[:1] not in (*FORMULA_START, "'"):
        assert safe == text


def test_neutralize_formulas_cells_labels_and_names():
    df = pd.DataFrame(
        {"=a": ["-x", "ok"], "n": [-1.5, 2.0], "c": pd.Categorical(["@c", "d"]), "b": [True, False]},
        index=pd.Index(["+s1", "-2"], name="=idx"),
    )
    original = df.copy()
    out = neutralize_formulas(df)
    pd.testing.assert_frame_equal(df, original)  # the input is not modified
    assert list(out.columns) == ["'=a", "n", "c", "b"] and out.index.name == "'=idx"
    assert list(out.index) == ["'+s1", "-2"]  # -2 is a number
    assert out["'=a"].tolist() == ["'-x", "ok"]
    assert (
        out["c"].tolist() == ["'@c", "d"]
        and out["n"].tolist() == [-1.5, 2.0]
        and out["b"].tolist() == [True, False]
    )
    multi = pd.DataFrame([[1.0]], columns=pd.MultiIndex.from_tuples([("=x", "y")]))
    assert neutralize_formulas(multi).columns.tolist() == [("'=x", "y")]


def test_write_table_gz_carries_the_target_name(tmp_path):
    import gzip

    path = write_table(pd.DataFrame({"a": [1.0]}, index=["=s"]), tmp_path / "t.csv.gz")
    raw = path.read_bytes()
    assert b".part" not in raw and b"t.csv" in raw[:40]
    assert gzip.decompress(raw).decode() == ",a\n'=s,1.0\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv.gz"]
    # gzip's level 6, not Python's 9 (4x the time for 2.6 % smaller score tables): the header's XFL byte is 2
    # at level 9, 4 at level 1, 0 between
    assert raw[8] == 0
