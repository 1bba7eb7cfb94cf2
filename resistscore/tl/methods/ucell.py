"""UCell: Mann-Whitney U statistic of a gene set within each cell (Andreatta & Carmona 2021).

Definitions follow the R/Bioconductor package ``UCell`` (``ScoreSignatures_UCell``):

* genes are ranked within each cell by decreasing expression with *average* ranks for ties
  (``data.table::frankv(-x, ties.method = "average")``); the genes not expressed share one tie;
* ``maxRank`` (default 1500) is capped at the number of genes, and ranks are capped at ``maxRank``;
* for a set of ``k`` genes with capped-rank sum ``R``:
  ``U = 1 - (R - k (k + 1) / 2) / (k maxRank - k (k + 1) / 2)``;
* signed signatures: ``score = max(0, U(up) - w_neg U(down))`` (UCell's ``gene-`` convention);
  a set without up-genes has ``U(up) = 0``.

Genes absent from the data are left out of ``k`` (UCell's ``missing_genes = "skip"``); R's default
``"impute"`` counts them with rank ``maxRank``. resistscore reports coverage and refuses to score
under-covered signatures instead.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from resistscore._errors import ResistScoreError
from resistscore._validate import check_int, check_real
from resistscore.tl.methods._kernels import set_sums
from resistscore.tl.methods._registry import GeneSetIndex, MethodInfo, register

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
    check_int("max_rank", max_rank, minimum=1)
    check_real("w_neg", w_neg, minimum=0.0)
    m = float(min(max_rank, sets.n_genes))
    up, dn, inc = set_sums(
        X, sets, transform="rank_clip", descending=True, ties=ties, param=m, weighted=False
    )
    k_up = inc.n_up.astype(np.float64)
    k_dn = inc.n_dn.astype(np.float64)
    if np.any(k_up > m) or np.any(k_dn > m):
        raise ResistScoreError(
            f"UCell: a signature has more genes than max_rank={int(m)}; increase `max_rank` or use shorter signatures."
        )

    kk_up, kk_dn = k_up * (k_up + 1) / 2, k_dn * (k_dn + 1) / 2
    score = _finalize(up, dn, k_up, kk_up, k_dn, kk_dn, m, float(w_neg))
    return score


@nb.njit(nogil=True, cache=True)
def _u(total, k, kk, m):
    if k == 0:
        return 0.0
    den = k * m - kk
    if den <= 0.0:  # one gene with maxRank 1: the capped rank is always 1
        return 1.0
    return 1.0 - (total - kk) / den


@nb.njit(nogil=True, cache=True)
def _finalize(up, dn, k_up, kk_up, k_dn, kk_dn, m, w_neg):
    """UCell scores in place of ``up`` (no temporaries): ``max(0, U(up) - w_neg U(down))``."""
    n_rows, n_sets = up.shape
    for r in range(n_rows):
        for s in range(n_sets):
            if k_up[s] == 0 and k_dn[s] == 0:
                up[r, s] = np.nan
                continue
            v = _u(up[r, s], k_up[s], kk_up[s], m)
            if k_dn[s] > 0:
                v -= w_neg * _u(dn[r, s], k_dn[s], kk_dn[s], m)
                if v < 0.0:
                    v = 0.0
            up[r, s] = v
    return up


register(
    MethodInfo(
        name="ucell",
        fn=ucell,
        summary="Mann-Whitney U of the set's ranks within the top maxRank genes (rank-based, single-cell).",
        reference="Andreatta & Carmona, Comput Struct Biotechnol J 2021, doi:10.1016/j.csbj.2021.06.043",
        directional=True,
        weighted=False,
        single_sample=True,
        sparse_aware=True,
        defaults={"max_rank": 1500, "w_neg": 1.0},
        validated_against="R UCell definition (u_stat), hand-computed cases; pyucell where maxRank <= n_genes",
    )
)
