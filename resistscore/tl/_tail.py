"""Empirical p-values beyond the largest null value: a generalised Pareto tail.

An empirical p-value against ``N`` null values (the scores of random control sets) cannot go below
``1 / (1 + N)``. When the observed score exceeds *every* null value, resistscore estimates how far
into the tail it lies from a generalised Pareto distribution (GPD) fitted to the largest null
values (Knijnenburg et al., Bioinformatics 2009, doi:10.1093/bioinformatics/btp211; Pickands
1975: the excesses over a high threshold of almost any distribution are approximately GPD).
Within the range of the null values the exact permutation p-value ``(1 + c) / (1 + N)`` is kept.

The tail p-value of an observed value ``x`` above all ``N`` null values:

1. **Threshold.** ``n_exc = min(100, N // 4)`` largest null values are the exceedances, the
   threshold ``t`` lies half-way between the ``n_exc``-th and the next largest value.
2. **Fit.** Zhang & Stephens' estimator (Technometrics 2009, doi:10.1198/tech.2009.08017): the
   profile likelihood of the GPD on a fixed grid of ``20 + sqrt(n_exc)`` shape-scale pairs, weighted
   into one estimate. It always exists (maximum likelihood may not) and needs no iteration.
3. **Goodness of fit.** Anderson-Darling statistic of the exceedances under the fitted GPD against
   the 5 % point of Choulakian & Stephens (Technometrics 2001, Table 2, both parameters estimated),
   interpolated in the shape. A rejected fit is retried with 10 fewer exceedances (a higher
   threshold), down to 30; with ties among the exceedances (discrete scores) or no accepted fit,
   there is no tail estimate and the p-value stays ``1 / (1 + N)``.
4. **Estimate.** ``p = n_exc / N * S(x - t)``, with ``S`` the GPD survival function averaged over the
   grid with the weights of the *tempered* profile likelihood (power 1/2): the spread of plausible
   tails, not only the best one, enters the estimate (a plug-in estimate was anti-conservative by
   2-3x at 1e-4 for heavy tails, Student t3/t5, in the calibration study of ``docs/methods.md``).
   A bounded tail (shape < 0) would put ``p = 0`` beyond its end point; beyond the largest null value
   every such tail is therefore continued by the exponential decay of its own scale at the threshold
   (its slowest decay), so ``p`` is never 0, decreases with ``x``, and is conservative for light tails.
5. ``p`` is at most ``1 / (1 + N)``: the tail never makes a p-value larger than the permutation one.

Every step is deterministic: the p-value is a pure function of the observed value and the null
values (no random numbers), so any implementation that sees the same numbers reproduces it.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

__all__ = [
    "AD_CRITICAL_5PCT",
    "TAIL_MAX_EXCEED",
    "TAIL_MIN_EXCEED",
    "GPDFit",
    "ad_statistic",
    "empirical_pvalue",
    "gpd_fit",
    "tail_pvalue",
]

#: exceedances of the first tail fit (fewer when ``N // 4`` is smaller)
TAIL_MAX_EXCEED = 100
#: fewest exceedances a tail is fitted to
TAIL_MIN_EXCEED = 30
#: exceedances dropped after a rejected fit
TAIL_STEP = 10
#: power of the profile likelihood in the averaged tail (1 = Zhang-Stephens' weights)
TAIL_TEMPER = 0.5

#: 5 % points of the Anderson-Darling statistic for the GPD with shape and scale estimated
#: (Choulakian & Stephens 2001, Table 2), by shape xi from -0.5 to 0.9 (the range where maximum
#: likelihood is regular). Indexed by xi: simulated 95 % points with our estimator (n = 500
#: exceedances, 2,000 samples each) are 1.12, 1.03, 0.99, 0.95, 0.84 for xi = -0.4, -0.2, 0, 0.2,
#: 0.4 (tests/tl/test_tail.py checks the test's size).
_AD_XI = np.array([-0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.5, 0.9])
_AD_A2 = np.array([1.321, 1.221, 1.140, 1.074, 1.020, 0.974, 0.935, 0.903, 0.830, 0.771])
AD_CRITICAL_5PCT = dict(zip(_AD_XI.tolist(), _AD_A2.tolist()))


class GPDFit(NamedTuple):
    """A generalised Pareto fit to exceedances ``y > 0``: ``S(y) = (1 + xi y / sigma) ** (-1 / xi)``.

    ``grid_xi``, ``grid_sigma`` and ``grid_weight`` are Zhang and Stephens' grid with the weights of
    the tempered profile likelihood; ``ad`` is the Anderson-Darling statistic of the fit and
    ``ad_critical`` its 5 % point.
    """

    xi: float
    sigma: float
    grid_xi: np.ndarray
    grid_sigma: np.ndarray
    grid_weight: np.ndarray
    ad: float
    ad_critical: float

    @property
    def accepted(self) -> bool:
        """Whether the Anderson-Darling test keeps the fit at the 5 % level."""
        return bool(self.ad <= self.ad_critical)


# ---------------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------------
@nb.njit(nogil=True, cache=True)
def _profile(ys, b):
    """Return ``(k, log-likelihood)`` of the GPD profile at ``b``.

    Zhang-Stephens parametrisation, ``F = 1 - (1 - b y) ** (1 / k)``, i.e. shape ``xi = -k`` and scale ``k / b``).
    """
    n = ys.shape[0]
    s = 0.0
    for i in range(n):
        s += np.log1p(-b * ys[i])
    k = -s / n
    if abs(b) * ys[n - 1] < 1e-10 or k == 0.0:  # the exponential limit b -> 0
        mean = 0.0
        for i in range(n):
            mean += ys[i]
        mean /= n
        return 0.0, n * (-np.log(mean) - 1.0)
    return k, n * (np.log(b / k) + k - 1.0)


@nb.njit(nogil=True, cache=True)
def _shape_scale(ys, b, k):
    """``(xi, sigma)`` of the grid point ``b`` with profile ``k``."""
    if k == 0.0:
        mean = 0.0
        for i in range(ys.shape[0]):
            mean += ys[i]
        return 0.0, mean / ys.shape[0]
    return -k, k / b


@nb.njit(nogil=True, cache=True)
def _zs_fit(ys, temper, gxi, gsg, gw):
    """Fit the GPD to the ascending exceedances ``ys`` (Zhang-Stephens).

    The grid (shape, scale, tempered
    weights) goes into ``gxi, gsg, gw`` (length ``20 + sqrt(n)``); returns ``(xi, sigma)``.
    """
    n = ys.shape[0]
    m = gxi.shape[0]
    xmax = ys[n - 1]
    q = ys[int(n / 4.0 + 0.5) - 1]
    bs = np.empty(m)
    ll = np.empty(m)
    top = -np.inf
    for j in range(m):
        b = 1.0 / xmax + (1.0 - np.sqrt(m / (j + 0.5))) / (3.0 * q)
        k, lj = _profile(ys, b)
        bs[j] = b
        ll[j] = lj
        gxi[j], gsg[j] = _shape_scale(ys, b, k)
        top = max(top, lj)
    tot1 = 0.0
    tott = 0.0
    bhat = 0.0
    for j in range(m):
        w1 = np.exp(ll[j] - top)
        wt = np.exp(temper * (ll[j] - top))
        tot1 += w1
        tott += wt
        bhat += bs[j] * w1
        gw[j] = wt
    for j in range(m):
        gw[j] /= tott
    bhat /= tot1
    k, _ = _profile(ys, bhat)
    return _shape_scale(ys, bhat, k)


@nb.njit(nogil=True, cache=True)
def _sf(y, xi, sigma):
    """GPD survival function at ``y >= 0``."""
    if y <= 0.0:
        return 1.0
    if abs(xi) < 1e-12:
        return np.exp(-y / sigma)
    v = 1.0 + xi * y / sigma
    if v <= 0.0:
        return 0.0
    return v ** (-1.0 / xi)


@nb.njit(nogil=True, cache=True)
def _sf_continued(y, ymax, xi, sigma):
    """Return ``_sf``, continued beyond ``ymax`` (the largest exceedance).

    Continued by ``exp(-(y - ymax) / sigma)``
    for a bounded tail (``xi < 0``), which would otherwise reach 0 at its end point.
    """
    if xi < 0.0 and y > ymax:
        return _sf(ymax, xi, sigma) * np.exp(-(y - ymax) / sigma)
    return _sf(y, xi, sigma)


@nb.njit(nogil=True, cache=True)
def _ad(ys, xi, sigma):
    """Anderson-Darling statistic of the ascending ``ys`` under the GPD (inf if a value has F of 0 or 1)."""
    n = ys.shape[0]
    s = 0.0
    for i in range(n):
        lo = 1.0 - _sf(ys[i], xi, sigma)  # F(y_(i))
        hi = _sf(ys[n - 1 - i], xi, sigma)  # 1 - F(y_(n+1-i))
        if lo <= 0.0 or hi <= 0.0:
            return np.inf
        s += (2.0 * i + 1.0) * (np.log(lo) + np.log(hi))
    return -n - s / n


@nb.njit(nogil=True, cache=True)
def _ad_critical(xi, ks, a2):
    k = xi
    if k <= ks[0]:
        return a2[0]
    last = ks.shape[0] - 1
    if k >= ks[last]:
        return a2[last]
    for i in range(last):
        if k <= ks[i + 1]:
            f = (k - ks[i]) / (ks[i + 1] - ks[i])
            return a2[i] + f * (a2[i + 1] - a2[i])
    return a2[last]


@nb.njit(nogil=True, cache=True)
def _fit_top(top, n_null, ks, a2, temper, gxi, gsg, gw):
    """Fit the tail to ``top`` (the largest null values, descending) of ``n_null`` values.

    Returns ``(n_exc, threshold, largest exceedance)``, ``n_exc = 0`` when no fit is accepted; the
    grid is left in ``gxi, gsg, gw`` (sized for the first attempt).
    """
    nexc = min(TAIL_MAX_EXCEED, n_null // 4, top.shape[0] - 1)
    while nexc >= TAIL_MIN_EXCEED:
        hi = top[nexc - 1]
        lo = top[nexc]
        if hi > lo:
            t = 0.5 * (hi + lo)
            ys = np.empty(nexc)
            distinct = 1
            for i in range(nexc):
                ys[i] = top[nexc - 1 - i] - t
                if i > 0 and ys[i] > ys[i - 1]:
                    distinct += 1
            if distinct >= 0.9 * nexc:  # a continuous tail; tied (discrete) scores are not fitted
                m = 20 + int(np.sqrt(nexc))
                xi, sg = _zs_fit(ys, temper, gxi[:m], gsg[:m], gw[:m])
                for j in range(m, gxi.shape[0]):
                    gw[j] = 0.0
                if np.isfinite(xi) and sg > 0 and _ad(ys, xi, sg) <= _ad_critical(xi, ks, a2):
                    return nexc, t, ys[nexc - 1]
        nexc -= TAIL_STEP
    return 0, 0.0, 0.0


@nb.njit(nogil=True, cache=True)
def _eval(x, n_null, nexc, t, ymax, gxi, gsg, gw):
    """Tail p-value of ``x`` (above every null value) from an accepted fit."""
    d = x - t
    s = 0.0
    for j in range(gxi.shape[0]):
        if gw[j] > 0.0:
            s += gw[j] * _sf_continued(d, ymax, gxi[j], gsg[j])
    # never 0 (an underflow far beyond the null): the smallest positive normal double
    return max(min(nexc / n_null * s, 1.0 / (n_null + 1.0)), 2.2250738585072014e-308)


@nb.njit(nogil=True, cache=True)
def _grid_size():
    return 20 + int(np.sqrt(TAIL_MAX_EXCEED))


@nb.njit(nogil=True, cache=True)
def _tail_one(x, top, n_null, ks, a2, temper):
    m = _grid_size()
    gxi, gsg, gw = np.empty(m), np.empty(m), np.zeros(m)
    nexc, t, ymax = _fit_top(top, n_null, ks, a2, temper, gxi, gsg, gw)
    if nexc == 0:
        return np.nan
    return _eval(x, n_null, nexc, t, ymax, gxi, gsg, gw)


@nb.njit(nogil=True, cache=True)
def _tail_rows(scores, n_sets, n_ctrl, rows, cols, ks, a2, temper):
    """Return tail p-values of the entries ``(rows[i], cols[i])`` of a block.

    The block is laid out as in :func:`resistscore.tl._null.count_exceed`; each against its own row's control scores (NaN where
    a control score is NaN or no fit is accepted).
    """
    out = np.full(rows.shape[0], np.nan)
    keep = min(TAIL_MAX_EXCEED, n_ctrl // 4) + 1
    if n_ctrl // 4 < TAIL_MIN_EXCEED:
        return out
    buf = np.empty(n_ctrl)
    for e in range(rows.shape[0]):
        r, s = rows[e], cols[e]
        base = n_sets + s * n_ctrl
        finite = True
        for j in range(n_ctrl):
            v = scores[r, base + j]
            if np.isnan(v):
                finite = False
                break
            buf[j] = v
        if not finite:
            continue
        part = np.partition(buf, n_ctrl - keep)[n_ctrl - keep :]
        top = np.sort(part)[::-1].copy()
        out[e] = _tail_one(scores[r, s], top, n_ctrl, ks, a2, temper)
    return out


# ---------------------------------------------------------------------------------------------------
# public, pure functions
# ---------------------------------------------------------------------------------------------------
def tail_pvalue(x: float, null: np.ndarray) -> float:
    """GPD tail p-value of ``x`` against the null values ``null`` (see the module docstring).

    Meant for ``x`` above every null value; NaN when no tail fit is accepted (too few values,
    ties, a rejected fit) or a null value is NaN. Deterministic: a pure function of its arguments.

    Examples
    --------
    >>> import numpy as np
    >>> null = np.random.default_rng(0).normal(size=1000)
    >>> p = tail_pvalue(5.0, null)
    >>> bool(p < 1 / 1001), bool(p > 0)
    (True, True)
    """
    null = np.asarray(null, dtype=np.float64).ravel()
    n = null.size
    if n == 0 or np.isnan(null).any() or n // 4 < TAIL_MIN_EXCEED:
        return float("nan")
    keep = min(TAIL_MAX_EXCEED, n // 4) + 1
    top = np.sort(np.partition(null, n - keep)[n - keep :])[::-1].copy()
    return float(_tail_one(float(x), top, n, _AD_XI, _AD_A2, TAIL_TEMPER))


def empirical_pvalue(x: float, null: np.ndarray, tail: bool = True) -> float:
    """Return the p-value of an observed score ``x`` against null scores, as the per-sample null computes it.

    ``p = (1 + c) / (1 + N)`` with ``c`` the null values ``>= x`` (ties within 1e-12, relative, and
    NaN null values count as exceeding); when ``c = 0`` and ``tail``, the GPD tail estimate
    (:func:`tail_pvalue`) if a fit is accepted. NaN for a NaN ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> null = np.arange(1.0, 100.0)
    >>> empirical_pvalue(98.5, null), empirical_pvalue(50.0, null)
    (0.02, 0.5)
    """
    null = np.asarray(null, dtype=np.float64).ravel()
    if np.isnan(x):
        return float("nan")
    lim = x - 1e-12 * max(abs(x), 1.0)
    c = int(np.sum(~(null < lim)))
    p = (1.0 + c) / (1.0 + null.size)
    if c == 0 and tail:
        t = tail_pvalue(x, null)
        if np.isfinite(t):
            p = t
    return p


def gpd_fit(exceedances: np.ndarray) -> GPDFit:
    """Zhang-Stephens fit of a generalised Pareto distribution to positive ``exceedances``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import genpareto
    >>> y = genpareto(0.2).rvs(size=2000, random_state=1)
    >>> fit = gpd_fit(y)
    >>> round(fit.xi, 1), round(fit.sigma, 1), fit.accepted
    (0.2, 1.1, True)
    """
    ys = np.sort(np.asarray(exceedances, dtype=np.float64).ravel())
    if ys.size < 2 or not (ys[0] > 0) or not np.isfinite(ys).all():
        raise ValueError("gpd_fit needs at least two finite, positive exceedances.")
    m = 20 + int(np.sqrt(ys.size))
    gxi, gsg, gw = np.empty(m), np.empty(m), np.empty(m)
    xi, sg = _zs_fit(ys, TAIL_TEMPER, gxi, gsg, gw)
    return GPDFit(
        float(xi), float(sg), gxi, gsg, gw, float(_ad(ys, xi, sg)), float(_ad_critical(xi, _AD_XI, _AD_A2))
    )


def ad_statistic(exceedances: np.ndarray, xi: float, sigma: float) -> float:
    """Anderson-Darling statistic of ``exceedances`` under the GPD ``(xi, sigma)``."""
    return float(_ad(np.sort(np.asarray(exceedances, dtype=np.float64).ravel()), float(xi), float(sigma)))


def tail_rows(
    scores: np.ndarray, n_sets: int, n_controls: int, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Return tail p-values of the entries ``(rows, cols)`` of an engine block.

    Observed scores are in the first ``n_sets`` columns, then ``n_controls`` control scores per signature), each against its
    own row's control scores; NaN where no tail estimate exists.
    """
    return _tail_rows(
        np.ascontiguousarray(scores, dtype=np.float64),
        n_sets,
        n_controls,
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        _AD_XI,
        _AD_A2,
        TAIL_TEMPER,
    )


class PooledTail:
    """A tail fitted once to a sorted (ascending) pooled null, evaluated for many values."""

    def __init__(self, null_sorted: np.ndarray):
        n = int(null_sorted.size)
        self.n_null = n
        m = 20 + int(np.sqrt(TAIL_MAX_EXCEED))
        self._grid = (np.empty(m), np.empty(m), np.zeros(m))
        self.n_exc = 0
        if n // 4 >= TAIL_MIN_EXCEED:
            keep = min(TAIL_MAX_EXCEED, n // 4) + 1
            top = np.asarray(null_sorted[n - keep :][::-1], dtype=np.float64).copy()
            self.n_exc, self._t, self._ymax = _fit_top(top, n, _AD_XI, _AD_A2, TAIL_TEMPER, *self._grid)

    def pvalues(self, x: np.ndarray) -> np.ndarray:
        """Tail p-values of ``x`` (values above the whole null); NaN without an accepted fit."""
        x = np.asarray(x, dtype=np.float64)
        if self.n_exc == 0:
            return np.full(x.shape, np.nan)
        return np.array([_eval(v, self.n_null, self.n_exc, self._t, self._ymax, *self._grid) for v in x])
