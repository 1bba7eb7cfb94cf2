"""Linear mixed model with one random intercept per replicate, fitted by profiled REML as lme4 does.

``y = X beta + b[group] + e``, ``b ~ N(0, tau^2)``, ``e ~ N(0, sigma^2)``. With ``theta = tau / sigma``
the REML criterion is profiled over ``beta`` and ``sigma^2`` in closed form (the covariance of a group
is ``sigma^2 (I + theta^2 J)``, inverted by Sherman-Morrison from group sums), leaving a smooth
function of the one parameter ``theta >= 0`` (Bates et al., J Stat Softw 2015, doi:10.18637/jss.v067.i01,
section 3). It is minimised over a grid of ``theta`` and refined by bounded Brent steps, the bound
``theta = 0`` included: a *boundary (singular) fit* (``theta`` below lme4's ``isSingular`` tolerance
1e-4) is a valid REML estimate with the random-intercept variance at 0, whose fixed effects are those of
ordinary least squares - what ``lme4::lmer`` reports, with a note. The fixed-effect covariance is
``sigma^2 (X' V^-1 X)^-1`` at the estimate (lme4's ``vcov``); tests are Wald z tests.

statsmodels' ``MixedLM`` (BFGS on a Cholesky factor) was used until 0.1: on the single-cell toy cohort it
stopped far from the REML optimum at the boundary (an effect of 0.254 with a standard error of 2.5e5
where lme4 reports 0.139 and 0.0048) and reported most fits as failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SINGULAR_TOL", "RandomInterceptFit", "fit_random_intercept"]

#: lme4's default tolerance of ``isSingular``: theta below it is a boundary (singular) fit
SINGULAR_TOL = 1e-4
_THETA_MAX = 1e4
_GRID = np.concatenate([[0.0], np.logspace(-4, 4, 49)])


@dataclass
class RandomInterceptFit:
    """A fitted random-intercept model (attributes named as statsmodels' results where they match).

    Attributes
    ----------
    params, bse
        Fixed effects and their standard errors (Series indexed by the design's column names).
    cov_params_fe
        Covariance matrix of the fixed effects.
    scale, group_var, theta
        Residual variance ``sigma^2``, random-intercept variance ``tau^2`` and ``tau / sigma``.
    llf
        REML log-likelihood (as lme4's ``logLik(fit)`` of a REML fit).
    nobs, n_groups
        Observations and replicates (groups).
    singular
        ``theta < 1e-4``: a boundary fit (lme4's ``isSingular``).
    converged
        The optimum is inside ``[0, 1e4)`` and the fixed-effect covariance is finite.
    """

    params: pd.Series
    bse: pd.Series
    cov_params_fe: pd.DataFrame
    scale: float
    group_var: float
    theta: float
    llf: float
    nobs: int
    n_groups: int
    singular: bool
    converged: bool

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics of the fixed effects."""
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the Wald z tests."""
        from scipy import stats

        return pd.Series(2 * stats.norm.sf(np.abs(self.tvalues.to_numpy())), index=self.params.index)

    @property
    def df_resid(self) -> float:
        return float(self.nobs - len(self.params))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals (columns 0 and 1, as statsmodels)."""
        from scipy import stats

        z = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({0: self.params - z * self.bse, 1: self.params + z * self.bse})


class _Profile:
    """The profiled REML deviance of ``theta``, from sufficient statistics (group sums)."""

    def __init__(self, y: np.ndarray, X: np.ndarray, groups: np.ndarray):
        _, codes, self.ng = np.unique(groups, return_inverse=True, return_counts=True)
        self.n, self.p = X.shape
        self.xtx, self.xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        self.sx = np.zeros((len(self.ng), self.p))
        np.add.at(self.sx, codes, X)
        self.sy = np.bincount(codes, weights=y, minlength=len(self.ng))

    def solve(self, theta: float):
        """``(deviance, beta, sigma^2, X'V^-1 X * sigma^2)`` at ``theta``."""
        lam = theta * theta
        c = lam / (1.0 + lam * self.ng)
        a = self.xtx - (self.sx * c[:, None]).T @ self.sx
        b = self.xty - self.sx.T @ (c * self.sy)
        q = self.yty - float(np.sum(c * self.sy**2))
        sign, logdet = np.linalg.slogdet(a)
        if sign <= 0:
            return np.inf, None, np.nan, a
        beta = np.linalg.solve(a, b)
        dof = self.n - self.p
        s2 = max(q - float(beta @ b), 0.0) / dof
        if s2 <= 0:  # a perfect fit (no residual variation): degenerate
            return np.inf, beta, s2, a
        dev = dof * (1.0 + math.log(2 * math.pi * s2)) + float(np.sum(np.log1p(lam * self.ng))) + logdet
        return dev, beta, s2, a


def fit_random_intercept(y, X: pd.DataFrame, groups) -> RandomInterceptFit:
    """REML fit of ``y ~ X + (1 | groups)`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(8), 20)
    >>> x = (g % 2).astype(float)
    >>> y = 1.0 + 0.5 * x + rng.normal(0, 0.7, 8)[g] + rng.normal(size=160)
    >>> fit = fit_random_intercept(y, pd.DataFrame({"Intercept": 1.0, "x": x}), g)
    >>> fit.singular, round(float(fit.params["x"]), 2)
    (False, 0.51)
    """
    from scipy import optimize

    y = np.asarray(y, dtype=np.float64)
    Xv = np.asarray(X, dtype=np.float64)
    groups = np.asarray(groups)
    prof = _Profile(y, Xv, groups)
    names = list(X.columns)
    _, codes = np.unique(groups, return_inverse=True)
    within = y - (prof.sy / prof.ng)[codes]
    if float(within @ within) <= 1e-24 * max(float(y @ y), 1e-300):
        # no variation within any group: the residual variance is 0 and the REML criterion unbounded
        nan = pd.Series(np.nan, index=names)
        return RandomInterceptFit(nan, nan, pd.DataFrame(np.nan, index=names, columns=names), 0.0, np.nan,
                                  np.inf, np.nan, prof.n, len(prof.ng), False, False)  # fmt: skip
    devs = np.array([prof.solve(t)[0] for t in _GRID])
    best = int(np.argmin(devs))
    theta, dev = float(_GRID[best]), float(devs[best])
    if np.isfinite(dev):
        lo = _GRID[max(best - 1, 0)]
        hi = _GRID[min(best + 1, len(_GRID) - 1)]
        if hi > lo:
            res = optimize.minimize_scalar(
                lambda t: prof.solve(t)[0], bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
            )
            if res.fun < dev:
                theta, dev = float(res.x), float(res.fun)
    dev0 = float(devs[0])
    if theta < SINGULAR_TOL and dev0 <= dev + 1e-9:
        theta, dev = 0.0, dev0  # the boundary itself (bobyqa in lme4 stops on the bound)
    dev, beta, s2, a = prof.solve(theta)
    converged = bool(np.isfinite(dev) and theta < _THETA_MAX * 0.999)
    p = len(names)
    if beta is None:
        beta = np.full(p, np.nan)
        cov = np.full((p, p), np.nan)
    else:
        try:
            cov = s2 * np.linalg.inv(a)
        except np.linalg.LinAlgError:
            cov = np.full((p, p), np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if not np.all(np.isfinite(se)) or not np.all(se > 0):
        converged = False
    return RandomInterceptFit(
        params=pd.Series(beta, index=names),
        bse=pd.Series(se, index=names),
        cov_params_fe=pd.DataFrame(cov, index=names, columns=names),
        scale=float(s2),
        group_var=float(theta * theta * s2),
        theta=float(theta),
        llf=float(-0.5 * dev) if np.isfinite(dev) else np.nan,
        nobs=int(prof.n),
        n_groups=int(len(prof.ng)),
        singular=bool(theta < SINGULAR_TOL),
        converged=converged,
    )
