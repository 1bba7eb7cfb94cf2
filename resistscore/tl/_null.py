"""Significance of scores against random gene sets matched on expression level and variance.

For every signature, ``n_controls`` control sets are drawn. Each control set replaces every gene of
the signature by a random gene from the same *(mean, variance)* bin of the data (genes binned by
the rank of their mean expression into up to 20 bins, and within each of those by the rank of
their variance into up to 5 bins, keeping at least 50 genes per bin), keeping the gene's direction (up/down) and weight.
The signature's own genes stay in the pools (under the null the signature is then exchangeable with
its controls), and a control set never holds a gene twice while its bin has genes left. The control
sets are scored by the same method in the same pass over the data. The draws depend only on
``seed``, the signature and the gene statistics, never on the chunk size or on the other signatures.

**The p-value contract.** Every p-value is a pure, deterministic function of numbers the scoring
pass produces - no random numbers are drawn after the controls:

* ``null="per_sample"``: of the sample's observed score ``x`` and its ``N`` control scores only:
  ``p = (1 + c) / (1 + N)`` with ``c = #{control scores >= x}`` (ties within 1e-12 relative, and
  control sets without a score, count as exceeding); when ``c = 0`` (the score beats every control)
  and ``tail="gpd"``, the generalised Pareto tail estimate of :mod:`resistscore.tl._tail` (at most
  ``1 / (1 + N)``). See :func:`resistscore.tl._tail.empirical_pvalue`, the reference implementation
  for one test.
* ``null="pooled"``: of the sample's ``z = (x - mean) / sd`` against its own controls and the
  standardised control scores of every ``stride``-th sample (by position), compared at single
  precision: ``p = (1 + #{pool >= z}) / (1 + pool size)``, and the tail of the pool beyond its
  largest value.

So any implementation that reproduces the scores (same ``seed`` and controls) and the row positions
reproduces the p-values bit for bit, whatever its chunking or distribution over workers. The FDR is
Benjamini-Hochberg over the p-values of one family: each signature across the samples
(``fdr_family="signature"``, the default) or all samples x signatures (``"all"``).

**Memory.** Both nulls keep one signature's values of all samples contiguous (the standardised
scores ``z`` of the pooled null in single precision, the counts in 32-bit integers), in a buffer of
8 bytes per sample and signature of which only the first half is touched until the p-values are
written over it (:func:`empirical_pvalues`): the p-values take no memory of their own, and the
Benjamini-Hochberg FDR is the one other samples x signatures array. The buffer is a memory map in base
pages, so that its untouched half takes no memory at all (:func:`_half_buffer`).
"""

from __future__ import annotations

import mmap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numba as nb
import numpy as np

from resistscore.tl._tail import PooledTail, tail_rows
from resistscore.tl.methods._base import GeneSetIndex
from resistscore.tl.methods._kernels import INNER, KERNEL

__all__ = [
    "FDR_FAMILIES",
    "NullCounts",
    "PerSampleNull",
    "PooledNull",
    "TailPvalues",
    "bh_fdr",
    "bh_fdr_counts",
    "count_exceed",
    "empirical_pvalues",
    "gene_bins",
    "make_controls",
    "make_null",
]

#: the families of tests the Benjamini-Hochberg FDR can be taken over
FDR_FAMILIES = ("signature", "all")
#: tail estimates beyond the largest null value
TAILS = ("gpd", None)
#: most standardised control scores pooled per signature
MAX_POOL = 250_000


def gene_bins(
    mean: np.ndarray,
    var: np.ndarray,
    n_mean_bins: int | None = None,
    n_var_bins: int | None = None,
    min_bin_size: int = 50,
) -> np.ndarray:
    """Bin id of every gene: equal-size bins by mean rank, then by variance rank within each mean bin.

    By default there are up to 20 mean bins x 5 variance bins, fewer when the bins would hold fewer
    than ``min_bin_size`` genes (20,000 genes: 100 bins of 200 genes; 2,000 genes: 20 x 2 bins of 50).

    Examples
    --------
    >>> import numpy as np
    >>> b = gene_bins(np.arange(8.0), np.zeros(8), n_mean_bins=4, n_var_bins=1)
    >>> b.tolist()
    [0, 0, 1, 1, 2, 2, 3, 3]
    """
    n = len(mean)
    total = max(1, min(100, n // max(min_bin_size, 1)))
    if n_mean_bins is None:
        n_mean_bins = min(20, total)
    if n_var_bins is None:
        n_var_bins = max(1, min(5, total // n_mean_bins))
    n_mean_bins = max(1, min(n_mean_bins, n))
    mb = ((_ordinal_rank(mean)) * n_mean_bins // n).astype(np.int64)
    out = np.empty(n, dtype=np.int64)
    for b in range(n_mean_bins):
        members = np.flatnonzero(mb == b)
        if len(members) == 0:
            continue
        k = max(1, min(n_var_bins, len(members)))
        vb = ((_ordinal_rank(var[members])) * k // len(members)).astype(np.int64)
        out[members] = b * n_var_bins + vb
    return out


def _ordinal_rank(x: np.ndarray) -> np.ndarray:
    """0-based ranks, ties in order of appearance (``scipy.stats.rankdata(x, "ordinal") - 1``)."""
    out = np.empty(len(x), dtype=np.int64)
    out[np.argsort(x, kind="stable")] = np.arange(len(x))
    return out


def _draw(rng, pool: np.ndarray, count: int, n_controls: int) -> np.ndarray:
    """``n_controls`` x ``count`` genes from ``pool``, without replacement within a row when possible."""
    m = len(pool)
    if m < count:
        return pool[rng.integers(0, m, size=(n_controls, count))]
    if count == 1:
        return pool[rng.integers(0, m, size=(n_controls, 1))]
    if count * 4 <= m:
        # few genes from a large bin: draw with replacement and redraw the rows holding a duplicate
        idx = rng.integers(0, m, size=(n_controls, count))
        while True:
            srt = np.sort(idx, axis=1)
            dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
            if not dup.any():
                return pool[idx]
            idx[dup] = rng.integers(0, m, size=(int(dup.sum()), count))
    keys = rng.random((n_controls, m))
    pick = np.argpartition(keys, count - 1, axis=1)[:, :count] if count < m else np.argsort(keys, axis=1)
    return pool[pick]


def make_controls(sets: GeneSetIndex, bins: np.ndarray, n_controls: int, seed: int) -> GeneSetIndex:
    """Return the signatures of ``sets`` followed by their control sets (``n_controls`` per signature, contiguous).

    Control set ``j`` of signature ``i`` is at position ``n_sets + i * n_controls + j``.
    """
    n_sets = len(sets)
    n_genes = sets.n_genes
    order = np.argsort(bins, kind="stable")
    sorted_bins = bins[order]
    uniq, starts = np.unique(sorted_bins, return_index=True)
    ends = np.append(starts[1:], len(order))
    members = {int(b): order[s:e] for b, s, e in zip(uniq, starts, ends)}
    seeds = np.random.SeedSequence(seed).spawn(n_sets)
    up_idx, up_w, dn_idx, dn_w, names = [], [], [], [], []
    for i in range(n_sets):
        rng = np.random.default_rng(seeds[i])
        drawn = {}
        for part, idx in (("up", sets.up_idx[i]), ("dn", sets.dn_idx[i])):
            out = np.empty((n_controls, len(idx)), dtype=np.int64)
            for b in np.unique(bins[idx]) if len(idx) else []:
                where = np.flatnonzero(bins[idx] == b)
                out[:, where] = _draw(rng, members[int(b)], len(where), n_controls)
            drawn[part] = out
        for j in range(n_controls):
            names.append(f"{sets.names[i]}#ctrl{j}")
            up_idx.append(drawn["up"][j])
            up_w.append(sets.up_w[i])
            dn_idx.append(drawn["dn"][j])
            dn_w.append(sets.dn_w[i])
    return GeneSetIndex(
        sets.names + tuple(names),
        sets.up_idx + tuple(up_idx),
        sets.up_w + tuple(up_w),
        sets.dn_idx + tuple(dn_idx),
        sets.dn_w + tuple(dn_w),
        n_genes,
        n_primary=n_sets,
    )


def count_exceed(scores: np.ndarray, n_sets: int, n_controls: int) -> np.ndarray:
    """Count the control scores >= the observed score, per row and signature (-1 where the score is NaN).

    ``scores`` holds the observed scores in its first ``n_sets`` columns, then the control scores
    laid out as in :func:`make_controls`. Ties within 1e-12 (relative) count as exceeding, and so does a
    control set the method could not score (NaN; e.g. GSVA on control genes that never vary): the
    p-value stays valid (conservative).

    Examples
    --------
    >>> import numpy as np
    >>> count_exceed(np.array([[0.5, 0.1, 0.5, 0.9], [np.nan, 0.0, 0.0, 0.0]]), 1, 3).tolist()
    [[2], [-1]]
    """
    return _count_exceed(np.ascontiguousarray(scores, dtype=np.float64), n_sets, n_controls)


@nb.njit(**KERNEL)
def _count_exceed(scores, n_sets, n_ctrl):
    n = scores.shape[0]
    out = np.empty((n, n_sets), dtype=np.int32)
    for r in range(n):
        for s in range(n_sets):
            obs = scores[r, s]
            if not np.isfinite(obs):
                out[r, s] = -1
                continue
            lim = obs - 1e-12 * max(abs(obs), 1.0)
            c = 0
            base = n_sets + s * n_ctrl
            for j in range(n_ctrl):
                if not scores[r, base + j] < lim:  # a control set without a score (NaN) counts as exceeding
                    c += 1
            out[r, s] = c
    return out


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values over all finite entries of ``p`` (NaN kept).

    Examples
    --------
    >>> import numpy as np
    >>> bh_fdr(np.array([0.01, 0.04, np.nan, 0.03])).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def pvalues_from_counts(counts: np.ndarray, n_null, inplace: bool = False) -> np.ndarray:
    """``p = (1 + count) / (1 + n_null)`` per column; NaN where ``count`` is -1 (no score).

    With ``inplace=True`` and int64 ``counts``, the p-values are written over the counts (same
    memory, viewed as float64): no second samples x signatures array.

    Examples
    --------
    >>> import numpy as np
    >>> pvalues_from_counts(np.array([[0, 3], [-1, 1]]), [3, 5]).tolist()
    [[0.25, 0.6666666666666666], [nan, 0.3333333333333333]]
    """
    counts = np.asarray(counts)
    n_null = np.ascontiguousarray(np.broadcast_to(np.asarray(n_null, dtype=np.float64), (counts.shape[1],)))
    if inplace and counts.dtype == np.int64 and counts.flags.c_contiguous:
        out = counts.view(np.float64)
    else:
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        out = np.empty(counts.shape)
    _p_from_counts(counts, n_null, out)
    return out


@nb.njit(**KERNEL)
def _p_from_counts(counts, n_null, out):
    # out may share memory with counts: each element is read before it is written
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            c = counts[i, j]
            out[i, j] = np.nan if c < 0 else (1.0 + c) / (1.0 + n_null[j])


@dataclass
class TailPvalues:
    """Sparse tail p-values: entry ``(rows[i], cols[i])`` has p-value ``p[i]`` (its count is 0)."""

    rows: np.ndarray
    cols: np.ndarray
    p: np.ndarray

    @classmethod
    def empty(cls) -> TailPvalues:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))

    @classmethod
    def concat(cls, parts: list) -> TailPvalues:
        """One table from ``(rows, cols, p)`` parts, sorted by row then column (deterministic)."""
        if not parts:
            return cls.empty()
        rows = np.concatenate([np.asarray(x[0], np.int64) for x in parts])
        cols = np.concatenate([np.asarray(x[1], np.int64) for x in parts])
        p = np.concatenate([np.asarray(x[2], np.float64) for x in parts])
        order = np.lexsort((cols, rows))
        return cls(rows[order], cols[order], p[order])

    def __len__(self) -> int:
        return len(self.p)


def bh_fdr_counts(
    counts: np.ndarray,
    n_null,
    tail: TailPvalues | None = None,
    family: str = "all",
    n_jobs: int = 1,
) -> np.ndarray:
    """Return the Benjamini-Hochberg FDR of the empirical p-values ``(1 + count) / (1 + n_null)``.

    See :func:`pvalues_from_counts`; the tail p-values ``tail`` take the place of theirs; over all
    entries with ``count >= 0``.

    Equal to :func:`bh_fdr` of those p-values (per column for ``family="signature"``), but computed
    from the counts: the p-values of one column lie on the grid ``(1 + k) / (1 + n_null)`` (but for
    the few tail entries), so the ranks come from histograms of the counts (linear time, no sort of
    the samples x signatures matrix, no copy of it): fit for millions of cells.

    Parameters
    ----------
    counts
        Integer array ``(n_samples, n_signatures)``; -1 marks a missing score.
    n_null
        Size of the null distribution of every column (or one for all).
    tail
        Entries whose p-value is a tail estimate (their count is 0).
    family
        ``"all"``: one family of all entries; ``"signature"``: one family per column.
    n_jobs
        Threads (families are independent).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[0, 3], [-1, 1]])
    >>> bool(np.allclose(bh_fdr_counts(c, [3, 5]), bh_fdr(pvalues_from_counts(c, [3, 5])), equal_nan=True))
    True
    """
    counts = np.asarray(counts)
    null = NullCounts(counts, np.broadcast_to(np.asarray(n_null, dtype=np.int64), (counts.shape[1],)), tail)
    return empirical_pvalues(null, family, n_jobs)[1]


def _by_signature(counts: np.ndarray) -> np.ndarray:
    """Return ``counts`` (samples x signatures) as int32 signatures x samples, rows contiguous (a view when it is one)."""
    ct = counts.T
    if ct.dtype != np.int32 or ct.strides[1] != 4:
        if counts.size and (counts.max() > np.iinfo(np.int32).max):
            raise ValueError("counts beyond 2**31 - 1")  # pragma: no cover - null sizes are far smaller
        ct = np.ascontiguousarray(ct, dtype=np.int32)
    return ct


def _bh_tables(grids: dict, tail: TailPvalues, in_family: np.ndarray):
    """BH q-values of one family: ``(q table by null size, q of the family's tail entries)``.

    ``grids`` maps each null size ``N`` of the family to ``(histogram, columns)``: how often each count
    ``0 .. N`` occurs in those columns. The p-values of one null size form one grid
    ``(1 + k) / (1 + N)``; equal p-values (from different grids, or a grid and a tail) share one rank.
    ``in_family``: which entries of ``tail`` belong to the family (their count is 0: they leave the grid).
    """
    tail_cols = tail.cols[in_family]
    values, sizes, occurring = [], [], []
    for big_n, (h, gcols) in grids.items():
        h[0] -= int(np.isin(tail_cols, gcols).sum())
        k = np.flatnonzero(h)
        occurring.append((big_n, k))
        values.append((1.0 + k) / (1.0 + big_n))
        sizes.append(h[k])
    values.append(tail.p[in_family])
    sizes.append(np.ones(len(tail_cols), dtype=np.int64))
    v = np.concatenate(values)
    tables: dict = {}
    if len(v) == 0:
        return tables, np.zeros(0)
    size = np.concatenate(sizes)
    order = np.argsort(v, kind="stable")
    v, size = v[order], size[order]
    m = float(size.sum())
    rank = np.cumsum(size).astype(np.float64)
    first = np.append(True, v[1:] != v[:-1])
    last = np.append(first[1:], True)
    group_rank = rank[last][np.cumsum(first) - 1]
    q = np.minimum.accumulate((v * m / group_rank)[::-1])[::-1]
    q = np.minimum(q, 1.0)
    q_sorted = np.empty_like(q)
    q_sorted[order] = q
    pos = 0
    for big_n, k in occurring:
        table = np.full(big_n + 1, np.nan)
        table[k] = q_sorted[pos : pos + len(k)]
        pos += len(k)
        tables[big_n] = table
    return tables, q_sorted[pos:]


@nb.njit(**KERNEL)
def _histogram(counts, h):
    """Add to ``h`` how often each count ``0 .. len(h) - 1`` occurs in one signature's counts (-1 left out)."""
    top = h.shape[0] - 1
    for i in range(counts.shape[0]):
        c = counts[i]
        if c >= 0:
            h[c if c < top else top] += 1


@nb.njit(**KERNEL)
def _lookup(counts, big_n, q_table, p, fdr):
    """``p = (1 + c) / (1 + big_n)`` and ``fdr = q_table[c]`` of one signature's counts; NaN for -1.

    ``p`` may be the memory of ``counts`` itself, also when its items are twice as wide: the entries are
    visited from the last to the first, so each count is read before anything is written over it.
    """
    den = 1.0 + big_n
    for i in range(counts.shape[0] - 1, -1, -1):
        c = counts[i]
        if c < 0:
            p[i] = np.nan
            fdr[i] = np.nan
        else:
            p[i] = (1.0 + c) / den
            fdr[i] = q_table[c]


@nb.njit(**KERNEL)
def _standardize(scores, n_sets, n_ctrl, row0, stride, z, pool, z0=0, p0=0):
    """Standardise the observed scores against their own controls, and pool standardised controls.

    z-scores of rows ``row0 ...`` are stored at ``z[signature, row - z0]`` (single precision); the
    standardised control scores of every ``stride``-th row into ``pool[:, row // stride - p0]``
    (offsets 0 when ``z`` and ``pool`` hold every row). See :func:`_standardize_one`.
    """
    no_pool = np.empty(0, dtype=pool.dtype)
    for r in range(scores.shape[0]):
        g = row0 + r
        keep = g % stride == 0
        pr = g // stride - p0
        for s in range(n_sets):
            base = n_sets + s * n_ctrl
            z[s, g - z0] = _standardize_one(
                scores[r, s], scores[r, base : base + n_ctrl], pool[s, pr] if keep else no_pool, keep
            )


@nb.njit(**KERNEL)
def _standardize_one(obs, ctrl, pool_row, keep):
    """``z`` of the score ``obs`` against its control scores ``ctrl``; with ``keep``, the standardised controls into ``pool_row``.

    Control scores that are NaN (a control set the method could not score) are left out of the mean,
    the SD and the pool; without any scored control set, ``z = -inf`` (p = 1, as the per-sample null
    counts such control sets as exceeding).
    """
    shift, s1, s2, m = _moments(ctrl)
    return _z_pool(obs, ctrl, shift, s1, s2, m, pool_row, keep)


@nb.njit(**KERNEL)
def _moments(ctrl):
    """``(shift, s1, s2, m)``: the first scored control, the sum and the sum of squares of the scored controls minus it, their number.

    One pass, shifted by the first scored value (no cancellation); NaN controls are left out.
    """
    shift = np.nan
    s1 = 0.0
    s2 = 0.0
    m = 0
    for j in range(ctrl.shape[0]):
        v = ctrl[j]
        if not np.isnan(v):
            if m == 0:
                shift = v
            d = v - shift
            s1 += d
            s2 += d * d
            m += 1
    return shift, s1, s2, m


@nb.njit(**INNER)
def _z_pool(obs, ctrl, shift, s1, s2, m, pool_row, keep):
    """Return the z-score of :func:`_standardize_one` (and write its pooled values) from the :func:`_moments` of ``ctrl``."""
    if m == 0:
        return np.nan if np.isnan(obs) else -np.inf
    mu = shift + s1 / m
    sd = np.sqrt(max(s2 - s1 * s1 / m, 0.0) / (m - 1)) if m > 1 else 0.0
    if sd > 0:
        z = (obs - mu) / sd
    elif abs(obs - mu) <= 1e-12 + 1e-12 * abs(mu):
        z = 0.0
    elif obs > mu:
        z = np.inf
    elif obs < mu:
        z = -np.inf
    else:
        z = np.nan
    if keep:
        # each control standardised by the *other* controls, as the observed score is by all of
        # them: out-of-sample, so that under the null the pooled values and the observed z have the
        # same (t-like) distribution; in-sample standardisation shrinks the pool's tails (the
        # pooled p-values were anti-conservative by 1.3x at 1e-2 and 3.6x at 1e-4 with 100
        # controls, tests/tl/test_null.py)
        mo = m - 1
        if mo < 1:
            pool_row[:] = np.nan
            return z
        # without a branch per control (vectorised: a NaN control gives NaN through the arithmetic, as
        # max(NaN, 0.0) and q > 0.0 both lead to the divisor 1.0; -0.0 and 0.0 give sdj = 0 both ways)
        for j in range(ctrl.shape[0]):
            d = ctrl[j] - shift
            t1 = s1 - d
            mj = t1 / mo
            q = s2 - d * d - t1 * t1 / mo
            sdj = np.sqrt((q if q > 0.0 else 0.0) / (mo - 1)) if mo > 1 else 0.0
            pool_row[j] = (d - mj) / (sdj if sdj > 0 else 1.0)
    return z


def _half_buffer(n_sets: int, n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``(buffer, view)``: a float64 ``(n_sets, n)`` buffer, and ``view``, the 4-byte ``dtype`` items of the first half of each of its rows.

    Only the pages of ``view`` are touched (memory is taken on first write): the buffer costs 4 bytes
    per entry until :func:`empirical_pvalues` writes the float64 p-values over it. A large buffer is an
    anonymous memory map in base pages: numpy backs large arrays with transparent huge pages (2 MiB),
    and the huge pages astride the end of each row's first half would take ~2 MiB of the untouched
    half per signature (109 MiB at a million cells and 54 signatures).
    """
    size = n_sets * n * 8
    if size < _MAPPED_MIN:
        buf = np.empty((n_sets, n), dtype=np.float64)
    else:
        # private zero pages (not shared with a forked process): memory is taken where written, and
        # given back when the array is freed
        mem = mmap.mmap(-1, size, **({"flags": mmap.MAP_PRIVATE} if hasattr(mmap, "MAP_PRIVATE") else {}))
        if hasattr(mmap, "MADV_NOHUGEPAGE"):  # Linux: base pages even where huge pages are always on
            mem.madvise(mmap.MADV_NOHUGEPAGE)
        buf = np.frombuffer(mem, dtype=np.float64).reshape(n_sets, n)
    return buf, buf.view(dtype)[:, :n]


#: buffers of :func:`_half_buffer` from this size (bytes) on are memory maps
_MAPPED_MIN = 4 << 20


class NullCounts(NamedTuple):
    """What a null model hands to :func:`empirical_pvalues`.

    ``counts`` (integers, samples x signatures, -1 for a missing score), the null size of every
    signature ``n_null``, and the ``tail`` p-values. ``buffer``: when given, a float64 signatures x
    samples array whose rows begin with the int32 counts (``counts`` is a view of it), which the
    p-values may overwrite.
    """

    counts: np.ndarray
    n_null: np.ndarray
    tail: TailPvalues
    buffer: np.ndarray | None = None


class PerSampleNull:
    """Per-sample null: each score against its own sample's ``n_controls`` control scores.

    ``p = (1 + c) / (1 + n_controls)``, ``c`` the control scores >= the score (:func:`count_exceed`);
    with ``tail="gpd"``, a score above all its controls (``c = 0``) gets the generalised Pareto tail
    estimate (:mod:`resistscore.tl._tail`) fitted to its own controls' largest values, when the fit is
    accepted. Each p-value is a function of one row of the scoring pass only: rows can be processed
    anywhere, in any order. :meth:`add` may be called from several threads at once for disjoint rows.
    """

    def __init__(self, n_obs: int, n_sets: int, n_controls: int, tail: str | None = "gpd"):
        self.n_sets, self.n_controls, self.tail = n_sets, n_controls, tail
        self._buf, counts = _half_buffer(n_sets, n_obs, np.int32)
        counts[...] = -1
        self.counts = counts.T  # samples x signatures (a view)
        self._tails: list = []

    def add(self, a: int, scores: np.ndarray) -> None:
        """Count and tail-estimate the rows ``a, a+1, ...`` (observed and control scores as in :func:`count_exceed`)."""
        c = count_exceed(scores, self.n_sets, self.n_controls)
        self.counts[a : a + c.shape[0]] = c
        if self.tail is None:
            return
        rows, cols = np.nonzero(c == 0)
        if len(rows):
            p = tail_rows(scores, self.n_sets, self.n_controls, rows, cols)
            ok = np.isfinite(p)
            self._tails.append((rows[ok] + a, cols[ok], p[ok]))  # list.append is atomic

    def put(self, a: int, counts: np.ndarray, tail: tuple) -> None:
        """Write the counts and the tail ``(rows, cols, p)`` of rows ``a, a+1, ...`` computed elsewhere.

        Rows of the tail are counted from 0; computed (by the :meth:`finish` of an object of those rows only).
        """
        self.counts[a : a + counts.shape[0]] = counts
        if len(tail[0]):
            self._tails.append((np.asarray(tail[0]) + a, tail[1], tail[2]))

    def finish(self, n_jobs: int = 1) -> NullCounts:
        """Return the counts, null sizes and tail p-values of all rows (the counts' buffer is handed over)."""
        n_null = np.full(self.n_sets, self.n_controls, dtype=np.int64)
        out = NullCounts(self.counts, n_null, TailPvalues.concat(self._tails), self._buf)
        self.counts = self._buf = None
        return out


class PooledNull:
    """scDRS-style pooled null: control scores standardised per sample, pooled over samples.

    For every sample and signature the ``n_controls`` control scores give a mean ``mu`` and a
    standard deviation ``sd``; the observed score becomes ``z = (score - mu) / sd`` and so do the
    control scores. The standardised control scores of (a deterministic subset of) all samples form
    one null distribution per signature, with up to ``max_pool`` values, so that p-values reach far
    below ``1 / (1 + n_controls)``: ``p = (1 + #{pooled null z >= z}) / (1 + n_pooled)``; with
    ``tail="gpd"``, a (finite) z above the whole pool gets the generalised Pareto tail estimate
    fitted once per signature to the pool's largest values.
    The samples contributing to the pool are every ``stride``-th one (by position), so the result
    does not depend on the chunk size. The pool is kept in single precision and ``z`` is compared
    with it at single precision, so ``z`` is kept in single precision too (equal scores give equal
    single-precision z, so ties count as exceeding); memory: 4 bytes per sample and signature for
    ``z`` (signatures x samples, see :func:`_half_buffer`) plus 4 per pooled value.

    :meth:`add` may be called from several threads at once for disjoint rows.

    **Partitions.** With ``rows=(a0, b0)`` the object holds only the rows ``a0:b0`` of the ``n_obs``
    (a partition scored elsewhere, e.g. on a Dask worker): :meth:`add` standardises them exactly as
    the object of all rows would (the pooled rows are chosen by global position), and :meth:`part`
    hands over their z-scores and share of the pool. :meth:`put` writes a part into the object of
    all rows, whose :meth:`finish` then gives bit for bit what scoring every row in one process gives.
    """

    def __init__(
        self,
        n_obs: int,
        n_sets: int,
        n_controls: int,
        max_pool: int | None = None,
        tail: str | None = "gpd",
        rows: tuple[int, int] | None = None,
    ):
        max_pool = MAX_POOL if max_pool is None else max_pool
        a0, b0 = (0, n_obs) if rows is None else (int(rows[0]), int(rows[1]))
        self.n_sets, self.n_controls, self.tail, self.max_pool = n_sets, n_controls, tail, max_pool
        self.stride = max(1, int(np.ceil(n_obs * n_controls / max_pool)))
        self.a0 = a0
        self.p0 = -(-a0 // self.stride)  # the first pooled row of these rows
        self._buf, self.z = _half_buffer(
            n_sets, b0 - a0, np.float32
        )  # the buffer takes the p-values in the end
        self.z[...] = np.nan
        n_pool_rows = len(range(self.p0 * self.stride, b0, self.stride))
        self.pool = np.full(
            (n_sets, n_pool_rows, n_controls), np.nan, dtype=np.float32
        )  # contiguous per signature

    def add(self, a: int, scores: np.ndarray) -> None:
        """Standardise the rows ``a, a+1, ...`` (observed and control scores as in :func:`count_exceed`)."""
        scores = np.ascontiguousarray(scores, dtype=np.float64)
        _standardize(
            scores, self.n_sets, self.n_controls, a, self.stride, self.z, self.pool, self.a0, self.p0
        )

    def part(self) -> tuple[int, np.ndarray, np.ndarray]:
        """``(a0, z, pool)`` of the rows this object holds (for :meth:`put` into the object of all rows).

        ``z`` is samples x signatures (a view), in single precision.
        """
        return self.a0, self.z.T, self.pool

    def put(self, a0: int, z: np.ndarray, pool: np.ndarray) -> None:
        """Write the :meth:`part` of the rows ``a0 ...`` (this object holds every row)."""
        if self.a0 != 0 or self.z.shape[1] < a0 + z.shape[0]:
            raise ValueError("put() needs the object of all rows")
        self.z[:, a0 : a0 + z.shape[0]] = z.T
        p0 = -(-a0 // self.stride)
        self.pool[:, p0 : p0 + pool.shape[1]] = pool

    def counts(self, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(counts, n_null)`` of :meth:`finish`, without the tail."""
        res = self.finish(n_jobs)
        return res.counts, res.n_null

    def finish(self, n_jobs: int = 1) -> NullCounts:
        """Count, per sample and signature, the pooled null values >= z.

        -1 where z is NaN (int32, written over ``z``); the size of each signature's pool, and the tail
        p-values. Frees the pool.
        """
        n_null = np.zeros(self.n_sets, dtype=np.int64)
        z = self.z
        counts = z.view(np.int32)
        tails: list = []

        def one(s):
            null = self.pool[s].reshape(-1)  # a view: sorted in place, the pool is freed afterwards
            null.sort()
            # the finite values (NaN, from rows without a score, sort last)
            null = null[np.searchsorted(null, -np.inf, side="right") : np.searchsorted(null, np.inf)]
            zs = z[s]
            n_null[s] = len(null)
            rows = None
            if self.tail is not None:  # finite z above the whole pool: before z is overwritten
                top = null[-1] if len(null) else -np.inf
                rows = np.flatnonzero(np.isfinite(zs) & (zs > top))
                zt = zs[rows]
            _count_ge(null, zs, counts[s])
            if rows is not None and len(rows):
                p = PooledTail(null).pvalues(zt)
                ok = np.isfinite(p)
                tails.append((rows[ok], np.full(int(ok.sum()), s), p[ok]))

        with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as ex:
            list(ex.map(one, range(self.n_sets)))
        out = NullCounts(counts.T, n_null, TailPvalues.concat(tails), self._buf)
        self.pool = self.z = self._buf = None
        return out


def make_null(kind: str, n_obs: int, n_sets: int, n_controls: int, tail: str | None = "gpd"):
    """Return the null model of ``kind`` (``"per_sample"`` or ``"pooled"``).

    ``.add(row0, block_scores)`` per chunk (from any thread), then ``.finish(n_jobs)`` -> :class:`NullCounts`.
    """
    if kind == "pooled":
        return PooledNull(n_obs, n_sets, n_controls, tail=tail)
    return PerSampleNull(n_obs, n_sets, n_controls, tail=tail)


def empirical_pvalues(
    null: NullCounts, family: str = "signature", n_jobs: int = 1, dtype=np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """``(p, fdr)``, samples x signatures in ``dtype``, from a null model's :class:`NullCounts`.

    ``p = (1 + count) / (1 + n_null)`` (the tail estimates in place of theirs) and the BH FDR over
    ``family`` (see :func:`bh_fdr_counts`), both computed in double precision and stored in ``dtype``.
    NaN where the score is missing (count -1). With the null's ``buffer``, the p-values are written
    over the counts (no array of their own); the FDR is the one new samples x signatures array. Both
    are signatures x samples in memory (their transposes are returned: a DataFrame holds them
    without a copy).
    """
    from resistscore._validate import check_choice

    check_choice("fdr_family", family, FDR_FAMILIES)
    counts, n_null, tail, buffer = null
    tail = TailPvalues.empty() if tail is None else tail
    dtype = np.dtype(dtype)
    ct = _by_signature(np.asarray(counts))  # signatures x samples, rows contiguous
    n_cols, n = ct.shape
    n_null = np.broadcast_to(np.asarray(n_null, dtype=np.int64), (n_cols,))
    if buffer is not None and np.may_share_memory(buffer, ct) and dtype in (np.float64, np.float32):
        # the p-values over the counts: float64 fill each row of the buffer, float32 its first half
        p = buffer if dtype == np.float64 else buffer.view(np.float32)[:, :n]
    else:
        p = np.empty((n_cols, n), dtype=dtype)
    fdr = np.empty((n_cols, n), dtype=dtype)
    tail_q = np.zeros(len(tail))
    empty = np.full(1, np.nan)

    def family_of(cols):
        # one family at a time (the histograms and q tables are as long as the null: 2 MB per signature
        # for a pool of 250,000), its p-values and FDR written before the next
        grids: dict = {}
        for j in cols:
            big_n = int(n_null[j])
            if big_n not in grids:
                grids[big_n] = (np.zeros(big_n + 1, dtype=np.int64), [])
            _histogram(ct[j], grids[big_n][0])
            grids[big_n][1].append(j)
        in_family = np.isin(tail.cols, cols)
        tables, q = _bh_tables({bn: (h, np.asarray(c)) for bn, (h, c) in grids.items()}, tail, in_family)
        del grids
        for j in cols:
            _lookup(ct[j], int(n_null[j]), tables.get(int(n_null[j]), empty), p[j], fdr[j])
        tail_q[in_family] = q

    families = [list(range(n_cols))] if family == "all" else [[j] for j in range(n_cols)]
    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as ex:
        list(ex.map(family_of, families))
    if len(tail):
        p[tail.cols, tail.rows] = tail.p
        fdr[tail.cols, tail.rows] = tail_q
    return p.T, fdr.T


def _count_ge(null_sorted: np.ndarray, q: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = #{null >= q[i]}`` (-1 for NaN), by one merge of the sorted null with the sorted queries.

    ``q`` (float32, contiguous) is sorted with the positions packed into 64-bit keys (the float's bits
    made monotone in the high half), which numpy sorts several times faster than an argsort. ``out``
    (int32) may be the memory of ``q``: every query is read before any count is written.
    """
    keys = np.empty(len(q), dtype=np.uint64)
    _pack(q.view(np.uint32), keys)
    keys.sort()
    _merge(keys, null_sorted, q, out)


_LOW = np.uint64(0xFFFFFFFF)
_SIGN32 = np.uint64(0x80000000)
_NAN_KEY = np.uint64(0xFFFFFFFF)  # above every float's key: -inf .. +inf map to 0x007FFFFF .. 0xFF800000


@nb.njit(**KERNEL)
def _pack(bits, keys):
    """Write ``keys[i]``: ``i`` in the low half, the float32 ``bits[i]`` as a key in the order of the floats above.

    -0 sorts just below +0, NaN last.
    """
    for i in range(bits.shape[0]):
        u = np.uint64(bits[i])
        if (u & np.uint64(0x7FFFFFFF)) > np.uint64(0x7F800000):  # NaN
            k = _NAN_KEY
        elif u & _SIGN32:
            k = u ^ _LOW
        else:
            k = u | _SIGN32
        keys[i] = (k << np.uint64(32)) | np.uint64(i)


@nb.njit(**KERNEL)
def _merge(keys, null_sorted, q, out):
    """``out[i] = #{null_sorted >= q[i]}`` along the sorted ``keys`` of :func:`_pack` (``out`` may be ``q``'s memory).

    Each ``q[i]`` is read just before ``out[i]`` is written, and only then.
    """
    n = null_sorted.shape[0]
    j = 0
    for t in range(keys.shape[0]):
        k = keys[t] >> np.uint64(32)
        i = np.int64(keys[t] & _LOW)
        if k == _NAN_KEY:
            out[i] = -1
            continue
        v = q[i]
        while j < n and null_sorted[j] < v:
            j += 1
        out[i] = n - j
