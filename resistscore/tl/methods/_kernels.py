"""Compiled kernels shared by the rank- and value-based scoring methods.

Every single-sample method of resistscore reduces to the same two steps for one row (sample or cell):

1. a per-gene value ``f(g)``: the expression itself, or a transform of the gene's rank within
   the row (singscore: the rank; UCell: ``min(rank, maxRank)``; AUCell: ``max(0, T - rank)``);
2. weighted sums of ``f`` over the up- and the down-genes of every gene set.

For a sparse row (CSR), the genes not stored share one value ``f0`` (they are all zero and form
one tie group), so the sums are ``f0 * W_s + sum_{g in s, stored} w_g (f(g) - f0)``: the cost is
proportional to the stored values, never to the number of genes, and the matrix is never
densified. The gene -> sets incidence is walked from each stored gene, so scoring thousands of
(control) sets costs little more than scoring a few.

All kernels release the GIL (``nogil=True``) so that the engine runs row chunks in threads.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numba as nb
import numpy as np
import scipy.sparse as sp

from resistscore.tl.methods._base import GeneSetIndex

__all__ = [
    "TIES",
    "TRANSFORMS",
    "as_csr_block",
    "gather",
    "incidence",
    "set_sums",
    "workspace",
]

#: tie methods, as in R's ``rank(ties.method=...)``; ``expected``: the per-gene value is the mean of the
#: transform over the ranks of the gene's tie group, i.e. its expectation when ties are broken at random
#: (R's ``ties.method = "random"``, as R AUCell ranks); for the plain rank it equals ``average``
TIES = {"min": 0, "average": 1, "max": 2, "ordinal": 3, "expected": 4}
#: per-gene transforms: 0 value, 1 rank, 2 min(rank, param), 3 max(0, param - rank)
TRANSFORMS = {"value": 0, "rank": 1, "rank_clip": 2, "rank_recovery": 3}


@nb.njit(nogil=True, cache=True)
def _tie_rank(pos, cnt, ties):
    # ranks pos+1 .. pos+cnt share one tie group
    if ties == 0:
        return pos + 1.0
    if ties == 2:
        return pos + cnt * 1.0
    return pos + (cnt + 1.0) / 2.0


_SIGN = np.uint64(1) << np.uint64(63)
_BYTE = np.uint64(0xFF)


@nb.njit(nogil=True, cache=True)
def _argsort(key):
    """Stable argsort of float64 keys (no NaN): LSD radix sort on order-preserving 64-bit integers.

    Several times faster than a comparison sort for rows of a few thousand values, and stable, so
    that ``ordinal`` ties follow the column order.
    """
    n = key.shape[0]
    u = key.view(np.uint64).copy()
    for i in range(n):
        if u[i] & _SIGN:
            u[i] = ~u[i]
        else:
            u[i] = u[i] | _SIGN
    idx = np.arange(n)
    u2 = np.empty(n, dtype=np.uint64)
    idx2 = np.empty(n, dtype=np.int64)
    cnt = np.empty(256, dtype=np.int64)
    for p in range(8):
        shift = np.uint64(8 * p)
        cnt[:] = 0
        for i in range(n):
            cnt[np.int64((u[i] >> shift) & _BYTE)] += 1
        skip = False
        for d in range(256):
            if cnt[d] == n:
                skip = True
                break
            if cnt[d] > 0:
                break
        if skip:
            continue
        total = 0
        for d in range(256):
            c = cnt[d]
            cnt[d] = total
            total += c
        for i in range(n):
            d = np.int64((u[i] >> shift) & _BYTE)
            q = cnt[d]
            cnt[d] = q + 1
            u2[q] = u[i]
            idx2[q] = idx[i]
        u, u2 = u2, u
        idx, idx2 = idx2, idx
    return idx


_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
_MAX_UNIQUE = 256


@nb.njit(nogil=True, cache=True)
def _ranks_few_values(key, nz, ties, out, cnt_out):
    """Ranks of a row with at most 256 distinct values (typical of counts-based single-cell data).

    The distinct values are collected in a small hash table, sorted, and every value gets its tie
    group's rank: O(k) instead of a sort of the k values. ``ordinal`` ranks follow the column order.
    Returns ``(done, zero_pos, zero_rank)``; ``done`` is False when the row has too many distinct values.
    """
    k = key.shape[0]
    bits = 10  # 1024 slots for <= 256 distinct values
    size = 1 << bits
    tkey = np.empty(size, dtype=np.uint64)
    tcnt = np.zeros(size, dtype=np.int64)
    tval = np.empty(size)
    used = np.empty(_MAX_UNIQUE + 1, dtype=np.int64)
    slot_of = np.empty(k, dtype=np.int64)
    u = key.view(np.uint64)
    n_used = 0
    shift = np.uint64(64 - bits)
    mask = np.uint64(size - 1)
    for i in range(k):
        h = (u[i] * _HASH_MUL) >> shift
        while True:
            if tcnt[h] == 0:
                if n_used == _MAX_UNIQUE:
                    return False, 0, 0.0
                tkey[h] = u[i]
                tval[h] = key[i]
                tcnt[h] = 1
                used[n_used] = h
                n_used += 1
                break
            if tkey[h] == u[i]:
                tcnt[h] += 1
                break
            h = (h + np.uint64(1)) & mask
        slot_of[i] = h
    # sort the distinct values (insertion sort on the float keys)
    vals = np.empty(n_used)
    slots = np.empty(n_used, dtype=np.int64)
    for j in range(n_used):
        slots[j] = used[j]
        vals[j] = tval[used[j]]
    for j in range(1, n_used):
        v = vals[j]
        sl = slots[j]
        q = j - 1
        while q >= 0 and vals[q] > v:
            vals[q + 1] = vals[q]
            slots[q + 1] = slots[q]
            q -= 1
        vals[q + 1] = v
        slots[q + 1] = sl
    # group start positions, with the zero group (nz implicit zeros) before the first positive key
    start = np.empty(size, dtype=np.float64)
    pos = 0
    zero_pos = -1
    zero_rank = 0.0
    zero_done = nz == 0
    for j in range(n_used):
        if not zero_done and vals[j] > 0:
            zero_pos = pos
            zero_rank = _tie_rank(pos, nz, ties)
            pos += nz
            zero_done = True
        sl = slots[j]
        c = tcnt[sl]
        start[sl] = pos if ties == 3 else _tie_rank(pos, c, ties)
        pos += c
    if not zero_done:
        zero_pos = pos
        zero_rank = _tie_rank(pos, nz, ties)
    if ties == 3:
        for i in range(k):
            sl = slot_of[i]
            start[sl] += 1.0
            out[i] = start[sl]
    else:
        for i in range(k):
            out[i] = start[slot_of[i]]
            cnt_out[i] = tcnt[slot_of[i]]
    return True, zero_pos, zero_rank


@nb.njit(nogil=True, cache=True)
def _row_ranks(vals, n, descending, ties, out, order, cnt_out):
    """Rank the ``k`` stored values of a row of length ``n`` whose other ``n - k`` entries are 0.

    Writes the ranks of the stored values into ``out`` and returns ``(zero_pos, zero_rank)``:
    the number of entries ranked before the zero group and the rank shared by the zeros (for
    ``ordinal`` ties the zeros take ranks ``zero_pos + 1, zero_pos + 2, ...`` in column order).
    Stored values must not be 0 when ``k < n`` (explicit zeros are removed by the caller).
    ``order`` is a precomputed argsort of the keys, or empty (then a stable radix sort is used).
    Except for ``ordinal`` ties, ``cnt_out`` receives the size of each stored value's tie group.
    """
    k = vals.shape[0]
    key = np.empty(k)
    for i in range(k):
        # + 0.0 turns -0.0 into 0.0 so that both zeros tie
        key[i] = (-vals[i] if descending else vals[i]) + 0.0
    nz = n - k
    if order.shape[0] != k:
        done, zero_pos, zero_rank = _ranks_few_values(key, nz, ties, out, cnt_out)
        if done:
            return zero_pos, zero_rank
        order = _argsort(key)
    pos = 0
    zero_done = nz == 0
    zero_pos = -1
    zero_rank = 0.0
    i = 0
    while i < k:
        v = key[order[i]]
        if not zero_done and v > 0:
            zero_pos = pos
            zero_rank = _tie_rank(pos, nz, ties)
            pos += nz
            zero_done = True
        j = i
        while j < k and key[order[j]] == v:
            j += 1
        if ties == 3:
            for t in range(i, j):
                out[order[t]] = pos + 1.0 + (t - i)
        else:
            r = _tie_rank(pos, j - i, ties)
            for t in range(i, j):
                out[order[t]] = r
                cnt_out[order[t]] = j - i
        pos += j - i
        i = j
    if not zero_done:
        zero_pos = pos
        zero_rank = _tie_rank(pos, nz, ties)
    return zero_pos, zero_rank


@nb.njit(nogil=True, cache=True)
def _transform(r, transform, param):
    if transform == 1:
        return r
    if transform == 2:
        return r if r < param else param
    # transform == 3
    d = param - r
    return d if d > 0.0 else 0.0


@nb.njit(nogil=True, cache=True)
def _mean_transform(first, cnt, transform, param):
    """Mean of the transform over the ranks ``first, first + 1, ..., first + cnt - 1`` (one tie group)."""
    last = first + cnt - 1.0
    if transform == 1:
        return (first + last) / 2.0
    if transform == 2:  # min(r, param)
        u = min(last, np.floor(param))
        below = (u - first + 1.0) * (first + u) / 2.0 if u >= first else 0.0
        n_above = last - max(first - 1.0, np.floor(param))
        return (below + (n_above * param if n_above > 0 else 0.0)) / cnt
    # transform == 3: max(0, param - r)
    u = min(last, np.ceil(param) - 1.0)
    if u < first:
        return 0.0
    m = u - first + 1.0
    return (m * param - m * (first + u) / 2.0) / cnt


@nb.njit(nogil=True, cache=True)
def _row_f(vals, cols, n, descending, ties, transform, param, f, extra_cols, extra_f, order):
    """Per-gene values of one row: ``f`` for stored genes, returns ``(f0, n_extra)``.

    With ``ordinal`` ties, the zero genes ranked before ``param`` (AUCell) get their own value:
    their columns and values are written to ``extra_cols`` / ``extra_f``.
    """
    k = vals.shape[0]
    if transform == 0:
        for i in range(k):
            f[i] = vals[i]
        return 0.0, 0
    ranks = np.empty(k)
    cnts = np.ones(k)
    zero_pos, zero_rank = _row_ranks(vals, n, descending, ties, ranks, order, cnts)
    if ties == 4:
        for i in range(k):
            f[i] = _mean_transform(ranks[i] - (cnts[i] - 1.0) / 2.0, cnts[i], transform, param)
        if n > k:
            return _mean_transform(zero_pos + 1.0, (n - k) * 1.0, transform, param), 0
        return 0.0, 0
    for i in range(k):
        f[i] = _transform(ranks[i], transform, param)
    n_extra = 0
    if ties == 3 and n > k:
        # zeros take ranks zero_pos+1, zero_pos+2, ... in column order; only those with a
        # value different from the last zero's value need explicit treatment (AUCell: rank < T)
        f0 = _transform(zero_pos + (n - k) * 1.0, transform, param)
        rank = zero_pos + 1.0
        p = 0
        c = 0
        while c < n:
            while p < k and cols[p] < c:
                p += 1
            if p < k and cols[p] == c:
                c += 1
                continue
            fz = _transform(rank, transform, param)
            if fz == f0:
                break
            extra_cols[n_extra] = c
            extra_f[n_extra] = fz
            n_extra += 1
            rank += 1.0
            c += 1
        return f0, n_extra
    if n > k:
        return _transform(zero_rank, transform, param), 0
    return 0.0, 0


_PAD = 4  # every gene's incidence list is padded to a multiple of 4 entries (see Incidence)


@nb.njit(nogil=True, cache=True)
def _accumulate(cols, f, k, f0, inc_ptr, inc_slot, inc_w, weighted, buf):
    # inc_slot: set index, + n_sets for down-genes, padded per gene to a multiple of 4 with the spare
    # slot buf[-1] (a fixed trip count of 4 avoids a mispredicted loop exit per gene: ~1.6x faster);
    # buf: the row's sums (up-sets, down-sets, spare), reused from row to row so that it stays in cache
    for t in range(k):
        d = f[t] - f0
        if d == 0.0:
            continue
        g = cols[t]
        p = inc_ptr[g]
        e = inc_ptr[g + 1]
        if weighted:
            while p < e:
                buf[inc_slot[p]] += inc_w[p] * d
                buf[inc_slot[p + 1]] += inc_w[p + 1] * d
                buf[inc_slot[p + 2]] += inc_w[p + 2] * d
                buf[inc_slot[p + 3]] += inc_w[p + 3] * d
                p += 4
        else:
            while p < e:
                buf[inc_slot[p]] += d
                buf[inc_slot[p + 1]] += d
                buf[inc_slot[p + 2]] += d
                buf[inc_slot[p + 3]] += d
                p += 4


@nb.njit(nogil=True, cache=True)
def _store_row(r, buf, up, dn):
    n_sets = up.shape[1]
    for s in range(n_sets):
        up[r, s] = buf[s]
    for s in range(n_sets):
        dn[r, s] = buf[n_sets + s]


@nb.njit(nogil=True, cache=True)
def _gather_row(r, cols, f, k, f0, extra_cols, extra_f, n_extra, lookup, out):
    for j in range(out.shape[1]):
        out[r, j] = f0
    for t in range(k):
        q = lookup[cols[t]]
        if q >= 0:
            out[r, q] = f[t]
    for t in range(n_extra):
        q = lookup[extra_cols[t]]
        if q >= 0:
            out[r, q] = extra_f[t]


@nb.njit(nogil=True, cache=True)
def _kernel_csr(data, indices, indptr, n, descending, ties, transform, param,
                inc_ptr, inc_slot, inc_w, weighted, w_all, lookup, n_out, up, dn):  # fmt: skip
    n_rows = indptr.shape[0] - 1
    n_slots = w_all.shape[0]
    buf = np.zeros(n_slots + 1)
    gathered = np.empty((n_rows, n_out))
    kmax = 0
    for r in range(n_rows):
        kmax = max(kmax, indptr[r + 1] - indptr[r])
    f = np.empty(kmax)
    extra_cols = np.empty(n, dtype=indices.dtype)  # as the column indices: one compiled _accumulate
    extra_f = np.empty(n)
    no_order = np.empty(0, dtype=np.int64)
    for r in range(n_rows):
        a = indptr[r]
        b = indptr[r + 1]
        cols = indices[a:b]
        f0, n_extra = _row_f(
            data[a:b], cols, n, descending, ties, transform, param, f, extra_cols, extra_f, no_order
        )
        for s in range(n_slots):
            buf[s] = f0 * w_all[s]
        _accumulate(cols, f, b - a, f0, inc_ptr, inc_slot, inc_w, weighted, buf)
        if n_extra > 0:
            _accumulate(extra_cols, extra_f, n_extra, f0, inc_ptr, inc_slot, inc_w, weighted, buf)
        _store_row(r, buf, up, dn)
        if n_out > 0:
            _gather_row(r, cols, f, b - a, f0, extra_cols, extra_f, n_extra, lookup, gathered)
    return gathered


@nb.njit(nogil=True, cache=True)
def _kernel_dense(X, order, descending, ties, transform, param,
                  inc_ptr, inc_slot, inc_w, weighted, w_all, lookup, n_out, up, dn):  # fmt: skip
    n_rows, n = X.shape
    n_slots = w_all.shape[0]
    buf = np.zeros(n_slots + 1)
    gathered = np.empty((n_rows, n_out))
    cols = np.arange(n)
    f = np.empty(n)
    extra_cols = np.empty(1, dtype=np.int64)
    extra_f = np.empty(1)
    no_order = np.empty(0, dtype=np.int64)
    for r in range(n_rows):
        row_order = order[r] if order.shape[0] == n_rows else no_order
        _row_f(X[r], cols, n, descending, ties, transform, param, f, extra_cols, extra_f, row_order)
        buf[:n_slots] = 0.0
        _accumulate(cols, f, n, 0.0, inc_ptr, inc_slot, inc_w, weighted, buf)
        _store_row(r, buf, up, dn)
        if n_out > 0:
            _gather_row(r, cols, f, n, 0.0, extra_cols, extra_f, 0, lookup, gathered)
    return gathered


def as_csr_block(X) -> sp.csr_matrix | np.ndarray:
    """Return ``X`` as canonical CSR.

    (float32/float64 data, int32 sorted indices, int32 or int64 ``indptr``, no stored zeros) or a
    C-contiguous float64 array; the input is copied only when it is not canonical already. scipy
    stores ``indptr`` as int32 whenever the values fit, so the ``indptr`` dtype is left as it is (the
    kernels take ``indptr`` as int64: a copy of one entry per row, never of the values).
    """
    if sp.issparse(X):
        ok = (
            X.format == "csr"
            and X.data.dtype in (np.float32, np.float64)
            and X.indices.dtype == np.int32
            and X.indptr.dtype in (np.int32, np.int64)
            and X.has_sorted_indices
            and not (X.data == 0).any()
        )
        if ok:
            return X
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        X = sp.csr_matrix(X, dtype=dtype, copy=True)
        X.eliminate_zeros()
        if not X.has_sorted_indices:
            X.sort_indices()
        X.indices = X.indices.astype(np.int32, copy=False)
        X.indptr = X.indptr.astype(np.int64, copy=False)
        return X
    return np.ascontiguousarray(X, dtype=np.float64)


class Incidence:
    """Gene -> (set, weight, is_down) incidence of a :class:`GeneSetIndex`, in CSR layout."""

    def __init__(self, sets: GeneSetIndex, weighted: bool):
        n_sets = len(sets)
        n_up = np.fromiter((len(x) for x in sets.up_idx), dtype=np.int64, count=n_sets)
        n_dn = np.fromiter((len(x) for x in sets.dn_idx), dtype=np.int64, count=n_sets)

        def cat(arrays, dtype):
            return np.concatenate([np.zeros(0, dtype), *arrays]).astype(dtype, copy=False)

        genes = np.concatenate([cat(sets.up_idx, np.int64), cat(sets.dn_idx, np.int64)])
        sid = np.concatenate([np.repeat(np.arange(n_sets), n_up), np.repeat(np.arange(n_sets), n_dn)])
        if weighted:
            w = np.concatenate([cat(sets.up_w, np.float64), cat(sets.dn_w, np.float64)])
        else:
            w = np.ones(len(genes))
        dn = np.concatenate([np.zeros(n_up.sum(), dtype=np.bool_), np.ones(n_dn.sum(), dtype=np.bool_)])
        order = np.argsort(genes, kind="stable")
        self.ptr = np.zeros(sets.n_genes + 1, dtype=np.int64)
        np.cumsum(np.bincount(genes, minlength=sets.n_genes), out=self.ptr[1:])
        self.set = sid[order]
        self.w = w[order]
        self.dn = dn[order]
        self.w_up = np.bincount(sid[~dn], weights=w[~dn], minlength=n_sets).astype(np.float64)
        self.w_dn = np.bincount(sid[dn], weights=w[dn], minlength=n_sets).astype(np.float64)
        self.n_up = n_up
        self.n_dn = n_dn
        self.n_sets = n_sets
        self.weighted = weighted
        self.slot = (self.set + n_sets * self.dn).astype(np.int32)
        self.w_all = np.concatenate([self.w_up, self.w_dn])
        # the kernels' layout: each gene's entries padded to a multiple of _PAD with the spare slot
        # 2 * n_sets (weight 0)
        deg = np.diff(self.ptr)
        pdeg = -(-deg // _PAD) * _PAD
        self.pad_ptr = np.zeros(sets.n_genes + 1, dtype=np.int64)
        np.cumsum(pdeg, out=self.pad_ptr[1:])
        dest = np.repeat(self.pad_ptr[:-1] - self.ptr[:-1], deg) + np.arange(len(self.slot))
        self.pad_slot = np.full(int(self.pad_ptr[-1]), 2 * n_sets, dtype=np.int32)
        self.pad_slot[dest] = self.slot
        self.pad_w = np.zeros(int(self.pad_ptr[-1]))
        self.pad_w[dest] = self.w


def incidence(sets: GeneSetIndex, weighted: bool) -> Incidence:
    """Return (and cache on ``sets``) the gene -> set incidence of ``sets``."""
    cache = sets.__dict__.setdefault("_incidence_cache", {})
    if weighted not in cache:
        cache[weighted] = Incidence(sets, weighted)
    return cache[weighted]


_local = threading.local()


@contextmanager
def workspace(store: dict):
    """Within this block (in this thread), the kernels write their outputs into arrays kept in ``store`` and reused from call to call, instead of new arrays.

    For the engine's worker threads: allocating tens of MB per row chunk costs page faults that
    serialise the threads (up to 40 % of the run time at a million cells). The arrays returned by
    :func:`set_sums` inside the block are overwritten by the next call in the same thread; the
    caller must be done with them by then.
    """
    prev = getattr(_local, "store", None)
    _local.store = store
    try:
        yield
    finally:
        _local.store = prev


def _scratch(key: str, shape: tuple[int, int]) -> np.ndarray:
    store = getattr(_local, "store", None)
    if store is None:
        return np.empty(shape)
    size = shape[0] * shape[1]
    buf = store.get(key)
    if buf is None or buf.size < size:
        buf = store[key] = np.empty(size)
    return buf[:size].reshape(shape)


def _run(X, inc, transform, descending, ties, param, genes):
    t = TRANSFORMS[transform]
    ti = TIES[ties]
    X = as_csr_block(X)
    lookup = np.full(X.shape[1], -1, dtype=np.int64)
    n_out = 0
    inv = None
    if genes is not None:
        uniq, inv = np.unique(np.asarray(genes, dtype=np.int64), return_inverse=True)
        lookup[uniq] = np.arange(len(uniq))
        n_out = len(uniq)
    up = _scratch("up", (X.shape[0], inc.n_sets))
    dn = _scratch("dn", (X.shape[0], inc.n_sets))
    if sp.issparse(X):
        g = _kernel_csr(
            X.data, X.indices, X.indptr.astype(np.int64, copy=False), X.shape[1], descending, ti, t, float(param),
            inc.pad_ptr, inc.pad_slot, inc.pad_w, inc.weighted, inc.w_all, lookup, n_out, up, dn,
        )  # fmt: skip
    else:
        if t != 0 and ti != TIES["ordinal"] and X.shape[0] > 0:
            # numpy's vectorised sort (it releases the GIL); tie groups do not depend on the order
            order = np.argsort((-X if descending else X) + 0.0, axis=1).astype(np.int64, copy=False)
        else:
            order = np.empty((0, 0), dtype=np.int64)
        g = _kernel_dense(
            X, order, descending, ti, t, float(param),
            inc.pad_ptr, inc.pad_slot, inc.pad_w, inc.weighted, inc.w_all, lookup, n_out, up, dn,
        )  # fmt: skip
    return up, dn, (g[:, inv] if genes is not None else None)


def set_sums(
    X,
    sets: GeneSetIndex,
    *,
    transform: str,
    descending: bool = False,
    ties: str = "average",
    param: float = 0.0,
    weighted: bool = False,
    genes: np.ndarray | None = None,
):
    """Weighted sums of the per-gene values over the up- and down-genes of every set.

    Returns ``(up, down, incidence)`` with ``up``/``down`` of shape ``(n_rows, n_sets)``; with
    ``genes`` (column indices) also the per-gene values of those columns, from the same ranking:
    ``(up, down, incidence, values)``.
    """
    inc = incidence(sets, weighted)
    up, dn, g = _run(X, inc, transform, descending, ties, param, genes)
    if genes is not None:
        return up, dn, inc, g
    return up, dn, inc


def gather(
    X,
    genes: np.ndarray,
    *,
    transform: str,
    descending: bool = False,
    ties: str = "average",
    param: float = 0.0,
) -> np.ndarray:
    """Per-gene values ``f`` (value or transformed rank) of the columns ``genes``: ``(n_rows, len(genes))``."""
    X = as_csr_block(X)
    empty = GeneSetIndex((), (), (), (), (), X.shape[1])
    return _run(X, incidence(empty, False), transform, descending, ties, param, genes)[2]
