"""``rs.pp.data_kind``: the rule of :mod:`resistscore._kind` applied to a matrix, with its scale."""

from __future__ import annotations

import numpy as np

from resistscore._kind import DATA_KINDS, DataKind, judge
from resistscore._types import is_anndata
from resistscore.pp._scale import _matrix, _sample_rows, detect_scale

__all__ = ["DATA_KINDS", "DataKind", "data_kind"]


def data_kind(data) -> DataKind:
    """Tell bulk from single-cell data, and their scale, from the data themselves.

    The one rule of resistscore, also used by :func:`resistscore.tl.score` (default method, number of
    control sets and null), :func:`resistscore.pp.qc` and the statistics: data are single-cell when
    their observations carry cell annotations (QC metrics, clusters, an embedding or barcodes of a
    single-cell workflow) or when at least 70 % of the values are zero (drop-outs; droplet data have
    80-95 %, bulk RNA-seq 5-30 % over protein-coding genes, microarrays none). Storage never decides: a
    dense single-cell matrix is single-cell, a sparse bulk matrix is bulk. Large matrices are
    subsampled by rows with a fixed seed, as in :func:`detect_scale`.

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
    block = _sample_rows(X, np.random.default_rng(0))
    ann = {"obs": data.obs, "uns": data.uns, "obsm": data.obsm} if is_anndata(data) else None
    return judge(block, ann, detect_scale(data), n_obs=int(X.shape[0]))
