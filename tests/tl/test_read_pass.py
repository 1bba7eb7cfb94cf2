"""The pass over a file's rows (issue 12): blocks read into the buffers of blocks already scored, the column
indices checked in one compiled pass, the stored zeros found by the pass over the values; the same scores to
the bit, the same errors for a damaged file, unsorted indices and stored zeros still made canonical."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import resistscore as rs
from resistscore.tl._chunks import (
    ReadBuffers,
    _check_indices,
    _scan_indices,
    from_file,
    from_h5ad,
    unscorable_rows,
)
from resistscore.tl.methods._kernels import _stores_zeros, as_csr_block

GENES = [f"G{i}" for i in range(300)]
SIGS = {
    "a": GENES[:15],
    "b": {**dict.fromkeys(GENES[40:52], 1.0), **dict.fromkeys(GENES[60:66], -1.0)},
}
#: the empty and the constant cell are left unscored, as they should be
pytestmark = pytest.mark.filterwarnings("ignore::resistscore.UnscorableSampleWarning")
KW = {"n_controls": 20, "random_state": 1, "n_jobs": 2}


def _cells(n=900, seed=0) -> sp.csr_matrix:
    """Log counts, float32 CSR: rows of different lengths, an empty row and a constant one."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.5, 1.0, size=len(GENES)) * rng.uniform(0.2, 3.0, size=(n, 1))
    X = np.log1p(rng.poisson(lam).astype(np.float32))
    X[5] = 0.0
    X[11] = 1.5
    return sp.csr_matrix(X)


def _write(X, path, suffix="h5ad", first=0):
    adata = ad.AnnData(X, var=pd.DataFrame(index=GENES))
    adata.obs_names = [f"c{first + i}" for i in range(X.shape[0])]
    if suffix == "zarr":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # anndata: zarr v2 will not be the default
            adata.write_zarr(path)
    else:
        adata.write_h5ad(path)
    return path


def _same(got, want):
    for k in ("scores", "pvalues", "fdr"):
        a, b = getattr(got, k).to_numpy(), getattr(want, k).to_numpy()
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), k


@pytest.mark.parametrize("shards", [1, 2])
def test_blocks_read_into_reused_buffers_give_the_same_scores_to_the_bit(tmp_path, monkeypatch, shards):
    X = _cells()
    cut = np.linspace(0, X.shape[0], shards + 1).astype(int)
    parts = enumerate(zip(cut, cut[1:]))
    paths = [str(_write(X[a:b], tmp_path / f"s{i}.h5ad", first=a)) for i, (a, b) in parts]
    taken, made = [], []
    take = ReadBuffers.take

    def spy(self, n, dtype):
        free, lent = list(self._free), len(self._lent)  # (references: no id of a buffer let go is reused)
        out = take(self, n, dtype)
        taken.append(n)
        if len(self._lent) > lent and not any(self._lent[-1] is b for b in free):
            made.append(n)
        return out

    monkeypatch.setattr(ReadBuffers, "take", spy)
    got = rs.tl.score(paths if shards > 1 else paths[0], SIGS, chunk_size=37, harmonize=False, **KW)
    # ~25 blocks of the row pass and 1 of the gene statistics, two arrays each (a block across two shards: four);
    # buffers for n_jobs + 1 blocks per pass, used again and again (a shard's small end: arrays of its own)
    assert len(taken) >= 2 * 25 and len(made) <= 2 * 2 * (KW["n_jobs"] + 1)
    want = rs.tl.score(X, SIGS, genes=GENES, chunk_size=37, **KW)  # in memory: no read buffers
    _same(got, want)


def test_the_cli_s_qc_rows_are_read_into_reused_buffers_with_the_same_qc_and_scores(tmp_path, monkeypatch):
    # resistscore score FILE: rows with their QC taken in the pass (StreamQC keeps no reference to a block)
    X = _cells()
    path = _write(X, tmp_path / "c.h5ad")
    calls = []
    take = ReadBuffers.take
    monkeypatch.setattr(ReadBuffers, "take", lambda self, n, dtype: calls.append(n) or take(self, n, dtype))
    rows = rs.tl.qc_rows(str(path))
    got = rs.tl.score(rows, SIGS, chunk_size=37, **KW)
    assert len(calls) >= 2 * 25 and rows.qc.complete
    _same(got, rs.tl.score(X, SIGS, genes=GENES, chunk_size=37, **KW))
    monkeypatch.undo()
    plain = rs.tl.qc_rows(str(path))
    for a, b in plain.chunks(37):
        plain.rows(a, b)
    assert rows.qc_report().findings == plain.qc_report().findings


def test_a_block_is_read_into_its_buffers_and_they_are_read_into_again(tmp_path):
    X = _cells(300)
    src = from_h5ad(_write(X, tmp_path / "c.h5ad"))
    bufs = ReadBuffers()
    B = src.rows_into(0, 100, bufs)
    lent = bufs.lent()
    # the block views the buffers (scipy copies an array that views less than half of its base)
    assert len(lent) == 2 and np.shares_memory(B.data, lent[0]) and np.shares_memory(B.indices, lent[1])
    np.testing.assert_array_equal(B.toarray(), X[:100].toarray())
    bufs.give_back(lent)
    assert bufs.take(0, np.float32).shape == (0,) and not bufs.lent()  # nothing to read: no buffer taken
    # the next blocks reuse them, when they fit (row 5 is empty: nothing to read)
    for a, b in [(100, 190), (190, 300), (7, 9), (5, 6)]:
        n_free = len(bufs._free)
        C = src.rows_into(a, b, bufs)
        again = bufs.lent()
        np.testing.assert_array_equal(C.toarray(), X[a:b].toarray())
        if (a, b) == (100, 190):
            assert {id(x) for x in again} == {id(x) for x in lent}
        if (a, b) in ((7, 9), (5, 6)):  # small: arrays of their own, the buffers kept for the next blocks
            assert again == [] and len(bufs._free) == n_free > 0
        bufs.give_back(again)


def _csr_parts(draw, n_cols, max_rows=12):
    lengths = draw(st.lists(st.integers(0, 6), min_size=1, max_size=max_rows))  # empty rows among them
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    idx = np.array(draw(st.lists(st.integers(0, n_cols - 1), min_size=int(ptr[-1]), max_size=int(ptr[-1]))))
    return ptr, idx.astype(np.int32)


@settings(max_examples=150, deadline=None)
@given(st.data(), st.integers(1, 9), st.booleans(), st.integers(0, 1000))
def test_the_index_check_finds_what_scipy_and_numpy_find(data, n_cols, sort, base):
    ptr, idx = _csr_parts(data.draw, n_cols)
    if sort:
        for r in range(len(ptr) - 1):
            idx[ptr[r] : ptr[r + 1]].sort()
    X = sp.csr_matrix((np.ones(len(idx)), idx, ptr), shape=(len(ptr) - 1, n_cols))
    # offsets into the file's arrays (a block of rows from the middle of the file)
    damaged, in_order = _check_indices(ptr + base, idx, n_cols)
    assert not damaged and in_order == bool(sp._sparsetools.csr_has_sorted_indices(len(ptr) - 1, ptr, idx))
    assert _check_indices(ptr + base, idx.astype(np.int64), n_cols) == (False, in_order)
    if len(idx):
        k = data.draw(st.integers(0, len(idx) - 1))
        for bad in (n_cols, -1, np.iinfo(np.int32).min):
            wrong = idx.copy()
            wrong[k] = bad
            assert _check_indices(ptr + base, wrong, n_cols)[0]
        assert X.has_sorted_indices == in_order
    if len(ptr) > 2 and ptr[-1] > 0:  # indptr out of order, or beyond the values
        r = data.draw(st.integers(1, len(ptr) - 2))
        if ptr[r + 1] > 0:
            wrong = ptr.copy()
            wrong[r] = ptr[r + 1] + 1
            assert _check_indices(wrong + base, idx, n_cols)[0]
    two = np.array([base, base + 2])
    assert _scan_indices(two, np.array([0, 1], np.uint32), np.uint32(2)) == (False, True)


def _damage(path, suffix, what):
    if suffix == "zarr":
        import zarr

        X = zarr.open_group(str(path), mode="r+")["X"]
    else:
        import h5py

        f = h5py.File(path, "r+")
        X = f["X"]
    if what == "index beyond":
        X["indices"][7] = len(GENES)
    elif what == "negative index":
        X["indices"][7] = -2
    else:  # indptr out of order
        ptr = X["indptr"][:]
        X["indptr"][40] = ptr[42] + 3
    if suffix != "zarr":
        f.close()


@pytest.mark.parametrize("what", ["index beyond", "negative index", "indptr out of order"])
@pytest.mark.parametrize("suffix", ["h5ad", "zarr"])
def test_a_damaged_file_still_raises_the_same_error(tmp_path, suffix, what):
    path = _write(_cells(120), tmp_path / f"c.{suffix}", suffix)
    _damage(path, suffix, what)
    with pytest.raises(rs.InputFormatError, match="CSR matrix is damaged at rows"):
        rs.tl.score(str(path), SIGS, chunk_size=37, harmonize=False, **KW)
    with pytest.raises(rs.InputFormatError, match="CSR matrix is damaged at rows"):  # any reader of the rows
        from_file(path).rows(0, 120)


@pytest.mark.parametrize("suffix", ["h5ad", "zarr"])
def test_unsorted_indices_and_stored_zeros_of_a_file_are_made_canonical(tmp_path, suffix):
    X = _cells(200)
    path = _write(X, tmp_path / f"c.{suffix}", suffix)
    want = rs.tl.score(X, SIGS, genes=GENES, chunk_size=37, **KW)
    if suffix == "zarr":
        import zarr

        f = None
        node = zarr.open_group(str(path), mode="r+")["X"]
    else:
        import h5py

        f = h5py.File(path, "r+")
        node = f["X"]
    ptr, idx, val = node["indptr"][:], node["indices"][:], node["data"][:]
    for r in (3, 50, 51, 190):  # reversed rows: unsorted indices
        idx[ptr[r] : ptr[r + 1]] = idx[ptr[r] : ptr[r + 1]][::-1].copy()
        val[ptr[r] : ptr[r + 1]] = val[ptr[r] : ptr[r + 1]][::-1].copy()
    node["indices"][:], node["data"][:] = idx, val
    if f is not None:
        f.close()
    src = from_file(path)
    # the reader's check, known to scipy: it does not look again
    assert not src.rows(0, 37).has_sorted_indices and src.rows(100, 137).has_sorted_indices
    assert "_has_sorted_indices" in src.rows(100, 137).__dict__
    _same(rs.tl.score(str(path), SIGS, chunk_size=37, harmonize=False, **KW), want)

    # stored zeros: the values of a few cells set to 0 in the file, eliminated in memory
    Z = X.copy()
    Z.data[[10, 500, 501, 9000]] = 0.0
    path = _write(Z, tmp_path / f"z.{suffix}", suffix)
    Z.eliminate_zeros()
    _same(
        rs.tl.score(str(path), SIGS, chunk_size=37, harmonize=False, **KW),
        rs.tl.score(Z, SIGS, genes=GENES, chunk_size=37, **KW),
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0.0, -0.0, 1.5, -2.0, 3.0, np.nan, np.inf, -np.inf]), max_size=6),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([np.float32, np.float64]),
)
def test_the_scan_of_the_values_counts_every_stored_zero(rows, dtype):
    # counted in the rows whose values span 0 only: that is every row holding a zero, whatever its signs
    from resistscore.tl._chunks import _scan_csr

    ptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    data = np.array([v for r in rows for v in r], dtype=dtype)
    code = np.zeros(len(rows), np.int8)
    none = (np.zeros(0, np.int32), np.zeros(0), np.zeros(0))
    assert _scan_csr(data, ptr, 6, False, True, code, *none)[2] == int((data == 0).sum())
    assert _scan_csr(data, ptr, 6, False, False, code, *none)[2] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shift", [0.0, -1.0])  # positive values, or of both signs
def test_the_scan_of_the_values_notes_stored_zeros_for_as_csr_block(dtype, shift):
    X = _cells(60).astype(dtype)
    X.data += dtype(shift)  # log1p of counts: no value becomes 0
    B = X[:30]
    assert (X.data < 0).any() == (shift < 0) and not (X.data == 0).any()
    unscorable_rows(B, 0)
    assert _stores_zeros(B) is False and as_csr_block(B) is B  # canonical: not copied
    Z = X[:30].copy()
    Z.data[[4, 9]] = 0.0
    unscorable_rows(Z, 0)
    assert _stores_zeros(Z) is True
    C = as_csr_block(Z)
    assert C is not Z and not (C.data == 0).any() and np.array_equal(C.toarray(), Z.toarray())
    # a note of other values is not believed: new values are read
    B.data = B.data.copy()
    B.data[0] = 0.0
    assert _stores_zeros(B) is True and not (as_csr_block(B).data == 0).any()
