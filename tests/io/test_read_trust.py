"""Regression tests of issue 10 for the readers: each failed (wrong numbers, silent renaming, traceback) on main 043dad9."""

from __future__ import annotations

import gzip

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from resistscore._errors import InputFormatError
from resistscore.io import read, read_metadata


def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _frame(p, **kw):
    return read(p, as_frame=True, **kw)


# --- 1: number formats decided from every data cell ------------------------------------------------


def test_thousands_separator_is_not_a_decimal_comma(tmp_path):
    # the file: 1,500 was read as 1.5
    p = _write(tmp_path, "k.tsv", "gene\tS1\tS2\nABCB1\t1,500\t900\nABCG2\t800\t2,000\n")
    df = _frame(p)
    np.testing.assert_array_equal(df.loc[["S1", "S2"], ["ABCB1", "ABCG2"]], [[1500, 800], [900, 2000]])
    rep = df.attrs["resistscore_read_report"]
    assert (rep["decimal"], rep["thousands"]) == (".", ",")
    assert "1,500" in rep["number_format_reason"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # quoted thousands in a comma-separated file
        (
            'gene,S1,S2\nABCB1,"1,500",900\nABCG2,800,"2,000"\nTP53,"12,345.5",7\n',
            [[1500, 800, 12345.5], [900, 2000, 7]],
        ),
        # several groups can only be thousands
        ("gene;S1;S2\nABCB1;1,500,000;9\nABCG2;8;2\n", [[1.5e6, 8], [9, 2]]),
        # a decimal comma: '1,5' can only be a decimal
        ("gene;S1;S2\nABCB1;1,500;0,5\nABCG2;8;2,25\n", [[1.5, 8], [0.5, 2.25]]),
        # European thousands dots beside decimal commas
        ("gene;S1;S2\nABCB1;1.500,5;3\nABCG2;8,25;2\n", [[1500.5, 8.25], [3, 2]]),
        # the mirror of the issue: German counts, 1.500 = 1500 beside 900 (a decimal 1.5 would be '1,5')
        ("gene;S1;S2\nABCB1;1.500;900\nABCG2;800;2.000\n", [[1500, 800], [900, 2000]]),
        # three decimals everywhere, and a value below 1 that cannot be a grouped integer
        ("gene\tS1\tS2\nABCB1\t1.500\t9.000\nABCG2\t8.125\t0.250\n", [[1.5, 8.125], [9, 0.25]]),
        # exponents and signs
        ("gene\tS1\tS2\nABCB1\t1.5e3\t-2\nABCG2\t+8\t2E-1\n", [[1500, 8], [-2, 0.2]]),
    ],
)
def test_number_formats_decided_from_all_cells(tmp_path, text, expected):
    df = _frame(_write(tmp_path, "t.txt", text), orientation="genes_x_samples")
    np.testing.assert_allclose(df.to_numpy(), expected, rtol=0, atol=0)


def test_semicolon_file_with_dots_in_labels_and_decimal_commas(tmp_path):
    # a valid ';' file was refused with the hint "use ';'": the '.' of Ensembl versions in the first 4 KB
    # switched the decimal-comma guess off
    p = _write(
        tmp_path,
        "eu.csv",
        "gene;S1;S2\nENSG00000085563.15;5,1;2\nENSG00000118777.11;1;0,5\nENSG00000103222.20;4;4,25\n",
    )
    df = _frame(p)
    np.testing.assert_allclose(df.to_numpy(), [[5.1, 1, 4], [2, 0.5, 4.25]])
    assert df.attrs["resistscore_read_report"]["delimiter"] == ";"


def test_undecidable_number_format_asks_for_decimal_or_thousands(tmp_path):
    p = _write(tmp_path, "amb.tsv", "gene\tS1\tS2\nABCB1\t1,234\t5\nABCG2\t5,678\t9,012\n")
    with pytest.raises(
        InputFormatError, match=r"decimal=',' if it is 1\.234, or thousands=',' if it is 1234"
    ) as e:
        read(p)
    assert "--decimal" in str(e.value) and "--thousands" in str(e.value)
    np.testing.assert_allclose(_frame(p, decimal=",").to_numpy(), [[1.234, 5.678], [5, 9.012]])
    np.testing.assert_allclose(_frame(p, thousands=",").to_numpy(), [[1234, 5678], [5, 9012]])
    rep = _frame(p, thousands=",").attrs["resistscore_read_report"]
    assert rep["number_format_reason"] == "given by the user"


def test_all_cells_ambiguous_without_integers_raise(tmp_path):
    # 1.500 / 9.000 / 8.125 / 2.250 are three-decimal numbers or German thousands: nothing in the file decides
    p = _write(tmp_path, "fixed.tsv", "gene\tS1\tS2\nABCB1\t1.500\t9.000\nABCG2\t8.125\t2.250\n")
    with pytest.raises(InputFormatError, match="cannot tell"):
        read(p)
    np.testing.assert_allclose(_frame(p, decimal=".").to_numpy(), [[1.5, 8.125], [9, 2.25]])


def test_mixed_number_formats_raise(tmp_path):
    p = _write(tmp_path, "mix.tsv", "gene\tS1\tS2\nABCB1\t1,5\t5.25\nABCG2\t2\t3\n")
    with pytest.raises(InputFormatError, match="mixes numbers written with a decimal point"):
        read(p)
    with pytest.raises(InputFormatError, match="hold text"):
        read(p, decimal=",")  # 5.25 is not a number with a decimal comma


def test_space_thousands_on_request(tmp_path):
    p = _write(tmp_path, "fr.tsv", "gene\tS1\tS2\nABCB1\t1 500,5\t9\nABCG2\t8\t2\u00a0000\n")
    np.testing.assert_allclose(_frame(p, decimal=",", thousands=" ").to_numpy(), [[1500.5, 8], [9, 2000]])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"decimal": ";"}, "decimal="),
        ({"thousands": "x"}, "thousands="),
        ({"decimal": ",", "thousands": ","}, "cannot both"),
    ],
)
def test_bad_number_format_arguments(tmp_path, kw, match):
    p = _write(tmp_path, "t.tsv", "gene\tS1\nABCB1\t1\n")
    with pytest.raises(InputFormatError, match=match):
        read(p, **kw)


# --- 2: row numbers are never gene ids ----------------------------------------------------------------


def test_matrix_without_gene_column_raises(tmp_path):
    # the rows were numbered 0, 1, 2 ... and taken as Entrez ids (1 -> A1BG, 2 -> A2M)
    p = _write(tmp_path, "m.tsv", "S1\tS2\tS3\n1.0\t2.0\t3.0\n4\t5\t6\n7\t8\t9\n")
    with pytest.raises(InputFormatError, match="no column of gene identifiers") as e:
        read(p)
    assert "gene_column=" in str(e.value) and "--gene-column" in str(e.value)
    with pytest.raises(InputFormatError, match="gene_column="):
        read(p, orientation="genes_x_samples")


def test_written_out_index_is_not_gene_ids(tmp_path):
    p = tmp_path / "idx.csv"
    pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["S1", "S2", "S3"]).to_csv(p)  # index 0..3
    with pytest.raises(InputFormatError, match="row numbers"):
        read(p)


def test_numeric_probe_ids_under_an_identifier_name_are_kept(tmp_path):
    # Illumina-style numeric probe ids are not Entrez ids, but a column named ID_REF holds identifiers
    p = _write(tmp_path, "ilmn.tsv", "ID_REF\tGSM1\tGSM2\n10025906\t5.1\t6\n10028338\t7\t8.5\n")
    assert list(read(p).var_names) == ["10025906", "10028338"]
    q = _write(tmp_path, "nums.tsv", "smp0\tsmp1\n0\t5.1\t6\n99999999\t7\t8.5\n")  # R header, no id name
    with pytest.raises(InputFormatError, match="not NCBI Gene ids"):
        read(q)


def test_samples_x_genes_without_row_labels_numbers_the_samples(tmp_path):
    p = _write(tmp_path, "sxg.csv", "ABCB1,ABCG2,TP53\n1,2,3\n4,5,6\n")
    a = read(p)
    assert list(a.var_names) == ["ABCB1", "ABCG2", "TP53"] and list(a.obs_names) == ["1", "2"]
    assert a.uns["resistscore"]["read_report"]["orientation"] == "samples_x_genes"


def test_r_write_table_header_keeps_the_gene_names(tmp_path):
    # R's write.table(row.names=TRUE) writes a header one field short: the gene names were lost
    p = _write(tmp_path, "r.tsv", "S1\tS2\tS3\nABCB1\t1\t2\t3\nABCG2\t4\t5\t6\nTP53\t7\t8\t9\n")
    a = read(p)
    assert list(a.var_names) == ["ABCB1", "ABCG2", "TP53"] and list(a.obs_names) == ["S1", "S2", "S3"]
    np.testing.assert_array_equal(a.X, [[1, 4, 7], [2, 5, 8], [3, 6, 9]])


# --- 12: duplicated sample names are an error, not S001.1 ----------------------------------------------


def test_duplicate_sample_columns_raise(tmp_path):
    p = _write(tmp_path, "dup.tsv", "gene\tS001\tS001\tS2\nABCB1\t1\t2\t3\nABCG2\t4\t5\t6\n")
    with pytest.raises(InputFormatError, match=r"'S001' \(2x\).*does not rename"):
        read(p)


def test_duplicate_sample_rows_raise(tmp_path):
    p = _write(tmp_path, "dup.csv", "sample,ABCB1,ABCG2,TP53\nS1,1,2,3\nS1,4,5,6\nS2,7,8,9\n")
    with pytest.raises(InputFormatError, match="'S1' \\(2x\\)"):
        read(p)


def test_duplicate_gene_columns_keep_their_names(tmp_path):
    # samples x genes with a gene twice: both columns keep the name (harmonize_genes collapses them),
    # never ABCB1.1
    p = _write(tmp_path, "g.csv", "sample,ABCB1,ABCB1,ABCG2,TP53\nS1,1,2,3,4\nS2,5,6,7,8\n")
    a = read(p)
    assert list(a.var_names) == ["ABCB1", "ABCB1", "ABCG2", "TP53"]
    assert a.uns["resistscore"]["read_report"]["duplicated_gene_ids"] == 1


# --- 13: integer identifier columns are annotation, and the report says what is data --------------------


@pytest.mark.parametrize("col", ["NCBI_ID", "Entrez", "gene_id", "GeneID", "EntrezGeneID"])
def test_integer_id_columns_are_not_samples(tmp_path, col):
    p = _write(
        tmp_path,
        "ann.tsv",
        f"gene\tS1\t{col}\tS2\nABCB1\t1.5\t5243\t3\nABCG2\t4\t9429\t6.5\nTP53\t2\t7157\t1\n",
    )
    a = read(p)
    assert list(a.obs_names) == ["S1", "S2"]
    assert list(a.var[col]) == ["5243", "9429", "7157"]
    rep = a.uns["resistscore"]["read_report"]
    assert rep["data_columns"] == ["S1", "S2"] and rep["n_data_columns"] == 2
    assert col in rep["annotation_columns"] and col in rep["annotation_reasons"]


def test_counts_column_named_like_an_id_stays_a_sample(tmp_path):
    p = _write(tmp_path, "c.tsv", "gene\tSample_ID_1\tSample_ID_2\nABCB1\t0\t3\nABCG2\t12\t0\nTP53\t7\t7\n")
    a = read(p)
    assert list(a.obs_names) == ["Sample_ID_1", "Sample_ID_2"]


# --- 25: messages ------------------------------------------------------------------------------------


def test_excel_readme_first_sheet_names_the_sheet_option(tmp_path):
    p = tmp_path / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"README": ["Expression of 3 genes", "values are log2"]}).to_excel(
            xw, sheet_name="README", index=False
        )
        pd.DataFrame({"gene": ["ABCB1", "ABCG2"], "S1": [1.0, 2.0], "S2": [3.0, 4.0]}).to_excel(
            xw, sheet_name="data", index=False
        )
    with pytest.raises(
        InputFormatError, match=r"sheets \['README', 'data'\].*sheet='<name>' \(CLI: --sheet\)"
    ):
        read(p)
    assert read(p, sheet="data").shape == (2, 2)


def test_text_cells_are_named_not_blamed_as_nan(tmp_path):
    rows = "".join(f"G{i}\t{i}.5\t{i + 1}\n" for i in range(30))
    p = _write(tmp_path, "t.tsv", "gene\tS1\tS2\nABCB1\toops\t1\nABCG2\t2\t#DIV/0!\n" + rows)
    with pytest.raises(InputFormatError, match="2 data cell") as e:
        read(p, orientation="genes_x_samples")
    msg = str(e.value)
    assert "row 'ABCB1', column 'S1': 'oops'" in msg and "row 'ABCG2', column 'S2': '#DIV/0!'" in msg
    assert "NaN" not in msg


def test_not_gzipped_despite_the_name(tmp_path):
    p = _write(tmp_path, "plain.csv.gz", "gene,S1,S2\nABCB1,1,2\nABCG2,3,4\n")
    a = read(p)
    assert a.shape == (2, 2)
    assert "not compressed" in a.uns["resistscore"]["read_report"]["note_compression"]


def test_truncated_gzip_is_called_so_and_plain_files_are_not(tmp_path):
    p = tmp_path / "t.csv.gz"
    data = gzip.compress(("gene,S1,S2\n" + "".join(f"G{i},{i},{i}\n" for i in range(3000))).encode())
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFormatError, match="damaged or truncated gzip file") as e:
        read(p)
    assert "t.csv.gz" in str(e.value)
    q = _write(tmp_path, "ragged.csv", "gene,S1,S2\nABCB1,1,2,3,4\nABCG2,3,4\n")
    with pytest.raises(InputFormatError) as e2:
        read(q)
    assert "truncated" not in str(e2.value) and "ragged.csv" in str(e2.value)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1"])
def test_encodings(tmp_path, encoding):
    p = _write(tmp_path, "e.tsv", "gène\tS\u00e9\tS2\nABCB1\t1.5\t2\nABCG2\t3\t4\n", encoding)
    a = read(p)
    assert list(a.obs_names) == ["S\u00e9", "S2"] and list(a.var_names) == ["ABCB1", "ABCG2"]
    np.testing.assert_allclose(a.X, [[1.5, 3], [2, 4]])


def test_h5ad_without_x_is_a_clear_error(tmp_path):
    p = tmp_path / "nox.h5ad"
    a = ad.AnnData(obs=pd.DataFrame(index=["a", "b"]), var=pd.DataFrame(index=["ABCB1", "ABCG2"]))
    a.layers["counts"] = np.ones((2, 2))
    a.write_h5ad(p)
    with pytest.raises(InputFormatError, match=r"no expression matrix.*adata.X = adata.layers\['counts'\]"):
        read(p)
    with pytest.raises(InputFormatError, match="no expression matrix"):
        read(p, backed=True)


def test_overflowing_numbers_are_not_silently_infinite(tmp_path):
    p = _write(tmp_path, "o.tsv", "gene\tS1\tS2\nABCB1\t1e400\t2\nABCG2\t3\tinf\n")
    with pytest.raises(InputFormatError, match="'1e400'"):
        read(p)


def test_metadata_rows_longer_than_the_header(tmp_path):
    # found by the fuzz suite: pandas made a MultiIndex and read_metadata crashed (NotImplementedError)
    p = tmp_path / "m.tsv"
    p.write_bytes(b"\x01\n\t\t")
    with pytest.raises(InputFormatError, match="more fields than the header"):
        read_metadata(p, pd.DataFrame({"ABCB1": [1.0]}, index=["S1"]))


def test_metadata_ids_as_written_and_numbers_with_na(tmp_path):
    # ids "001" were turned into 1 (numeric column) and never matched; "NA" kept a numeric column as text
    p = _write(tmp_path, "meta.tsv", "sample\tage\tdose\n001\t61\t1,5\n002\tNA\t2,25\n003\t70\t0,5\n")
    data = pd.DataFrame({"ABCB1": [1.0, 2.0, 3.0]}, index=["001", "002", "003"])
    meta, rep = read_metadata(p, data)
    assert rep.only_in_data == [] and list(meta.index) == ["001", "002", "003"]
    np.testing.assert_array_equal(meta["age"], [61, np.nan, 70])
    np.testing.assert_array_equal(meta["dose"], [1.5, 2.25, 0.5])
