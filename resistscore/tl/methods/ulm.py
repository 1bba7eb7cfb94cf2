"""Univariate linear model (decoupler's ``ulm``): t-value of the signed weights' slope.

For one sample with expression ``x`` over *all* ``n`` genes of the data and a signature's signed
weight vector ``w`` (``0`` for genes outside the signature), fit ``x = b0 + b1 w + e``; the score is
the t-value of ``b1``: with ``r = cor(x, w)``, ``t = r sqrt((n - 2) / ((1 - r + eps) (1 + r + eps)))``
(``eps`` = machine epsilon, as decoupler, so a perfect fit gives a large finite t). The sums are
accumulated from the stored values only, so sparse data are never densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from resistscore.tl.methods._base import GeneSetIndex, GeneTerms, MethodInfo
from resistscore.tl.methods._kernels import as_csr_block, incidence, set_sums
from resistscore.tl.methods.wmean import DECOUPLER

__all__ = ["ulm"]


def ulm(X, sets: GeneSetIndex) -> np.ndarray:
    """t-value of the slope of each row of ``X`` regressed on each set's signed weights.

    Parameters
    ----------
    X
        Samples x genes block (dense or CSR, never densified).
    sets
        Gene sets resolved against the columns of ``X``, with absolute weights.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_rows, n_sets)``.

    Examples
    --------
    >>> import numpy as np
    >>> from resistscore.tl.methods import GeneSetIndex
    >>> X = np.array([[2.0, 0.0, 1.0, 1.0]])
    >>> sets = GeneSetIndex(("s",), (np.array([0]),), (np.ones(1),), (np.array([1]),), (np.ones(1),), 4)
    >>> float(ulm(X, sets)[0, 0]) > 1e7  # x = 1 + w exactly: a perfect fit, t ~ 1e8 (finite, as decoupler)
    True
    """
    X = as_csr_block(X)
    n = X.shape[1]
    up, dn, _ = set_sums(X, sets, transform="value", weighted=True)
    sxw = up - dn
    if sp.issparse(X):
        sx = np.asarray(X.sum(axis=1)).ravel()
        sxx = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    else:
        sx = X.sum(axis=1)
        sxx = np.einsum("ij,ij->i", X, X)
    inc = incidence(sets, True)
    signed = np.where(inc.dn, -inc.w, inc.w)
    sw = np.bincount(inc.set, weights=signed, minlength=len(sets))
    sww = np.bincount(inc.set, weights=inc.w**2, minlength=len(sets))
    cxw = sxw - np.outer(sx, sw) / n
    vx = np.maximum(sxx - sx**2 / n, 0.0)[:, None]
    vw = np.maximum(sww - sw**2 / n, 0.0)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(cxw / np.sqrt(vx * vw), -1.0, 1.0)
        # as decoupler: machine epsilon added to 1 - r and 1 + r, so that a perfect fit gives a large
        # finite t (~1e8 sqrt(n - 2)) instead of an infinite one
        t = r * np.sqrt((n - 2) / ((1.0 - r + _EPS) * (1.0 + r + _EPS)))
    return t


_EPS = np.finfo(np.float64).eps


def contributions(t: GeneTerms) -> np.ndarray:
    """Per-gene terms that add up to the t-value.

    ``w_g (x_g - mean x)`` times the factor that turns the covariance of ``x`` and ``w`` into ``t``.
    """
    X, n = t.row, t.n_genes
    sx = float(X.sum())
    sxx = float(X.multiply(X).sum()) if sp.issparse(X) else float((X * X).sum())
    w = t.sign * t.weight
    sw, sww = w.sum(), (w * w).sum()
    vx, vw = sxx - sx * sx / n, sww - sw * sw / n
    cxw = float((w * t.value).sum()) - sx * sw / n
    r = np.clip(cxw / np.sqrt(vx * vw), -1, 1)
    factor = np.sqrt((n - 2) / ((1 - r) * (1 + r))) / np.sqrt(vx * vw)
    return w * (t.value - sx / n) * factor


INFO = MethodInfo(
    name="ulm",
    fn=ulm,
    summary="t-value of the slope of expression on the signed weights over all genes (univariate linear model).",
    citation=DECOUPLER,
    directional=True,
    weighted=True,
    single_sample=True,
    sparse_aware=True,
    defaults={},
    validated_against="decoupler 2.2 ulm and statsmodels OLS (stored reference)",
    contributions=contributions,
)
