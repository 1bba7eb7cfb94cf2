"""Memory held by a scoring run beyond its results (issue 12: a million cells with p-values in 1 GiB).

Each test fails on the code before the fix it holds (2026-12-06): the pooled null's buffer took huge
pages beyond the half it touches (+109 MiB at a million cells), the check for signatures a method
scores nowhere copied 65,536 rows at a time, and the annotations of a file read its obs names a
second time (+60-120 MiB at a million cells). Later the same day: the check that the sample names are
unique left their lookup table on the result's index (+28 MiB at a million cells), and the HGNC lookups
cached for the process took 55 MiB (pyarrow's pool kept what reading the table freed; a set per alias).
"""

from __future__ import annotations

import sys
import tracemalloc
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs
from resistscore.tl._null import _half_buffer
from resistscore.tl._score import _method_nan
from resistscore.tl._stream import _annotations
from resistscore.tl.methods import get_method

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@linux
def test_null_buffer_takes_memory_only_where_written():
    # 8 signatures x 1M cells: 64 MB of buffer, of which the null writes the first half of each row
    # (4 MB); with huge pages the pages astride the middle of each row took ~2 MB more per signature
    n_sets, n = 8, 1_000_000
    before = _rss()
    buf, view = _half_buffer(n_sets, n, np.float32)
    view[...] = np.nan
    grown = _rss() - before
    assert view.nbytes == n_sets * n * 4
    assert grown <= view.nbytes * 1.05 + (2 << 20), (grown / 2**20, view.nbytes / 2**20)
    buf[...] = 0.0  # the p-values in double precision: the whole buffer, writable
    assert _rss() - before >= buf.nbytes * 0.95
    del buf, view


def test_null_buffer_of_few_cells_is_an_ordinary_array():
    buf, view = _half_buffer(3, 10, np.int32)
    assert buf.shape == (3, 10) and buf.dtype == np.float64 and view.shape == (3, 10)
    view[...] = -1
    assert (buf.view(np.int32)[:, :10] == -1).all()


def test_method_nan_copies_no_block_of_scores():
    # 200,000 cells x 54 signatures in float32 (43 MB): the check of signatures scored nowhere runs in
    # blocks without copying them (a copy of 65,536 rows took 14 MB)
    rng = np.random.default_rng(0)
    scores = rng.random((200_000, 54), dtype=np.float32)
    scores[:, 7] = np.nan
    codes = np.zeros(len(scores), dtype=np.int8)
    codes[5] = 1
    scores[5, 3] = 0.5  # an unscorable row does not keep a signature alive
    scores[:, 3] = np.nan
    scores[5, 3] = 0.5
    sigs = [f"s{i}" for i in range(54)]
    cov = pd.DataFrame({"reported": True, "reason": ""}, index=sigs)
    tracemalloc.start()
    try:
        _method_nan(scores, codes, cov, sigs, get_method("ucell"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 << 20, peak / 2**20
    assert cov.index[~cov["reported"]].tolist() == ["s3", "s7"]
    assert cov.loc["s7", "reason"].startswith("ucell gives no score")


def test_method_nan_keeps_signatures_scored_somewhere():
    scores = np.full((10, 2), np.nan)
    scores[9, 1] = 1.0
    cov = pd.DataFrame({"reported": True, "reason": ""}, index=["a", "b"])
    _method_nan(scores, np.zeros(10, dtype=np.int8), cov, ["a", "b"], get_method("ucell"))
    assert cov["reported"].tolist() == [False, True]


def test_release_freed_memory_finds_glibc_malloc_trim():
    import platform

    from resistscore.tl._score import _malloc_trim, release_freed_memory

    if platform.libc_ver()[0] == "glibc":  # here the release must not be a silent no-op
        assert _malloc_trim() is not None
    else:
        assert _malloc_trim() is None or sys.platform.startswith("linux")
    release_freed_memory()  # glibc: malloc_trim; elsewhere nothing


@pytest.fixture
def annotated_h5ad(tmp_path):
    n = 500
    rng = np.random.default_rng(3)
    obs = pd.DataFrame(
        {
            "n_counts": rng.random(n),
            "leiden": pd.Categorical(rng.choice(["0", "1", "2"], n)),
            "sample": [f"donor{i % 4}" for i in range(n)],
            "ok": rng.random(n) > 0.5,
        },
        index=pd.Index([f"AAACCTGAG{i:06d}-1" for i in range(n)], name="barcode"),
    )
    a = ad.AnnData(sp.csr_matrix(rng.poisson(0.3, (n, 40)).astype(np.float32)), obs=obs)
    a.var_names = [f"G{i}" for i in range(40)]
    path = tmp_path / "cells.h5ad"
    a.write_h5ad(path)
    return path


def test_file_annotations_share_the_obs_names(annotated_h5ad):
    # the obs of a file's annotations is anndata's obs, but its index is the names read already
    path = annotated_h5ad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        src = rs.tl.harmonized_rows(path)
    got, want = src.annotations["obs"], ad.read_h5ad(path).obs
    pd.testing.assert_frame_equal(
        got, want, check_index_type=False
    )  # the names: pandas' str dtype, not object
    assert got.index.name == "barcode" and src.obs_names.name is None
    assert got.index.array is src.obs_names.array
    # without the names (or names of another length, e.g. the first of several shards) obs is read whole
    pd.testing.assert_frame_equal(_annotations(path)["obs"], want)
    pd.testing.assert_frame_equal(_annotations(path, src.obs_names[:10])["obs"], want)


def test_a_run_leaves_no_lookup_table_on_the_sample_names():
    # checking that the names are unique used Index.is_unique, which builds the Index's hash table and
    # keeps it for as long as the result lives (28 MiB at a million cells); a user's lookup builds it then
    n = 20_000
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        rng.random((n, 30)), index=[f"cell{i:07d}" for i in range(n)], columns=[f"G{i}" for i in range(30)]
    )
    res = rs.tl.score(df, {"prog": ["G1", "G2", "G3", "G4"]}, pvalues=False)
    idx = res.scores.index
    assert idx.equals(df.index) and idx.name == "sample"
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        assert idx.get_loc("cell0000007") == 7  # builds the table now
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown >= n * 8, grown  # it was not there: the run did not build it


def test_a_file_s_run_leaves_no_lookup_table_on_the_cell_names(annotated_h5ad):
    res = rs.tl.score(annotated_h5ad, {"prog": ["G1", "G2", "G3", "G4"]}, pvalues=False, harmonize=False)
    idx = res.scores.index
    assert idx.equals(ad.read_h5ad(annotated_h5ad).obs_names)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        assert idx.get_loc("AAACCTGAG000007-1") == 7
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown >= len(idx) * 8, grown


def test_a_file_s_cell_names_are_held_in_one_arrow_buffer(annotated_h5ad, tmp_path):
    # the names read from a file live with the results through the run: as str objects in an object Index
    # they took 65 MiB at a million cells, in pandas' Arrow-backed str dtype ~20 MiB (issue 12's 1 GiB)
    want = ad.read_h5ad(annotated_h5ad)
    zarr_path = tmp_path / "cells.zarr"
    rs.io.convert(annotated_h5ad, zarr_path)
    second = want.copy()
    second.obs_names = [f"{n[:-2]}-2" for n in want.obs_names]
    second.write_h5ad(tmp_path / "second.h5ad")
    sigs = {"prog": ["G1", "G2", "G3", "G4"]}
    for path in (annotated_h5ad, zarr_path, [zarr_path, tmp_path / "second.h5ad"]):  # the last: two shards
        res = rs.tl.score(path, sigs, pvalues=False, harmonize=False)
        idx = res.scores.index
        assert str(idx.dtype) == "str" and idx.name == "sample", path
        names = want.obs_names.tolist() + (second.obs_names.tolist() if isinstance(path, list) else [])
        assert idx.tolist() == names
        assert idx.memory_usage(deep=True) < 0.5 * pd.Index(names, dtype=object).memory_usage(deep=True)
    # the AnnData boundary: anndata (< 0.13) does not write a str-dtype index; the AnnData's own names go in
    res = rs.tl.score(annotated_h5ad, sigs, harmonize=False)
    res.to_anndata(want)
    assert want.obsm["resistscore_scores"].index.dtype == object
    want.write_h5ad(tmp_path / "scored.h5ad")
    back = rs.get.result(ad.read_h5ad(tmp_path / "scored.h5ad"))
    for name in ("scores", "pvalues", "fdr"):
        np.testing.assert_array_equal(getattr(back, name).to_numpy(), getattr(res, name).to_numpy())
        assert getattr(back, name).index.equals(res.scores.index)


def test_counting_distinct_names_leaves_nothing_in_pyarrow_s_pool():
    # mimalloc (pyarrow's default pool) kept the ~40 MiB of the table that counting a million names took
    import pyarrow as pa

    from resistscore.tl._chunks import compact_names
    from resistscore.tl._score import _unique

    pool = pa.default_memory_pool()
    before = pool.num_allocations()
    names = compact_names(np.array([f"c{i}" for i in range(5000)] + ["c7"], dtype=np.dtypes.StringDType()))
    assert str(names.dtype) == "str"
    assert not _unique(names) and _unique(names[:-1])
    assert pool.num_allocations() == before


def test_duplicated_cell_names_of_a_file_are_refused(tmp_path):
    # a guard, not a fix (it passed before): the Arrow-backed names' own uniqueness check still refuses repeats
    a = ad.AnnData(np.ones((4, 5), dtype=np.float32), var=pd.DataFrame(index=[f"G{i}" for i in range(5)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # anndata: obs names are not unique
        a.obs_names = ["a", "b", "a", "c"]
    a.write_h5ad(tmp_path / "dup.h5ad")
    with pytest.raises(rs.InputFormatError, match=r"sample names are not unique \(e.g. \['a'\]\)"):
        rs.tl.score(tmp_path / "dup.h5ad", {"prog": ["G1", "G2", "G3"]}, pvalues=False, harmonize=False)


def test_duplicated_sample_names_are_still_refused():
    df = pd.DataFrame(np.ones((4, 5)), index=["a", "b", "a", "c"], columns=[f"G{i}" for i in range(5)])
    with pytest.raises(rs.InputFormatError, match=r"sample names are not unique \(e.g. \['a'\]\)"):
        rs.tl.score(df, {"prog": ["G1", "G2", "G3"]}, pvalues=False)


def test_gene_tables_are_read_outside_pyarrow_s_pool():
    # mimalloc (pyarrow's default pool) kept the ~18 MiB that reading the HGNC table freed, for the process
    import pyarrow as pa

    from resistscore import _gene_tables as gt

    pool = pa.default_memory_pool()
    before = pool.num_allocations()
    cols = gt._columns("hgnc", gt._HGNC_COLUMNS)
    assert len(cols["symbol"]) > 40_000
    assert pool.num_allocations() == before


def test_aliases_of_one_gene_share_one_set():
    # one frozenset per value instead of a set per key: the alias and previous-symbol lookups of the
    # process are 8 MiB smaller (their equality with the table is tested in tests/pp/test_harmonize_fast.py)
    from resistscore._gene_tables import _keyed, hgnc_index

    idx = hgnc_index()
    for lookup in (idx.alias, idx.prev, idx.alias_upper, idx.withdrawn):
        values = list(lookup.values())
        assert all(isinstance(v, frozenset) for v in values)
        assert len({id(v) for v in values}) < len(values)
    assert len({id(v) for v in idx.alias.values()}) < 0.6 * len(idx.alias)  # 23,000 sets for 42,800 aliases
    got = _keyed(["a|b", "", "b|c|", "d"], ["G1", "G2", "G3", "G1"], upper=False)
    assert got == {"a": {"G1"}, "b": {"G1", "G3"}, "c": {"G3"}, "d": {"G1"}}
    assert got["a"] is got["d"] and got["b"] is not got["a"]
    assert _keyed(["X|Y"], ["w"], upper=True, invert=True) == {"w": {"X", "Y"}}
