"""Drug responses at the limits of the tested range: recognised, and analysed as censored.

An assay reports a growth-inhibition or inhibitory concentration only within its tested range: a
line not inhibited at the highest concentration gets that concentration (NCI-60: GI50 = 100 uM, i.e.
-log10 GI50 = 4.0, for 47 of 149 drugs in at least 3 lines), an extremely sensitive one the lowest
(-log10 GI50 = 8.0). Such a value is a bound - the true value lies beyond it - not a measurement.

* **Recognised** from stated limits (a number per response, or a metadata column of per-sample limits,
  e.g. each line's highest tested concentration), and, unless turned off, from values piled at the
  smallest or largest value of a response (at least ``max(3, 5 %)`` of the samples share it exactly).
  A value at or beyond the low limit is *left-censored* (the true value is at most the limit), at or
  beyond the high limit *right-censored*; values reported beyond a limit are set to it.
* **Rank tests** (Spearman): the censored values of one side are tied at their limit, below (above)
  every exact value - their order among themselves is unknown. With per-sample limits, every value at
  or beyond the least extreme limit of a side is coarsened to that limit, so that no order is claimed
  that the data do not show.
* **Regression**: censored normal (Tobit) regression by maximum likelihood, the model of R
  ``survival::survreg(Surv(lo, hi, type = "interval2") ~ ..., dist = "gaussian")``, fitted by Newton
  steps in Olsen's parametrisation (beta / sigma, 1 / sigma), in which the log-likelihood is concave.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Censoring", "censoring_of", "coarsen", "tobit"]

#: fewest samples (and share of them) sharing the extreme value of a response for it to count as a limit
MIN_PILE, MIN_PILE_SHARE = 3, 0.05


@dataclass
class Censoring:
    """Censoring of one response over the analysed samples.

    Attributes
    ----------
    values
        The response, values beyond a limit set to it.
    side
        Per sample: -1 left-censored (true value <= value), +1 right-censored (>= value), 0 exact.
    low, high
        The limits used (NaN: none on that side); for per-sample limits, the least extreme one.
    source_low, source_high
        ``"stated"``, ``"column <name>"``, ``"detected"`` (values piled at the extreme) or ``""``.
    """

    values: pd.Series
    side: pd.Series
    low: float
    high: float
    source_low: str
    source_high: str

    @property
    def any(self) -> bool:
        return bool((self.side != 0).any())


def _limit(spec, meta: pd.DataFrame, name: str, which: str) -> tuple[pd.Series | None, str]:
    """Return a stated limit as a per-sample Series (or None), and its source."""
    from resistscore._errors import StatisticsError

    if spec is None:
        return None, ""
    if isinstance(spec, str):
        if spec not in meta.columns:
            raise StatisticsError(
                f"`limits` for {name!r} names the column {spec!r} ({which} limit), which the metadata does not "
                f"have; available: {list(meta.columns)[:20]}."
            )
        col = pd.to_numeric(meta[spec], errors="coerce")
        return col, f"column {spec}"
    try:
        v = float(spec)
    except (TypeError, ValueError):
        raise StatisticsError(
            f"`limits` for {name!r}: the {which} limit must be a number, a metadata column name or None; got {spec!r}."
        ) from None
    if not math.isfinite(v):
        raise StatisticsError(f"`limits` for {name!r}: the {which} limit must be finite; got {spec!r}.")
    return pd.Series(v, index=meta.index), "stated"


def censoring_of(y: pd.Series, meta: pd.DataFrame, name: str, limits, detect: bool) -> Censoring:
    """Return the censoring of response ``y`` (indexed like ``meta``).

    From stated ``limits`` ``(low, high)`` and, when ``detect``, from values piled at its extremes (see the module docstring).
    """
    from resistscore._errors import StatisticsError

    if limits is None:
        limits = (None, None)
    if not isinstance(limits, (tuple, list)) or len(limits) != 2:
        raise StatisticsError(
            f"`limits` for {name!r} must be a pair (low, high) of numbers, metadata column names or None; got {limits!r}."
        )
    low, src_low = _limit(limits[0], meta, name, "low")
    high, src_high = _limit(limits[1], meta, name, "high")
    v = y.astype(float)
    present = v.dropna()
    pile = max(MIN_PILE, math.ceil(MIN_PILE_SHARE * len(present)))
    if detect and len(present):
        lo, hi = float(present.min()), float(present.max())
        if low is None and np.isclose(present, lo, rtol=1e-12, atol=1e-12).sum() >= pile and lo < hi:
            low, src_low = pd.Series(lo, index=meta.index), "detected"
        if high is None and np.isclose(present, hi, rtol=1e-12, atol=1e-12).sum() >= pile and lo < hi:
            high, src_high = pd.Series(hi, index=meta.index), "detected"
    side = pd.Series(0, index=v.index, dtype=np.int8)
    out = v.copy()
    for bound, sign in ((low, -1), (high, 1)):
        if bound is None:
            continue
        b = bound.reindex(v.index)
        tol = 1e-9 * np.maximum(1.0, np.abs(b))
        hit = (v <= b + tol) if sign < 0 else (v >= b - tol)
        hit &= v.notna() & b.notna()
        if (hit & (side != 0)).any():
            raise StatisticsError(
                f"response {name!r}: a value lies at or beyond both its low and its high limit; check `limits` "
                "(low must be below high)."
            )
        side[hit] = sign
        out[hit] = b[hit]
    lows = out[side < 0]
    highs = out[side > 0]
    return Censoring(
        values=out,
        side=side,
        low=float(lows.max()) if len(lows) else np.nan,
        high=float(highs.min()) if len(highs) else np.nan,
        source_low=src_low if len(lows) else "",
        source_high=src_high if len(highs) else "",
    )


def coarsen(y: np.ndarray, side: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return values for a rank test, censored values tied at their limit.

    Every value at or beyond the least extreme limit of a side is set to that limit (all tied). Returns ``(values, low, high)``; ``low >= high`` means no order is left.
    """
    y = np.asarray(y, dtype=float).copy()
    low = float(y[side < 0].max()) if (side < 0).any() else -np.inf
    high = float(y[side > 0].min()) if (side > 0).any() else np.inf
    y[y <= low] = low
    y[y >= high] = high
    return y, low, high


@dataclass
class TobitFit:
    """Censored normal regression ``y ~ N(X beta, sigma^2)``.

    ``cov`` is the covariance of
    ``(beta, log sigma)`` (the inverse observed information, as survreg's ``vcov``).
    """

    params: np.ndarray
    sigma: float
    cov: np.ndarray
    llf: float
    converged: bool

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))[: len(self.params)]


def _terms(theta, X, y, side):
    """Log-likelihood, gradient and Hessian in Olsen's parametrisation ``theta = (beta / sigma, 1 / sigma)``."""
    from scipy import special

    p = X.shape[1]
    g, tau = theta[:p], theta[p]
    xg = X @ g
    w = tau * y - xg
    ll = 0.0
    grad = np.zeros(p + 1)
    hess = np.zeros((p + 1, p + 1))
    ex = side == 0
    if ex.any():
        z, Xe, ye = w[ex], X[ex], y[ex]
        ll += float(np.sum(np.log(tau) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z))
        grad[:p] += Xe.T @ z
        grad[p] += float(np.sum(1.0 / tau - z * ye))
        hess[:p, :p] -= Xe.T @ Xe
        hess[:p, p] += Xe.T @ ye
        hess[p, :p] += Xe.T @ ye
        hess[p, p] -= float(np.sum(1.0 / tau**2 + ye * ye))
    for sign in (1, -1):
        m = side == sign
        if not m.any():
            continue
        # right (+1): log P(Y >= c) = log Phi(-w); left (-1): log P(Y <= c) = log Phi(w)
        u = -sign * w[m]
        logcdf = special.log_ndtr(u)
        ll += float(np.sum(logcdf))
        mills = np.exp(-0.5 * u * u - 0.5 * math.log(2 * math.pi) - logcdf)  # phi(u) / Phi(u)
        d1 = mills  # d log Phi(u) / du
        d2 = -mills * (mills + u)  # d2 log Phi(u) / du2
        # du / d(gamma) = sign * x, du / d(tau) = -sign * c
        J = np.hstack([sign * X[m], (-sign * y[m])[:, None]])
        grad += J.T @ d1
        hess += (J * d2[:, None]).T @ J
    return ll, grad, hess


def tobit(y, X, side, max_iter: int = 200) -> TobitFit:
    """Fit a censored normal regression of ``y`` on ``X`` (with its intercept column) by maximum likelihood.

    ``side``: -1 left-censored at ``y``, +1 right-censored at ``y``, 0 exact.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    side = np.asarray(side)
    p = X.shape[1]
    beta0, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta0
    s0 = float(np.sqrt(max(resid @ resid / max(len(y) - p, 1), 1e-12)))
    theta = np.append(beta0 / s0, 1.0 / s0)
    ll, grad, hess = _terms(theta, X, y, side)
    converged = False
    for _ in range(max_iter):
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while True:
            cand = theta + t * step
            if cand[p] > 0:
                ll_new, g_new, h_new = _terms(cand, X, y, side)
                if ll_new >= ll - 1e-12:
                    break
            t /= 2
            if t < 1e-10:
                break
        if t < 1e-10:
            break
        done = abs(ll_new - ll) < 1e-12 * (1 + abs(ll)) and np.max(np.abs(t * step)) < 1e-10
        theta, ll, grad, hess = cand, ll_new, g_new, h_new
        if done or np.max(np.abs(grad)) < 1e-9:
            converged = True
            break
    tau = theta[p]
    beta = theta[:p] / tau
    try:
        cov_t = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov_t = np.full((p + 1, p + 1), np.nan)
        converged = False
    # delta method to (beta, log sigma): beta = gamma / tau, log sigma = -log tau
    J = np.zeros((p + 1, p + 1))
    J[:p, :p] = np.eye(p) / tau
    J[:p, p] = -theta[:p] / tau**2
    J[p, p] = -1.0 / tau
    cov = J @ cov_t @ J.T
    if not np.all(np.isfinite(np.diag(cov))) or np.any(np.diag(cov) <= 0):
        converged = False
    return TobitFit(beta, float(1.0 / tau), cov, float(ll), converged)


def tobit_slope(y, x, side, cov: np.ndarray | None, level: float) -> dict:
    """Return the score's coefficient of the Tobit fit ``y ~ 1 + x + cov``: slope, SE, z, CI, p-value."""
    from scipy import stats

    n = len(y)
    parts = [np.ones((n, 1)), np.asarray(x, float)[:, None]]
    if cov is not None and cov.shape[1] > 1:
        parts.append(cov[:, 1:])  # without its intercept column
    fit = tobit(y, np.hstack(parts), side)
    if not fit.converged:
        return {"note": "censored regression did not converge"}
    b, se = float(fit.params[1]), float(fit.bse[1])
    z = b / se
    q = stats.norm.ppf(0.5 + level / 2)
    return {
        "statistic": z,
        "effect": b,
        "ci_low": b - q * se,
        "ci_high": b + q * se,
        "pvalue": float(2 * stats.norm.sf(abs(z))),
    }
