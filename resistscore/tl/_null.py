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

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from resistscore.tl.methods._registry import GeneSetIndex

__all__ = ["bh_fdr", "count_exceed", "gene_bins", "make_controls"]


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
    mb = ((rankdata(mean, method="ordinal") - 1) * n_mean_bins // n).astype(np.int64)
    out = np.empty(n, dtype=np.int64)
    for b in range(n_mean_bins):
        members = np.flatnonzero(mb == b)
        if len(members) == 0:
            continue
        k = max(1, min(n_var_bins, len(members)))
        vb = ((rankdata(var[members], method="ordinal") - 1) * k // len(members)).astype(np.int64)
        out[members] = b * n_var_bins + vb
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
    """Number of control scores >= the observed score, per row and signature.

    ``scores`` holds the observed scores in its first ``n_sets`` columns, then the control scores
    laid out as in :func:`make_controls`. Ties within 1e-12 (relative) count as exceeding.
    """
    obs = scores[:, :n_sets]
    null = scores[:, n_sets:].reshape(scores.shape[0], n_sets, n_controls)
    tol = 1e-12 * np.maximum(np.abs(obs), 1.0)
    with np.errstate(invalid="ignore"):
        return (null >= (obs - tol)[:, :, None]).sum(axis=2)


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


def pvalues_frame(counts: np.ndarray, scores: np.ndarray, n_controls: int, index, columns) -> pd.DataFrame:
    """Empirical p-values from exceedance counts; NaN where the score is NaN."""
    p = (1.0 + counts) / (1.0 + n_controls)
    p[~np.isfinite(scores)] = np.nan
    return pd.DataFrame(p, index=index, columns=columns)


class PooledNull:
    """scDRS-style pooled null: control scores standardised per sample, pooled over samples.

    For every sample and signature the ``n_controls`` control scores give a mean ``mu`` and a
    standard deviation ``sd``; the observed score becomes ``z = (score - mu) / sd`` and so do the
    control scores. The standardised control scores of (a deterministic subset of) all samples form
    one null distribution per signature, with up to ``max_pool`` values, so that p-values reach far
    below ``1 / (1 + n_controls)``: ``p = (1 + #{pooled null z >= z}) / (1 + n_pooled)``.
    The samples contributing to the pool are every ``stride``-th one (by position), so the result
    does not depend on the chunk size.
    """

    def __init__(self, n_obs: int, n_sets: int, n_controls: int, max_pool: int = 1_000_000):
        self.n_sets, self.n_controls = n_sets, n_controls
        self.stride = max(1, int(np.ceil(n_obs * n_controls / max_pool)))
        self.z = np.full((n_obs, n_sets), np.nan)
        self.pool: list[tuple[int, np.ndarray]] = []

    def add(self, a: int, scores: np.ndarray) -> None:
        """Standardise the rows ``a, a+1, ...`` (observed and control scores as in :func:`count_exceed`)."""
        n = self.n_sets
        obs = scores[:, :n]
        null = scores[:, n:].reshape(scores.shape[0], n, self.n_controls)
        mu = null.mean(axis=2)
        sd = null.std(axis=2, ddof=1) if self.n_controls > 1 else np.zeros_like(mu)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(sd > 0, (obs - mu) / np.where(sd > 0, sd, 1.0), np.sign(obs - mu) * np.inf)
            z[np.isclose(obs, mu, rtol=1e-12, atol=1e-12) & ~(sd > 0)] = 0.0
            self.z[a : a + scores.shape[0]] = z
            rows = np.arange(a, a + scores.shape[0])
            keep = rows % self.stride == 0
            if keep.any():
                nz = (null[keep] - mu[keep, :, None]) / np.where(sd[keep] > 0, sd[keep], 1.0)[:, :, None]
                self.pool.append((a, nz))

    def pvalues(self, scores: np.ndarray) -> np.ndarray:
        """p-values of the observed scores (NaN where the score is NaN)."""
        self.pool.sort(key=lambda t: t[0])
        p = np.full(self.z.shape, np.nan)
        for s in range(self.n_sets):
            null = np.sort(
                np.concatenate([blk[:, s, :].ravel() for _, blk in self.pool]) if self.pool else np.zeros(0)
            )
            null = null[np.isfinite(null)]
            ge = len(null) - np.searchsorted(null, self.z[:, s] - 1e-12, side="left")
            p[:, s] = (1.0 + ge) / (1.0 + len(null))
        p[~np.isfinite(scores)] = np.nan
        return p
