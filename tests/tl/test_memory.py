"""Memory held by a scoring run beyond its results (issue 12: a million cells with p-values in 1 GiB).

Each test fails on the code before the fix it holds (2026-12-06): the pooled null's buffer took huge
pages beyond the half it touches (+109 MiB at a million cells), the check for signatures a method
scores nowhere copied 65,536 rows at a time, and the annotations of a file read its obs names a
second time (+60-120 MiB at a million cells).
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
    pd.testing.assert_frame_equal(got, want)
    assert got.index.name == "barcode" and src.obs_names.name is None
    assert np.shares_memory(got.index.to_numpy(), src.obs_names.to_numpy())
    # without the names (or names of another length, e.g. the first of several shards) obs is read whole
    pd.testing.assert_frame_equal(_annotations(path)["obs"], want)
    pd.testing.assert_frame_equal(_annotations(path, src.obs_names[:10])["obs"], want)
