from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from resistscore._errors import AmbiguousGeneWarning, GeneIdentifierError, InputFormatError, ResistScoreError
from resistscore.pp import GeneMappingReport, gene_table, harmonize_genes, map_genes


def _one(x, **kw):
    rep = map_genes([x], **kw)
    return rep.table.iloc[0]


@pytest.mark.parametrize(
    ("given", "symbol", "step"),
    [
        ("ABCB1", "ABCB1", "exact"),
        ("MDR1", "ABCB1", "previous"),  # previous symbol (also an alias of TBC1D9: previous wins)
        ("BCRP", "ABCG2", "alias"),
        ("MXR", "ABCG2", "alias"),
        ("MRP1", "ABCC1", "previous"),
        ("P-gp", "ABCB1", "alias"),
        ("abcb1", "ABCB1", "case"),
        # issue 10 #16: an approved symbol ignoring case wins over other genes' aliases / previous symbols
        ("pgp", "PGP", "case"),  # PGP is also an alias of PGPEP1
        ("ar", "AR", "case"),  # AR is also an alias of AREG, FDXR, AKR1B1
        ("acp1", "ACP1", "case"),
        ("alb", "ALB", "case"),
        ("bach1", "BACH1", "case"),
        ("brf1", "BRF1", "case"),  # BRF1 is also a previous symbol of ZFP36L1
        ("Abcg2", "ABCG2", "case"),
        ("mdr1", "ABCB1", "previous"),  # case-insensitive previous symbol
        ("ABCB2", "TAP1", "previous"),
        ("ABCB3", "TAP2", "previous"),
        ("ABCC7", "CFTR", "previous"),
        ("7-Sep", "SEPTIN7", "excel_date"),
        ("Sep-07", "SEPTIN7", "excel_date"),
        ("3-Mar", "MARCHF3", "excel_date"),
        ("1-Dec", "DELEC1", "excel_date"),  # DEC1 is DELEC1's previous symbol (and an alias of BHLHE40)
        ("2024-09-07", "SEPTIN7", "excel_date"),  # a date cell read back from .xlsx
        ("ENSG00000085563", "ABCB1", "ensembl"),
        ("ENSG00000085563.15", "ABCB1", "ensembl"),
        ("ensg00000118777", "ABCG2", "ensembl"),
        ("5243", "ABCB1", "entrez"),
        ("5243.0", "ABCB1", "entrez"),
        ("9429", "ABCG2", "entrez"),
    ],
)
def test_single_identifiers(given, symbol, step):
    row = _one(given, species="human")
    assert (row["symbol"], row["step"]) == (symbol, step)
    assert row["hgnc_id"] == gene_table().set_index("symbol").loc[symbol, "hgnc_id"]


@pytest.mark.parametrize(
    ("given", "candidates"),
    [
        ("1-Mar", {"MARCHF1", "MTARC1"}),  # MARCH1 and MARC1 both become 1-Mar in spreadsheets
        ("2-Mar", {"MARCHF2", "MTARC2"}),
        ("MRP2", {"ABCC2", "KLHL1", "SYCE1L"}),
        ("LRP", {"LRP1", "MVP", "PTPRA", "RPSA"}),
    ],
)
def test_ambiguous_never_resolved_silently(given, candidates):
    with pytest.warns(AmbiguousGeneWarning, match=given):
        rep = map_genes([given], species="human")
    row = rep.table.iloc[0]
    assert row["step"] == "ambiguous"
    assert row["symbol"] == ""
    assert set(row["candidates"].split("|")) == candidates
    assert len(rep.ambiguous) == 1


def test_user_mapping_resolves_ambiguity():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = map_genes(["MRP2", "1-Mar"], mapping={"MRP2": "ABCC2", "1-Mar": "MARCHF1"})
    assert rep.table["symbol"].tolist() == ["ABCC2", "MARCHF1"]
    assert rep.table["step"].tolist() == ["user", "user"]


def test_user_mapping_must_target_approved_symbols():
    with pytest.raises(GeneIdentifierError, match="approved HGNC"):
        map_genes(["MRP2"], mapping={"MRP2": "MRP2"})


def test_approved_symbol_wins_and_is_annotated():
    row = _one("PGP")
    assert (row["symbol"], row["step"]) == ("PGP", "exact")
    assert "PGPEP1" in row["note"]


def test_unmapped_and_hints():
    rep = map_genes(["NOT_A_GENE", "", "209993_at", "Abcb1a", "ABCB1"], species="human")
    t = rep.table.set_index("input_id")
    assert (t["step"].iloc[:4] == "unmapped").all()
    assert "annotation" in t.loc["209993_at", "note"]
    assert "species='mouse'" in t.loc["Abcb1a", "note"]
    assert rep.n_mapped == 1 and rep.n_genes == 1


def test_probe_ids_without_annotation_raise():
    with pytest.raises(GeneIdentifierError, match="annotation"):
        map_genes(["209993_at", "209994_s_at"], id_type="probe")


def test_mouse_orthologs():
    rep = map_genes(["Abcb1a", "Abcb1b", "Abcg2", "Trp53", "Gapdh", "NotAGene1"])
    assert rep.species == "mouse"
    t = rep.table
    assert t["symbol"].tolist()[:5] == ["ABCB1", "ABCB1", "ABCG2", "TP53", "GAPDH"]
    assert set(t["step"][:5]) == {"ortholog"}
    assert t["step"].iloc[5] == "unmapped"


def test_mouse_one_to_many_is_ambiguous():
    # choose a mouse gene that HGNC lists as ortholog of several human genes, from the table itself
    m = gene_table("mouse")
    n_human = m.groupby("mouse_symbol")["human_symbol"].nunique()
    msym = sorted(n_human[n_human > 1].index)[0]
    with pytest.warns(AmbiguousGeneWarning):
        rep = map_genes([msym], species="mouse")
    assert rep.table["step"].iloc[0] == "ambiguous"
    assert set(rep.table["candidates"].iloc[0].split("|")) == set(
        m.loc[m.mouse_symbol == msym, "human_symbol"]
    )


def test_bad_arguments():
    with pytest.raises(ResistScoreError, match="species"):
        map_genes(["A"], species="rat")
    with pytest.raises(ResistScoreError, match="id_type"):
        map_genes(["A"], id_type="uniprot")


# ---- harmonize_genes on data -------------------------------------------------------------------


def _df():
    return pd.DataFrame(
        {"MDR1": [1.0, 3.0], "ABCB1": [5.0, 6.0], "BCRP": [2.0, 4.0], "XYZ_NOPE": [0.0, 0.0]},
        index=["s1", "s2"],
    )


def test_dataframe_default_collapse_is_the_per_sample_mean():
    df = _df()
    before = df.copy()
    out, rep = harmonize_genes(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    # unmapped identifiers stay under their own name (issue 10 #15)
    assert list(out.columns) == ["ABCB1", "ABCG2", "XYZ_NOPE"]
    # MDR1 and ABCB1 both map to ABCB1: averaged within each sample (limma avereps)
    np.testing.assert_array_equal(out["ABCB1"], [3.0, 4.5])
    np.testing.assert_array_equal(out["XYZ_NOPE"], [0.0, 0.0])
    assert rep.table["kept"].tolist() == [True, True, True, True]
    assert rep.collapse_rule == "mean" and rep.collapse_single_sample and rep.n_collapsed == 1
    stored = out.attrs["resistscore_gene_mapping"]
    assert stored["collapse_rule"] == "mean" and stored["collapse_single_sample"] is True
    assert stored["unmapped_kept"] is True and "avereps" in stored["collapse_rule_description"]


def test_dataframe_max_mean_collapse_by_name():
    out, rep = harmonize_genes(_df(), probe_collapse="max_mean", drop_unmapped=True)
    assert list(out.columns) == ["ABCB1", "ABCG2"]
    # MDR1 (mean 2) and ABCB1 (mean 5.5) both map to ABCB1: the higher-mean column is kept
    np.testing.assert_array_equal(out["ABCB1"], [5.0, 6.0])
    assert rep.table["kept"].tolist() == [False, True, True, False]
    assert rep.collapse_rule == "max_mean" and not rep.collapse_single_sample
    assert out.attrs["resistscore_gene_mapping"]["collapse_rule"] == "max_mean"
    assert "cohort-level" in repr(rep)


@pytest.mark.parametrize(
    ("rule", "expected"), [("mean", [3.0, 4.5]), ("sum", [6.0, 9.0]), ("first", [1.0, 3.0])]
)
def test_dataframe_other_collapse_rules(rule, expected):
    out, rep = harmonize_genes(_df(), probe_collapse=rule)
    np.testing.assert_allclose(out["ABCB1"], expected)
    np.testing.assert_allclose(out["ABCG2"], [2.0, 4.0])


def test_mean_ignores_nan():
    df = pd.DataFrame({"MDR1": [np.nan, 3.0], "ABCB1": [5.0, np.nan]}, index=["a", "b"])
    out, _ = harmonize_genes(df, probe_collapse="mean")
    np.testing.assert_allclose(out["ABCB1"], [5.0, 3.0])


def test_drop_unmapped_on_request():
    out, rep = harmonize_genes(_df(), drop_unmapped=True)
    assert list(out.columns) == ["ABCB1", "ABCG2"]
    assert not rep.unmapped_kept


def test_unmapped_ids_kept_under_their_own_name_never_merge_with_a_gene():
    # an ambiguous, an unknown and a withdrawn-without-successor id stay; an unmapped probe spelled like a
    # mapped gene's symbol would merge into that gene, so it is left out (and says so)
    df = pd.DataFrame(
        [[1.0, 2.0, 3.0, 4.0, 5.0]], index=["s"], columns=["MRP2", "XQ_NOPE", "ABCB1", "209993_at", "ABCG2"]
    )
    with pytest.warns(AmbiguousGeneWarning):
        out, rep = harmonize_genes(df, annotation={"MRP2": "MRP2", "209993_at": "ABCB1", "ABCG2": "ABCG2"})
    assert list(out.columns) == ["MRP2", "XQ_NOPE", "ABCB1", "ABCG2"]
    np.testing.assert_array_equal(out.loc["s"], [1.0, 2.0, 4.0, 5.0])
    t = rep.table.set_index("input_id")
    assert not t.loc["ABCB1", "kept"] and "spelled like the symbol" in t.loc["ABCB1", "note"]
    assert t.loc["MRP2", "kept"] and t.loc["MRP2", "symbol"] == ""


def test_harmonize_errors_are_ours():
    # issue 10 #10: X=None (was IndexError) and a missing id_column (was KeyError)
    a = ad.AnnData(X=None, obs=pd.DataFrame(index=["a", "b"]), var=pd.DataFrame(index=["ABCB1", "ABCG2"]))
    with pytest.raises(InputFormatError, match="X is None"):
        harmonize_genes(a)
    a.layers["counts"] = np.ones((2, 2))
    with pytest.raises(InputFormatError, match=r"adata.layers\['counts'\]"):
        harmonize_genes(a)
    b = ad.AnnData(X=np.ones((2, 2)), var=pd.DataFrame({"symbol": ["ABCB1", "ABCG2"]}, index=["p1", "p2"]))
    with pytest.raises(InputFormatError, match="id_column 'gene_symbol' is not a column"):
        harmonize_genes(b, id_column="gene_symbol")
    df = pd.DataFrame([[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("ABCB1", "x"), ("ABCG2", "y")]))
    with pytest.raises(InputFormatError, match="MultiIndex"):
        harmonize_genes(df)


@pytest.mark.parametrize("sparse", [False, True])
def test_anndata_probe_annotation(sparse):
    X = np.array([[8.0, 9.0, 1.0, 4.0], [7.0, 10.0, 2.0, 5.0], [1.0, 2.0, 3.0, 6.0]])
    var = pd.DataFrame(
        {"symbol": ["ABCB1", "ABCB1", "1-Mar", "ABCG2"]},
        index=["209993_at", "209994_s_at", "219225_at", "209735_at"],
    )
    a = ad.AnnData(X=sp.csr_matrix(X) if sparse else X, obs=pd.DataFrame(index=["c1", "c2", "c3"]), var=var)
    a.uns["keep"] = {"x": 1}
    with pytest.warns(AmbiguousGeneWarning, match="1-Mar"):
        out, rep = harmonize_genes(a, annotation="symbol", probe_collapse="max_mean", drop_unmapped=True)
    assert list(out.var_names) == ["ABCB1", "ABCG2"]
    # 209994_s_at has mean 7 > 209993_at mean 5.33
    Xo = out.X.toarray() if sparse else out.X
    np.testing.assert_array_equal(Xo[:, 0], [9.0, 10.0, 2.0])
    assert out.var.loc["ABCB1", "input_ids"] == "209994_s_at"
    assert out.var.loc["ABCG2", "hgnc_id"] == "HGNC:74"
    assert rep.table.set_index("input_id").loc["209993_at", "step"] == "probe"
    assert out.uns["resistscore"]["gene_mapping"]["n_genes"] == 2
    assert out.uns["keep"] == {"x": 1}
    assert list(a.var_names)[0] == "209993_at"  # input untouched
    back = GeneMappingReport.from_dict(out.uns["resistscore"]["gene_mapping"])
    pd.testing.assert_frame_equal(back.table, rep.table)


def test_anndata_mean_collapse_with_layers():
    X = np.array([[1.0, 3.0], [2.0, 6.0]])
    a = ad.AnnData(X=X, var=pd.DataFrame(index=["MDR1", "ABCB1"]), obs=pd.DataFrame(index=["a", "b"]))
    a.layers["counts"] = X * 10
    out, rep = harmonize_genes(a, probe_collapse="sum")
    np.testing.assert_array_equal(out.X[:, 0], [4.0, 8.0])
    np.testing.assert_array_equal(out.layers["counts"][:, 0], [40.0, 80.0])
    assert out.var.loc["ABCB1", "input_ids"] == "MDR1|ABCB1"


@pytest.mark.parametrize("sparse", [False, True])
def test_anndata_default_collapse_keeps_annotation_and_records_the_rule(sparse):
    X = np.array([[8.0, 9.0, 1.0, 4.0], [7.0, 10.0, 2.0, 5.0], [1.0, 2.0, 3.0, 6.0]])
    var = pd.DataFrame(
        {"symbol": ["ABCB1", "ABCB1", "1-Mar", "ABCG2"], "chrom": ["7", "7", "?", "4"]},
        index=["209993_at", "209994_s_at", "219225_at", "209735_at"],
    )
    a = ad.AnnData(X=sp.csr_matrix(X) if sparse else X, obs=pd.DataFrame(index=["c1", "c2", "c3"]), var=var)
    a.obsp["graph"] = sp.identity(3, format="csr")
    with pytest.warns(AmbiguousGeneWarning, match="1-Mar"):
        out, rep = harmonize_genes(a, annotation="symbol")
    # the ambiguous probe stays under its own id: it is a measured feature that matches no signature
    assert list(out.var_names) == ["ABCB1", "219225_at", "ABCG2"]
    Xo = out.X.toarray() if sparse else out.X
    np.testing.assert_array_equal(Xo, [[8.5, 1.0, 4.0], [8.5, 2.0, 5.0], [1.5, 3.0, 6.0]])
    assert out.var.loc["ABCB1", "input_ids"] == "209993_at|209994_s_at"
    assert list(out.var["chrom"]) == ["7", "?", "4"]
    assert "graph" in out.obsp
    stored = out.uns["resistscore"]["gene_mapping"]
    assert (stored["collapse_rule"], stored["collapse_single_sample"], stored["n_collapsed"]) == (
        "mean",
        True,
        1,
    )
    assert GeneMappingReport.from_dict(stored).collapse_rule == "mean"


def test_harmonize_rejects_other_types():
    with pytest.raises(InputFormatError, match="AnnData"):
        harmonize_genes(np.zeros((2, 2)))
    with pytest.raises(InputFormatError, match="non-numeric"):
        harmonize_genes(pd.DataFrame({"ABCB1": ["a", "b"]}))


def test_report_summary_and_repr():
    rep = map_genes(["ABCB1", "MDR1", "BCRP", "XQ_NOT_A_GENE"])
    assert rep.summary().to_dict() == {"exact": 1, "alias": 1, "previous": 1, "unmapped": 1}
    assert "4 identifiers -> 2 HGNC genes" in repr(rep)
    assert "<table" in rep._repr_html_()


def test_excel_file_with_date_cells_end_to_end(tmp_path):
    import datetime

    from resistscore.io import read

    p = tmp_path / "mangled.xlsx"
    genes = ["ABCB1", datetime.datetime(2024, 9, 7), datetime.datetime(2024, 3, 3)]
    pd.DataFrame({"gene": genes, "S1": [1.0, 2.0, 3.0], "S2": [4.0, 5.0, 6.0]}).to_excel(p, index=False)
    a = read(p, orientation="genes_x_samples")
    out, rep = harmonize_genes(a)
    assert list(out.var_names) == ["ABCB1", "SEPTIN7", "MARCHF3"]
    assert rep.table["step"].tolist() == ["exact", "excel_date", "excel_date"]
    np.testing.assert_array_equal(out.X, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def test_nothing_mapped_raises():
    df = pd.DataFrame([[1.0, 2.0]], columns=["sample_a", "sample_b"])
    with pytest.raises(GeneIdentifierError, match="none of the 2"):
        harmonize_genes(df)


_ids = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(
            ["ABCB1", "MDR1", "1-Mar", "Sep-07", "ENSG00000085563.3", "5243", "209993_at", "Abcb1a", "", " "]
        ),
        st.integers(min_value=-5, max_value=10**12).map(str),
    ),
    max_size=12,
)


@settings(max_examples=50, deadline=None)
@given(ids=_ids, species=st.sampled_from(["auto", "human", "mouse"]))
def test_map_genes_never_crashes(ids, species):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AmbiguousGeneWarning)
        try:
            rep = map_genes(ids, species=species)
        except GeneIdentifierError:
            return
    assert len(rep.table) == len(ids)
    mapped = rep.table[rep.table["symbol"] != ""]
    approved = set(gene_table()["symbol"])
    assert set(mapped["symbol"]) <= approved
    assert (mapped["hgnc_id"] != "").all()
    assert set(rep.table["step"]) <= {
        "user",
        "exact",
        "case",
        "alias",
        "previous",
        "excel_date",
        "ensembl",
        "entrez",
        "probe",
        "ortholog",
        "ambiguous",
        "unmapped",
    }


_GENE_POOL = ["ABCB1", "MDR1", "P-gp", "ABCG2", "BCRP", "TP53", "abcc1", "MRP1", "7-Sep", "XQ_NONE"]


@settings(max_examples=50, deadline=None)
@given(
    cols=st.lists(st.sampled_from(_GENE_POOL), min_size=1, max_size=8),
    seed=st.integers(0, 2**31 - 1),
    rule=st.sampled_from(["mean", "sum", "max_mean", "first"]),
    nan_share=st.sampled_from([0.0, 0.3]),
    drop=st.booleans(),
)
def test_collapse_matches_pandas_groupby(cols, seed, rule, nan_share, drop):
    rng = np.random.default_rng(seed)
    X = rng.normal(5, 2, size=(4, len(cols)))
    X[rng.random(X.shape) < nan_share] = np.nan
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(4)], columns=cols)
    symbols = map_genes(cols, warn=False).table["symbol"].to_numpy()
    if (symbols == "").all():
        with pytest.raises(GeneIdentifierError):
            harmonize_genes(df, probe_collapse=rule, drop_unmapped=drop)
        return
    out, rep = harmonize_genes(df, probe_collapse=rule, drop_unmapped=drop)
    # independent reference: pandas on the columns relabelled with their symbols (unmapped: their own name)
    if not drop:
        symbols = np.where(symbols == "", np.asarray(cols, dtype=object), symbols)
    keep = symbols != ""
    lab = df.loc[:, keep].copy()
    lab.columns = symbols[keep]
    order = list(dict.fromkeys(symbols[keep]))
    grouped = lab.T.groupby(level=0, sort=False)
    if rule == "mean":
        expected = grouped.mean().T
    elif rule == "sum":
        expected = grouped.sum(min_count=1).T
    elif rule == "first":
        expected = lab.loc[:, ~lab.columns.duplicated()]
    else:
        means = lab.mean(axis=0).fillna(-np.inf).to_numpy()
        pick = {}
        for j, s in enumerate(lab.columns):
            if s not in pick or means[j] > means[pick[s]]:
                pick[s] = j
        expected = lab.iloc[:, [pick[s] for s in order]]
    expected = expected[order]
    assert list(out.columns) == order
    np.testing.assert_allclose(out.to_numpy(), expected.to_numpy(), rtol=1e-12, equal_nan=True)
    assert rep.table["kept"].sum() == (len(order) if rule in ("max_mean", "first") else keep.sum())
