"""Gene set variation analysis (GSVA; Hänzelmann et al., BMC Bioinformatics 2013), as R GSVA 1.46.

The algorithm, step by step as in R GSVA 1.46.0 (``method="gsva"``):

1. genes whose standard deviation over the samples is below 1e-10 are dropped (R
   ``.filterFeatures``), also from the gene sets;
2. for every gene, the cumulative distribution over the samples is estimated by a kernel, and each
   value is replaced by its log-odds ``-log((1 - F) / F)``:

   * ``kcdf="gaussian"``: Gaussian kernels with bandwidth ``sd / 4``, evaluated through R GSVA's
     table of the normal CDF (10,001 values on [0, 10], index ``floor(|v| * 1000)``, 0 / 1 beyond
     +-10): reproduced here exactly, including this quantisation;
   * ``kcdf="poisson"``: Poisson kernels, ``F = mean_i ppois(y, x_i + 0.5)`` (counts);
   * ``kcdf="none"``: the empirical CDF (no kernel);
3. in every sample the genes are ordered by decreasing log-odds (ties keep gene order) and given
   the symmetric rank score ``|n - p - n/2|`` at 0-based position ``p``;
4. the score of a set is the Kolmogorov-Smirnov-like random walk statistic: with
   ``mx_diff=True`` (default) the largest positive plus the largest negative deviation, with
   ``abs_ranking=True`` their difference, with ``mx_diff=False`` the deviation largest in
   absolute value. A one-gene set whose gene sits exactly in the middle of a sample's ranking has
   walk weight 0; R's walk is then NaN after the hit and keeps the extremes reached before it, and
   so does this implementation (tested against R).

GSVA is **not** a single-sample method: step 2 uses all samples, so a sample's score changes with
the cohort it is scored in (GSVA issues #70, #101, #221). Scores of different cohorts are not
comparable; score them together.

Directional signatures: ``GSVA(up) - GSVA(down)`` (``GSVA(up)`` alone when there are no down
genes, ``-GSVA(down)`` with only down genes), the usual way of scoring a signature with up- and
down-regulated genes by GSVA. Gene weights are not used.

Exactness (tests/tl/test_ssgsea_gsva.py, against R GSVA 1.46.0): Gaussian and empirical kernels
agree with R to ~1e-14. The fast Gaussian kernel sums the same table terms as R in another order
(rounding ~1e-16); for genes whose values are a permutation or shift of another gene's, whose
log-odds R orders by the rounding of its own summation, R's summation order is used. The Poisson
kernel uses scipy's Poisson CDF, which differs from R's ``ppois`` in the last bits: scores agree
to ~2e-4 (a few genes with log-odds equal in exact arithmetic swap places).

Speed: the Gaussian kernel step costs ``n_samples^2 x n_genes`` table look-ups in R; here it is
compiled (numba), evaluates each pair of samples once (the table is antisymmetric,
``F(-v) = 1 - F(v)``) in sorted order, four samples at a time, skips pairs more than 10 bandwidths
apart (exactly 0 or 1) and runs on all cores. The Poisson kernel is evaluated once per pair of distinct
values of a gene.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit

from resistscore._errors import InputFormatError, ResistScoreError
from resistscore._settings import default_n_jobs
from resistscore._validate import check_choice, check_int, check_real
from resistscore.tl.methods._base import Citation, GeneSetIndex, MethodInfo, check_dense_size
from resistscore.tl.methods.ssgsea import _check_sets, _combine, _virtual_sets

__all__ = ["gsva_density", "score_gsva"]


@functools.cache
def _cdf_table() -> np.ndarray:
    """R GSVA's precomputed normal CDF table (src/kernel_estimation.c: initCdfs): pnorm(10 * i / 10000).

    Built on first use: scipy.special (~0.1 s of CPU to import) is imported only by a GSVA run, not by
    every process that scores with another method.
    """
    from scipy.special import ndtr  # function-local: only GSVA needs it (~0.1 s of CPU to import)

    return ndtr(10.0 * np.arange(10001) / 10000.0)


@njit(cache=True, nogil=True)
def _sd(x):  # pragma: no cover - compiled
    """Sample standard deviation, two-pass with mean correction as R GSVA's C ``sd``."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += x[i]
    mean = s / n
    s = 0.0
    for i in range(n):
        s += x[i] - mean
    mean = mean + s / n
    s = 0.0
    for i in range(n):
        s += (x[i] - mean) * (x[i] - mean)
    return math.sqrt(s / (n - 1))


@njit(inline="always")
def _cdf_term(d, c, bw, table):  # pragma: no cover - compiled
    """R's table term for a difference ``d >= 0``: ``table[floor(min(d / bw, 10) / 10 * 10000)]``.

    The index is computed with one multiplication (``c = 1000 / bw``) and recomputed with R's
    divisions whenever it lies within 1e-7 of a table boundary, so the term always equals R's.
    """
    y = min(d * c, 10000.0)
    k = np.uint32(y)  # unsigned: no negative-index wraparound check in the compiled loop
    fr = y - k
    if fr < 1e-7 or fr > 1.0 - 1e-7:
        k = np.uint32(min(d / bw, 10.0) / 10.0 * 10000.0)
    return table[k]


@njit(cache=True, nogil=True)
def _gaussian_row(x, table, out):  # pragma: no cover - compiled
    """Gaussian-kernel CDF log-odds of one gene (values ``x`` over the samples) into ``out``.

    Exactly R GSVA's ``row_d``: ``F(y_j) = mean_i Phi_table((y_j - x_i) / bw)`` with ``bw = sd / 4``
    and the table index ``floor(|v| / 10 * 10000)``. Faster than R by evaluating each pair of
    samples once in sorted order (the table is antisymmetric: ``F(-v) = 1 - F(v)``; pairs more
    than 10 bandwidths apart contribute exactly 0 or 1), and by walking the samples below four
    consecutive samples at once (one load and store of each partial sum for four terms; every sum
    still adds its terms in the same order, so the result is bit-identical to one sample at a
    time). Every term equals R's (see :func:`_cdf_term`); only the summation order differs from
    R's (rounding, ~1e-16).
    """
    n = x.shape[0]
    bw = _sd(x) / 4.0
    c = 1000.0 / bw
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    lt = np.zeros(n)
    lim = 10.0 * bw * (1.0 + 1e-7)
    i0 = np.zeros(4, dtype=np.int64)  # first sample within 10 bandwidths of each of the block's samples
    acc = np.zeros(4)
    start = 0
    j0 = 0
    while j0 < n:
        m = min(4, n - j0)
        for b in range(m):
            while xs[j0 + b] - xs[start] > lim:
                start += 1
            i0[b] = start
            acc[b] = float(start)  # samples more than 10 bandwidths below contribute exactly 1 each
        # samples below the block within 10 bandwidths of only some of its samples
        full = i0[3] if m == 4 else j0
        for i in range(i0[0], min(full, j0)):
            xi = xs[i]
            v = lt[i]
            for b in range(m):
                if i >= i0[b]:
                    t = _cdf_term(xs[j0 + b] - xi, c, bw, table)
                    acc[b] += t
                    v += 1.0 - t
            lt[i] = v
        if m == 4:  # samples below the block within 10 bandwidths of all four: the hot loop
            y0, y1, y2, y3 = xs[j0], xs[j0 + 1], xs[j0 + 2], xs[j0 + 3]
            a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
            for i in range(max(full, i0[0]), j0):
                xi = xs[i]
                t0 = _cdf_term(y0 - xi, c, bw, table)
                t1 = _cdf_term(y1 - xi, c, bw, table)
                t2 = _cdf_term(y2 - xi, c, bw, table)
                t3 = _cdf_term(y3 - xi, c, bw, table)
                a0 += t0
                a1 += t1
                a2 += t2
                a3 += t3
                v = lt[i] + (1.0 - t0)
                v = v + (1.0 - t1)
                v = v + (1.0 - t2)
                lt[i] = v + (1.0 - t3)
            acc[0], acc[1], acc[2], acc[3] = a0, a1, a2, a3
        # pairs inside the block, in the order of the one-sample-at-a-time walk
        for b in range(m):
            j = j0 + b
            for i in range(max(i0[b], j0), j):
                t = _cdf_term(xs[j] - xs[i], c, bw, table)
                acc[b] += t
                lt[i] += 1.0 - t
            lt[j] += acc[b] + table[0]  # the sample itself: v = 0 -> table[0] = 0.5
        j0 += m
    for j in range(n):
        f = lt[j] / n
        out[order[j]] = -math.log((1.0 - f) / f)


@njit(cache=True, nogil=True)
def _gaussian_row_exact(x, table, out):  # pragma: no cover - compiled
    """As :func:`_gaussian_row`, summing in R's order (sample order) so that sums are bit-identical.

    Used for genes whose values are a permutation (or shift) of another gene's: R ranks such
    exactly-equal-in-exact-arithmetic densities by the rounding of its own summation order.
    """
    n = x.shape[0]
    bw = _sd(x) / 4.0
    lt = np.zeros(n)
    for j in range(n):
        yj = x[j]
        acc = 0.0
        for i in range(j):
            v = (yj - x[i]) / bw
            av = min(abs(v), 10.0)
            t = table[int(av / 10.0 * 10000.0)]
            if v < 0.0:
                acc += 1.0 - t
                lt[i] += t
            else:
                acc += t
                lt[i] += 1.0 - t
        lt[j] += acc + table[0]  # lt[j] was 0: R's order is i < j, then j itself, then i > j
    for j in range(n):
        f = lt[j] / n
        out[j] = -math.log((1.0 - f) / f)


@njit(cache=True, nogil=True)
def _gaussian_logodds(XT, table, exact_order):  # pragma: no cover - compiled
    """Gaussian-kernel CDF log-odds for every gene (row of ``XT``, genes x samples)."""
    g, n = XT.shape
    out = np.empty((g, n))
    for a in range(g):
        if exact_order[a]:
            _gaussian_row_exact(XT[a], table, out[a])
        else:
            _gaussian_row(XT[a], table, out[a])
    return out


def _shared_shape(X: np.ndarray, block: int) -> np.ndarray:
    """Genes (columns of X) whose sorted, minimum-shifted values equal those of another gene.

    Each gene's shape is hashed; only genes whose hash is shared are compared byte by byte.
    """
    n_genes = X.shape[1]

    def shapes(cols: np.ndarray):
        for g0 in range(0, len(cols), block):
            S = np.sort(np.ascontiguousarray(X[:, cols[g0 : g0 + block]].T), axis=1)
            S -= S[:, :1]
            for r in range(S.shape[0]):
                yield g0 + r, S[r].tobytes()

    everything = np.arange(n_genes)
    hashes = np.empty(n_genes, dtype=np.int64)
    for i, key in shapes(everything):
        hashes[i] = hash(key)
    _, inv, cnt = np.unique(hashes, return_inverse=True, return_counts=True)
    out = np.zeros(n_genes, dtype=bool)
    cand = np.flatnonzero(cnt[inv] > 1)
    if len(cand):
        keys = np.empty(len(cand), dtype=object)
        for i, key in shapes(cand):
            keys[i] = key
        _, inv2, cnt2 = np.unique(keys.astype(bytes), return_inverse=True, return_counts=True)
        out[cand] = cnt2[inv2] > 1
    return out


def _poisson_logodds(XT: np.ndarray) -> np.ndarray:
    """Poisson-kernel CDF log-odds: F(y) = mean_i ppois(y, x_i + 0.5), once per distinct value pair."""
    from scipy.special import pdtr  # function-local: only GSVA needs it (~0.1 s of CPU to import)

    g, n = XT.shape
    out = np.empty((g, n))
    for a in range(g):
        u, inv, cnt = np.unique(XT[a], return_inverse=True, return_counts=True)
        q = np.floor(u + 1e-7)  # R ppois(): x = floor(x + 1e-7)
        pu = pdtr(q[:, None], u[None, :] + 0.5)  # distinct test value x distinct density value
        out[a] = _sum_in_sample_order(pu, inv.astype(np.int64))
    return out


@njit(cache=True, nogil=True)
def _sum_in_sample_order(pu, inv):  # pragma: no cover - compiled
    """Log-odds of mean_i pu[inv[j], inv[i]], summed over i in sample order as R does.

    The summation order matters: genes with the same values in other orders would otherwise tie
    exactly where R's sums differ in the last bit, and R orders them by those bits.
    """
    n = inv.shape[0]
    out = np.empty(n)
    for j in range(n):
        acc = 0.0
        row = pu[inv[j]]
        for i in range(n):
            acc += row[inv[i]]
        f = acc / n
        out[j] = -math.log((1.0 - f) / f)
    return out


def _ecdf_logodds(XT: np.ndarray) -> np.ndarray:
    """Empirical-CDF log-odds (R GSVA ``kcdf="none"``); the maximum of a gene gives +inf."""
    n = XT.shape[1]
    out = np.empty(XT.shape)
    with np.errstate(divide="ignore"):
        for a in range(XT.shape[0]):
            xs = np.sort(XT[a])
            f = np.searchsorted(xs, XT[a], side="right") / n
            out[a] = np.log(f / (1.0 - f))
    return out


def _run_blocks(run, starts: range, jobs: int) -> None:
    """Call ``run(start)`` for every block start: serially, or on ``jobs`` threads (run releases the GIL)."""
    if jobs == 1 or len(starts) == 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(run, starts))


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return default_n_jobs()
    return check_int("n_jobs", n_jobs, minimum=1)


def gsva_density(X: np.ndarray, kcdf: str = "gaussian", *, n_jobs: int | None = None) -> np.ndarray:
    """Per-gene CDF log-odds over the samples: GSVA's first step (R ``compute.gene.density``).

    Parameters
    ----------
    X
        Samples x genes, dense. Genes should vary (GSVA drops constant genes before this step).
    kcdf
        ``"gaussian"`` (continuous data), ``"poisson"`` (integer counts) or ``"none"`` (empirical CDF).
    n_jobs
        Threads (blocks of genes run in parallel; the kernels release the GIL). Default: all cores.

    Returns
    -------
    numpy.ndarray
        Genes x samples log-odds (note the transposed orientation, one row per gene).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [2.0, 5.0], [3.0, 1.0]])
    >>> gsva_density(X).round(3)  # gene 1: bw = 1 / 4; F(1) = (0.5 + 1 - pnorm(4) + 0) / 3
    array([[-1.609, -0.   ,  1.609],
           [-1.46 ,  1.609, -0.087]])
    """
    check_choice("kcdf", kcdf, ("gaussian", "poisson", "none"))
    X = np.asarray(X, dtype=np.float64)
    n_genes = X.shape[1]
    jobs = _n_jobs(n_jobs)
    block = int(min(2048, max(16, -(-n_genes // (4 * jobs)))))
    out = np.empty((n_genes, X.shape[0]))
    if kcdf == "gaussian":
        exact_order = _shared_shape(X, 2048)

    def run(g0: int) -> None:
        XT = np.ascontiguousarray(X[:, g0 : g0 + block].T)
        if kcdf == "gaussian":
            out[g0 : g0 + block] = _gaussian_logodds(XT, _cdf_table(), exact_order[g0 : g0 + block])
        elif kcdf == "poisson":
            out[g0 : g0 + block] = _poisson_logodds(XT)
        else:
            out[g0 : g0 + block] = _ecdf_logodds(XT)

    _run_blocks(run, range(0, n_genes, block), jobs)
    return out


def _ks_scores(
    D: np.ndarray, ptr, idx, tau, mx_diff, abs_ranking, n_jobs: int = 1, chunk: int = 128
) -> np.ndarray:
    """Random-walk statistic of every virtual set in every sample, from log-odds ``D`` (genes x samples)."""
    n, ns = D.shape
    n_sets = ptr.size - 1
    es = np.empty((ns, n_sets))
    half = n / 2.0

    def run(c0: int) -> None:
        block = D[:, c0 : c0 + chunk]
        order = np.argsort(-block, axis=0, kind="stable")  # decreasing, ties in gene order
        c = block.shape[1]
        pos = np.empty((n, c), dtype=np.int64)
        np.put_along_axis(pos, order, np.arange(n, dtype=np.int64)[:, None], axis=0)
        for s in range(n_sets):
            members = idx[ptr[s] : ptr[s + 1]]
            k = members.size
            P = np.sort(pos[members], axis=0)  # k x c, 0-based positions in decreasing order
            w = np.abs(n - P - half)
            if tau != 1.0:
                w = w**tau
            W = w.sum(axis=0)
            S = np.cumsum(w, axis=0)
            m = np.arange(1, k + 1)[:, None]
            if k == n:  # every gene in the set: the walk is undefined (R divides by zero)
                es[c0 : c0 + c, s] = np.nan
                continue
            dec = 1.0 / (n - k)
            # W = 0: a one-gene set exactly in the middle of the ranking (weight |n/2 - r| = 0). R's
            # walk is then 0/0 = NaN from the hit on, and NaN never wins a comparison in its C loop:
            # it keeps the extremes reached before the hit (0 and -P * dec)
            zero = W == 0
            W = np.where(zero, 1.0, W)
            after = S / W - (P + 1 - m) * dec
            after[:, zero] = -np.inf
            before = (S - w) / W - (P - (m - 1)) * dec
            mx_pos = np.maximum(after.max(axis=0), 0.0)
            mx_neg = np.minimum(before.min(axis=0), 0.0)
            if mx_diff:
                es[c0 : c0 + c, s] = mx_pos - mx_neg if abs_ranking else mx_pos + mx_neg
            else:
                es[c0 : c0 + c, s] = np.where(mx_pos > np.abs(mx_neg), mx_pos, mx_neg)

    _run_blocks(run, range(0, ns, chunk), n_jobs)
    return es


def score_gsva(
    X: np.ndarray | sp.spmatrix,
    sets: GeneSetIndex,
    *,
    kcdf: str = "gaussian",
    tau: float = 1.0,
    mx_diff: bool = True,
    abs_ranking: bool = False,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Score samples with GSVA, equal to R GSVA 1.46 ``gsva(method="gsva")``.

    Parameters
    ----------
    X
        Samples x genes. Sparse input is densified (GSVA's kernel step needs every value and
        costs ``n_samples^2`` per gene: it is meant for bulk cohorts, not for many cells).
    sets
        Signatures resolved against the columns of ``X``.
    kcdf
        ``"gaussian"`` for continuous data (log-expression, R ``kcdf="Gaussian"``), ``"poisson"``
        for integer counts (R ``kcdf="Poisson"``), ``"none"`` for the empirical CDF.
    tau
        Exponent of the rank-score weights in the random walk (R ``tau``, default 1).
    mx_diff
        ``True``: largest positive plus largest negative deviation (R ``mx.diff=TRUE``).
    abs_ranking
        With ``mx_diff=True``, take the difference of the deviations instead (R ``abs.ranking``).
    n_jobs
        Threads for the kernel and ranking steps (default: all available cores). Results do not
        depend on it.

    Returns
    -------
    numpy.ndarray
        ``(n_samples, n_sets)``; NaN for a signature none of whose genes varies.

    Examples
    --------
    >>> import numpy as np
    >>> from resistscore.tl.methods import GeneSetIndex
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(6, 40))
    >>> X[:3, :5] += 3.0  # the first 3 samples express genes 0-4 highly
    >>> sets = GeneSetIndex(
    ...     ("a",), (np.arange(5),), (np.ones(5),), (np.array([], dtype=np.int64),), (np.array([]),), 40
    ... )
    >>> (score_gsva(X, sets)[:, 0] > 0).tolist()
    [True, True, True, False, False, False]
    """
    check_choice("kcdf", kcdf, ("gaussian", "poisson", "none"))
    check_real("tau", tau, minimum=0.0)
    for name, val in (("mx_diff", mx_diff), ("abs_ranking", abs_ranking)):
        if val not in (True, False):
            raise ResistScoreError(f"`{name}` must be True or False; got {val!r}.")
    if sp.issparse(X):
        check_dense_size(X.shape[0], X.shape[1], "gsva")
        X = X.toarray()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputFormatError(f"`X` must be a 2-D samples x genes matrix; got {X.ndim} dimension(s).")
    ns, n = X.shape
    _check_sets(sets, n)
    if ns < 2:
        raise ResistScoreError(
            f"GSVA needs at least 2 samples to estimate each gene's distribution; got {ns}. "
            "Use a single-sample method (e.g. method='ssgsea') for one sample."
        )
    if not np.all(np.isfinite(X)):
        raise InputFormatError(
            "`X` contains NaN or infinite values; GSVA needs every value of every gene. "
            "Remove or impute the missing values first."
        )
    if kcdf == "poisson" and (X < 0).any():
        raise InputFormatError(
            "kcdf='poisson' needs non-negative counts but `X` has negative values; "
            "pass raw counts, or use kcdf='gaussian' for log-scale data."
        )
    keep = X.std(axis=0, ddof=1) >= 1e-10  # R .filterFeatures: constant genes are dropped
    if keep.sum() < 2:
        raise ResistScoreError(
            "fewer than 2 genes vary across the samples, so GSVA cannot rank genes; "
            "score more samples or use a single-sample method."
        )
    col_map = np.full(n, -1, dtype=np.int64)
    col_map[keep] = np.arange(int(keep.sum()))
    ptr, idx, up_slot, dn_slot = _virtual_sets(sets, col_map)
    Xk = X[:, keep] if not keep.all() else X
    jobs = _n_jobs(n_jobs)
    D = gsva_density(Xk, kcdf, n_jobs=jobs)
    es = _ks_scores(D, ptr, idx, float(tau), bool(mx_diff), bool(abs_ranking), jobs)
    return _combine(es, up_slot, dn_slot)


INFO = MethodInfo(
    name="gsva",
    fn=score_gsva,
    summary="GSVA: per-gene kernel CDF over the cohort, then rank random walk (cohort-dependent), R-exact",
    citation=Citation(
        "gsva",
        "Hänzelmann S, Castelo R, Guinney J. GSVA: gene set variation analysis for microarray and RNA-seq "
        "data. BMC Bioinformatics. 2013;14:7.",
        "10.1186/1471-2105-14-7",
        "Hänzelmann et al., BMC Bioinformatics 2013",
    ),
    directional=True,
    weighted=False,
    single_sample=False,
    sparse_aware=False,
    defaults={"kcdf": "gaussian", "tau": 1.0, "mx_diff": True, "abs_ranking": False},
    nan_reason="none of its measured genes varies across the samples (GSVA drops constant genes, as R)",
    validated_against="R GSVA 1.46.0 gsva(method='gsva', kcdf='Gaussian'/'Poisson'/'none'), |diff| < 1e-9",
)
