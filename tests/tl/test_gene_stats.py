"""The gene statistics of the control sets (issue 12 item 5): summed in the pass that finds the unscorable rows."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from resistscore.tl._chunks import block_moments, row_source, unscorable_rows


def _scipy_moments(X: sp.csr_matrix):
    # the former computation: scipy's column sums of the float64 values and of their squares
    ok = unscorable_rows(X, 0) == 0
    B = X[np.flatnonzero(ok)]
    d = np.asarray(B.data, dtype=np.float64)
    s1 = np.asarray(sp.csr_matrix((d, B.indices, B.indptr), shape=B.shape).sum(axis=0)).ravel()
    s2 = np.asarray(sp.csr_matrix((d * d, B.indices, B.indptr), shape=B.shape).sum(axis=0)).ravel()
    return s1, s2, int(ok.sum())


def _cells(dtype, index_dtype=np.int32, n=400, m=300):
    rng = np.random.default_rng(7)
    X = sp.random(n, m, density=0.3, random_state=rng, format="csr", dtype=np.float64)
    X.data = rng.lognormal(1.0, 2.0, X.nnz) if np.dtype(dtype).kind == "f" else rng.poisson(5.0, X.nnz) + 1.0
    X = X.tolil()
    X[3, :] = 0.0  # all zero: left out
    X[8, :] = 2.5  # constant: left out
    X = X.tocsr().astype(dtype)
    X.eliminate_zeros()
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_block_moments_are_scipys_sums_to_the_bit(dtype, index_dtype):
    X = _cells(dtype, index_dtype)
    src = row_source(X, None, [f"G{i}" for i in range(X.shape[1])], None, False)
    before = X.data.copy()
    got = block_moments(src, 0, X.shape[0])
    assert np.array_equal(X.data, before) and X.data.dtype == dtype  # the caller's data unchanged
    want = _scipy_moments(X)
    assert got[2] == want[2] == X.shape[0] - 2
    for g, w in zip(got[:2], want[:2]):
        assert g.dtype == np.float64 and g.tobytes() == w.tobytes()


def test_sparse_block_moments_copy_no_values():
    # the former code made a float64 copy of the values and one of their squares (8 bytes a value each)
    X = _cells(np.float32, n=2000, m=400)
    src = row_source(X, None, [f"G{i}" for i in range(X.shape[1])], None, False)
    block_moments(src, 0, X.shape[0])  # compiled / loaded before measuring
    tracemalloc.start()
    try:
        block_moments(src, 0, X.shape[0])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * X.nnz, (peak, X.nnz)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint32, np.int16])
def test_column_index_check_in_one_pass(dtype):
    from resistscore.tl._chunks import _index_outside

    ok = np.array([0, 5, 9, 3], dtype=dtype)
    assert not _index_outside(ok, 10)
    assert _index_outside(ok, 9)  # 9 is beyond 9 columns
    if np.dtype(dtype).kind == "i":
        assert _index_outside(np.array([0, -1, 3], dtype=dtype), 10)
        assert _index_outside(np.array([np.iinfo(dtype).min], dtype=dtype), 10)


@pytest.mark.parametrize("bad", [-3, 10_000])
def test_a_file_with_a_column_index_outside_the_matrix_is_refused(tmp_path, bad):
    import anndata as ad
    import h5py
    import pandas as pd

    import resistscore as rs

    X = _cells(np.float32, n=60, m=50)
    path = tmp_path / "cells.h5ad"
    ad.AnnData(X, var=pd.DataFrame(index=[f"G{i}" for i in range(50)])).write_h5ad(path)
    with h5py.File(path, "r+") as f:
        f["X/indices"][7] = bad
    with pytest.raises(rs.InputFormatError, match="column indices outside the matrix"):
        rs.tl.score(str(path), {"s": ["G1", "G2", "G3"]}, pvalues=False, harmonize=False)


@pytest.mark.parametrize("n_obs", [400, 4500])  # every row, or evenly spaced blocks of rows
def test_gene_stats_summed_in_a_pool_are_the_same_to_the_bit(n_obs):
    from concurrent.futures import ThreadPoolExecutor

    X = sp.vstack([_cells(np.float32)] * (-(-n_obs // 400)), format="csr")[:n_obs]
    src = row_source(X, genes=[f"G{j}" for j in range(X.shape[1])])
    want = src.gene_stats(max_rows=2000, block=100)
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = src.gene_stats(max_rows=2000, block=100, pool=pool)
    assert got[2] == want[2] > 0
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_read_ahead_keeps_order_and_bounds_the_blocks_in_memory():
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from resistscore.tl._chunks import read_ahead

    lock = threading.Lock()
    live = {"now": 0, "most": 0}

    def read(a, b):
        with lock:
            live["now"] += 1
            live["most"] = max(live["most"], live["now"])
        return list(range(a, b))

    def work(block, a):
        return a, sum(block)

    ranges = [(a, a + 10) for a in range(0, 500, 10)]
    out = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for res in read_ahead(pool, ranges, read, work, 2):
            with lock:
                live["now"] -= 1  # the caller is done with the block
            out.append(res)
    assert out == [(a, sum(range(a, b))) for a, b in ranges]
    assert live["most"] <= 3  # ahead + 1 blocks read and not yet consumed
