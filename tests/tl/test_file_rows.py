"""A file scored by path: its genes harmonised as the CLI harmonises them, the cohort-level probe rule
in streaming, float32 results, and the CLI never loading the matrix."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import resistscore as rs
from resistscore._gene_tables import hgnc_index
from resistscore.cli import cli
from resistscore.tl._chunks import RowSource

SIGNATURES = "efflux_abc,apoptosis"
FILLERS = ["GAPDH", "ACTB", "B2M", "RPL13", "EEF1A1", "TUBB", "PPIA", "HPRT1"]


def _ensembl_of() -> dict[str, str]:
    return {sym: ens for ens, sym in hgnc_index().ensembl.items()}


def _cells(n: int = 300, *, dense: bool = False, dup: bool = False) -> ad.AnnData:
    """Cells whose genes are Ensembl ids (an alias and, with ``dup``, a symbol beside its Ensembl id)."""
    ens = _ensembl_of()
    symbols = sorted({g for s in rs.sig.load(ids=SIGNATURES.split(",")) for g in (*s.up, *s.down)}) + FILLERS
    names = [ens.get(g, g) for g in symbols]
    names[names.index(ens["ABCG2"])] = "BCRP"  # an alias
    if dup:  # the same genes twice: as Ensembl id and as symbol, with clearly different means
        names += ["ABCB1", "BAX", "GAPDH"]
    rng = np.random.default_rng(7)
    lam = rng.gamma(0.4, 1.0, size=len(names))
    if dup:
        lam[-3:] = [3.0, 0.05, 2.5]
    X = rng.poisson(lam, size=(n, len(names))).astype(np.float32)
    X[:30, : len(names) // 3] += 2
    X = np.log1p(X)
    a = ad.AnnData(
        X if dense else sp.csr_matrix(X),
        obs=pd.DataFrame({"n_counts": X.sum(axis=1)}, index=[f"AAAC{i:04d}-1" for i in range(n)]),
        var=pd.DataFrame(index=names),
    )
    return a


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        return fn(*args, **kwargs)


def _cli(*args) -> None:
    res = _quiet(CliRunner().invoke, cli, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def _read_out(path) -> ad.AnnData:
    return ad.read_h5ad(path)


@pytest.fixture(scope="module")
def ensembl_h5ad(tmp_path_factory):
    p = tmp_path_factory.mktemp("file_rows") / "cells.h5ad"
    _cells().write_h5ad(p)
    return p


def test_api_path_equals_cli_on_ensembl_ids(ensembl_h5ad, tmp_path):
    """rs.tl.score(path) harmonises the gene ids as `resistscore score` does: the same scores, p-values, FDR."""
    api = _quiet(rs.tl.score, ensembl_h5ad, SIGNATURES, n_controls=30, random_state=2)
    assert api.coverage.loc["efflux_abc", "n_found"] > 0  # Ensembl ids and the alias were mapped
    assert api.scores.notna().all().all()
    out = tmp_path / "scores.h5ad"
    _cli("score", ensembl_h5ad, "--out", out, "--signatures", SIGNATURES, "--n-controls", 30, "--seed", 2)
    cli_out = _read_out(out)
    np.testing.assert_array_equal(cli_out.X, api.scores.to_numpy())
    np.testing.assert_array_equal(cli_out.layers["pvalues"], api.pvalues.to_numpy())
    np.testing.assert_array_equal(cli_out.layers["fdr"], api.fdr.to_numpy())
    assert list(cli_out.obs_names) == list(api.scores.index)
    # and both equal the file loaded, harmonised and scored in memory
    adata, _ = rs.pp.harmonize_genes(ad.read_h5ad(ensembl_h5ad))
    mem = _quiet(rs.tl.score, adata, SIGNATURES, n_controls=30, random_state=2, copy=True)
    np.testing.assert_allclose(rs.get.scores(mem).to_numpy(), api.scores.to_numpy(), rtol=0, atol=1e-12)


def test_harmonize_false_scores_the_files_own_names(ensembl_h5ad):
    a = ad.read_h5ad(ensembl_h5ad)
    sigs = {"own": list(a.var_names[:6])}  # Ensembl ids: only found under the file's own names
    raw = _quiet(rs.tl.score, ensembl_h5ad, sigs, pvalues=False, harmonize=False)
    mem = _quiet(rs.tl.score, a, sigs, pvalues=False, copy=True)
    pd.testing.assert_frame_equal(
        raw.scores, rs.get.scores(mem), check_index_type=False
    )  # str vs object names
    harmonised = _quiet(rs.tl.score, ensembl_h5ad, sigs, pvalues=False)
    assert harmonised.coverage.loc["own", "n_found"] == 0


def test_harmonize_argument_is_checked(ensembl_h5ad):
    df = pd.DataFrame(np.ones((2, 3)), columns=["ABCB1", "ABCG2", "TP53"])
    with pytest.raises(rs.ResistScoreError, match="applies to a file path"):
        rs.tl.score(df, {"s": ["ABCB1", "ABCG2"]}, harmonize=True)
    with pytest.raises(rs.ResistScoreError, match="True, False or None"):
        rs.tl.score(ensembl_h5ad, SIGNATURES, harmonize="yes")


def test_a_file_with_no_hgnc_gene_names_the_fix(tmp_path):
    p = tmp_path / "odd.h5ad"
    X = np.arange(12.0).reshape(3, 4) % 5
    ad.AnnData(X, var=pd.DataFrame(index=["zz_a", "zz_b", "zz_c", "zz_d"])).write_h5ad(p)
    with pytest.raises(rs.GeneIdentifierError, match="harmonize=False"):
        rs.tl.score(p, {"s": ["zz_a", "zz_b"]})
    res = rs.tl.score(p, {"s": ["zz_a", "zz_b"]}, pvalues=False, harmonize=False)
    assert res.coverage.loc["s", "n_found"] == 2


@pytest.mark.parametrize("dense", [False, True])
def test_max_mean_collapse_streams_and_equals_memory(tmp_path, dense):
    """probe_collapse='max_mean' on a file: one chunked pass for the means, then the same matrix as in memory."""
    a = _cells(dense=dense, dup=True)
    if dense:
        a.X[3, 5] = np.nan  # a missing value: ignored by the means, as numpy.nanmean
    p = tmp_path / "dup.h5ad"
    a.write_h5ad(p)
    ref, report = rs.pp.harmonize_genes(a, probe_collapse="max_mean")
    rows = rs.tl.harmonized_rows(p, probe_collapse="max_mean", block=37)
    assert list(rows.var_names) == list(ref.var_names)
    got = rows.rows(0, rows.n_obs)
    got = got.toarray() if sp.issparse(got) else got
    want = ref.X.toarray() if sp.issparse(ref.X) else ref.X
    np.testing.assert_array_equal(got, want)
    assert rows.fn.report.collapse_rule == "max_mean"
    assert not rows.fn.report.collapse_single_sample
    pd.testing.assert_series_equal(rows.fn.report.table["kept"], report.table["kept"])
    if dense:
        return  # the methods refuse the NaN; the sparse file is scored below
    # the CLI's --probe-collapse max_mean gives the in-memory scores
    out = tmp_path / "s.parquet"
    _cli("score", p, "--out", out, "--signatures", SIGNATURES, "--no-pvalues", "--probe-collapse", "max_mean")
    mem = _quiet(rs.tl.score, ref, SIGNATURES, pvalues=False, copy=True)
    got_scores = pd.read_parquet(out)
    np.testing.assert_allclose(got_scores.to_numpy(), rs.get.scores(mem).to_numpy(), rtol=0, atol=1e-12)


def test_max_mean_without_means_names_the_fix():
    with pytest.raises(rs.GeneIdentifierError, match="harmonized_rows"):
        rs.pp.GeneCollapse.from_names(["ABCB1", "MDR1"], "max_mean")


def test_float32_results_equal_float64_rounded(ensembl_h5ad, tmp_path):
    kw = {"n_controls": 30, "random_state": 1}
    r64 = _quiet(rs.tl.score, ensembl_h5ad, SIGNATURES, **kw)
    r32 = _quiet(rs.tl.score, ensembl_h5ad, SIGNATURES, dtype="float32", **kw)
    for name in ("scores", "pvalues", "fdr"):
        x32, x64 = getattr(r32, name), getattr(r64, name)
        assert (x32.dtypes == np.float32).all(), name
        np.testing.assert_array_equal(x32.to_numpy(), x64.to_numpy().astype(np.float32), err_msg=name)
    # an in-memory AnnData too, with a signature below coverage (a NaN column)
    a = ad.read_h5ad(ensembl_h5ad)
    sigs = {"ok": list(a.var_names[:8]), "missing": ["NOT_A_GENE1", "NOT_A_GENE2"]}
    m32 = _quiet(rs.tl.score, a, sigs, dtype=np.float32, copy=True, **kw)
    m64 = _quiet(rs.tl.score, a, sigs, copy=True, **kw)
    s32, s64 = rs.get.scores(m32), rs.get.scores(m64)
    assert (s32.dtypes == np.float32).all() and s32["missing"].isna().all()
    np.testing.assert_array_equal(s32.to_numpy(), s64.to_numpy().astype(np.float32))
    # the CLI keeps them in float32 in h5ad and parquet
    out = tmp_path / "s32.h5ad"
    _cli(
        "score",
        ensembl_h5ad,
        "--out",
        out,
        "--signatures",
        SIGNATURES,
        "--n-controls",
        30,
        "--seed",
        1,
        "--float32",
    )
    back = _read_out(out)
    assert back.X.dtype == np.float32 and back.layers["fdr"].dtype == np.float32
    np.testing.assert_array_equal(back.layers["pvalues"], r32.pvalues.to_numpy())


def test_dtype_is_checked():
    df = pd.DataFrame(np.ones((2, 3)), columns=["ABCB1", "ABCG2", "TP53"])
    with pytest.raises(rs.ResistScoreError, match="float32"):
        rs.tl.score(df, {"s": ["ABCB1", "ABCG2"]}, dtype="int8")


@pytest.mark.parametrize("suffix", [".h5ad", ".zarr"])
def test_cli_never_loads_the_matrix(tmp_path, monkeypatch, suffix):
    """`resistscore score cells.h5ad|.zarr` reads blocks of rows only: no whole-file reader is ever called."""
    pytest.importorskip("zarr")
    a = _cells(n=2500)
    p = tmp_path / f"cells{suffix}"
    if suffix == ".zarr":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            a.write_zarr(p)
    else:
        a.write_h5ad(p)

    def refuse(*args, **kwargs):
        raise AssertionError("the whole matrix was read")

    for mod, name in ((ad, "read_h5ad"), (ad, "read_zarr"), (rs.io, "read"), (RowSource, "whole")):
        monkeypatch.setattr(mod, name, refuse)
    blocks: list[int] = []
    rows = RowSource._rows  # what rows() and the passes' rows_into() read through

    def spy(self, lo, hi, buffers):
        blocks.append(hi - lo)
        return rows(self, lo, hi, buffers)

    monkeypatch.setattr(RowSource, "_rows", spy)
    out = tmp_path / "s.csv.gz"
    _cli("score", p, "--out", out, "--signatures", SIGNATURES, "--n-controls", 10)
    assert blocks and max(blocks) < a.n_obs  # read in blocks of rows, never all rows at once
    back = pd.read_csv(out, index_col=0)
    assert back.shape == (a.n_obs, 2)


def test_qc_is_taken_in_the_scoring_pass(ensembl_h5ad, monkeypatch):
    """rs.tl.qc_rows: QC of every row from the blocks the engine reads; no read after scoring; equals rs.pp.qc."""
    rows = rs.tl.qc_rows(rs.tl.harmonized_rows(ensembl_h5ad))
    _quiet(rs.tl.score, rows, SIGNATURES, n_controls=10)
    assert rows.qc.complete  # every row went through the scoring pass

    def refuse(*args, **kwargs):
        raise AssertionError("the file was read again for QC")

    monkeypatch.setattr(type(rows.inner), "_rows", refuse)  # what rows() and rows_into() read through
    got = rows.qc_report()
    adata, _ = rs.pp.harmonize_genes(ad.read_h5ad(ensembl_h5ad))
    want = rs.pp.qc(adata)
    assert got.findings == want.findings
    assert got.scale.kind == want.scale.kind and got.data_kind.kind == want.data_kind.kind


def test_cli_reports_qc_from_the_stream(tmp_path):
    a = _cells(n=200)
    X = a.X.toarray()
    X[7] = 0.0  # an empty cell
    a.X = sp.csr_matrix(X)
    p = tmp_path / "cells.h5ad"
    a.write_h5ad(p)
    res = _quiet(
        CliRunner().invoke,
        cli,
        ["score", str(p), "--out", str(tmp_path / "s.csv"), "--signatures", SIGNATURES, "--no-pvalues"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.startswith("qc: "))
    assert "200 samples" in line and "1 empty samples" in line


def test_gene_collapse_of_single_identifiers_keeps_the_block_and_its_type():
    # a file already named by HGNC symbols: each gene from one identifier; the block is returned as it
    # is (no float64 copy of every block read: the 2x time and memory seen at 1M cells), and a pure column
    # selection equals the general sparse product exactly
    X = sp.random(20, 6, density=0.5, format="csr", dtype=np.float32, random_state=3)
    ident = rs.pp.GeneCollapse.from_names(["ABCB1", "ABCG2", "BAX", "BCL2", "GAPDH", "ACTB"])
    assert ident(X) is X and ident(X.toarray()).dtype == np.float32
    sub = rs.pp.GeneCollapse.from_names(["ABCB1", "zz_unknown", "BAX", "BCL2", "GAPDH", "ACTB"])
    general = rs.pp.GeneCollapse(sub.M, sub.rule, sub.var_names)
    general._take, general._identity = None, False  # the general product, for reference
    for block in (X, X.toarray()):
        got, ref = sub(block), general(block)
        got = got.toarray() if sp.issparse(got) else got
        ref = ref.toarray() if sp.issparse(ref) else ref
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.astype(np.float64), ref)
    mean = rs.pp.GeneCollapse.from_names(["ABCB1", "MDR1", "BAX"])  # two identifiers of ABCB1: averaged
    assert mean._take is None
    np.testing.assert_array_equal(mean(np.array([[2.0, 4.0, 1.0]])), [[3.0, 1.0]])


def test_harmonised_path_of_symbol_names_equals_scoring_the_names_as_given(tmp_path):
    adata = ad.AnnData(sp.csr_matrix(_cells(200).X))
    symbols = sorted({g for s in rs.sig.load(ids=SIGNATURES.split(",")) for g in (*s.up, *s.down)}) + FILLERS
    adata.var_names = symbols[: adata.n_vars]
    adata.obs_names = [f"c{i}" for i in range(adata.n_obs)]
    path = tmp_path / "symbols.h5ad"
    adata.write_h5ad(path)
    kw = {"n_controls": 20, "random_state": 0, "method": "ucell"}
    on = rs.tl.score(str(path), SIGNATURES, **kw)
    off = rs.tl.score(str(path), SIGNATURES, harmonize=False, **kw)
    pd.testing.assert_frame_equal(on.scores, off.scores, check_exact=True)
    pd.testing.assert_frame_equal(on.pvalues, off.pvalues, check_exact=True)


@pytest.mark.parametrize("suffix", [".h5ad", ".zarr"])
def test_obs_is_read_as_anndata_reads_it_without_anndata(tmp_path, suffix):
    """A path's ``obs`` (the single-cell check, the CLI's statistics) is read with h5py / zarr following anndata's
    on-disk spec: every column encoding anndata writes for obs gives the frame ``anndata.io.read_elem`` gives."""
    import h5py
    import zarr
    from anndata.io import read_elem

    from resistscore.tl._stream import _annotations, _read_obs

    n = 6
    obs = pd.DataFrame(
        {
            "n_counts": np.arange(n),
            "f": np.linspace(0.0, 1.0, n),
            "b": [True, False] * 3,
            "leiden": pd.Categorical(list("abcabc")),
            "stage": pd.Categorical(list("xyzxyz"), ordered=True),
            "s": list("pqrstu"),
            "ni": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "nb": pd.array([True, None, False, True, True, False], dtype="boolean"),
            "cn": pd.Categorical([1, 2, 1, 2, 1, 2]),
            "cnan": pd.Categorical(["a", None, "b", "a", "b", None]),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="cell"),
    )
    adata = ad.AnnData(np.ones((n, 3), np.float32), obs=obs, var=pd.DataFrame(index=["A", "B", "C"]))
    adata.obsm["X_umap"] = np.zeros((n, 2))
    path = tmp_path / f"cells{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata: zarr v2 is written by default
        adata.write_h5ad(path) if suffix == ".h5ad" else adata.write_zarr(path)
    g = h5py.File(path, "r") if suffix == ".h5ad" else zarr.open_group(str(path), mode="r")
    try:
        pd.testing.assert_frame_equal(_read_obs(g["obs"]), read_elem(g["obs"]))
    finally:
        if suffix == ".h5ad":
            g.close()
    names = pd.Index([f"c{i}" for i in range(n)])
    ann = _annotations(path, names)
    pd.testing.assert_frame_equal(ann["obs"], obs, check_dtype=False, check_categorical=False)
    assert ann["obs"].index.name == "cell" and names.name is None  # the names given are not renamed
    assert list(ann["obsm"]) == ["X_umap"]


def test_obs_of_an_encoding_not_handled_is_read_by_anndata(tmp_path):
    import h5py

    from resistscore.tl._stream import _annotations, _read_column

    if not hasattr(ad.settings, "allow_write_nullable_strings"):
        pytest.skip("nullable-string-array needs anndata >= 0.11")
    path = tmp_path / "cells.h5ad"
    obs = pd.DataFrame({"s": pd.array(["a", None, "c"], dtype="string")}, index=list("abc"))
    with ad.settings.override(allow_write_nullable_strings=True):
        ad.AnnData(np.ones((3, 2), np.float32), obs=obs).write_h5ad(
            path, convert_strings_to_categoricals=False
        )
    with h5py.File(path, "r") as f:
        assert (
            f["obs/s"].attrs["encoding-type"] == "nullable-string-array"
        )  # not in the spec read by resistscore
        assert _read_column(f["obs/s"]) is None
    pd.testing.assert_frame_equal(_annotations(path)["obs"], obs)  # anndata reads that column


@pytest.mark.parametrize("layout", ["chunked", "contiguous", "compressed"])
def test_an_uncompressed_h5ad_is_read_by_byte_ranges_with_the_values_hdf5_reads(tmp_path, layout):
    """The CSR arrays of an uncompressed .h5ad are read straight from the file (``_RawArray``: HDF5 reads a whole
    4 MiB chunk for any part of it, holding the GIL); what is read equals h5py's values for every range, across
    chunk boundaries; a compressed file is read by HDF5."""
    import h5py

    from resistscore.tl._chunks import _RawArray, from_h5ad

    rng = np.random.default_rng(3)
    X = sp.random(300, 50, density=0.2, format="csr", random_state=rng, dtype=np.float32)
    path = tmp_path / "cells.h5ad"
    kw = (
        {"compression": "gzip"}
        if layout == "compressed"
        else {"chunks": (97,)}
        if layout == "chunked"
        else {}
    )
    ad.AnnData(X, var=pd.DataFrame(index=[f"G{i}" for i in range(50)])).write_h5ad(path)
    with h5py.File(path, "r+") as f:  # rewrite X's arrays with the layout under test
        for k in ("data", "indices", "indptr"):
            v = f["X"][k][()]
            del f["X"][k]
            f["X"].create_dataset(k, data=v, **kw)
    src = from_h5ad(path)
    assert isinstance(src._data, _RawArray) == (layout != "compressed")
    with h5py.File(path, "r") as f:
        d = f["X/data"][()]
        for lo, hi in [(0, 0), (0, 1), (90, 200), (96, 98), (0, len(d)), (len(d) - 5, len(d))]:
            np.testing.assert_array_equal(src._data[lo:hi], d[lo:hi])
        assert src._indptr[300] == f["X/indptr"][300] and src._indptr[-1] == f["X/indptr"][-1]
    for a, b in [(0, 300), (17, 18), (100, 250)]:
        B = src.rows(a, b)
        assert B.dtype == np.float32
        np.testing.assert_array_equal(B.toarray(), X[a:b].toarray())
    src.close()
    np.testing.assert_array_equal(src.rows(5, 9).toarray(), X[5:9].toarray())  # reopened on demand


def test_a_truncated_h5ad_names_the_problem(tmp_path):
    from resistscore.tl._chunks import _RawArray, from_h5ad

    X = sp.random(
        2000, 40, density=0.5, format="csr", random_state=np.random.default_rng(0), dtype=np.float32
    )
    path = tmp_path / "cells.h5ad"
    ad.AnnData(X, var=pd.DataFrame(index=[f"G{i}" for i in range(40)])).write_h5ad(path)
    src = from_h5ad(path)
    assert isinstance(src._data, _RawArray)
    with open(path, "r+b") as fh:  # cut the file in the middle of X's values
        fh.truncate(int(src._data._offsets[0]) + 4000)
    with pytest.raises(rs.InputFormatError, match="damaged or incomplete"):
        src.rows(0, 2000)
