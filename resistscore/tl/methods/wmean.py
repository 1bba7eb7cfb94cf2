"""Weighted mean of the signature genes' expression with signed weights (decoupler's ``wmean``).

``score = sum_g w_g x_g / sum_g |w_g|`` over the signature genes found in the data, where
``w_g > 0`` for genes up in resistance and ``w_g < 0`` for genes down. Unweighted signatures have
``|w_g| = 1``: the score is then the mean of the up-genes' expression minus that of the down-genes,
over all of the signature's genes. It depends on the data scale (use log-scale data) but not on the
other samples.
"""

from __future__ import annotations

import numpy as np

from resistscore.tl.methods._base import Citation, GeneSetIndex, GeneTerms, MethodInfo
from resistscore.tl.methods._kernels import set_sums

__all__ = ["wmean"]


def wmean(X, sets: GeneSetIndex) -> np.ndarray:
    """Weighted mean ``sum(w x) / sum(|w|)`` of every row of ``X`` over every set.

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
    >>> X = np.array([[1.0, 2.0, 3.0]])
    >>> sets = GeneSetIndex(
    ...     ("s",), (np.array([0, 1]),), (np.array([1.0, 3.0]),), (np.array([2]),), (np.ones(1),), 3
    ... )
    >>> wmean(X, sets)  # (1*1 + 3*2 - 1*3) / 5
    array([[0.8]])
    """
    up, dn, inc = set_sums(X, sets, transform="value", weighted=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (up - dn) / (inc.w_up + inc.w_dn)


def contributions(t: GeneTerms) -> np.ndarray:
    """Per-gene terms that add up to the score: ``w_g x_g / sum |w|``."""
    return t.sign * t.weight * t.value / t.weight.sum()


#: decoupler, whose ``wmean`` and ``ulm`` these are
DECOUPLER = Citation(
    "decoupler",
    "Badia-i-Mompel P, Vélez Santiago J, Braunger J, et al. decoupleR: ensemble of computational methods "
    "to infer biological activities from omics data. Bioinform Adv. 2022;2:vbac016.",
    "10.1093/bioadv/vbac016",
    "Badia-i-Mompel et al., Bioinform Adv 2022 (decoupler)",
)

INFO = MethodInfo(
    name="wmean",
    fn=wmean,
    summary="Weighted mean of the signature genes' expression with signed weights.",
    citation=DECOUPLER,
    directional=True,
    weighted=True,
    single_sample=True,
    sparse_aware=True,
    defaults={},
    validated_against="decoupler 2.2 waggr(fun='wmean') (stored reference), hand-computed cases",
    contributions=contributions,
)
