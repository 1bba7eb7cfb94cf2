"""One block of rows: what is done to it wherever it is read - in this process or on a Dask worker.

The engine (:mod:`resistscore.tl._score`) and the Dask tasks (:mod:`resistscore.tl._distributed`) both
call these functions, so that a block gives the same numbers on either path.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from resistscore import pp
from resistscore._errors import ResistScoreError
from resistscore._kind import zero_share
from resistscore.tl._chunks import RowSource

__all__ = ["block_kind", "call_rows", "probe_rows"]

#: values of the row sample on which the kind (single cell / bulk) and the scale of the data are judged
_PROBE_VALUES = 4_000_000


def probe_rows(source: RowSource):
    """Evenly spaced rows (all rows of a small matrix), at most ~4 million values: cheap on 1M-cell files."""
    n = source.n_obs
    k = int(min(n, max(1, _PROBE_VALUES // max(source.n_vars, 1))))
    idx = np.unique(np.linspace(0, n - 1, k).astype(np.int64)) if n else np.zeros(0, np.int64)
    return source.take(idx)


def block_kind(source: RowSource) -> tuple[float, object, bool]:
    """Return ``(zero share, scale report, sparse)`` of the probe rows of ``source``."""
    block = probe_rows(source)
    zeros = zero_share(block) if block.shape[0] and block.shape[1] else float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            scale = pp.detect_scale(block) if block.shape[0] else None
        except ResistScoreError:
            scale = None
    return zeros, scale, bool(hasattr(block, "nnz"))


def _call(fn, block, sets, params):
    res = fn(block, sets, **params)
    if isinstance(res, dict):
        return np.asarray(res["score"], dtype=np.float64), {k: v for k, v in res.items() if k != "score"}
    return np.asarray(res, dtype=np.float64), {}


def call_rows(fn, block, sets, params, code: np.ndarray):
    """Score the scorable rows of ``block``; unscorable rows (``code > 0``) get NaN everywhere.

    The unscorable rows are left out of the call, so a cohort-level method (GSVA) never sees them.
    """
    bad = code > 0
    if not bad.any():
        return _call(fn, block, sets, params)
    good = np.flatnonzero(~bad)
    n = block.shape[0]
    sc = np.full((n, len(sets)), np.nan)
    extras: dict = {}
    if len(good):
        part = block[good] if sp.issparse(block) else np.asarray(block)[good]
        s_good, ex = _call(fn, part, sets, params)
        sc[good] = s_good
        for k, v in ex.items():
            v = np.asarray(v, dtype=np.float64)
            full = np.full((n, v.shape[1]), np.nan)
            full[good] = v
            extras[k] = full
    return sc, extras
