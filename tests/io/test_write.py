from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from resistscore._errors import InputFormatError
from resistscore.io import read, write

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
