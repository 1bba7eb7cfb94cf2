"""The numba kernel of :class:`resistscore.pp.StreamQC` for sparse blocks: one pass over the stored values.

Imported on the first sparse block only, so that ``import resistscore.pp`` does not load numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["csr_stats"]


@nb.njit(nogil=True, cache=True)
def csr_stats(data, indices, indptr, s_min, s_max, s_bad, g_min, g_max, g_bad, g_stored):
    """Per-row and per-column minimum and maximum of the finite stored values, and counts, of a CSR block.

    Fills ``s_min``/``s_max`` (+inf/-inf for a row without finite stored value) and ``s_bad`` (non-finite
    stored values per row); updates ``g_min``/``g_max``, ``g_bad`` and ``g_stored`` (stored values per
    column, in the same pass: no second pass such as ``np.bincount(indices)``). The implicit zeros are the caller's.
    Returns ``(n_nan, n_inf, n_negative)``.
    """
    n_nan = 0
    n_inf = 0
    n_neg = 0
    for i in range(indptr.shape[0] - 1):
        lo = np.inf
        hi = -np.inf
        bad = 0
        for k in range(indptr[i], indptr[i + 1]):
            v = data[k]
            j = indices[k]
            g_stored[j] += 1
            if v - v != 0:  # NaN or infinite
                bad += 1
                g_bad[j] += 1
                if np.isnan(v):
                    n_nan += 1
                else:
                    n_inf += 1
                continue
            lo = min(lo, v)
            hi = max(hi, v)
            g_min[j] = min(g_min[j], v)
            g_max[j] = max(g_max[j], v)
        s_min[i] = lo
        s_max[i] = hi
        s_bad[i] = bad
        if lo < 0:
            for k in range(indptr[i], indptr[i + 1]):
                v = data[k]
                if v < 0 and v - v == 0:  # finite and negative
                    n_neg += 1
    return n_nan, n_inf, n_neg
