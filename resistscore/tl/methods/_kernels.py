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
    "note_stored_zeros",
    "set_sums",
    "workspace",
]

#: tie methods, as in R's ``rank(ties.method=...)``; ``expected``: the per-gene value is the mean of the
#: transform over the ranks of the gene's tie group, i.e. its expectation when ties are broken at random
#: (R's ``ties.method = "random"``, as R AUCell ranks); for the plain rank it equals ``average``
TIES = {"min": 0, "average": 1, "max": 2, "ordinal": 3, "expected": 4}
#: per-gene transforms: 0 value, 1 rank, 2 min(rank, param), 3 max(0, param - rank)
TRANSFORMS = {"value": 0, "rank": 1, "rank_clip": 2, "rank_recovery": 3}


#: numba options of every compiled kernel: no GIL, cached on disk, and ``error_model="numpy"`` (no check for a
#: division by zero, none can occur in them: less code to compile, the same numbers)
KERNEL = {"nogil": True, "cache": True, "error_model": "numpy"}

#: numba options of the compiled functions called only from other compiled functions: no Python or C
#: wrapper is generated for them (less to compile on a first run)
INNER = {**KERNEL, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

_SIGN = np.uint64(1) << np.uint64(63)
_BYTE = np.uint64(0xFF)
_HASH_MUL = np.uint64(0x9E3779B97F4A7C15)
_MAX_UNIQUE = 256  # rows with at most this many distinct values are ranked through a hash table
_HASH_BITS = 10
_SLOTS = 1 << _HASH_BITS  # hash table slots (<= 256 distinct values)
_PAD = 4  # every gene's incidence list is padded to a multiple of 4 entries (see Incidence)


# Two compiled functions: the per-gene values of one row (:func:`_row_values`: ranks, tie groups and
# their transform, for every method, tie rule and layout) and the sums over the sets (:func:`_kernel`).
# The one-pass UCell with the pooled null (resistscore.tl._onepass) calls the same row function from
# its own loop, so both paths share one ranking and the same numbers. The row function is one flat
# body without further compiled calls, and neither allocates (the work arrays come from
# :func:`row_work`): numba types, optimises and machine-compiles every nested function once on its own
# and once more inside each caller, so a nest of small functions (the former ``_row_values`` module:
# seven of them, four deep, ~4.3 s of CPU in a first run) cost about twice the one flat row function
# (~2.4 s); a warm run loads one cache entry per function. ``error_model="numpy"`` leaves out the checks for a division by zero
# (none can occur here): less code to compile, the same numbers.
@nb.njit(**INNER, forceinline=True)  # LLVM inlines it into each kernel (no call per row)
def _row_values(data, indices, a, c0, k, n, descending, ties, transform, param, order, r,
                fw, iw, uw, key, ukey, extra_cols):  # fmt: skip
    """Per-gene values ``f`` of one row; returns ``(f0, n_extra)``.

    The row holds the ``k`` values ``data[a:a + k]`` in the columns ``indices[c0:c0 + k]`` (CSR:
    stored values are nonzero, the other ``n - k`` entries are 0; a dense row: ``k = n``). ``order``
    holds each row's argsort of the keys (dense blocks; this row's is ``order[r]``) or has no rows
    (then the row is ranked through a hash table of its distinct values, or an LSD radix sort beyond
    ``_MAX_UNIQUE`` of them).

    1. Ranks: ties 0 min, 1 average, 2 max, 3 ordinal (column order), 4 expected (the mean of the
       transform over the tie group's ranks); the zeros not stored form one tie group (ordinal:
       ranks ``zero_pos + 1, ...`` in column order).
    2. Per-gene value: transform 0 the value, 1 the rank, 2 ``min(rank, param)``, 3
       ``max(0, param - rank)``, written to ``fw[:k]``; ``f0`` the value of the zeros not stored.
       With ordinal ties, the zeros whose value differs from the last zero's (AUCell: rank below
       ``param``) are "extra" entries of their own: columns ``extra_cols[:n_extra]``, values
       ``fw[kmax:kmax + n_extra]``.

    Work arrays (from :func:`row_work`): ``fw`` float64, ``iw`` int64 (zeros where the hash table
    counts, left as zeros), ``uw`` uint64, ``key`` float64 (``kmax``, the most values of a row) with
    ``ukey`` its uint64 view, ``extra_cols`` int32 (``n``).
    """
    kmax = key.shape[0]
    has_order = order.shape[0] > 0
    # tie rank of positions pos+1 .. pos+cnt: pos + ra + rb * cnt (exact: small half-integers)
    ra = 1.0 if ties == 0 else (0.0 if ties == 2 else 0.5)
    rb = 0.0 if ties == 0 else (1.0 if ties == 2 else 0.5)
    # transform of a rank r: clip(off + sg * r, lo, hi) (param - r is param + (-r), exactly)
    sg = -1.0 if transform == 3 else 1.0
    off = param if transform == 3 else 0.0
    lo = 0.0 if transform == 3 else -np.inf
    hi = param if transform == 2 else np.inf
    # work arrays
    f = fw[: kmax + n]  # per-gene values: stored entries, then the extra (ordinal) zeros from kmax
    ranks = fw[kmax + n : 2 * kmax + n]
    cnts = fw[2 * kmax + n : 3 * kmax + n]
    o = 3 * kmax + n
    tval = fw[o : o + _SLOTS]
    start = fw[o + _SLOTS : o + 2 * _SLOTS]
    vals = fw[o + 2 * _SLOTS : o + 2 * _SLOTS + _MAX_UNIQUE]
    ia = iw[:kmax]
    ib = iw[kmax : 2 * kmax]
    slot_of = iw[2 * kmax : 3 * kmax]
    o = 3 * kmax
    cnt = iw[o : o + 256]
    tcnt = iw[o + 256 : o + 256 + _SLOTS]
    used = iw[o + 256 + _SLOTS : o + 256 + _SLOTS + _MAX_UNIQUE]
    slots = iw[o + 256 + _SLOTS + _MAX_UNIQUE : o + 256 + _SLOTS + 2 * _MAX_UNIQUE]
    ua0 = uw[:kmax]
    ub0 = uw[kmax : 2 * kmax]
    tkey = uw[2 * kmax : 2 * kmax + _SLOTS]
    hshift = np.uint64(64 - _HASH_BITS)
    hmask = np.uint64(_SLOTS - 1)
    nz = n - k
    f0 = 0.0
    n_extra = 0
    if transform == 0:
        for i in range(k):
            f[i] = data[a + i]
    else:
        for i in range(k):
            # + 0.0 turns -0.0 into 0.0 so that both zeros tie
            key[i] = (-data[a + i] if descending else data[a + i]) + 0.0
        zero_pos = -1
        done = False
        by_group = False  # f written per tie group (below)
        if not has_order and k > 0:
            # -- at most _MAX_UNIQUE distinct values (counts): a hash table of the distinct values,
            # sorted; every value gets its tie group's rank, O(k) instead of a sort
            done = True
            n_used = 0
            for i in range(k):
                h = (ukey[i] * _HASH_MUL) >> hshift
                while tcnt[h] > 0 and tkey[h] != ukey[i]:
                    h = (h + np.uint64(1)) & hmask
                if tcnt[h] == 0:
                    if n_used == _MAX_UNIQUE:
                        done = False
                        break
                    tkey[h] = ukey[i]
                    tval[h] = key[i]
                    used[n_used] = h
                    n_used += 1
                tcnt[h] += 1
                slot_of[i] = h
            if done:
                # sort the distinct values (insertion sort on the float keys)
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
                # group start positions, with the zero group before the first positive key
                pos = 0
                zero_done = nz == 0
                for j in range(n_used):
                    if not zero_done and vals[j] > 0:
                        zero_pos = pos
                        pos += nz
                        zero_done = True
                    sl = slots[j]
                    c = tcnt[sl]
                    start[sl] = pos if ties == 3 else pos + ra + rb * c
                    pos += c
                if not zero_done:
                    zero_pos = pos
                if ties < 3:
                    # every value of a tie group has its group's rank and value: the transform once per
                    # group (the same expression as below, per value), then each value reads its group's
                    by_group = True
                    for j in range(n_used):
                        sl = slots[j]
                        e = start[sl]
                        if transform != 2:
                            e = off + sg * e
                        e = e if e < hi else hi
                        start[sl] = e if e > lo else lo
                    for i in range(k):
                        f[i] = start[slot_of[i]]
                for i in range(0 if by_group else k):
                    sl = slot_of[i]
                    if ties == 3:
                        start[sl] += 1.0
                    else:
                        cnts[i] = tcnt[sl]
                    ranks[i] = start[sl]
            for j in range(n_used):
                tcnt[used[j]] = 0
        if not done:
            if has_order:
                ordr = order[r]
            else:
                # -- stable LSD radix sort of the keys as order-preserving 64-bit integers (ordinal
                # ties follow the column order); several times faster than a comparison sort
                ua = ua0[:k]
                ub = ub0[:k]
                ordr = ia[:k]
                o2 = ib[:k]
                for i in range(k):
                    ua[i] = ~ukey[i] if ukey[i] & _SIGN else ukey[i] | _SIGN
                    ordr[i] = i
                for p in range(8):
                    shift = np.uint64(8 * p)
                    cnt[:] = 0
                    for i in range(k):
                        cnt[np.int64((ua[i] >> shift) & _BYTE)] += 1
                    skip = False
                    for d in range(256):
                        if cnt[d] == k:
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
                    for i in range(k):
                        d = np.int64((ua[i] >> shift) & _BYTE)
                        q = cnt[d]
                        cnt[d] = q + 1
                        ub[q] = ua[i]
                        o2[q] = ordr[i]
                    ua, ub = ub, ua
                    ordr, o2 = o2, ordr
            # -- tie groups along the sorted order
            pos = 0
            zero_done = nz == 0
            i = 0
            while i < k:
                v = key[ordr[i]]
                if not zero_done and v > 0:
                    zero_pos = pos
                    pos += nz
                    zero_done = True
                j = i
                while j < k and key[ordr[j]] == v:
                    j += 1
                for t in range(i, j):
                    if ties == 3:
                        ranks[ordr[t]] = pos + 1.0 + (t - i)
                    else:
                        ranks[ordr[t]] = pos + ra + rb * (j - i)
                        cnts[ordr[t]] = j - i
                pos += j - i
                i = j
            if not zero_done:
                zero_pos = pos
        if ties == 4:
            # the mean of the transform over the ranks first .. last of each tie group (the
            # zeros' group last)
            for i in range(k + 1 if nz > 0 else k):
                if i < k:
                    c = cnts[i]
                    first = ranks[i] - (c - 1.0) / 2.0
                else:
                    c = nz * 1.0
                    first = zero_pos + 1.0
                last = first + c - 1.0
                if transform == 1:
                    e = (first + last) / 2.0
                elif transform == 2:  # min(r, param)
                    fl = np.floor(param)
                    u = last if last < fl else fl
                    below = (u - first + 1.0) * (first + u) / 2.0 if u >= first else 0.0
                    n_above = last - (first - 1.0 if first - 1.0 > fl else fl)
                    e = (below + (n_above * param if n_above > 0 else 0.0)) / c
                else:  # max(0, param - r)
                    cl = np.ceil(param) - 1.0
                    u = last if last < cl else cl
                    mm = u - first + 1.0
                    e = 0.0 if u < first else (mm * param - mm * (first + u) / 2.0) / c
                if i < k:
                    f[i] = e
                else:
                    f0 = e
        else:
            if by_group:
                pass
            elif transform == 2:  # min(rank, param) (UCell): one comparison
                for i in range(k):
                    e = ranks[i]
                    f[i] = e if e < hi else hi
            else:
                for i in range(k):
                    e = off + sg * ranks[i]
                    e = e if e < hi else hi
                    f[i] = e if e > lo else lo
            # the zeros' group (its rank; ordinal: the last zero's), then with ordinal ties the
            # zeros in column order with ranks zero_pos + 1, ... as long as their value differs
            # from the last zero's (AUCell: rank < param): "extra" entries
            i = 0
            p = 0
            c = 0
            while nz > 0:
                if i == 0:
                    rk = zero_pos + nz * 1.0 if ties == 3 else zero_pos + ra + rb * nz
                else:
                    if ties != 3:
                        break
                    while c < n:  # the next column without a stored value
                        while p < k and indices[c0 + p] < c:
                            p += 1
                        if p < k and indices[c0 + p] == c:
                            c += 1
                        else:
                            break
                    if c >= n:
                        break
                    rk = zero_pos + 1.0 + n_extra
                e = off + sg * rk
                e = e if e < hi else hi
                e = e if e > lo else lo
                if i == 0:
                    f0 = e
                else:
                    if e == f0:
                        break
                    extra_cols[n_extra] = c
                    f[kmax + n_extra] = e
                    n_extra += 1
                    c += 1
                i += 1
    return f0, n_extra


@nb.njit(**KERNEL)
def _kernel(data, indices, indptr, dense, n, descending, ties, transform, param, order,
            inc_ptr, inc_slot, inc_w, weighted, w_all, lookup, up, dn, gathered,
            buf, fw, iw, uw, key, ukey, extra_cols):  # fmt: skip
    """Per-gene values of every row (:func:`_row_values`) and their weighted sums over the sets' up- and down-genes.

    Row ``r`` holds the values ``data[indptr[r]:indptr[r + 1]]`` in the columns
    ``indices[indptr[r]:indptr[r + 1]]`` (CSR), or with ``dense`` all ``n`` values in the columns
    ``indices[:n]``; ``order`` as :func:`_row_values` takes it.

    1. Sums per slot (set, or set + n_sets for down-genes): ``f0 * W_s + sum w_g (f(g) - f0)``,
       walked from each gene through the padded incidence ``inc_ptr / inc_slot / inc_w``, in
       ``buf`` (``n_slots + 1``: a spare slot takes the padding).
    2. ``up`` / ``dn`` rows from the slots; ``gathered[r, lookup[g]] = f(g)`` for looked-up genes.

    The other work arrays are :func:`_row_values`'.
    """
    n_rows = indptr.shape[0] - 1
    n_sets = up.shape[1]
    n_slots = w_all.shape[0]
    n_out = gathered.shape[1]
    kmax = key.shape[0]
    f = fw[: kmax + n]
    for r in range(n_rows):
        a = indptr[r]
        c0 = 0 if dense else a  # the columns of the row's values start at indices[c0]
        k = indptr[r + 1] - a
        f0, n_extra = _row_values(
            data, indices, a, c0, k, n, descending, ties, transform, param, order, r,
            fw, iw, uw, key, ukey, extra_cols,
        )  # fmt: skip
        # -- sums: f0 * W_s, plus w (f - f0) of the stored and the extra entries
        if dense:
            buf[:n_slots] = 0.0
        else:
            for s in range(n_slots):
                buf[s] = f0 * w_all[s]
        for part in range(2):  # the stored entries, then the extra ones (a tight loop each)
            if part == 0:
                cols = indices[c0 : c0 + k]
                fv = f[:k]
            else:
                cols = extra_cols[:n_extra]
                fv = f[kmax : kmax + n_extra]
            for t in range(cols.shape[0]):
                g = cols[t]
                d = fv[t] - f0
                if d == 0.0:
                    continue
                # each gene's slots are padded to a multiple of 4 with the spare slot buf[-1]: a fixed
                # trip count of 4 avoids a mispredicted loop exit per gene (~1.6x faster)
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
        for s in range(n_sets):
            up[r, s] = buf[s]
        for s in range(n_sets):
            dn[r, s] = buf[n_sets + s]
        if n_out > 0:
            for j in range(n_out):
                gathered[r, j] = f0
            for part in range(2):
                cols = indices[c0 : c0 + k] if part == 0 else extra_cols[:n_extra]
                fv = f[:k] if part == 0 else f[kmax : kmax + n_extra]
                for t in range(cols.shape[0]):
                    q = lookup[cols[t]]
                    if q >= 0:
                        gathered[r, q] = fv[t]


def row_work(kmax: int, n: int) -> tuple:
    """Return the work arrays of :func:`_row_values` for rows of up to ``kmax`` values of ``n`` genes.

    ``(fw, iw, uw, key, ukey, extra_cols)``; one set per thread (the row function writes into them).
    """
    key = np.empty(kmax)
    return (
        np.empty(3 * kmax + n + 2 * _SLOTS + _MAX_UNIQUE),
        np.zeros(3 * kmax + 256 + _SLOTS + 2 * _MAX_UNIQUE, dtype=np.int64),  # the hash counts start at 0
        np.empty(2 * kmax + _SLOTS, dtype=np.uint64),
        key,
        key.view(np.uint64),
        np.empty(n, dtype=np.int32),  # as the column indices (int32)
    )


#: attribute of a CSR block whose values a compiled pass has just read (:func:`note_stored_zeros`):
#: ``(values, whether they hold a zero)``, valid while the block holds those very values
_STORED_ZEROS = "_resistscore_stored_zeros"


def note_stored_zeros(X, data: np.ndarray, zeros: bool) -> None:
    """Record on the CSR block ``X`` whether its values ``data`` (``X.data`` itself) hold a stored zero.

    Made by the pass over the values that finds the unscorable rows
    (:func:`resistscore.tl._chunks.unscorable_rows`), so that :func:`as_csr_block` need not read them again
    (as scipy's ``has_sorted_indices`` records a check of the indices). Nothing is recorded for other values.
    """
    if sp.issparse(X) and data is X.data:
        setattr(X, _STORED_ZEROS, (data, bool(zeros)))


def _stores_zeros(X) -> bool:
    """Whether the CSR block ``X`` stores a zero: as recorded by :func:`note_stored_zeros`, else read."""
    known = getattr(X, _STORED_ZEROS, None)
    if known is not None and known[0] is X.data:
        return known[1]
    return bool((X.data == 0).any())


def as_csr_block(X) -> sp.csr_matrix | np.ndarray:
    """Return ``X`` as canonical CSR.

    (float32/float64 data, int32 sorted indices, int32 or int64 ``indptr``, no stored zeros) or a
    C-contiguous float64 array; the input is copied only when it is not canonical already. scipy
    stores ``indptr`` as int32 whenever the values fit, so the ``indptr`` dtype is left as it is (the
    kernels take ``indptr`` as int64: a copy of one entry per row, never of the values).

    What a reader has already checked is not read again: scipy's ``has_sorted_indices`` (set by the
    reader of a file's blocks, :meth:`resistscore.tl._chunks.RowSource.rows`, from its one pass over the
    column indices) and the stored zeros found by the pass over the values (:func:`note_stored_zeros`).
    """
    if sp.issparse(X):
        ok = (
            X.format == "csr"
            and X.data.dtype in (np.float32, np.float64)
            and X.indices.dtype == np.int32
            and X.indptr.dtype in (np.int32, np.int64)
            and X.has_sorted_indices  # scipy's flag, set by the reader where its check found it
            and not _stores_zeros(X)
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
    n_rows, n = X.shape
    g = np.empty((n_rows, n_out))
    if sp.issparse(X):
        data, indices, indptr = X.data, X.indices, X.indptr.astype(np.int64, copy=False)
        kmax = int(np.diff(indptr).max()) if n_rows else 0
        order = np.empty((0, 0), dtype=np.int64)
    else:
        # a dense block: its values row after row, each row in the columns 0 .. n - 1
        data, indices, indptr = X.reshape(-1), np.arange(n, dtype=np.int32), np.arange(n_rows + 1) * n
        kmax = n
        if t != 0 and ti != TIES["ordinal"] and n_rows > 0:
            # numpy's vectorised sort (it releases the GIL); tie groups do not depend on the order
            order = np.argsort((-X if descending else X) + 0.0, axis=1).astype(np.int64, copy=False)
        else:
            order = np.empty((0, 0), dtype=np.int64)
    _kernel(
        data, indices, indptr, not sp.issparse(X), n, descending, ti, t, float(param), order,
        inc.pad_ptr, inc.pad_slot, inc.pad_w, inc.weighted, inc.w_all, lookup, up, dn, g,
        np.empty(len(inc.w_all) + 1), *row_work(kmax, n),
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
