"""Per-gene values of one row (ranks and their transform), as one compiled call per row.

:func:`resistscore.tl.methods._kernels._kernel` computes the same values inline, for every row of a
block (one compiled body compiles faster); the one-pass UCell with the pooled null
(:mod:`resistscore.tl._onepass`) needs them row by row, from inside its own compiled loop, and calls
:func:`_row_f`. Both give the same numbers bit for bit (``tests/tl/test_onepass.py`` compares the
one-pass scores with the general path's).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["_row_f"]


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
