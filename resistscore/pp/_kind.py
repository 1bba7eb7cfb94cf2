"""Tell bulk from single-cell expression data by what the values look like, not by how they are stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from resistscore.pp._scale import ScaleReport, _matrix, _sample_rows, detect_scale

__all__ = ["DATA_KINDS", "DataKind", "data_kind"]

DATA_KINDS = ("bulk", "single_cell")
#: share of zeros in the median observation from which data are single-cell (drop-outs); bulk RNA-seq over
#: ~20,000 genes has 5-30 % zeros (up to ~50 % over all ~60,000 GENCODE genes), droplet single-cell data 80-95 %
SINGLE_CELL_ZERO_SHARE = 0.6
#: below this many genes the share of zeros says little (a panel of expressed genes): storage decides
MIN_GENES = 200


@dataclass
class DataKind:
    """What kind of expression data :func:`data_kind` found.

    Attributes
    ----------
    kind
        ``"single_cell"`` (most genes are zero in most observations: drop-outs) or ``"bulk"``.
    scale
        The :class:`~resistscore.pp.ScaleReport` of :func:`~resistscore.pp.detect_scale`
        (counts, CPM/TPM, log, z-scores or other).
    evidence
        ``n_obs``, ``n_vars``, ``sparse`` (storage), ``median_zero_share`` (share of zero values in the
        median observation) and ``median_detected`` (non-zero genes in the median observation).
    reason
        One sentence saying why.
    """

    kind: str
    scale: ScaleReport
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def problems(self) -> list[str]:
        """Sentences on why the data are unsuitable for scoring as they are (z-scores, unknown scale)."""
        return [self.scale.problem] if self.scale.problem else []

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``adata.uns``."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "scale": self.scale.to_dict(),
            "problems": self.problems,
        }

    def __repr__(self) -> str:
        return f"DataKind(kind={self.kind!r}: {self.reason}; scale={self.scale.kind!r})"


def data_kind(data) -> DataKind:
    """Tell bulk from single-cell data, and their scale, from the values themselves.

    Single-cell data are recognised by their drop-outs: in the median observation at least 60 % of the
    genes are zero (droplet data: 80-95 %; bulk RNA-seq: 5-30 % over protein-coding genes, microarrays:
    none). With fewer than 200 genes the zeros say little, and sparse storage decides. Storage alone
    never decides for a full transcriptome: a dense single-cell matrix is single-cell, a sparse bulk
    matrix is bulk. Large matrices are subsampled by rows with a fixed seed, as in :func:`detect_scale`.

    Parameters
    ----------
    data
        AnnData (``X``; backed files are sampled from their first rows), samples x genes DataFrame,
        array or sparse matrix. Never modified.

    Returns
    -------
    DataKind
        ``kind`` (``"bulk"`` or ``"single_cell"``), ``scale`` (a :class:`ScaleReport`), the evidence,
        the reason, and ``problems`` (z-scores, unknown scale) for the caller to warn about.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> rng = np.random.default_rng(0)
    >>> bulk = rng.lognormal(3, 1, size=(20, 1000))
    >>> data_kind(bulk).kind
    'bulk'
    >>> cells = rng.poisson(0.1, size=(300, 1000))
    >>> data_kind(cells).kind, data_kind(sp.csr_matrix(cells)).kind
    ('single_cell', 'single_cell')
    >>> z = (bulk - bulk.mean(0)) / bulk.std(0)
    >>> data_kind(z).scale.kind
    'zscore'
    """
    X, _ = _matrix(data)
    sparse = bool(sp.issparse(X))
    n_obs, n_vars = int(X.shape[0]), int(X.shape[1])
    Xs = _sample_rows(X, np.random.default_rng(0))
    if sp.issparse(Xs):
        Xs = sp.csr_matrix(Xs)
        rows = np.repeat(np.arange(Xs.shape[0]), np.diff(Xs.indptr))
        # explicit zeros are zeros; NaN stored in a sparse matrix counts as measured and non-zero
        nonzero = np.bincount(rows, weights=(Xs.data != 0), minlength=Xs.shape[0])
        measured = np.full(Xs.shape[0], n_vars)
    else:
        A = np.asarray(Xs, dtype=float)
        finite = np.isfinite(A)
        nonzero = (finite & (A != 0)).sum(axis=1)
        measured = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_share = 1 - nonzero / measured
    zero_share = zero_share[np.isfinite(zero_share)]
    median_zero = float(np.median(zero_share)) if zero_share.size else float("nan")
    evidence = {
        "n_obs": n_obs,
        "n_vars": n_vars,
        "sparse": sparse,
        "median_zero_share": median_zero,
        "median_detected": float(np.median(nonzero)) if np.size(nonzero) else 0.0,
    }
    if n_vars < MIN_GENES or not np.isfinite(median_zero):
        kind = "single_cell" if sparse else "bulk"
        reason = (
            f"only {n_vars} genes, too few to judge by the zeros: {'sparse' if sparse else 'dense'} storage "
            f"taken as {kind.replace('_', '-')} data"
        )
    elif median_zero >= SINGLE_CELL_ZERO_SHARE:
        kind = "single_cell"
        reason = (
            f"{median_zero:.0%} of the genes are zero in the median observation (drop-outs): single-cell data"
        )
    else:
        kind = "bulk"
        reason = f"{median_zero:.0%} of the genes are zero in the median observation: bulk data"
    return DataKind(kind, detect_scale(data), evidence, reason)
