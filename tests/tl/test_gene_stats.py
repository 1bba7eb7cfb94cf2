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
