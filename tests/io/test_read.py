from __future__ import annotations

import gzip
import hashlib
import os

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from resistscore._errors import InputFormatError, OrientationError, ResistScoreError
from resistscore.io import read

GENES = ["ABCB1", "ABCG2", "ABCC1", "TP53", "GAPDH"]
SAMPLES = ["S1", "S2", "S3"]
# values chosen by hand: X[gene, sample]
X_GS = np.array(
    [[5.1, 2.0, 7.3], [1.0, 0.5, 3.2], [4.0, 4.5, 4.25], [9.0, 8.0, 7.0], [12.0, 11.5, 12.5]],
)


def _frame_gs() -> pd.DataFrame:
    df = pd.DataFrame(X_GS, index=GENES, columns=SAMPLES)
    df.index.name = "gene"
    return df


def _check(adata, genes=GENES, samples=SAMPLES):
    assert list(adata.obs_names) == samples
    assert list(adata.var_names) == genes
    np.testing.assert_allclose(np.asarray(adata.X), X_GS.T[: len(samples)][:, : len(genes)])


def _stat(path):
    st = os.stat(path)
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return digest, st.st_mtime_ns, st.st_size


@pytest.mark.parametrize(
    "name", ["expr.csv", "expr.tsv", "expr.txt", "expr.csv.gz", "expr.tsv.gz", "expr.data"]
)
def test_delimited_genes_x_samples(tmp_path, name):
    p = tmp_path / name
    sep = "," if ".csv" in name else "\t"
    _frame_gs().to_csv(p, sep=sep)
    before = _stat(p)
    a = read(p)
    _check(a)
    rep = a.uns["resistscore"]["read_report"]
    assert rep["orientation"] == "genes_x_samples"
    assert rep["n_samples"] == 3 and rep["n_genes"] == 5
    assert rep["input_sha256"] == before[0]
    assert _stat(p) == before  # the input file is never modified


def test_samples_x_genes_detected(tmp_path):
    p = tmp_path / "t.csv"
    _frame_gs().T.rename_axis("sample").to_csv(p)
    a = read(p)
    _check(a)
    assert a.uns["resistscore"]["read_report"]["orientation"] == "samples_x_genes"
    assert "column labels" in a.uns["resistscore"]["read_report"]["orientation_reason"]


def test_orientation_override(tmp_path):
    p = tmp_path / "t.csv"
    _frame_gs().to_csv(p)
    a = read(p, orientation="samples_x_genes")
    assert list(a.obs_names) == GENES
    assert a.uns["resistscore"]["read_report"]["orientation_reason"] == "given by the user"


def test_inconclusive_labels_use_longer_axis(tmp_path):
    p = tmp_path / "t.tsv"
    df = pd.DataFrame(
        np.arange(12.0).reshape(4, 3), index=["r1", "r2", "r3", "r4"], columns=["c1", "c2", "c3"]
    )
    df.to_csv(p, sep="\t")
    a = read(p)
    assert a.shape == (3, 4)
    assert "inconclusive" in a.uns["resistscore"]["read_report"]["orientation_reason"]


def test_annotation_columns_go_to_var(tmp_path):
    p = tmp_path / "probes.csv"
    df = pd.DataFrame(
        {
            "probe": ["209993_at", "209994_s_at", "209735_at"],
            "symbol": ["ABCB1", "ABCB1", "ABCG2"],
            "entrez": [5243, 5243, 9429],
            "A": [1.0, 2.0, 3.0],
            "B": [4.0, 5.0, 6.0],
        }
    )
    df.to_csv(p, index=False)
    a = read(p)
    assert list(a.var_names) == ["209993_at", "209994_s_at", "209735_at"]
    assert list(a.var["symbol"]) == ["ABCB1", "ABCB1", "ABCG2"]
    assert list(a.var["entrez"]) == ["5243", "5243", "9429"]
    np.testing.assert_array_equal(a.X, [[1, 2, 3], [4, 5, 6]])
    assert a.uns["resistscore"]["read_report"]["annotation_columns"] == ["symbol", "entrez"]


def test_gene_column_choice(tmp_path):
    p = tmp_path / "probes.tsv"
    pd.DataFrame({"probe": ["p1", "p2"], "symbol": ["ABCB1", "ABCG2"], "A": [1.0, 2.0], "B": [3, 4]}).to_csv(
        p, sep="\t", index=False
    )
    a = read(p, gene_column="symbol", orientation="genes_x_samples")
    assert list(a.var_names) == ["ABCB1", "ABCG2"]
    assert list(a.var["probe"]) == ["p1", "p2"]
    with pytest.raises(InputFormatError, match="gene_column"):
        read(p, gene_column="nope")


def test_missing_values_and_na_strings(tmp_path):
    p = tmp_path / "na.csv"
    p.write_text("gene,S1,S2\nABCB1,1.5,NA\nABCG2,,2\nTP53,#N/A,3\n")
    a = read(p)
    np.testing.assert_array_equal(np.isnan(a.X), [[False, True, True], [True, False, False]])


def test_few_text_cells_raise_and_are_named(tmp_path):
    # issue 10 #25: a text cell is never turned into NaN silently (it was, below 10 % of the cells)
    rows = "\n".join(f"G{i},{i}.0,{i + 1}.0" for i in range(30))
    p = tmp_path / "t.csv"
    p.write_text("gene,S1,S2\nABCB1,oops,1\n" + rows + "\n")
    with pytest.raises(InputFormatError, match="row 'ABCB1', column 'S1': 'oops'"):
        read(p, orientation="genes_x_samples")


def test_many_text_cells_raise(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene,S1,S2\nABCB1,x,1\nABCG2,y,z\n")
    with pytest.raises(InputFormatError, match="not numbers|no numeric"):
        read(p)


def test_excel(tmp_path):
    p = tmp_path / "expr.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"a": [1]}).to_excel(xw, sheet_name="notes")
        _frame_gs().to_excel(xw, sheet_name="expression")
    _check(read(p, sheet="expression"))
    _check(read(p, sheet=1))
    with pytest.raises(InputFormatError, match="sheet"):
        read(p, sheet="missing")


def test_parquet(tmp_path):
    p = tmp_path / "expr.parquet"
    _frame_gs().to_parquet(p)
    _check(read(p))
    # samples x genes with a default index
    q = tmp_path / "sxg.parquet"
    _frame_gs().T.reset_index(names="sample").to_parquet(q)
    _check(read(q))


def test_gct(tmp_path):
    p = tmp_path / "expr.gct"
    lines = ["#1.2", "5\t3", "Name\tDescription\t" + "\t".join(SAMPLES)]
    for g, row in zip(GENES, X_GS):
        lines.append(f"{g}\tna\t" + "\t".join(map(str, row)))
    p.write_text("\n".join(lines) + "\n")
    a = read(p)
    _check(a)
    assert a.uns["resistscore"]["read_report"]["format"] == "gct"
    bad = tmp_path / "bad.gct"
    bad.write_text("#1.2\n1\t1\nfoo\tbar\tS1\nA\tB\t1\n")
    with pytest.raises(InputFormatError, match="Name"):
        read(bad)


def test_geo_series_matrix(tmp_path):
    p = tmp_path / "GSE1_series_matrix.txt.gz"
    text = "\n".join(
        [
            '!Series_title\t"a study"',
            '!Sample_title\t"ctrl 1"\t"res 1"\t"res 2"',
            '!Sample_geo_accession\t"GSM1"\t"GSM2"\t"GSM3"',
            '!Sample_characteristics_ch1\t"cell line: A"\t"cell line: B"\t"cell line: B"',
            "!series_matrix_table_begin",
            '"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"',
            *(f'"{g}"\t' + "\t".join(map(str, r)) for g, r in zip(["209993_at", "209735_at"], X_GS[:2])),
            "!series_matrix_table_end",
        ]
    )
    with gzip.open(p, "wt") as fh:
        fh.write(text + "\n")
    a = read(p)
    assert list(a.obs_names) == ["GSM1", "GSM2", "GSM3"]
    assert list(a.var_names) == ["209993_at", "209735_at"]
    np.testing.assert_allclose(a.X, X_GS[:2].T)
    assert list(a.obs["cell line"]) == ["A", "B", "B"]
    assert list(a.obs["title"]) == ["ctrl 1", "res 1", "res 2"]


def test_h5ad_and_backed(tmp_path):
    p = tmp_path / "x.h5ad"
    ad.AnnData(X=X_GS.T, obs=pd.DataFrame(index=SAMPLES), var=pd.DataFrame(index=GENES)).write_h5ad(p)
    before = _stat(p)
    _check(read(p))
    b = read(p, backed=True)
    assert b.isbacked and b.shape == (3, 5)
    assert read(p, backed=True, as_frame=True).loc["S2", "ABCG2"] == 0.5
    b.file.close()
    assert _stat(p) == before


def test_h5ad_genes_as_obs_is_transposed(tmp_path):
    p = tmp_path / "x.h5ad"
    ad.AnnData(X=X_GS, obs=pd.DataFrame(index=GENES), var=pd.DataFrame(index=SAMPLES)).write_h5ad(p)
    a = read(p)
    _check(a)
    assert "transposed" in a.uns["resistscore"]["read_report"]["orientation_reason"]
    with pytest.raises(OrientationError):
        read(p, backed=True)


def _counts():
    return sp.csr_matrix(np.array([[0, 3, 1, 0, 2], [5, 0, 0, 1, 0], [0, 0, 7, 2, 1]], dtype=np.float32))


ENS = ["ENSG00000085563", "ENSG00000118777", "ENSG00000103222", "ENSG00000141510", "ENSG00000111640"]


def test_10x_mtx_folder(tmp_path):
    d = tmp_path / "filtered_feature_bc_matrix"
    d.mkdir()
    with gzip.open(d / "matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, _counts().T.tocoo())
    with gzip.open(d / "features.tsv.gz", "wt") as fh:
        for e, g in zip(ENS, GENES):
            fh.write(f"{e}\t{g}\tGene Expression\n")
    with gzip.open(d / "barcodes.tsv.gz", "wt") as fh:
        fh.write("AAAC-1\nAAAG-1\nAAAT-1\n")
    a = read(d)
    assert a.uns["resistscore"]["read_report"]["format"] == "10x_mtx"
    assert list(a.var_names) == ENS
    assert list(a.var["gene_symbols"]) == GENES
    np.testing.assert_array_equal(a.X.toarray(), _counts().toarray())


def test_10x_h5(tmp_path):
    p = tmp_path / "filtered_feature_bc_matrix.h5"
    m = _counts().T.tocsc()  # genes x cells stored column-compressed by cell
    with h5py.File(p, "w") as f:
        g = f.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = m.data, m.indices, m.indptr
        g["shape"] = np.array(m.shape, dtype=np.int64)
        g["barcodes"] = np.array([b"AAAC-1", b"AAAG-1", b"AAAT-1"])
        fe = g.create_group("features")
        fe["id"] = np.array([e.encode() for e in ENS])
        fe["name"] = np.array([s.encode() for s in GENES])
        fe["feature_type"] = np.array([b"Gene Expression"] * 5)
        fe["genome"] = np.array([b"GRCh38"] * 5)
        fe["_all_tag_keys"] = np.array([b"genome"])
    a = read(p)
    assert a.uns["resistscore"]["read_report"]["format"] == "10x_h5"
    assert list(a.var_names) == ENS
    np.testing.assert_array_equal(a.X.toarray(), _counts().toarray())


def test_as_frame(tmp_path):
    p = tmp_path / "t.csv"
    _frame_gs().to_csv(p)
    df = read(p, as_frame=True)
    assert df.shape == (3, 5)
    assert df.loc["S3", "ABCB1"] == 7.3
    assert df.attrs["resistscore_read_report"]["format"] == "csv"


def test_duplicated_ids_are_reported(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene,S1,S2\nABCB1,1,2\nABCB1,3,4\nABCG2,5,6\n")
    a = read(p)
    rep = a.uns["resistscore"]["read_report"]
    assert rep["duplicated_gene_ids"] == 1 and rep["duplicated_gene_examples"] == ["ABCB1"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty"),
        (b"gene,S1\n", "no data rows"),
        (b"\x00\x01\x02\x03binary\xff\xfe", "binary"),
    ],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "bad.dat"
    p.write_bytes(content)
    with pytest.raises(InputFormatError, match=match):
        read(p)


def test_truncated_gzip(tmp_path):
    p = tmp_path / "t.csv.gz"
    data = gzip.compress(("gene,S1,S2\n" + "".join(f"G{i},{i},{i}\n" for i in range(2000))).encode())
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFormatError, match="truncated|gzip"):
        read(p)


def test_missing_path_and_bad_args(tmp_path):
    with pytest.raises(InputFormatError, match="does not exist"):
        read(tmp_path / "nope.csv")
    p = tmp_path / "t.csv"
    _frame_gs().to_csv(p)
    with pytest.raises(ResistScoreError, match="format"):
        read(p, format="xml")
    with pytest.raises(ResistScoreError, match="orientation"):
        read(p, orientation="sideways")
    with pytest.raises(InputFormatError, match="backed"):
        read(p, backed=True)


def test_folder_without_matrix(tmp_path):
    with pytest.raises(InputFormatError, match="matrix.mtx"):
        read(tmp_path)


def test_10x_v2_folder_uncompressed(tmp_path):
    d = tmp_path / "v2"
    d.mkdir()
    scipy.io.mmwrite(d / "matrix.mtx", _counts().T.tocoo())
    (d / "genes.tsv").write_text("".join(f"{e}\t{g}\n" for e, g in zip(ENS, GENES)))
    (d / "barcodes.tsv").write_text("AAAC-1\nAAAG-1\nAAAT-1\n")
    a = read(d)
    assert list(a.var_names) == ENS
    np.testing.assert_array_equal(a.X.toarray(), _counts().toarray())


def test_entrez_labelled_rows(tmp_path):
    p = tmp_path / "entrez.tsv"
    p.write_text("entrez_id\tS1\tS2\n5243\t1\t2\n9429\t3\t4\n4363\t5\t6\n")
    a = read(p)
    assert list(a.var_names) == ["5243", "9429", "4363"]
    from resistscore.pp import harmonize_genes

    out, _ = harmonize_genes(a)
    assert list(out.var_names) == ["ABCB1", "ABCG2", "ABCC1"]


def test_mouse_table_orientation(tmp_path):
    p = tmp_path / "mouse.csv"
    p.write_text("gene,ctrl_1,ctrl_2\nAbcb1a,1,2\nAbcb1b,3,4\nAbcg2,5,6\nTrp53,7,8\n")
    a = read(p)
    assert a.uns["resistscore"]["read_report"]["orientation"] == "genes_x_samples"
    from resistscore.pp import harmonize_genes

    out, rep = harmonize_genes(a)
    assert rep.species == "mouse"
    assert list(out.var_names) == ["ABCB1", "ABCG2", "TP53"]
    np.testing.assert_array_equal(out.X[:, 0], [2.0, 3.0])  # Abcb1a and Abcb1b averaged within each sample


def test_european_csv_semicolon_and_decimal_comma(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_text(
        "gene;S1;S2;S3\nABCB1;5,1;2;7,3\nABCG2;1;0,5;3,2\nABCC1;4;4,5;4,25\nTP53;9;8;7\nGAPDH;12;11,5;12,5\n"
    )
    a = read(p)
    _check(a)
    rep = a.uns["resistscore"]["read_report"]
    assert rep["delimiter"] == ";" and rep["decimal"] == ","


def test_duplicated_sample_columns_raise(tmp_path):
    # issue 10 #12: duplicated sample names were renamed S1, S1.1 (only noted in the report)
    p = tmp_path / "dupcols.tsv"
    p.write_text("gene\tS1\tS1\tS2\nABCB1\t1\t2\t3\nABCG2\t4\t5\t6\n")
    with pytest.raises(InputFormatError, match="'S1' \\(2x\\)"):
        read(p)
