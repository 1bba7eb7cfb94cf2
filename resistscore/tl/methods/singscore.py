"""singscore: rank-based single-sample scores with up/down sets (Foroutan et al. 2018).

Definitions follow the R/Bioconductor package ``singscore`` (``rankGenes`` + ``simpleScore``):

* genes are ranked within each sample, lowest expression = rank 1, ties get the *minimum* rank
  (``ties.method = "min"``);
* for a set of ``k`` genes measured among ``n``, the mean rank is normalised by its theoretical
  bounds ``(k + 1) / 2`` and ``(2n - k + 1) / 2``;
* up-only sets: ``score = normalised mean rank - 0.5`` (``centerScore = TRUE``);
* up/down sets: ``score = (up - 0.5) + (1 - down - 0.5) = up - down``;
* dispersion = median absolute deviation (R ``mad``, constant 1.4826) of the set's ranks; for
  up/down sets the mean of the two dispersions.

The *stable-gene* mode (``stableScore``, Bhuva et al. 2020, doi:10.1093/nargab/lqaa009) ranks each
gene against a handful of stably expressed genes only: ``rank = (#stable genes expressed below it
+ 1) / (n_stable + 1)``, with bounds 0 and 1. Scores then do not depend on the rest of the
transcriptome either.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from resistscore._errors import ResistScoreError
from resistscore.tl.methods._base import Citation, GeneSetIndex, GeneTerms, MethodInfo
from resistscore.tl.methods._kernels import as_csr_block, set_sums

__all__ = ["singscore"]


def _mad(a: np.ndarray, axis: int) -> np.ndarray:
    med = np.median(a, axis=axis, keepdims=True)
    return 1.4826 * np.median(np.abs(a - med), axis=axis)


def _stable_ranks(X, stable_idx: np.ndarray) -> np.ndarray:
    """Stable-gene ranks (dense, one row chunk): (#stable genes with expression < x + 1) / (n_s + 1)."""
    D = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    out = np.empty(D.shape, dtype=np.float64)
    ref = np.sort(D[:, stable_idx], axis=1)
    for r in range(D.shape[0]):
        out[r] = np.searchsorted(ref[r], D[r], side="left") + 1.0
    return out / (len(stable_idx) + 1.0)


def _resolve_stable(stable_genes, var_names) -> np.ndarray:
    if stable_genes is None:
        return None
    genes = np.asarray(list(stable_genes))
    if genes.dtype.kind in "iu":
        return np.unique(genes.astype(np.int64))
    if var_names is None:
        raise ResistScoreError(
            "singscore: `stable_genes` given as names but the gene names are unknown; pass indices."
        )
    pos = {g: i for i, g in enumerate(var_names)}
    idx = np.array(sorted({pos[g] for g in genes if g in pos}), dtype=np.int64)
    if len(idx) == 0:
        raise ResistScoreError(
            "singscore: none of `stable_genes` is among the genes of the data; pass stable genes that are "
            "measured (e.g. housekeeping genes such as those of Bhuva et al. 2020), or stable_genes=None."
        )
    return idx


def singscore(
    X,
    sets: GeneSetIndex,
    *,
    stable_genes=None,
    dispersion: bool = True,
    var_names=None,
) -> dict[str, np.ndarray]:
    """Score every row of ``X`` with singscore (TotalScore and TotalDispersion).

    Parameters
    ----------
    X
        Samples x genes block (dense or CSR).
    sets
        Gene sets resolved against the columns of ``X``.
    stable_genes
        ``None`` (ordinary singscore) or names/indices of stable genes (``stableScore`` mode).
    dispersion
        Also return the MAD dispersion of the ranks (for the first ``sets.n_primary`` sets).
    var_names
        Gene names of the columns (passed by the engine; needed for named ``stable_genes``).

    Returns
    -------
    dict
        ``score`` and, if requested, ``dispersion``; arrays of shape ``(n_rows, n_sets)``.

    Examples
    --------
    >>> import numpy as np
    >>> from resistscore.tl.methods import GeneSetIndex
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    >>> sets = GeneSetIndex(("s",), (np.array([3, 4]),), (np.ones(2),), (np.array([0]),), (np.ones(1),), 5)
    >>> singscore(X, sets)["score"]  # top two genes up, lowest gene down: the maximum, 1.0
    array([[1.]])
    """
    n = sets.n_genes
    stable_idx = _resolve_stable(stable_genes, var_names)
    X = as_csr_block(X)
    n_primary = getattr(sets, "n_primary", None) or len(sets)
    genes = None
    if dispersion:
        genes = np.unique(
            np.concatenate([*sets.up_idx[:n_primary], *sets.dn_idx[:n_primary], np.zeros(0, np.int64)])
        )
    if stable_idx is None:
        res = set_sums(X, sets, transform="rank", descending=False, ties="min", weighted=False, genes=genes)
    else:
        F = _stable_ranks(X, stable_idx)
        res = set_sums(F, sets, transform="value", weighted=False, genes=genes)
    up, dn, inc = res[:3]
    k_up = inc.n_up.astype(np.float64)
    k_dn = inc.n_dn.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if stable_idx is None:
            lo_u, hi_u = (k_up + 1) / 2, (2 * n - k_up + 1) / 2
            lo_d, hi_d = (k_dn + 1) / 2, (2 * n - k_dn + 1) / 2
        else:
            lo_u, hi_u, lo_d, hi_d = 0.0, 1.0, 0.0, 1.0
        nu = (up / k_up - lo_u) / (hi_u - lo_u)
        nd = (dn / k_dn - lo_d) / (hi_d - lo_d)
    has_up = k_up > 0
    has_dn = k_dn > 0
    score = np.where(has_up, nu - 0.5, 0.0) + np.where(has_dn, 0.5 - nd, 0.0)
    score[:, ~has_up & ~has_dn] = np.nan
    out = {"score": score}
    if dispersion:
        disp = np.full(score.shape, np.nan)
        R = res[3]
        col = {g: i for i, g in enumerate(genes)}
        for s in range(n_primary):
            parts = [
                _mad(R[:, [col[g] for g in idx]], axis=1)
                for idx in (sets.up_idx[s], sets.dn_idx[s])
                if len(idx)
            ]
            if parts:
                disp[:, s] = np.mean(parts, axis=0)
        out["dispersion"] = disp
    return out


def contributions(t: GeneTerms) -> np.ndarray | None:
    """Per-gene terms that add up to the score: a gene ``g`` of an up-set of ``k`` genes among ``n`` contributes ``((r_g - (k + 1) / 2) / (n - k) - 1 / 2) / k`` (minus that for a down-gene).

    The stable-gene mode has no such breakdown (None).
    """
    if t.params.get("stable_genes") is not None:
        return None
    k = t.set_size
    c = ((t.rank - (k + 1) / 2) / (t.n_genes - k) - 0.5) / k
    return np.where(t.sign > 0, c, -c)


INFO = MethodInfo(
    name="singscore",
    fn=singscore,
    summary="Normalised mean rank of the up-set minus that of the down-set (rank-based, single-sample).",
    citation=Citation(
        "singscore",
        "Foroutan M, Bhuva DD, Lyu R, Horan K, Cursons J, Davis MJ. Single sample scoring of molecular "
        "phenotypes. BMC Bioinformatics. 2018;19:404.",
        "10.1186/s12859-018-2435-4",
        "Foroutan et al., BMC Bioinformatics 2018",
    ),
    directional=True,
    weighted=False,
    single_sample=True,
    sparse_aware=True,
    defaults={"stable_genes": None, "dispersion": True},
    validated_against="R singscore definitions (simpleScore/stableScore), hand-computed cases",
    contributions=contributions,
)
