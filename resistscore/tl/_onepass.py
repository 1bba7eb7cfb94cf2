"""A block of rows scored together with its share of the null model: what every row chunk goes through.

The general way (any method, any null): the method scores the signatures *and* their control sets
(:func:`resistscore.tl._rows.call_rows`, a rows x (signatures + controls) matrix), then the null model
takes the control scores (:meth:`~resistscore.tl._null.PooledNull.add`).

For the default single-cell run - UCell on sparse rows with the pooled null - one compiled pass does
it row by row instead (:func:`_kernel`): the row is ranked once (by the general kernel's row function,
:func:`resistscore.tl.methods._kernels._row_values`); the capped ranks of its top genes are added into
one small integer buffer per set (the signatures and all their controls); each control set's score is
made from it, and the signature's controls are standardised and pooled at once (the moments of four
signatures at a time, then :func:`resistscore.tl._null._z_pool`) before the next row reuses the buffer. No rows x
control sets matrix is ever written (54 signatures with 100 controls: 87 kB of rank sums and 44 kB of
scores per cell that were written, read back and standardised).

The numbers are those of the general way bit for bit (``tests/tl/test_onepass.py``): the capped ranks
are multiples of 1/2, so their sums are exact in double precision in any order of the additions (the
kernel adds twice the ranks as integers), and the ranks, scores and z-scores come from the same compiled
functions (:func:`~resistscore.tl.methods._kernels._row_values`, :func:`resistscore.tl.methods.ucell._value`,
:func:`~resistscore.tl._null._z_pool`) with the same constants; the control sets' scores from
:func:`~resistscore.tl.methods.ucell._value`'s expression written out in the kernel, the same operations in
the same order (a call per control score cost a third of the kernel's time, and the loop of calls could
not run four scores at a time).

**Compile cost.** A first run after an install compiles what it calls (numba), and numba types, lowers,
optimises and machine-compiles each compiled function once alone and once more inside every caller. So
the kernel calls few functions, each with one type signature (no literal constant passed to a compiled
call: numba would type a second specialisation for it), allocates nothing (the work arrays come from
:func:`_ucell_pooled`; every distinct ``np.empty`` is one more compile), and the helpers it calls only
from compiled code have no Python or C wrapper (``no_cpython_wrapper``/``no_cfunc_wrapper``).
``tests/tl/test_engine.py::test_a_first_run_compiles_few_functions_each_once`` holds the count.
"""

from __future__ import annotations

import inspect

import numba as nb
import numpy as np
import scipy.sparse as sp

from resistscore.tl._null import PooledNull, _z_pool
from resistscore.tl._rows import call_rows
from resistscore.tl.methods._kernels import (
    INNER,
    KERNEL,
    TIES,
    TRANSFORMS,
    _row_values,
    as_csr_block,
    incidence,
    row_work,
)
from resistscore.tl.methods.ucell import _finalize_args, _value, check_args, ucell

__all__ = ["score_block", "stores_control_scores"]

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
    base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, w_neg, lo, nan_add = _finalize_args(inc, m, p["w_neg"])
    # the per-set constants in one array (one argument of the kernel instead of ten)
    consts = np.stack(
        [inc.n_up, inc.n_dn, base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, lo, nan_add]
    ).astype(np.float64, copy=False)
    X = as_csr_block(block)
    indptr = X.indptr.astype(np.int64, copy=False)
    n_rows, n = X.shape
    kmax = int(np.diff(indptr).max()) if n_rows else 0
    out = np.empty((n_rows, n_sets))
    ptr, slot = _padded_incidence(sets, inc)
    n_ctrl = model.n_controls
    _kernel(
        X.data, X.indices, indptr, n, True, TIES[p["ties"]], TRANSFORMS["rank_clip"], m,
        ptr, slot, consts, w_neg,
        np.ascontiguousarray(code, dtype=np.int8), n_sets, n_ctrl, row, model.stride,
        model.z, model.pool, model.a0, model.p0, out,
        # work arrays: the row function's, the sets' sums, the genes with f != f0, the controls' scores
        # and moments of four signatures, an empty pool row (a row not pooled)
        _NO_ORDER, *row_work(kmax, n), np.empty(2 * len(inc.n_up) + 1, dtype=np.int32),
        np.empty(n, dtype=np.uint32), np.empty(n, dtype=np.int32), np.empty((4, n_ctrl)), np.empty((4, 4)),
        np.empty(0, dtype=model.pool.dtype),
    )  # fmt: skip
    return out


#: no argsort of the rows: :func:`~resistscore.tl.methods._kernels._row_values` ranks sparse rows itself
_NO_ORDER = np.empty((0, 0), dtype=np.int64)


def _padded_incidence(sets, inc) -> tuple[np.ndarray, np.ndarray]:
    """Return the incidence ``inc`` as :func:`_kernel` reads it (cached on ``sets``): uint32 offsets, uint16 slots if they fit.

    Unsigned, so that numba's indexing with them needs no check for negative indices (a quarter of
    the kernel's time went to those checks on this, its busiest, path).

    Each gene's slots are padded to a multiple of 4 with the spare slot ``2 n_total`` (a fixed trip
    count of 4 avoids a mispredicted loop exit per gene).
    """
    cache = sets.__dict__.setdefault("_incidence_cache", {})
    if "onepass" not in cache:
        dtype = np.uint16 if 2 * inc.n_sets < np.iinfo(np.uint16).max else np.uint32
        cache["onepass"] = (inc.pad_ptr.astype(np.uint32), inc.pad_slot.astype(dtype))
    return cache["onepass"]


@nb.njit(**KERNEL)
def _kernel(data, indices, indptr, n, descending, ties, transform, m, inc_ptr, inc_slot, consts, w_neg,
            code, n_sets, n_ctrl, row0, stride, z, pool, z0, p0, out,
            order, fw, iw, uw, key, ukey, extra_cols, acc, top, top_d, ctrl, mom, no_pool):  # fmt: skip
    """UCell of every set of each row of a canonical CSR block, its controls standardised at once.

    The per-gene values ``f = min(rank, m)`` come from
    :func:`~resistscore.tl.methods._kernels._row_values` (the general kernel's; ``descending``,
    ``transform`` and ``order`` are UCell's, given by the caller); the rank sum of a set is ``k f0 +
    sum(f - f0)`` over its genes, ``f0`` that of the genes not stored; ``acc`` holds ``2 sum(f - f0)``
    (integers) of every set's up-genes (slot = set) and down-genes (slot = n_total + set), and a spare
    last slot takes the incidence's padding. ``consts`` rows: the sets' up- and down-gene counts, then
    the constants of :func:`~resistscore.tl.methods.ucell._value` (see :func:`_ucell_pooled`). ``out`` gets the signatures' scores; ``z`` and ``pool`` as
    :func:`~resistscore.tl._null._standardize`. The other arrays are work arrays (see
    :func:`_ucell_pooled`): ``top``/``top_d`` (``n``) the genes with ``f != f0``, ``ctrl`` (4 x
    ``n_ctrl``) and ``mom`` (4 x 4) the control scores and moments of four signatures, ``no_pool`` empty.
    """
    n_rows = indptr.shape[0] - 1
    n_total = consts.shape[1]
    kmax = key.shape[0]
    f = fw[: kmax + n]
    nan = np.nan
    # unsigned offsets, slots and genes (see _padded_incidence): no negative-index check on the slots' path
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    for r in range(n_rows):
        g = row0 + r
        keep = g % stride == 0
        pr = g // stride - p0
        if code[r] > 0:  # not scored: NaN everywhere, as call_rows gives it (no control scored: z NaN)
            ctrl[0, :] = nan
            for s in range(n_sets):
                out[r, s] = nan
                z[s, g - z0] = _z_pool(
                    nan, ctrl[0], nan, 0.0, 0.0, np.int64(0), pool[s, pr] if keep else no_pool, keep
                )
            continue
        a = indptr[r]
        k = indptr[r + 1] - a
        f0, n_extra = _row_values(
            data, indices, a, a, k, n, descending, ties, transform, m, order, r, fw, iw, uw, key, ukey, extra_cols
        )  # fmt: skip
        # acc[slot] += 2 (f - f0) for every set (slot) of each gene with f != f0: those genes are listed
        # first (without a branch: a gene's rank against maxRank is unpredictable), then their padded
        # slots are visited four at a time; the stored genes, then the extra (ordinal) zeros
        acc[:] = 0
        for part in range(2):
            if part == 0:
                cols = indices[a : a + k]
                fv = f[:k]
            else:
                cols = extra_cols[:n_extra]
                fv = f[kmax : kmax + n_extra]
            nt = 0
            for t in range(cols.shape[0]):
                d = fv[t] - f0
                top[nt] = cols[t]
                top_d[nt] = np.int32(2.0 * d)
                nt += d != 0.0
            for u in range(nt):
                gene = top[u]
                dd = top_d[u]
                p = np.uint64(inc_ptr[gene])
                e = np.uint64(inc_ptr[gene + one])
                while p < e:
                    acc[inc_slot[p]] += dd
                    acc[inc_slot[p + one]] += dd
                    acc[inc_slot[p + two]] += dd
                    acc[inc_slot[p + three]] += dd
                    p += four
        for s0 in range(0, n_sets, 4):  # four signatures at a time: their sums are independent chains
            w = min(4, n_sets - s0)
            for lane in range(4):
                if lane >= w:  # no signature: no scored control
                    ctrl[lane, :] = nan
                    continue
                s = s0 + lane
                fu = f0 * consts[0, s]
                fd = f0 * consts[1, s]
                bu, ku, iu, bd, kd, idn, cl, na = (
                    consts[2, s], consts[3, s], consts[4, s], consts[5, s], consts[6, s], consts[7, s],
                    consts[8, s], consts[9, s],
                )  # fmt: skip
                out[r, s] = _value(fu + 0.5 * acc[s], fd + 0.5 * acc[n_total + s], bu, ku, iu, bd, kd, idn,
                                   w_neg, cl, na)  # fmt: skip
                # the controls' scores: _value's expression written out (numba calls a compiled function,
                # it does not inline it: one call per control score), on views of the sums indexed from 0
                # (no negative-index check), so that the loop runs four scores at a time (SIMD)
                base = n_sets + s * n_ctrl
                acc_up = acc[base : base + n_ctrl]
                acc_dn = acc[n_total + base : n_total + base + n_ctrl]
                c_lane = ctrl[lane]
                if consts[1, s] == 0.0:
                    # no down-gene (nor in its controls, which have the signature's sizes): base, kk and inv
                    # of the empty down-set are 0 and its sums 0, so vd is +0.0 and vu - w_neg * vd is vu
                    # exactly (w_neg is finite and >= 0): the same numbers without the down-part
                    for j in range(n_ctrl):
                        vu = bu - ((fu + 0.5 * acc_up[j]) - ku) * iu
                        c_lane[j] = max(vu, cl) + na
                else:
                    for j in range(n_ctrl):
                        vu = bu - ((fu + 0.5 * acc_up[j]) - ku) * iu
                        vd = bd - ((fd + 0.5 * acc_dn[j]) - kd) * idn
                        c_lane[j] = max(vu - w_neg * vd, cl) + na
            _moments4(ctrl, mom)
            for lane in range(w):
                s = s0 + lane
                z[s, g - z0] = _z_pool(
                    out[r, s], ctrl[lane], mom[0, lane], mom[1, lane], mom[2, lane], np.int64(mom[3, lane]),
                    pool[s, pr] if keep else no_pool, keep,
                )  # fmt: skip


@nb.njit(**INNER)
def _moments4(c, out):
    """:func:`~resistscore.tl._null._moments` of the four rows of ``c`` at once, into the columns of ``out``.

    The same operations in the same order for each row (the same numbers), interleaved: four
    independent chains of additions instead of one. Rows without NaN (every scored row of real
    signatures) take a loop without branches (the shift is each row's first value): ~3.5 instead of ~5.9 us per cell
    for 54 signatures of 100 controls (the kernel timed with the call twice, minimum of 20 calls; noisy).
    """
    n = c.shape[1]
    clean = n > 0
    for lane in range(4):
        for j in range(n):
            clean &= not np.isnan(c[lane, j])
    if clean:
        h0, h1, h2, h3 = c[0, 0], c[1, 0], c[2, 0], c[3, 0]
        a0 = a1 = a2 = a3 = 0.0
        b0 = b1 = b2 = b3 = 0.0
        for j in range(n):
            d0 = c[0, j] - h0
            d1 = c[1, j] - h1
            d2 = c[2, j] - h2
            d3 = c[3, j] - h3
            a0 += d0
            a1 += d1
            a2 += d2
            a3 += d3
            b0 += d0 * d0
            b1 += d1 * d1
            b2 += d2 * d2
            b3 += d3 * d3
        out[0, 0], out[1, 0], out[2, 0], out[3, 0] = h0, a0, b0, n
        out[0, 1], out[1, 1], out[2, 1], out[3, 1] = h1, a1, b1, n
        out[0, 2], out[1, 2], out[2, 2], out[3, 2] = h2, a2, b2, n
        out[0, 3], out[1, 3], out[2, 3], out[3, 3] = h3, a3, b3, n
        return
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
