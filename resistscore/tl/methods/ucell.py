"""UCell: Mann-Whitney U statistic of a gene set within each cell (Andreatta & Carmona 2021).

Definitions follow the R/Bioconductor package ``UCell`` (``ScoreSignatures_UCell``):

* genes are ranked within each cell by decreasing expression with *average* ranks for ties
  (``data.table::frankv(-x, ties.method = "average")``); the genes not expressed share one tie;
* ``maxRank`` (default 1500) is capped at the number of genes, and ranks are capped at ``maxRank``;
* for a set of ``k`` genes with capped-rank sum ``R``:
  ``U = 1 - (R - k (k + 1) / 2) / (k maxRank - k (k + 1) / 2)``;
* signed signatures: ``score = max(0, U(up) - w_neg U(down))`` (UCell's ``gene-`` convention);
* down-only signatures (no up-gene measured): ``score = max(0, 1 - w_neg U(down))``, i.e. the empty
  up-set counts as ``U(up) = 1``. R UCell gives such a set ``U(up) = 0`` and so the score 0 in every
  cell, whatever the data; resistscore scores the evidence that the down-genes are low instead
  (1 = none of them among the cell's top ``maxRank`` genes, 0 = all of them at the very top).

Genes absent from the data are left out of ``k`` (UCell's ``missing_genes = "skip"``); R's default
``"impute"`` counts them with rank ``maxRank``. resistscore reports coverage and refuses to score
under-covered signatures instead.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from resistscore._errors import ResistScoreError
from resistscore._validate import check_choice, check_int, check_real
from resistscore.tl.methods._base import Citation, GeneSetIndex, GeneTerms, MethodInfo
from resistscore.tl.methods._kernels import INNER, KERNEL, TIES, gather, set_sums

__all__ = ["ucell"]


def ucell(
    X, sets: GeneSetIndex, *, max_rank: int = 1500, w_neg: float = 1.0, ties: str = "average"
) -> np.ndarray:
    """Score every row of ``X`` with UCell.

    Parameters
    ----------
    X
        Cells x genes block (dense or CSR, never densified).
    sets
        Gene sets resolved against the columns of ``X``.
    max_rank
        Rank cut-off ``maxRank`` (capped at the number of genes).
    w_neg
        Weight of the down-set (``>= 0``).
    ties
        Tie method of the ranking; UCell uses ``"average"``.

    Returns
    -------
    numpy.ndarray
        Scores in [0, 1], shape ``(n_rows, n_sets)``.

    Examples
    --------
    >>> import numpy as np
    >>> from resistscore.tl.methods import GeneSetIndex
    >>> X = np.array([[5.0, 4.0, 3.0, 2.0, 1.0]])
    >>> sets = GeneSetIndex(
    ...     ("s",), (np.array([0, 2]),), (np.ones(2),), (np.array([], int),), (np.ones(0),), 5
    ... )
    >>> ucell(X, sets, max_rank=4)  # ranks 1 and 3: U = 1 - (4 - 3) / (8 - 3)
    array([[0.8]])
    """
    check_args(max_rank, w_neg, ties)
    m = float(min(max_rank, sets.n_genes))
    up, dn, inc = set_sums(
        X, sets, transform="rank_clip", descending=True, ties=ties, param=m, weighted=False
    )
    return _finalize(up, dn, *_finalize_args(inc, m, w_neg))


def check_args(max_rank, w_neg, ties) -> None:
    """Check UCell's parameters (shared with the engine's one-pass scoring of the pooled null)."""
    check_int("max_rank", max_rank, minimum=1)
    check_real("w_neg", w_neg, minimum=0.0)
    check_choice("ties", ties, TIES)


def _finalize_args(inc, m: float, w_neg: float) -> tuple:
    """Return the per-set constants of :func:`_finalize` (an error when a set has more genes than ``m``).

    ``inc`` is the sets' unweighted incidence (:func:`resistscore.tl.methods._kernels.incidence`),
    ``m`` the rank cap. Shared by :func:`ucell` and the engine's one-pass scoring of the pooled null.
    """
    k_up = inc.n_up.astype(np.float64)
    k_dn = inc.n_dn.astype(np.float64)
    if np.any(k_up > m) or np.any(k_dn > m):
        raise ResistScoreError(
            f"UCell: a signature has more genes than max_rank={int(m)}; increase `max_rank` or use shorter signatures."
        )

    base_up, kk_up, inv_up = _constants(k_up, m)
    # a down-only set: an empty up-set counts as U = 1 (no up-gene to miss), so the score is
    # 1 - w_neg U(down), the evidence that the down-genes are low; with U(up) = 0 it would be 0 always
    base_up[(k_up == 0) & (k_dn > 0)] = 1.0
    base_dn, kk_dn, inv_dn = _constants(k_dn, m)
    lo = np.where(k_dn > 0, 0.0, -np.inf)  # no down-genes: no clip at 0 needed (U(up) >= 0)
    nan_add = np.where((base_up + base_dn) > 0, 0.0, np.nan)
    return base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, float(w_neg), lo, nan_add


def _constants(k, m):
    """Return the per-set constants of ``U = base - (R - kk) * inv``.

    ``kk = k (k + 1) / 2`` and ``inv = 1 / (k m - kk)`` (``base = inv = 0`` for an empty set, ``inv = 0``
    when ``k m = kk``: one gene with maxRank 1).
    """
    kk = k * (k + 1) / 2
    den = k * m - kk
    base = (k > 0).astype(np.float64)
    with np.errstate(divide="ignore"):
        inv = np.where((k > 0) & (den > 0), 1.0 / np.where(den > 0, den, 1.0), 0.0)
    return base, kk, inv


@nb.njit(**KERNEL)
def _finalize(up, dn, base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, w_neg, lo, nan_add):
    """UCell scores in place of ``up`` (no temporaries, branch-free inner loop).

    ``max(lo, U(up) - w_neg U(down)) + nan_add``: ``lo`` is 0 for a set with down-genes (else -inf),
    ``nan_add`` NaN for a set with neither up- nor down-genes (else 0). Both are made by the caller
    with numpy, which keeps the compiled kernel small (numba compiles ``np.where`` slowly).
    """
    n_rows, n_sets = up.shape
    for r in range(n_rows):
        for s in range(n_sets):
            up[r, s] = _value(
                up[r, s], dn[r, s], base_up[s], kk_up[s], inv_up[s], base_dn[s], kk_dn[s], inv_dn[s],
                w_neg, lo[s], nan_add[s],
            )  # fmt: skip
    return up


@nb.njit(**INNER)
def _value(r_up, r_dn, base_up, kk_up, inv_up, base_dn, kk_dn, inv_dn, w_neg, lo, nan_add):
    """Return the UCell score of one set from its capped-rank sums (see :func:`_finalize`)."""
    u = base_up - (r_up - kk_up) * inv_up
    d = base_dn - (r_dn - kk_dn) * inv_dn
    return max(u - w_neg * d, lo) + nan_add


def contributions(t: GeneTerms) -> np.ndarray:
    """Per-gene terms that add up to the score before the clip at 0.

    A gene of capped rank ``r`` in a set of ``k`` genes contributes ``1 / k - (r - (k + 1) / 2) / (k
    maxRank - k (k + 1) / 2)`` (times ``-w_neg`` for a down-gene).
    """
    m = float(min(t.params.get("max_rank", 1500), t.n_genes))
    ties = t.params.get("ties", "average")
    r = gather(t.row, t.genes, transform="rank_clip", descending=True, ties=ties, param=m)[0]
    k = t.set_size
    c = 1.0 / k - (r - (k + 1) / 2) / (k * m - k * (k + 1) / 2)
    return np.where(t.sign > 0, c, -float(t.params.get("w_neg", 1.0)) * c)


INFO = MethodInfo(
    name="ucell",
    fn=ucell,
    summary="Mann-Whitney U of the set's ranks within the top maxRank genes (rank-based, single-cell).",
    citation=Citation(
        "ucell",
        "Andreatta M, Carmona SJ. UCell: robust and scalable single-cell gene signature scoring. "
        "Comput Struct Biotechnol J. 2021;19:3796-3798.",
        "10.1016/j.csbj.2021.06.043",
        "Andreatta & Carmona, Comput Struct Biotechnol J 2021",
    ),
    directional=True,
    weighted=False,
    single_sample=True,
    sparse_aware=True,
    defaults={"max_rank": 1500, "w_neg": 1.0},
    validated_against="R UCell definition (u_stat), hand-computed cases; pyucell where maxRank <= n_genes",
    contributions=contributions,
)
