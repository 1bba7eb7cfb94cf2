"""Significance of scores against random gene sets matched on expression level and variance.

For every signature, ``n_controls`` control sets are drawn. Each control set replaces every gene of
the signature by a random gene from the same *(mean, variance)* bin of the data (genes binned by
the rank of their mean expression into up to 20 bins, and within each of those by the rank of
their variance into up to 5 bins, keeping at least 50 genes per bin), keeping the gene's direction (up/down) and weight.
The genes of the signature itself are never drawn, and a control set never holds a gene twice
while its bin has genes left. The control sets are scored by the same method in the same pass over
the data, and for every sample and signature

``p = (1 + #{control scores >= observed score}) / (1 + n_controls)``

(an exact permutation-style p-value, never 0). The FDR is Benjamini-Hochberg over all samples x
signatures. The draws depend only on ``seed``, the signature and the gene statistics, never on the
chunk size or on the other signatures.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np

from resistscore.tl.methods._base import GeneSetIndex

__all__ = ["PooledNull", "bh_fdr", "bh_fdr_counts", "count_exceed", "gene_bins", "make_controls"]


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
    """The signatures of ``sets`` followed by their control sets (``n_controls`` per signature, contiguous).

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
    """Number of control scores >= the observed score, per row and signature (-1 where the score is NaN).

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


@nb.njit(nogil=True, cache=True)
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


@nb.njit(nogil=True, cache=True)
def _p_from_counts(counts, n_null, out):
    # out may share memory with counts: each element is read before it is written
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            c = counts[i, j]
            out[i, j] = np.nan if c < 0 else (1.0 + c) / (1.0 + n_null[j])


def bh_fdr_counts(counts: np.ndarray, n_null) -> np.ndarray:
    """Benjamini-Hochberg FDR of the empirical p-values ``(1 + count) / (1 + n_null)`` (see
    :func:`pvalues_from_counts`) over all entries with ``count >= 0``.

    Equal to :func:`bh_fdr` of those p-values, but computed from the counts: the p-values of one
    column lie on the grid ``(1 + k) / (1 + n_null)``, so the ranks come from histograms of the
    counts (linear time, no sort of the samples x signatures matrix, no copy of it): fit for
    millions of cells.

    Parameters
    ----------
    counts
        Integer array ``(n_samples, n_signatures)``; -1 marks a missing score.
    n_null
        Size of the null distribution of every column (or one for all).

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[0, 3], [-1, 1]])
    >>> bool(np.allclose(bh_fdr_counts(c, [3, 5]), bh_fdr(pvalues_from_counts(c, [3, 5])), equal_nan=True))
    True
    """
    counts = np.asarray(counts)
    n_cols = counts.shape[1]
    n_null = np.broadcast_to(np.asarray(n_null, dtype=np.int64), (n_cols,))
    out = np.full(counts.shape, np.nan)
    grids = []  # (null size, its columns, the counts that occur)
    values, sizes = [], []
    for big_n in np.unique(n_null):
        cols = np.flatnonzero(n_null == big_n)
        h = _histogram(counts, cols, int(big_n))
        k = np.flatnonzero(h)
        grids.append((int(big_n), cols, k))
        values.append((1.0 + k) / (1.0 + big_n))
        sizes.append(h[k])
    if sum(len(x) for x in values) == 0:
        return out
    v = np.concatenate(values)
    size = np.concatenate(sizes)
    order = np.argsort(v, kind="stable")
    v, size = v[order], size[order]
    m = float(size.sum())
    rank = np.cumsum(size).astype(np.float64)
    # equal p-values (from different grids) share the rank of the last of them
    first = np.append(True, v[1:] != v[:-1])
    last = np.append(first[1:], True)
    group_rank = rank[last][np.cumsum(first) - 1]
    q = np.minimum.accumulate((v * m / group_rank)[::-1])[::-1]
    q = np.minimum(q, 1.0)
    q_sorted = np.empty_like(q)
    q_sorted[order] = q
    pos = 0
    for big_n, cols, k in grids:
        table = np.full(big_n + 1, np.nan)
        table[k] = q_sorted[pos : pos + len(k)]
        pos += len(k)
        _lookup(counts, cols, table, out)
    return out


@nb.njit(nogil=True, cache=True)
def _histogram(counts, cols, big_n):
    h = np.zeros(big_n + 1, dtype=np.int64)
    for i in range(counts.shape[0]):
        for j in cols:
            c = counts[i, j]
            if c >= 0:
                h[min(c, big_n)] += 1
    return h


@nb.njit(nogil=True, cache=True)
def _lookup(counts, cols, table, out):
    for i in range(counts.shape[0]):
        for j in cols:
            c = counts[i, j]
            if c >= 0:
                out[i, j] = table[c]


@nb.njit(nogil=True, cache=True)
def _standardize(scores, n_sets, n_ctrl, row0, stride, z, pool):
    """z-scores of the observed scores against their own controls (rows ``row0 ...``), and the
    standardised control scores of every ``stride``-th row into ``pool``.

    Control scores that are NaN (a control set the method could not score) are left out of the mean,
    the SD and the pool; without any scored control set, ``z = -inf`` (p = 1, as the per-sample null
    counts such control sets as exceeding).
    """
    n = scores.shape[0]
    for r in range(n):
        g = row0 + r
        keep = g % stride == 0
        pr = g // stride
        for s in range(n_sets):
            base = n_sets + s * n_ctrl
            mu = 0.0
            m = 0
            for j in range(n_ctrl):
                v = scores[r, base + j]
                if not np.isnan(v):
                    mu += v
                    m += 1
            obs = scores[r, s]
            if m == 0:
                z[g, s] = np.nan if np.isnan(obs) else -np.inf
                continue
            mu /= m
            sd = 0.0
            if m > 1:
                for j in range(n_ctrl):
                    v = scores[r, base + j]
                    if not np.isnan(v):
                        d = v - mu
                        sd += d * d
                sd = np.sqrt(sd / (m - 1))
            if sd > 0:
                z[g, s] = (obs - mu) / sd
            elif abs(obs - mu) <= 1e-12 + 1e-12 * abs(mu):
                z[g, s] = 0.0
            elif obs > mu:
                z[g, s] = np.inf
            elif obs < mu:
                z[g, s] = -np.inf
            else:
                z[g, s] = np.nan
            if keep:
                div = sd if sd > 0 else 1.0
                for j in range(n_ctrl):
                    pool[pr, s, j] = (scores[r, base + j] - mu) / div


class PooledNull:
    """scDRS-style pooled null: control scores standardised per sample, pooled over samples.

    For every sample and signature the ``n_controls`` control scores give a mean ``mu`` and a
    standard deviation ``sd``; the observed score becomes ``z = (score - mu) / sd`` and so do the
    control scores. The standardised control scores of (a deterministic subset of) all samples form
    one null distribution per signature, with up to ``max_pool`` values, so that p-values reach far
    below ``1 / (1 + n_controls)``: ``p = (1 + #{pooled null z >= z}) / (1 + n_pooled)``.
    The samples contributing to the pool are every ``stride``-th one (by position), so the result
    does not depend on the chunk size. The pool is kept in single precision and ``z`` is compared
    with it at single precision (equal scores give equal single-precision z, so ties count as
    exceeding); memory: 8 bytes per sample and signature for ``z`` plus 4 per pooled value.

    :meth:`add` may be called from several threads at once for disjoint rows.
    """

    def __init__(self, n_obs: int, n_sets: int, n_controls: int, max_pool: int = 1_000_000):
        self.n_sets, self.n_controls = n_sets, n_controls
        self.stride = max(1, int(np.ceil(n_obs * n_controls / max_pool)))
        self.z = np.full((n_obs, n_sets), np.nan)
        n_pool_rows = len(range(0, n_obs, self.stride))
        self.pool = np.full((n_pool_rows, n_sets, n_controls), np.nan, dtype=np.float32)

    def add(self, a: int, scores: np.ndarray) -> None:
        """Standardise the rows ``a, a+1, ...`` (observed and control scores as in :func:`count_exceed`)."""
        scores = np.ascontiguousarray(scores, dtype=np.float64)
        _standardize(scores, self.n_sets, self.n_controls, a, self.stride, self.z, self.pool)

    def counts(self, n_jobs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, n_null)``: per sample and signature the number of pooled null values >= z
        (-1 where z is NaN; int64, written over ``z``), and the size of each signature's pool.
        Frees the pool.
        """
        n_null = np.zeros(self.n_sets, dtype=np.int64)
        z = self.z
        counts = z.view(np.int64)

        def one(s):
            null = self.pool[:, s, :].ravel()
            null = np.sort(null[np.isfinite(null)])
            zs = z[:, s].astype(np.float32)  # a copy: column s is then overwritten by its counts
            order = np.argsort(zs)
            _count_ge(null, zs, order, counts[:, s])
            n_null[s] = len(null)

        with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as ex:
            list(ex.map(one, range(self.n_sets)))
        self.pool = self.z = None
        return counts, n_null


@nb.njit(nogil=True, cache=True)
def _count_ge(null_sorted, q, order, out):
    """``out[i] = #{null >= q[i]}`` (-1 for NaN) by one merge of the sorted null with the sorted queries."""
    n = null_sorted.shape[0]
    j = 0
    for t in range(order.shape[0]):
        i = order[t]
        v = q[i]
        if np.isnan(v):
            out[i] = -1
            continue
        while j < n and null_sorted[j] < v:
            j += 1
        out[i] = n - j
