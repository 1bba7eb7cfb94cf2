"""The scoring engine: inputs, coverage, chunking, threads, AnnData and backed files, errors."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs
from resistscore._errors import (
    InputFormatError,
    LowCoverageWarning,
    OrientationError,
    ResistScoreError,
    SignatureError,
)
from resistscore.tl import ScoreResult, as_network, score

GENES = [f"G{i}" for i in range(400)]
SIGS = {
    "up": GENES[:12],
    "signed": {**dict.fromkeys(GENES[20:30], 1.5), **dict.fromkeys(GENES[30:36], -0.5)},
    "small": GENES[100:103],
}


def _bulk(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(5.0, 1.0, size=(n, len(GENES)))
    X[: n // 3, :12] += 2.0
    return pd.DataFrame(X, index=[f"s{i}" for i in range(n)], columns=GENES)


def _counts(n=200, seed=0):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 1.0, size=len(GENES))
    X = np.log1p(rng.poisson(lam, size=(n, len(GENES))).astype(float))
    return sp.csr_matrix(X)


# ---- results independent of chunk size and threads -----------------------------------------------
@pytest.mark.parametrize("method", ["singscore", "ucell", "aucell", "wmean", "ulm"])
def test_identical_whatever_the_chunk_size_and_threads(method):
    X = _counts(90)
    kw = {"genes": GENES, "n_controls": 30, "random_state": 3, "method": method}
    ref = score(X, SIGS, chunk_size=1000, n_jobs=1, **kw)
    for cs, nj in [(1, 1), (7, 2), (None, 2)]:
        other = score(X, SIGS, chunk_size=cs, n_jobs=nj, **kw)
        pd.testing.assert_frame_equal(ref.scores, other.scores, check_exact=True)
        pd.testing.assert_frame_equal(ref.pvalues, other.pvalues, check_exact=True)
        pd.testing.assert_frame_equal(ref.fdr, other.fdr, check_exact=True)


# ---- defaults -----------------------------------------------------------------------------------------
def test_default_methods_bulk_and_single_cell():
    assert score(_bulk(), SIGS, pvalues=False).method == "singscore"
    adata = ad.AnnData(_counts(50))
    adata.var_names = GENES
    out = score(adata, SIGS, pvalues=False, copy=True)
    assert out.uns["resistscore"]["method"] == "ucell"


def test_default_signatures_are_the_shipped_collection(monkeypatch):
    calls = []

    def fake_load():
        calls.append(1)
        return as_network  # anything without to_network is rejected; replaced below

    class FakeSet:
        version = "9.9"
        collection = "resistscore"
        min_coverage = pd.Series({"x": 0.2})

        def to_network(self):
            return pd.DataFrame({"source": "x", "target": GENES[:5], "weight": 1.0})

    monkeypatch.setattr(rs.sig, "load", lambda: calls.append(1) or FakeSet())
    res = score(_bulk(), pvalues=False)
    assert calls and res.versions["signatures"] == "resistscore 9.9"
    assert res.coverage.loc["x", "min_coverage"] == 0.2
    del fake_load


# ---- coverage -----------------------------------------------------------------------------------------
def test_coverage_and_low_coverage_warning():
    sigs = {"ok": GENES[:4] + ["MISSING1"], "low": ["MISSING1", "MISSING2", "MISSING3", GENES[0]]}
    with pytest.warns(LowCoverageWarning, match="low"):
        res = score(_bulk(), sigs, pvalues=False)
    cov = res.coverage
    assert cov.loc["ok", "n_found"] == 4 and cov.loc["ok", "weight_covered"] == pytest.approx(0.8)
    assert cov.loc["low", "weight_covered"] == pytest.approx(0.25) and not cov.loc["low", "reported"]
    assert "25%" in cov.loc["low", "reason"] and cov.loc["low", "missing"] == "MISSING1;MISSING2;MISSING3"
    assert res.scores["low"].isna().all() and res.scores["ok"].notna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res2 = score(_bulk(), sigs, pvalues=False, min_coverage=0.2)
    assert res2.scores["low"].notna().all()


def test_weighted_coverage_uses_absolute_weights():
    with pytest.warns(LowCoverageWarning):
        res = score(_bulk(), {"w": {GENES[0]: 1.0, "MISSING": -3.0}}, pvalues=False)
    assert res.coverage.loc["w", "weight_covered"] == pytest.approx(0.25)


# ---- inputs ------------------------------------------------------------------------------------------
def test_input_forms_agree(tmp_path):
    df = _bulk()
    base = score(df, SIGS, pvalues=False).scores
    net = as_network(SIGS)[0]
    pd.testing.assert_frame_equal(score(df, net, pvalues=False).scores, base)
    arr = score(df.to_numpy(), SIGS, genes=GENES, samples=df.index, pvalues=False).scores
    np.testing.assert_array_equal(arr.to_numpy(), base.to_numpy())
    gmt = tmp_path / "s.gmt"
    gmt.write_text("up\tdesc\t" + "\t".join(SIGS["up"]) + "\n")
    np.testing.assert_array_equal(score(df, gmt, pvalues=False).scores["up"], base["up"])


def test_inputs_not_mutated():
    df = _bulk()
    before = df.copy()
    sigs = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in SIGS.items()}
    score(df, sigs, n_controls=10)
    pd.testing.assert_frame_equal(df, before)
    assert sigs == SIGS
    X = _counts(40)
    X.data = X.data.astype(np.float64)
    X32 = X.astype(np.float32)
    copies = (X.copy(), X32.copy())
    for mat in (X, X32):
        for method in ("singscore", "ucell", "aucell", "wmean", "ulm", "module_score"):
            score(mat, SIGS, method, genes=GENES, n_controls=5)
    for mat, ref in zip((X, X32), copies):
        assert mat.dtype == ref.dtype and (mat != ref).nnz == 0


def test_anndata_in_place_and_copy():
    df = _bulk()
    adata = ad.AnnData(df)
    assert score(adata, SIGS, n_controls=20, copy=True) is not None
    assert "resistscore_scores" not in adata.obsm
    assert score(adata, SIGS, n_controls=20) is None
    for key in ("resistscore_scores", "resistscore_pvalues", "resistscore_fdr"):
        assert list(adata.obsm[key].columns) == list(SIGS)
    uns = adata.uns["resistscore"]
    assert uns["method"] == "singscore" and uns["n_controls"] == 20 and uns["seed"] == 0
    assert uns["versions"]["resistscore"] == rs.__version__
    assert uns["coverage"]["signature"] == list(SIGS)
    ref = score(df, SIGS, n_controls=20)
    np.testing.assert_array_equal(adata.obsm["resistscore_scores"].to_numpy(), ref.scores.to_numpy())


def test_scored_anndata_can_be_written(tmp_path):
    adata = ad.AnnData(_bulk())
    score(adata, SIGS, n_controls=20)
    adata.write_h5ad(tmp_path / "scored.h5ad")
    back = ad.read_h5ad(tmp_path / "scored.h5ad")
    np.testing.assert_array_equal(
        back.obsm["resistscore_scores"].to_numpy(), adata.obsm["resistscore_scores"].to_numpy()
    )
    assert back.uns["resistscore"]["method"] == "singscore"


def test_backed_h5ad_is_read_in_chunks_and_equals_memory(tmp_path):
    X = _counts(120)
    adata = ad.AnnData(X)
    adata.var_names = GENES
    adata.obs_names = [f"c{i}" for i in range(120)]
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    mem = score(adata, SIGS, n_controls=25, copy=True)
    from_path = score(str(path), SIGS, n_controls=25, chunk_size=17, harmonize=False)
    # a file's sample names are of pandas' str dtype, the AnnData's its own (object): the same names
    assert str(from_path.scores.index.dtype) == "str"
    pd.testing.assert_frame_equal(
        from_path.scores,
        mem.obsm["resistscore_scores"],
        check_exact=True,
        check_names=False,
        check_index_type=False,
    )
    pd.testing.assert_frame_equal(
        from_path.pvalues,
        mem.obsm["resistscore_pvalues"],
        check_exact=True,
        check_names=False,
        check_index_type=False,
    )
    backed = ad.read_h5ad(path, backed="r")
    with pytest.raises(ResistScoreError, match="backed"):
        score(backed, SIGS, copy=True)
    assert score(backed, SIGS, n_controls=25, chunk_size=50) is None
    np.testing.assert_array_equal(backed.obsm["resistscore_scores"].to_numpy(), from_path.scores.to_numpy())
    backed.file.close()
    # contributions reopen the file
    tbl = from_path.contributions("c3", "up")
    assert len(tbl) == 12


def test_sparse_runs_compile_only_the_sparse_kernels(tmp_path, monkeypatch):
    # the parameter check before the run scores made-up rows in the layout and dtype of the data: a
    # first run on CSR float32 (an h5ad) must not compile the kernel for a dense block (float64
    # values) nor a float64 variant for the sparse one
    from resistscore.tl.methods import _kernels

    seen = []
    kernel = _kernels._kernel

    def spy(data, indices, indptr, dense, *args):
        seen.append((data.dtype, dense))
        return kernel(data, indices, indptr, dense, *args)

    monkeypatch.setattr(_kernels, "_kernel", spy)
    adata = ad.AnnData(_counts(60).astype(np.float32))
    adata.var_names = GENES
    adata.obs_names = [f"c{i}" for i in range(60)]
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    res = score(str(path), SIGS, method="ucell", n_controls=20, harmonize=False, pvalues=False)
    assert res.scores.notna().all().all()
    assert set(seen) == {(np.dtype(np.float32), False)}
    seen.clear()
    score(adata, SIGS, method="ucell", pvalues=False)  # in memory too
    assert set(seen) == {(np.dtype(np.float32), False)}
    # with the pooled null, the run and its parameter check go through the one-pass kernel only: a first
    # run compiles nothing of the general kernel
    seen.clear()
    res = score(str(path), SIGS, method="ucell", n_controls=20, harmonize=False, pvalues=True)
    assert res.pvalues.notna().all().all()
    assert seen == []


_FIRST_RUN = """
import json, sys
from numba.core import event
seen = []
class Compiles(event.Listener):
    def on_start(self, ev):
        d = ev.data["dispatcher"]
        if d.py_func.__module__.startswith("resistscore"):
            seen.append([d.py_func.__module__ + "." + d.py_func.__qualname__, str(ev.data["args"])])
    def on_end(self, ev):
        pass
event.register("numba:compile", Compiles())
import resistscore as rs
res = rs.tl.score(sys.argv[1], json.loads(sys.argv[2]), n_controls=20, harmonize=False, pvalues=True, n_jobs=2)
assert res.pvalues.notna().all().all()
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_a_first_run_compiles_few_functions_each_once(tmp_path):
    # a default single-cell run (UCell, CSR float32, pooled null, p-values) on a fresh install compiles
    # only what it calls, one type signature each: the one-pass kernel, the row ranking it shares with
    # the general kernel, two helpers of it, the row scan, the reader's check of the column indices
    # (``_scan_indices``: range and order in one pass) and four of the null's (11; 20 before, among
    # them a tie-rank helper typed twice, for a literal and an int64 argument); besides them the empty
    # kernel on which numba is set up in a thread of its own (``tl/_jit.py``, compiled in ~0.03 s)
    import json
    import os
    import subprocess
    import sys

    adata = ad.AnnData(_counts(60).astype(np.float32))
    adata.var_names = GENES
    adata.obs_names = [f"c{i}" for i in range(60)]
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_RUN, str(path), json.dumps(SIGS)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    compiled = json.loads(out.stdout.strip().splitlines()[-1])
    names = [name for name, _ in compiled]
    assert len(names) == len(set(names)), f"a function compiled twice: {compiled}"
    assert "resistscore.tl.methods._kernels._kernel" not in names
    assert "resistscore.tl._jit._ready" in names  # numba's set-up, started by rs.tl.score
    assert len(names) - 1 <= 11, names


@pytest.mark.parametrize("params", [{"max_rank": 0}, {"w_neg": -1.0}, {"max_rank": 2}, {"ties": "random"}])
def test_the_one_pass_parameter_check_refuses_what_ucell_refuses(params):
    """The check before a pooled-null UCell run takes the one-pass kernel; bad parameters fail as in ucell()."""
    adata = ad.AnnData(sp.csr_matrix(_counts(60).astype(np.float32)))
    adata.var_names = GENES
    adata.obs_names = [f"c{i}" for i in range(60)]
    for pvalues in (False, True):
        with pytest.raises(ValueError) as err:
            score(adata, SIGS, method="ucell", n_controls=20, pvalues=pvalues, **params)
        msg = str(err.value)
        assert next(iter(params)) in msg or "max_rank" in msg, msg


def test_value_dtype_of_row_sources(tmp_path):
    from resistscore.tl._chunks import RowSource, from_file
    from resistscore.tl._stream import harmonized_rows

    X = _counts(10).astype(np.float32)
    assert RowSource(X, range(10), GENES).value_dtype() == np.float32
    assert RowSource(X.toarray().astype(np.float64), range(10), GENES).value_dtype() == np.float64
    adata = ad.AnnData(X)
    adata.var_names = GENES
    adata.obs_names = [f"c{i}" for i in range(10)]
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    assert from_file(path).value_dtype() == np.float32
    assert from_file([path, path]).value_dtype() == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the made-up gene names are ambiguous: only the dtype matters
        mapped = harmonized_rows(path)
    assert mapped.value_dtype() == mapped.rows(0, 1).dtype


def test_cohort_level_method_is_chunk_invariant():
    # module_score depends on the cohort through its gene means (prepared once), not on the chunks
    df = _bulk()
    a = score(df, SIGS, "module_score", pvalues=False).scores
    b = score(df, SIGS, "module_score", pvalues=False, chunk_size=3).scores
    pd.testing.assert_frame_equal(a, b)


# ---- result object -----------------------------------------------------------------------------------
def test_result_tidy_repr_and_extras():
    res = score(_bulk(), SIGS, n_controls=19)
    assert isinstance(res, ScoreResult)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        "sample",
        "signature",
        "score",
        "pvalue",
        "fdr",
        "coverage",
        "n_found",
        "note",
    ]
    assert len(tidy) == 30 * 3
    row = tidy.query("sample == 's4' and signature == 'signed'").iloc[0]
    assert row["score"] == res.scores.loc["s4", "signed"] and row["pvalue"] == res.pvalues.loc["s4", "signed"]
    assert row["n_found"] == 16 and row["coverage"] == 1.0 and row["note"] == ""
    assert "singscore" in repr(res) and "<table" in res._repr_html_()
    assert set(res.extras) == {"dispersion"}
    assert res.params["dispersion"] is True
    exact = score(_bulk(), SIGS, n_controls=19, null="per_sample", tail=None)
    assert exact.pvalues.min().min() >= 1 / 20 and exact.tail == "" and "gpd" not in repr(exact)


# ---- errors ------------------------------------------------------------------------------------------
def test_errors_name_problem_and_fix():
    df = _bulk()
    with pytest.raises(OrientationError, match=r"df\.T"):
        score(df.T, SIGS)
    dup = df.copy()
    dup.columns = [GENES[0]] + GENES[1:-1] + [GENES[0]]
    with pytest.raises(InputFormatError, match="unique"):
        score(dup, SIGS)
    nan = df.copy()
    nan.iloc[2, 5] = np.nan
    with pytest.raises(InputFormatError, match="NaN"):
        score(nan, SIGS, pvalues=False)
    with pytest.raises(ResistScoreError, match="max_rank"):
        score(df, SIGS, "singscore", max_rank=5)
    with pytest.raises(SignatureError, match="weight"):
        score(df, {"a": {GENES[0]: 0.0}})
    with pytest.raises(SignatureError, match="more than once"):
        score(df, pd.DataFrame({"source": ["a", "a"], "target": [GENES[0], GENES[0]]}))
    with pytest.raises(InputFormatError, match="genes="):
        score(df.to_numpy(), SIGS)
    with pytest.raises(ResistScoreError, match="n_controls"):
        score(df, SIGS, n_controls=0)


def test_default_method_follows_the_kind_of_data_not_its_storage_or_size():
    # issue 10 item 23, issue 11: one rule (rs.get.is_single_cell): cell annotations or >= 70 % zeros
    rng = np.random.default_rng(0)
    X = rng.normal(6.0, 1.0, size=(5001, 30))
    genes = GENES[:30]
    sigs = {"s": genes[:5]}
    assert score(X, sigs, genes=genes, pvalues=False).method == "singscore"
    adata = ad.AnnData(X)
    adata.var_names = genes
    # a large dense AnnData of continuous values is bulk (it was 'ucell' by size before)
    assert score(adata, sigs, pvalues=False, copy=True).uns["resistscore"]["method"] == "singscore"
    counts = rng.poisson(0.1, size=(60, 30)).astype(float)
    counts[:, 0] += 1  # no cell is empty
    # single-cell counts stored dense: single cell by their zeros
    assert score(counts, sigs, genes=genes, pvalues=False).method == "ucell"
    # bulk stored sparse: bulk
    assert score(sp.csr_matrix(X[:50] + 10), sigs, genes=genes, pvalues=False).method == "singscore"
    # cells by their annotations, whatever the values
    cells = ad.AnnData(X[:50], obs=pd.DataFrame({"total_counts": 1.0}, index=[f"c{i}" for i in range(50)]))
    cells.var_names = genes
    score(cells, sigs, pvalues=False)
    assert rs.get.result(cells).data_kind == "single_cell" and rs.get.is_single_cell(cells)


# --- AnnData conveniences used by the CLI and the workflow -----------------------------------------


def _small_adata(sparse=False, n=30, g=400, seed=0):
    import anndata as ad
    import scipy.sparse as sps

    rng = np.random.default_rng(seed)
    X = rng.poisson(1.0, size=(n, g)).astype(np.float32) if sparse else rng.normal(5, 1, size=(n, g))
    adata = ad.AnnData(
        X=sps.csr_matrix(X) if sparse else X,
        obs=pd.DataFrame(index=[f"s{i}" for i in range(n)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(g)]),
    )
    return adata


def test_the_result_of_an_anndata_run_matches_obsm():
    adata = _small_adata()
    sigs = {"a": ["G1", "G2", "G3", "G4"], "b": {"G10": 1.0, "G11": 1.0, "G12": -1.0}}
    assert rs.tl.score(adata, sigs, n_controls=20) is None
    res = rs.get.result(adata)
    assert isinstance(res, rs.tl.ScoreResult)
    pd.testing.assert_frame_equal(res.scores, adata.obsm["resistscore_scores"], check_names=False)
    pd.testing.assert_frame_equal(res.fdr, adata.obsm["resistscore_fdr"], check_names=False)
    assert res.tidy().shape[0] == adata.n_obs * 2
    # the result explains itself without re-scoring
    contrib = res.contributions("s0", "b")
    assert set(contrib["gene"]) == {"G10", "G11", "G12"}


def test_scoring_keeps_earlier_provenance_in_uns():
    adata = _small_adata()
    adata.uns["resistscore"] = {"qc": {"n_nan": 0}, "gene_mapping": {"n_input": 400}}
    rs.tl.score(adata, {"a": ["G1", "G2", "G3"]}, pvalues=False)
    uns = adata.uns["resistscore"]
    assert uns["qc"] == {"n_nan": 0} and uns["gene_mapping"] == {"n_input": 400}
    assert uns["method"] == "singscore"


def test_progress_bar_only_when_asked(capsys):
    df = _small_adata().to_df()
    rs.tl.score(df, {"a": ["G1", "G2", "G3"]}, pvalues=False, progress=False)
    assert capsys.readouterr().err == ""
    rs.tl.score(df, {"a": ["G1", "G2", "G3"]}, pvalues=False, progress=True, chunk_size=7)
    assert "scoring (singscore)" in capsys.readouterr().err


def test_default_null_tail_and_fdr_family_are_recorded_for_bulk_and_single_cell():
    bulk = rs.tl.score(_small_adata().to_df(), {"a": ["G1", "G2", "G3"]}, n_controls=20)
    assert (bulk.null, bulk.tail, bulk.fdr_family) == ("pooled", "gpd", "signature")
    assert "pooled, gpd tail, FDR per signature" in repr(bulk)
    adata = _small_adata(sparse=True, n=50)
    adata.obs["n_genes_by_counts"] = 1  # scanpy's QC metric: cells
    rs.tl.score(adata, {"a": ["G1", "G2", "G3"]}, n_controls=20)
    sc = rs.get.result(adata)
    assert sc.method == "ucell" and sc.null == "pooled"
    uns = adata.uns["resistscore"]
    assert (uns["null"], uns["tail"], uns["fdr_family"]) == ("pooled", "gpd", "signature")
    rs.tl.score(
        adata, {"a": ["G1", "G2", "G3"]}, n_controls=20, null="per_sample", tail=None, fdr_family="all"
    )
    again = rs.get.result(adata)
    uns = adata.uns["resistscore"]
    assert (
        (uns["null"], uns["tail"], uns["fdr_family"])
        == ("per_sample", "", "all")
        == (again.null, again.tail, again.fdr_family)
    )
    back = rs.tl.contributions(adata, adata.obs_names[0], "a")  # the result rebuilt from the AnnData
    assert len(back)
    rebuilt = rs.get.result(adata)
    assert (rebuilt.null, rebuilt.tail, rebuilt.fdr_family) == ("per_sample", "", "all")
    for bad in ({"tail": "normal"}, {"fdr_family": "sample"}):
        with pytest.raises(ResistScoreError, match=next(iter(bad))):
            rs.tl.score(adata, {"a": ["G1", "G2", "G3"]}, **bad)
