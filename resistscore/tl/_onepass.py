"""A block of rows scored together with its share of the null model: what every row chunk goes through.

The general way (any method, any null): the method scores the signatures *and* their control sets
(:func:`resistscore.tl._rows.call_rows`, a rows x (signatures + controls) matrix), then the null model
takes the control scores (:meth:`~resistscore.tl._null.PooledNull.add`).

For the default single-cell run - UCell on sparse rows with the pooled null - one compiled pass does
it row by row instead (:func:`_kernel`): the row is ranked once; the capped ranks of its top genes are
added into one small integer buffer per set (the signatures and all their controls); each control
set's score is made from it, and the signature's controls are standardised and pooled at once
(:func:`resistscore.tl._null._standardize_one`) before the next row reuses the buffer. No rows x
control sets matrix is ever written (54 signatures with 100 controls: 87 kB of rank sums and 44 kB of
scores per cell that were written, read back and standardised).

The numbers are those of the general way bit for bit (``tests/tl/test_onepass.py``): the capped ranks
are multiples of 1/2, so their sums are exact in double precision in any order of the additions (the
kernel adds twice the ranks as integers), and the scores and z-scores come from the same compiled
functions (:func:`resistscore.tl.methods.ucell._value`, :func:`~resistscore.tl._null._standardize_one`)
with the same constants.
"""

from __future__ import annotations

import inspect

import numba as nb
import numpy as np
import scipy.sparse as sp

from resistscore.tl._null import PooledNull, _moments, _standardize_one, _z_pool
from resistscore.tl._rows import call_rows
from resistscore.tl.methods._kernels import TIES, as_csr_block, incidence
from resistscore.tl.methods._row_values import _row_f
from resistscore.tl.methods.ucell import _finalize_args, _value, check_args, ucell

__all__ = ["score_block", "stores_control_scores"]

#: UCell's rank transform in the kernels (``min(rank, maxRank)``), see resistscore.tl.methods._kernels
_RANK_CLIP = 2
_UCELL_DEFAULTS = {
    k: p.default
    for k, p in inspect.signature(ucell).parameters.items()
    if p.default is not inspect.Parameter.empty
}
#: tie methods whose ranks are multiples of 1/2 (``expected`` averages the transform over a tie group)
_HALF_RANKS = ("min", "average", "max", "ordinal")


def stores_control_scores(fn, null: str | None, sparse: bool, params: dict) -> bool:
    """Whether scoring with ``fn`` (keyword arguments ``params``) and ``null`` keeps rows x control sets scores.

    False for UCell with the pooled null on sparse rows and ties whose ranks are multiples of 1/2 (one
    pass, see the module docstring): the one rule of :func:`score_block`, of the chunk size and of the
    parameter check before a run.
    """
    return not (
        fn is ucell and null == "pooled" and sparse and {**_UCELL_DEFAULTS, **params}["ties"] in _HALF_RANKS
    )


def score_block(fn, block, sets, params: dict, code: np.ndarray, n_sets: int, model, row: int):
    """Score ``block`` (signatures and their controls, ``sets``) and hand the controls to ``model``.

    Parameters
    ----------
    fn, params
        The method and its keyword arguments.
    block
        Rows of the matrix (CSR or dense).
    sets
        The signatures (the first ``n_sets``) followed by their control sets.
    code
        Unscorable-row codes of the block (rows with ``code > 0`` get NaN).
    n_sets
        The number of signatures.
    model
        The null model (``None`` without p-values): ``model.add(row, scores of all sets)``.
    row
        The first row of the block, as ``model.add`` counts rows.

    Returns
    -------
    tuple
        ``(scores, extras)``: rows x signatures (float64) and the method's extra outputs (rows x signatures).
    """
    one_pass = isinstance(model, PooledNull) and n_sets and len(sets) > n_sets
    if one_pass and not stores_control_scores(fn, "pooled", sp.issparse(block), params):
        p = {**_UCELL_DEFAULTS, **params}
        check_args(p["max_rank"], p["w_neg"], p["ties"])
        inc = incidence(sets, False)
        if _like_signatures(inc, n_sets, model.n_controls):
            return _ucell_pooled(block, sets, inc, p, code, n_sets, model, row), {}
    sc, ex = call_rows(fn, block, sets, params, code)
    if model is not None:
        model.add(row, sc)
    return sc[:, :n_sets], {k: np.asarray(v)[:, :n_sets] for k, v in ex.items()}


def _like_signatures(inc, n_sets: int, n_controls: int) -> bool:
    """Whether every control set has as many up- and down-genes as its signature (then it shares its constants)."""
    return all(
        len(k) == n_sets * (1 + n_controls) and np.array_equal(np.repeat(k[:n_sets], n_controls), k[n_sets:])
        for k in (inc.n_up, inc.n_dn)
    )


def _ucell_pooled(block, sets, inc, p: dict, code: np.ndarray, n_sets: int, model: PooledNull, row: int):
    """UCell scores of the signatures of ``block``; its control sets' scores standardised into ``model``."""
    m = float(min(p["max_rank"], sets.n_genes))
    fin = _finalize_args(inc, m, p["w_neg"])
    X = as_csr_block(block)
    out = np.empty((X.shape[0], n_sets))
    ptr, slot = _padded_incidence(sets, inc)
    _kernel(
        X.data, X.indices, X.indptr.astype(np.int64, copy=False), X.shape[1], TIES[p["ties"]], m,
        ptr, slot, inc.n_up.astype(np.float64), inc.n_dn.astype(np.float64), *fin,
        np.ascontiguousarray(code, dtype=np.int8), n_sets, model.n_controls, row, model.stride,
        model.z, model.pool, model.a0, model.p0, out,
    )  # fmt: skip
    return out


def _padded_incidence(sets, inc) -> tuple[np.ndarray, np.ndarray]:
    """Return the incidence ``inc`` as :func:`_add` reads it (cached on ``sets``): int32 offsets, 16-bit slots if they fit.

    Each gene's slots are padded to a multiple of 4 with the spare slot ``2 n_total`` (a fixed trip
    count of 4 avoids a mispredicted loop exit per gene).
    """
    cache = sets.__dict__.setdefault("_incidence_cache", {})
    if "onepass" not in cache:
        dtype = np.int16 if 2 * inc.n_sets < np.iinfo(np.int16).max else np.int32
        cache["onepass"] = (inc.pad_ptr.astype(np.int32), inc.pad_slot.astype(dtype))
    return cache["onepass"]


@nb.njit(nogil=True, cache=True)
def _kernel(data, indices, indptr, n, ties, m, inc_ptr, inc_slot, k_up, k_dn,
            base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, w_neg, lo, nan_add,
            code, n_sets, n_ctrl, row0, stride, z, pool, z0, p0, out):  # fmt: skip
    """UCell of every set of each row of a canonical CSR block, its controls standardised at once.

    The rank sum of a set is ``k f0 + sum(f - f0)`` over its genes, ``f = min(rank, m)`` and ``f0``
    that of the genes not stored (see :mod:`resistscore.tl.methods._kernels`); ``acc`` holds
    ``2 sum(f - f0)`` (integers) of every set's up-genes (slot = set) and down-genes (slot = n_total +
    set). ``out`` gets the signatures' scores; ``z`` and ``pool`` as :func:`~resistscore.tl._null._standardize`.
    """
    n_rows = indptr.shape[0] - 1
    n_total = base_up.shape[0]
    acc = np.zeros(2 * n_total + 1, dtype=np.int32)  # the last slot takes the padding
    kmax = 0
    for r in range(n_rows):
        kmax = max(kmax, indptr[r + 1] - indptr[r])
    f = np.empty(kmax)
    top = np.empty(kmax, dtype=np.int64)
    top_d = np.empty(kmax, dtype=np.int32)
    extra_cols = np.empty(n, dtype=indices.dtype)
    extra_f = np.empty(n)
    no_order = np.empty(0, dtype=np.int64)
    ctrl = np.empty((4, n_ctrl))
    obs = np.empty(4)
    mom = np.empty((4, 4))  # shift, s1, s2, m of four signatures
    no_pool = np.empty(0, dtype=pool.dtype)
    for r in range(n_rows):
        g = row0 + r
        keep = g % stride == 0
        pr = g // stride - p0
        if code[r] > 0:  # not scored: NaN everywhere, as call_rows gives it
            ctrl[0, :] = np.nan
            for s in range(n_sets):
                out[r, s] = np.nan
                z[s, g - z0] = _standardize_one(np.nan, ctrl[0], pool[s, pr] if keep else no_pool, keep)
            continue
        a = indptr[r]
        b = indptr[r + 1]
        cols = indices[a:b]
        f0, n_extra = _row_f(data[a:b], cols, n, True, ties, _RANK_CLIP, m, f, extra_cols, extra_f, no_order)
        acc[:] = 0
        _add(cols, f, b - a, f0, inc_ptr, inc_slot, acc, top, top_d)
        if n_extra > 0:
            _add(extra_cols, extra_f, n_extra, f0, inc_ptr, inc_slot, acc, top, top_d)
        for s0 in range(0, n_sets, 4):  # four signatures at a time: their sums are independent chains
            w = min(4, n_sets - s0)
            for lane in range(w):
                s = s0 + lane
                fu = f0 * k_up[s]
                fd = f0 * k_dn[s]
                c = (
                    base_up[s],
                    kk_up[s],
                    inv_up[s],
                    base_dn[s],
                    kk_dn[s],
                    inv_dn[s],
                    w_neg,
                    lo[s],
                    nan_add[s],
                )
                obs[lane] = _value(fu + 0.5 * acc[s], fd + 0.5 * acc[n_total + s], *c)
                out[r, s] = obs[lane]
                base = n_sets + s * n_ctrl
                for j in range(n_ctrl):
                    ctrl[lane, j] = _value(fu + 0.5 * acc[base + j], fd + 0.5 * acc[n_total + base + j], *c)
            if w == 4:
                _moments4(ctrl, mom)
            else:
                for lane in range(w):
                    mom[0, lane], mom[1, lane], mom[2, lane], mom[3, lane] = _moments(ctrl[lane])
            for lane in range(w):
                s = s0 + lane
                z[s, g - z0] = _z_pool(
                    obs[lane], ctrl[lane], mom[0, lane], mom[1, lane], mom[2, lane], np.int64(mom[3, lane]),
                    pool[s, pr] if keep else no_pool, keep,
                )  # fmt: skip


@nb.njit(nogil=True, cache=True)
def _add(cols, f, k, f0, inc_ptr, inc_slot, acc, top, top_d):
    """``acc[slot] += 2 (f - f0)`` for every set (slot) of each of the ``k`` genes ``cols`` with ``f != f0``.

    The genes with ``f != f0`` are listed first (without a branch: a gene's rank against ``maxRank``
    is unpredictable), then their padded slots are visited four at a time.
    """
    nt = 0
    for t in range(k):
        d = f[t] - f0
        top[nt] = cols[t]
        top_d[nt] = np.int32(2.0 * d)
        nt += d != 0.0
    for u in range(nt):
        gene = top[u]
        dd = top_d[u]
        p = inc_ptr[gene]
        e = inc_ptr[gene + 1]
        while p < e:
            acc[inc_slot[p]] += dd
            acc[inc_slot[p + 1]] += dd
            acc[inc_slot[p + 2]] += dd
            acc[inc_slot[p + 3]] += dd
            p += 4


@nb.njit(nogil=True, cache=True)
def _moments4(c, out):
    """:func:`~resistscore.tl._null._moments` of the four rows of ``c`` at once, into the columns of ``out``.

    The same operations in the same order for each row (the same numbers), interleaved: four
    independent chains of additions instead of one.
    """
    h0 = h1 = h2 = h3 = np.nan
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    m0 = m1 = m2 = m3 = 0
    for j in range(c.shape[1]):
        v = c[0, j]
        if not np.isnan(v):
            if m0 == 0:
                h0 = v
            d = v - h0
            a0 += d
            b0 += d * d
            m0 += 1
        v = c[1, j]
        if not np.isnan(v):
            if m1 == 0:
                h1 = v
            d = v - h1
            a1 += d
            b1 += d * d
            m1 += 1
        v = c[2, j]
        if not np.isnan(v):
            if m2 == 0:
                h2 = v
            d = v - h2
            a2 += d
            b2 += d * d
            m2 += 1
        v = c[3, j]
        if not np.isnan(v):
            if m3 == 0:
                h3 = v
            d = v - h3
            a3 += d
            b3 += d * d
            m3 += 1
    out[0, 0], out[1, 0], out[2, 0], out[3, 0] = h0, a0, b0, m0
    out[0, 1], out[1, 1], out[2, 1], out[3, 1] = h1, a1, b1, m1
    out[0, 2], out[1, 2], out[2, 2], out[3, 2] = h2, a2, b2, m2
    out[0, 3], out[1, 3], out[2, 3], out[3, 3] = h3, a3, b3, m3
