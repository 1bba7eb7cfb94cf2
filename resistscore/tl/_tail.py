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
# vectorised fits: many exceedance sets at once, one per column
# ---------------------------------------------------------------------------------------------------
# Plain numpy (no compiled kernels: nothing to compile on the first run). Arrays hold one fit per
# column: exceedances ``ys`` of shape (n_exc, n_fits), ascending down each column, and grids of shape
# (grid size, n_fits). Every sum runs over the first axis strictly left to right (``_seqsum``), as a
# loop adds, so that the result does not depend on how many fits are batched together.
_SMALL = 1 << 16  # arrays up to this size are summed with one accumulate, larger ones row by row


def _seqsum(a: np.ndarray) -> np.ndarray:
    """Sum over the first axis in order, ``((0 + a[0]) + a[1]) + ...`` (numpy's pairwise ``sum`` rounds differently)."""
    if a.size <= _SMALL:
        return np.add.accumulate(a, axis=0)[-1] + 0.0  # + 0.0: a sum of -0.0 is 0.0, as from a start of 0
    s = np.zeros(a.shape[1:])
    for row in a:
        s += row
    return s


def _profile(ys, b):
    """Return ``(k, log-likelihood)`` of the GPD profile at the grid ``b`` (shape ``(m, n_fits)``).

    Zhang-Stephens parametrisation, ``F = 1 - (1 - b y) ** (1 / k)``, i.e. shape ``xi = -k`` and
    scale ``k / b``; ``k = 0`` where the exponential limit ``b -> 0`` applies.
    """
    n = ys.shape[0]
    if n * b.size <= _SMALL:
        s = _seqsum(np.log1p((-b)[None] * ys[:, None, :]))
    else:
        s = np.zeros(b.shape)
        term = np.empty(b.shape)
        for y in ys:  # s += log1p(-b y), one exceedance at a time: no (n, m, n_fits) temporary
            s += np.log1p(np.multiply(-b, y, out=term), out=term)
    k = -s / n
    expo = (np.abs(b) * ys[n - 1] < 1e-10) | (k == 0.0)
    ll_exp = n * (-np.log(_seqsum(ys) / n) - 1.0)
    ll = np.where(expo, ll_exp, n * (np.log(b / k) + k - 1.0))
    return np.where(expo, 0.0, k), ll


def _shape_scale(ys, b, k):
    """``(xi, sigma)`` of the grid points ``b`` with profile ``k``."""
    exp = k == 0.0
    return np.where(exp, 0.0, -k), np.where(exp, _seqsum(ys) / ys.shape[0], k / b)


def _zs_fit(ys, temper):
    """Fit the GPD to the ascending exceedances ``ys`` (Zhang-Stephens), one fit per column.

    Returns ``(xi, sigma, grid_xi, grid_sigma, grid_weight)``; the grid (shape, scale, tempered
    weights) has ``20 + sqrt(n)`` rows.
    """
    n = ys.shape[0]
    m = 20 + int(np.sqrt(n))
    xmax = ys[n - 1]
    q = ys[int(n / 4.0 + 0.5) - 1]
    b = 1.0 / xmax + (1.0 - np.sqrt(m / (np.arange(m)[:, None] + 0.5))) / (3.0 * q)
    k, ll = _profile(ys, b)
    gxi, gsg = _shape_scale(ys, b, k)
    top = ll.max(axis=0)
    w1 = np.exp(ll - top)
    wt = np.exp(temper * (ll - top))
    gw = wt / _seqsum(wt)
    bhat = (_seqsum(b * w1) / _seqsum(w1))[None]
    k, _ = _profile(ys, bhat)
    xi, sg = _shape_scale(ys, bhat, k)
    return xi[0], sg[0], gxi, gsg, gw


def _sf(y, xi, sigma):
    """GPD survival function at ``y`` (1 for ``y <= 0``)."""
    v = 1.0 + xi * y / sigma
    s = np.where(v <= 0.0, 0.0, np.power(np.where(v <= 0.0, 1.0, v), -1.0 / xi))
    return np.where(y <= 0.0, 1.0, np.where(np.abs(xi) < 1e-12, np.exp(-y / sigma), s))


def _sf_continued(y, ymax, xi, sigma):
    """Return ``_sf``, continued beyond ``ymax`` (the largest exceedance).

    Continued by ``exp(-(y - ymax) / sigma)`` for a bounded tail (``xi < 0``), which would
    otherwise reach 0 at its end point.
    """
    cont = _sf(ymax, xi, sigma) * np.exp(-(y - ymax) / sigma)
    return np.where((xi < 0.0) & (y > ymax), cont, _sf(y, xi, sigma))


def _ad(ys, xi, sigma):
    """Anderson-Darling statistic of the ascending ``ys`` (one column per fit) under the GPD.

    inf where a value has F of 0 or 1.
    """
    n = ys.shape[0]
    sf = _sf(ys, xi, sigma)
    lo = 1.0 - sf  # F(y_(i))
    hi = sf[::-1]  # 1 - F(y_(n+1-i))
    bad = ((lo <= 0.0) | (hi <= 0.0)).any(axis=0)
    i = np.arange(n, dtype=np.float64).reshape((n,) + (1,) * (ys.ndim - 1))
    s = _seqsum((2.0 * i + 1.0) * (np.log(lo) + np.log(hi)))
    return np.where(bad, np.inf, -n - s / n)


def _ad_critical(xi):
    """5 % point of the Anderson-Darling statistic at shape ``xi``, linear in ``xi`` between the table's points."""
    ks, a2 = _AD_XI, _AD_A2
    last = ks.shape[0] - 1
    i = np.clip(np.searchsorted(ks, xi, side="left") - 1, 0, last - 1)  # ks[i] < xi <= ks[i + 1]
    inner = a2[i] + (xi - ks[i]) / (ks[i + 1] - ks[i]) * (a2[i + 1] - a2[i])
    return np.where(xi <= ks[0], a2[0], np.where((xi >= ks[last]) | np.isnan(xi), a2[last], inner))


_GRID = 20 + int(np.sqrt(TAIL_MAX_EXCEED))  # the largest grid


class _Tails(NamedTuple):
    """Accepted tail fits, one per column (``n_exc = 0``: none); grids of ``_GRID`` rows, weight 0 beyond a fit's own grid."""

    n_exc: np.ndarray
    t: np.ndarray
    ymax: np.ndarray
    gxi: np.ndarray
    gsg: np.ndarray
    gw: np.ndarray


def _fit_tops(tops: np.ndarray, n_null: int, temper: float = TAIL_TEMPER) -> _Tails:
    """Fit a tail to each row of ``tops`` (the largest null values, descending) of ``n_null`` values.

    The first attempt takes ``min(100, n_null // 4)`` exceedances, a rejected fit is retried with 10
    fewer, down to 30.
    """
    n_fits = tops.shape[0]
    res = _Tails(
        np.zeros(n_fits, dtype=np.int64), np.zeros(n_fits), np.zeros(n_fits),
        np.zeros((_GRID, n_fits)), np.ones((_GRID, n_fits)), np.zeros((_GRID, n_fits)),
    )  # fmt: skip
    todo = np.arange(n_fits)
    nexc = min(TAIL_MAX_EXCEED, n_null // 4, tops.shape[1] - 1)
    while nexc >= TAIL_MIN_EXCEED and len(todo):
        hi, lo = tops[todo, nexc - 1], tops[todo, nexc]
        sel = todo[hi > lo]
        t = 0.5 * (tops[sel, nexc - 1] + tops[sel, nexc])
        ys = tops[sel, nexc - 1 :: -1].T - t  # ascending down each column
        distinct = 1 + (ys[1:] > ys[:-1]).sum(axis=0)
        cont = distinct >= 0.9 * nexc  # a continuous tail; tied (discrete) scores are not fitted
        sel, t, ys = sel[cont], t[cont], ys[:, cont]
        if len(sel):
            xi, sg, gxi, gsg, gw = _zs_fit(ys, temper)
            ok = np.isfinite(xi) & (sg > 0)
            ok[ok] = _ad(ys[:, ok], xi[ok], sg[ok]) <= _ad_critical(xi[ok])
            done = sel[ok]
            m = gxi.shape[0]
            res.n_exc[done] = nexc
            res.t[done] = t[ok]
            res.ymax[done] = ys[nexc - 1, ok]
            res.gxi[:m, done], res.gsg[:m, done], res.gw[:m, done] = gxi[:, ok], gsg[:, ok], gw[:, ok]
            todo = np.setdiff1d(todo, done, assume_unique=True)
        nexc -= TAIL_STEP
    return res


def _eval(x, n_null, tails: _Tails):
    """Tail p-values of ``x`` (above every null value) from accepted fits (broadcast against the fits' columns)."""
    sf = _sf_continued(x - tails.t, tails.ymax, tails.gxi, tails.gsg)
    s = _seqsum(np.where(tails.gw > 0.0, tails.gw * sf, 0.0))
    # never 0 (an underflow far beyond the null): the smallest positive normal double
    p = np.maximum(np.minimum(tails.n_exc / n_null * s, 1.0 / (n_null + 1.0)), 2.2250738585072014e-308)
    return np.where(tails.n_exc > 0, p, np.nan)


def _tops(null: np.ndarray, keep: int) -> np.ndarray:
    """Return the ``keep`` largest values of each row of ``null``, descending."""
    n = null.shape[1]
    return np.sort(np.partition(null, n - keep, axis=1)[:, n - keep :], axis=1)[:, ::-1]


#: fits batched together in :func:`tail_rows` (memory ~ 100 x 30 x 8 bytes per fit)
_BATCH = 2048


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
    with np.errstate(all="ignore"):
        return float(_eval(float(x), n, _fit_tops(_tops(null[None], keep), n))[0])


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
    with np.errstate(all="ignore"):
        xi, sg, gxi, gsg, gw = (a[..., 0] for a in _zs_fit(ys[:, None], TAIL_TEMPER))
        return GPDFit(float(xi), float(sg), gxi, gsg, gw, float(_ad(ys, xi, sg)), float(_ad_critical(xi)))


def ad_statistic(exceedances: np.ndarray, xi: float, sigma: float) -> float:
    """Anderson-Darling statistic of ``exceedances`` under the GPD ``(xi, sigma)``."""
    with np.errstate(all="ignore"):
        return float(_ad(np.sort(np.asarray(exceedances, dtype=np.float64).ravel()), float(xi), float(sigma)))


def tail_rows(
    scores: np.ndarray, n_sets: int, n_controls: int, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """Return tail p-values of the entries ``(rows, cols)`` of an engine block.

    Observed scores are in the first ``n_sets`` columns, then ``n_controls`` control scores per signature), each against its
    own row's control scores; NaN where no tail estimate exists.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.full(rows.shape[0], np.nan)
    if n_controls // 4 < TAIL_MIN_EXCEED:
        return out
    keep = min(TAIL_MAX_EXCEED, n_controls // 4) + 1
    ctrl = n_sets + np.arange(n_controls)
    for a in range(0, len(rows), _BATCH):
        r, c = rows[a : a + _BATCH], cols[a : a + _BATCH]
        null = np.asarray(scores[r[:, None], ctrl + c[:, None] * n_controls], dtype=np.float64)
        ok = ~np.isnan(null).any(axis=1)  # a NaN control score: no tail
        if ok.any():
            idx = np.flatnonzero(ok) + a
            with np.errstate(all="ignore"):
                tails = _fit_tops(_tops(null[ok], keep), n_controls)
                out[idx] = _eval(np.asarray(scores[r[ok], c[ok]], dtype=np.float64), n_controls, tails)
    return out


class PooledTail:
    """A tail fitted once to a sorted (ascending) pooled null, evaluated for many values."""

    def __init__(self, null_sorted: np.ndarray):
        n = int(null_sorted.size)
        self.n_null = n
        self._tails = None
        self.n_exc = 0
        if n // 4 >= TAIL_MIN_EXCEED:
            keep = min(TAIL_MAX_EXCEED, n // 4) + 1
            top = np.asarray(null_sorted[n - keep :][::-1], dtype=np.float64)
            with np.errstate(all="ignore"):
                self._tails = _fit_tops(top[None], n)
            self.n_exc = int(self._tails.n_exc[0])

    def pvalues(self, x: np.ndarray) -> np.ndarray:
        """Tail p-values of ``x`` (values above the whole null); NaN without an accepted fit."""
        x = np.asarray(x, dtype=np.float64)
        if self.n_exc == 0:
            return np.full(x.shape, np.nan)
        out = np.empty(x.shape)
        for a in range(0, x.size, _BATCH):  # (grid x batch) temporaries
            with np.errstate(all="ignore"):
                out.flat[a : a + _BATCH] = _eval(x.ravel()[a : a + _BATCH], self.n_null, self._tails)
        return out
