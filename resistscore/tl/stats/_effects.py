"""Effect sizes and their confidence intervals.

References
----------
* Hedges' g and its CI by inversion of the noncentral t distribution: Hedges & Olkin (1985);
  Steiger & Fouladi (1997). The CI of Cohen's d is scaled by the same small-sample factor J.
* eta^2 CI by inversion of the noncentral F distribution: Steiger (2004), Psychol Methods 9:164.
* rank-biserial r (= 2 AUC - 1) and its CI on the Fisher-z scale with
  SE = sqrt((n1 + n2 + 1) / (3 n1 n2)): Kerby (2014); as in R ``effectsize::rank_biserial``.
* Spearman rho CI on the Fisher-z scale with SE = sqrt((1 + rho^2 / 2) / (n - 3)):
  Bonett & Wright (2000), Psychometrika 65:23.
* Hodges-Lehmann shift and its distribution-free CI from the order statistics of the pairwise
  differences (normal approximation of the Mann-Whitney critical value): Hollander & Wolfe (1999).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "eta_squared_ci",
    "fisher_z_ci",
    "hedges_correction",
    "hodges_lehmann",
    "ncp_ci_t",
]


def hedges_correction(df: float) -> float:
    """Exact small-sample bias correction J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))."""
    from scipy import special

    if df <= 1:
        return float("nan")
    return float(math.exp(special.gammaln(df / 2) - special.gammaln((df - 1) / 2)) / math.sqrt(df / 2))


def ncp_ci_t(t: float, df: float, level: float) -> tuple[float, float]:
    """Confidence interval of the noncentrality parameter of a t statistic (noncentral t inversion)."""
    from scipy import optimize, stats

    if not (np.isfinite(t) and df > 0):
        return float("nan"), float("nan")
    alpha = 1 - level
    span = 5 * math.sqrt(1 + t * t / (2 * df)) + 1

    def cdf(ncp: float) -> float:
        v = float(stats.nct.cdf(t, df, ncp))
        if not np.isfinite(v):  # scipy's nct returns NaN far in the tails
            v = 0.0 if ncp > t else 1.0
        return v

    def root(q: float) -> float:
        f = lambda ncp: cdf(ncp) - q  # noqa: E731
        lo, hi = t - span, t + span
        while f(lo) < 0:
            lo -= span
        while f(hi) > 0:
            hi += span
        return float(optimize.brentq(f, lo, hi, xtol=1e-10))

    return root(1 - alpha / 2), root(alpha / 2)


def eta_squared_ci(f: float, df1: float, df2: float, n: int, level: float) -> tuple[float, float]:
    """Confidence interval of eta^2 = lambda / (lambda + N) from the noncentral F distribution."""
    from scipy import optimize, stats

    if not np.isfinite(f):
        return float("nan"), float("nan")
    alpha = 1 - level

    def lam(q: float) -> float:
        g = lambda nc: stats.ncf.cdf(f, df1, df2, nc) - q  # noqa: E731
        if stats.f.cdf(f, df1, df2) < q:
            return 0.0
        hi = max(10.0, 2 * f * df1)
        while g(hi) > 0:
            hi *= 2
        return float(optimize.brentq(g, 1e-12, hi, xtol=1e-10))

    lo, hi = lam(1 - alpha / 2), lam(alpha / 2)
    return lo / (lo + n), hi / (hi + n)


def fisher_z_ci(r: float, se: float, level: float) -> tuple[float, float]:
    """CI of a correlation-like quantity in [-1, 1] from a symmetric interval on the atanh scale."""
    from scipy import stats

    if not (np.isfinite(r) and np.isfinite(se)):
        return float("nan"), float("nan")
    z = stats.norm.ppf(0.5 + level / 2)
    r = float(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    c = math.atanh(r)
    return math.tanh(c - z * se), math.tanh(c + z * se)


def hodges_lehmann(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float, float]:
    """Hodges-Lehmann shift (median of x_i - y_j) with its distribution-free CI."""
    from scipy import stats

    d = np.sort(np.subtract.outer(np.asarray(x, float), np.asarray(y, float)).ravel())
    n1, n2 = len(x), len(y)
    est = float(np.median(d))
    z = stats.norm.ppf(0.5 + level / 2)
    k = int(math.floor(n1 * n2 / 2 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)))
    if k < 1:
        return est, float("nan"), float("nan")
    return est, float(d[k - 1]), float(d[n1 * n2 - k])
