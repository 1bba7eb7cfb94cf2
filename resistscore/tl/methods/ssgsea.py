r"""Single-sample GSEA (ssGSEA; Barbie et al., Nature 2009), exactly as R GSVA 1.46 computes it.

For one sample, the ``n`` genes are ranked by expression. With ``r_g`` the (average, then
truncated to an integer, as R GSVA does) ascending rank of gene ``g`` and ``o_g`` its ascending
position in the ranking (ties broken by decreasing gene order, which is what R's stable
``order(decreasing=TRUE)`` yields), the enrichment score of a set ``S`` of ``k`` genes is the
area under the weighted random walk (Barbie et al. 2009; closed form of Sergushichev 2016 used by
R GSVA):

.. math::

    ES(S) = \frac{\sum_{g \in S} r_g^{\alpha} o_g}{\sum_{g \in S} r_g^{\alpha}}
          - \frac{n(n+1)/2 - \sum_{g \in S} o_g}{n - k}

with ``alpha = 0.25``. The raw score depends on the sample alone (``single_sample=True``).

R's ``ssgsea.norm=TRUE`` (the R default) then divides **every** score by the range (max - min)
of all scores of all samples and all gene sets scored together: a cohort-level step that makes a
sample's score depend on the other samples and on the other signatures. resistscore exposes it as
``normalize=True`` (default ``False``, i.e. R's ``ssgsea.norm=FALSE``), so that the default score
of a sample never changes with the cohort; :func:`ssgsea_range_normalize` applies the same division
afterwards to a full score matrix. Through the engine, ``rs.tl.score(..., method="ssgsea",
normalize=True)`` scores the raw values chunk by chunk and divides once, by the range over every sample
and signature (never over the random control sets), so the result is R-exact whatever the chunk size
and the p-values are those of the raw scores.

Directional signatures: the score is ``ES(up) - ES(down)`` (``ES(up)`` alone when there are no
down genes, ``-ES(down)`` when there are only down genes). Gene weights are not used (the rank
weighting ``r^alpha`` is the method's only weighting).

Sparse (CSR) input is ranked without densifying: the implicit zeros form one tie group.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore._validate import check_real
from resistscore.tl.methods._base import Citation, GeneSetIndex, MethodInfo

__all__ = ["score_ssgsea", "ssgsea_range_normalize"]


# --------------------------------------------------------------------------------------------
# helpers shared with the GSVA module: up / down sets as "virtual" sets, and their combination
# --------------------------------------------------------------------------------------------
def _virtual_sets(sets: GeneSetIndex, col_map: np.ndarray | None = None):
    """Flatten the non-empty up and down sets into (ptr, idx) arrays plus slots per signature.

    ``col_map`` (optional) renumbers columns (``-1`` = dropped column, e.g. a constant gene).
    Returns ``ptr``, ``idx`` (int64) and ``up_slot``, ``dn_slot`` (index of the virtual set or -1).
    """
    parts: list[np.ndarray] = []
    up_slot = np.full(len(sets), -1, dtype=np.int64)
    dn_slot = np.full(len(sets), -1, dtype=np.int64)
    for s in range(len(sets)):
        for arrs, slot in ((sets.up_idx, up_slot), (sets.dn_idx, dn_slot)):
            idx = np.unique(np.asarray(arrs[s], dtype=np.int64))
            if col_map is not None and idx.size:
                idx = col_map[idx]
                idx = idx[idx >= 0]
            if idx.size:
                slot[s] = len(parts)
                parts.append(idx)
    ptr = np.zeros(len(parts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([p.size for p in parts]) if parts else []
    idx = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return ptr, idx, up_slot, dn_slot


def _combine(es: np.ndarray, up_slot: np.ndarray, dn_slot: np.ndarray) -> np.ndarray:
    """Score per signature: ES(up) - ES(down); NaN when neither set has a measured gene."""
    out = np.full((es.shape[0], up_slot.size), np.nan)
    for s in range(up_slot.size):
        u, d = up_slot[s], dn_slot[s]
        if u >= 0 and d >= 0:
            out[:, s] = es[:, u] - es[:, d]
        elif u >= 0:
            out[:, s] = es[:, u]
        elif d >= 0:
            out[:, s] = -es[:, d]
    return out


def _check_sets(sets: GeneSetIndex, n_genes: int) -> None:
    if not isinstance(sets, GeneSetIndex):
        raise ResistScoreError(
            f"`sets` must be a resistscore GeneSetIndex; got {type(sets).__name__}. "
            "Call rs.tl.score(...), which resolves signatures against the genes of the data."
        )
    if sets.n_genes != n_genes:
        raise ResistScoreError(
            f"`sets` was resolved against {sets.n_genes} genes but `X` has {n_genes} columns; "
            "resolve the signatures against the same matrix that is scored."
        )


# --------------------------------------------------------------------------------------------
# numba kernels
# --------------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, error_model="numpy")
def _row_es(vals, order, stable, cols, n, set_ptr, set_idx, alpha, out):  # pragma: no cover - compiled
    """SsGSEA ES of every virtual set for one row.

    ``vals`` are the stored values of the row at gene indices ``cols`` (ascending); genes not
    stored are zeros (a dense row stores every gene). ``order`` sorts ``vals`` ascending, ties in
    any order (``stable=False``) or in stored order (``stable=True``): tied genes are re-ordered
    here by decreasing gene index, which is the order R's stable ``order(decreasing=TRUE)`` implies.
    """
    m = vals.shape[0]
    z = n - m
    neg = 0
    while neg < m and vals[order[neg]] < 0.0:
        neg += 1
    ordv = np.empty(m)
    avgr = np.empty(m)
    t = 0
    while t < m:
        u = t
        v = vals[order[t]]
        while u + 1 < m and vals[order[u + 1]] == v:
            u += 1
        shift = 0 if t < neg else z
        avg = (t + u + 2 + 2 * shift) // 2  # R: average rank, then mode(R) <- "integer" truncates
        if u == t:
            ordv[order[t]] = t + 1 + shift
            avgr[order[t]] = avg
        else:
            # stored positions ascending = gene index ascending
            grp = order[t : u + 1] if stable else np.sort(order[t : u + 1])
            size = u - t + 1
            for q in range(size):
                st = grp[size - 1 - q]
                ordv[st] = t + q + 1 + shift
                avgr[st] = avg
        t = u + 1
    zero_avg = (2 * neg + 1 + z) // 2
    zero_ra = float(zero_avg) ** alpha
    half = n * (n + 1) / 2.0
    dense = m == n
    for ss in range(set_ptr.shape[0] - 1):
        k = set_ptr[ss + 1] - set_ptr[ss]
        sum_ra = 0.0
        sum_rao = 0.0
        sum_o = 0.0
        for p in range(set_ptr[ss], set_ptr[ss + 1]):
            g = set_idx[p]
            st = g if dense else np.searchsorted(cols, g)
            if dense or (st < m and cols[st] == g):
                o_g = ordv[st]
                ra = avgr[st] ** alpha
            else:
                o_g = float(neg + z - (g - st))  # zeros: decreasing gene index among the zeros
                ra = zero_ra
            sum_ra += ra
            sum_rao += ra * o_g
            sum_o += o_g
        out[ss] = sum_rao / sum_ra - (half - sum_o) / (n - k)


@njit(cache=True, nogil=True, error_model="numpy")
def _ssgsea_dense(X, order, set_ptr, set_idx, alpha):  # pragma: no cover - compiled
    ns, n = X.shape
    out = np.empty((ns, set_ptr.shape[0] - 1))
    cols = np.arange(n)
    for i in range(ns):
        _row_es(X[i], order[i], False, cols, n, set_ptr, set_idx, alpha, out[i])
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _ssgsea_csr(data, indices, indptr, order, n, set_ptr, set_idx, alpha):  # pragma: no cover - compiled
    """Rows of a CSR block; ``order[i, :nnz_i]`` stably sorts the values of row ``i`` (padding last)."""
    ns = indptr.shape[0] - 1
    out = np.empty((ns, set_ptr.shape[0] - 1))
    for i in range(ns):
        a = indptr[i]
        b = indptr[i + 1]
        _row_es(data[a:b], order[i, : b - a], True, indices[a:b], n, set_ptr, set_idx, alpha, out[i])
    return out


def _csr_scores(X: sp.csr_matrix, ptr, idx, alpha: float) -> np.ndarray:
    """SsGSEA of CSR rows: values padded (with +inf) into blocks sorted by numpy's SIMD argsort."""
    ns, n = X.shape
    data = X.data.astype(np.float64, copy=False)
    es = np.empty((ns, ptr.size - 1))
    lengths = np.diff(X.indptr)
    width = max(int(lengths.max()) if ns else 1, 1)
    step = max(1, (1 << 21) // width)
    for a in range(0, ns, step):
        b = min(ns, a + step)
        ip = X.indptr[a : b + 1]
        lo, hi = int(ip[0]), int(ip[-1])
        ln = lengths[a:b]
        pad = np.full((b - a, int(ln.max()) if b > a else 1), np.inf)
        rows = np.repeat(np.arange(b - a), ln)
        pos = np.arange(hi - lo) - np.repeat(ip[:-1] - lo, ln)
        pad[rows, pos] = data[lo:hi]
        order = np.argsort(pad, axis=1, kind="stable")  # ties (frequent in counts) in gene order
        es[a:b] = _ssgsea_csr(data[lo:hi], X.indices[lo:hi], ip - lo, order, n, ptr, idx, alpha)
    return es


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------
def ssgsea_range_normalize(scores: np.ndarray, n_primary: int | None = None) -> np.ndarray:
    """Divide scores by their range over all samples and signatures (R GSVA ``ssgsea.norm=TRUE``).

    This is the cohort-level step of ssGSEA (Barbie et al. 2009, online methods): apply it to the
    complete samples x signatures matrix, never to a subset of rows.

    Parameters
    ----------
    scores
        Raw ssGSEA scores, samples x signatures (NaN entries are ignored for the range).
    n_primary
        Only the first ``n_primary`` columns (the signatures, not the random control sets of the
        significance test) define the range; all columns are divided by it. ``None``: all columns.

    Returns
    -------
    numpy.ndarray
        A new array ``scores / (max - min)``.

    Examples
    --------
    >>> ssgsea_range_normalize(np.array([[1.0, -1.0], [3.0, np.nan]]))
    array([[ 0.25, -0.25],
           [ 0.75,   nan]])
    """
    a = np.asarray(scores, dtype=np.float64)
    head = a if n_primary is None else a[:, :n_primary]
    finite = head[np.isfinite(head)]
    if finite.size == 0:
        return a.copy()
    rng = finite.max() - finite.min()
    if rng == 0:
        raise ResistScoreError(
            "all ssGSEA scores are equal, so they cannot be divided by their range; "
            "use normalize=False (R: ssgsea.norm=FALSE)."
        )
    return a / rng


def score_ssgsea(
    X: np.ndarray | sp.csr_matrix, sets: GeneSetIndex, *, alpha: float = 0.25, normalize: bool = False
) -> np.ndarray:
    """Score samples with single-sample GSEA (ssGSEA), equal to R GSVA 1.46 ``method="ssgsea"``.

    Parameters
    ----------
    X
        Samples x genes, a dense float array or a CSR matrix (ranked without densifying; the
        implicit zeros are one tie group). All genes of the matrix take part in the ranking.
    sets
        Signatures resolved against the columns of ``X``.
    alpha
        Exponent of the rank weighting (R GSVA ``tau``; 0.25 in Barbie et al. 2009).
    normalize
        ``True`` divides all scores by their range over all samples and signatures (R GSVA
        ``ssgsea.norm=TRUE``, cohort-dependent: call it on the whole cohort, not on row chunks);
        ``False`` (default, R ``ssgsea.norm=FALSE``) returns the raw single-sample scores.

    Returns
    -------
    numpy.ndarray
        ``(n_samples, n_sets)``: ``ES(up) - ES(down)``; NaN for a signature without measured genes.

    Examples
    --------
    >>> import numpy as np
    >>> from resistscore.tl.methods import GeneSetIndex
    >>> X = np.array([[5.0, 1.0, 3.0, 2.0, 4.0], [1.0, 5.0, 3.0, 2.0, 4.0]])
    >>> sets = GeneSetIndex(
    ...     names=("a",),
    ...     up_idx=(np.array([0, 4]),),
    ...     up_w=(np.ones(2),),
    ...     dn_idx=(np.array([], dtype=np.int64),),
    ...     dn_w=(np.array([]),),
    ...     n_genes=5,
    ... )
    >>> score_ssgsea(X, sets).round(4)  # sample 1: (5**.25*5 + 4**.25*4) / (5**.25 + 4**.25) - (15 - 9) / 3
    array([[ 2.5139],
           [-0.576 ]])
    """
    check_real("alpha", alpha, minimum=0.0)
    if normalize not in (True, False):
        raise ResistScoreError(f"`normalize` must be True or False; got {normalize!r}.")
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        n = X.shape[1]
        _check_sets(sets, n)
        if not np.all(np.isfinite(X.data)):
            raise InputFormatError(
                "`X` contains NaN or infinite values; ssGSEA ranks every gene of every sample. "
                "Remove or impute the missing values first."
            )
        if not X.has_canonical_format or (X.data == 0).any():
            X = X.copy()  # never mutate the caller's matrix
            X.sum_duplicates()
            X.eliminate_zeros()
        ptr, idx, up_slot, dn_slot = _virtual_sets(sets)
        es = _csr_scores(X, ptr, idx, float(alpha))
    else:
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise InputFormatError(f"`X` must be a 2-D samples x genes matrix; got {X.ndim} dimension(s).")
        n = X.shape[1]
        _check_sets(sets, n)
        if not np.all(np.isfinite(X)):
            raise InputFormatError(
                "`X` contains NaN or infinite values; ssGSEA ranks every gene of every sample. "
                "Remove or impute the missing values first."
            )
        ptr, idx, up_slot, dn_slot = _virtual_sets(sets)
        es = np.empty((X.shape[0], ptr.size - 1))
        step = max(1, (1 << 22) // max(n, 1))  # rows per block: the argsort indices stay ~32 MB
        for a in range(0, X.shape[0], step):
            block = X[a : a + step]
            # numpy's (SIMD) argsort, ties in any order: the kernel re-orders tied genes as R does
            es[a : a + step] = _ssgsea_dense(block, np.argsort(block, axis=1), ptr, idx, float(alpha))
    out = _combine(es, up_slot, dn_slot)
    return ssgsea_range_normalize(out, sets.n_primary) if normalize else out


def _score_ssgsea_engine(
    X: np.ndarray | sp.csr_matrix, sets: GeneSetIndex, *, alpha: float = 0.25, normalize: bool = False
) -> np.ndarray:
    """Return the registered entry point: raw :func:`score_ssgsea` on one row chunk of ``rs.tl.score``.

    The engine scores single-sample methods chunk by chunk, so the cohort-level range normalisation
    (``normalize=True``, R ``ssgsea.norm=TRUE``) is not applied here but once, on the complete
    matrix, by :func:`_finalize` (registered as the method's ``finalize`` step).
    """
    return score_ssgsea(X, sets, alpha=alpha, normalize=False)


def _finalize(scores: np.ndarray, params: dict) -> np.ndarray:
    """Cohort-level step of ``rs.tl.score(method="ssgsea", normalize=True)``: divide by the range.

    A single positive factor for the whole matrix, so the p-values (computed on raw scores against
    raw control scores of the same sample) are unchanged.
    """
    return ssgsea_range_normalize(scores) if params.get("normalize") else scores


INFO = MethodInfo(
    name="ssgsea",
    fn=_score_ssgsea_engine,
    summary="single-sample GSEA: rank-weighted random walk (area), R GSVA-exact",
    citation=Citation(
        "ssgsea",
        "Barbie DA, Tamayo P, Boehm JS, et al. Systematic RNA interference reveals that oncogenic KRAS-driven "
        "cancers require TBK1. Nature. 2009;462:108-112.",
        "10.1038/nature08460",
        "Barbie et al., Nature 2009",
    ),
    directional=True,
    weighted=False,
    single_sample=True,
    sparse_aware=True,
    defaults={"alpha": 0.25, "normalize": False},
    validated_against="R GSVA 1.46.0 gsva(method='ssgsea', ssgsea.norm=TRUE/FALSE), |diff| < 1e-9",
    finalize=_finalize,
)
