"""Single cell or bulk: the one rule, its threshold and the :class:`DataKind` it produces.

Used by the scoring engine (default method, control sets and null), :func:`resistscore.pp.data_kind`,
:func:`resistscore.pp.qc`, the statistics (are the rows cells?) and :func:`resistscore.get.is_single_cell`.
Data are single-cell when their observations carry cell annotations (QC metrics, clusters, an
embedding or barcodes of a single-cell workflow) or when at least :data:`SC_ZERO_SHARE` of the values
are zero, measured on a sample of rows. How the matrix is stored (sparse or dense) and its size never
decide. Imports only numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DATA_KINDS",
    "SC_OBSM_MARKERS",
    "SC_OBS_MARKERS",
    "SC_UNS_MARKERS",
    "SC_ZERO_SHARE",
    "DataKind",
    "decide",
    "has_cell_annotations",
    "judge",
    "zero_share",
]

DATA_KINDS = ("bulk", "single_cell")
#: share of zeros (in a sample of rows) from which an expression matrix is single-cell data:
#: droplet data have > 90 % zeros, full-length single-cell data ~80 %; bulk RNA-seq tables < 60 %
#: even over all annotated genes, microarrays none
SC_ZERO_SHARE = 0.7
#: ``obs`` columns that scanpy, Seurat or cellranger write for cells (QC metrics and clusters)
SC_OBS_MARKERS = (
    "n_genes_by_counts",
    "total_counts",
    "pct_counts_mt",
    "pct_counts_mito",
    "percent_mito",
    "n_counts",
    "nCount_RNA",
    "nFeature_RNA",
    "percent.mt",
    "louvain",
    "leiden",
    "seurat_clusters",
    "barcode",
)
#: ``uns`` / ``obsm`` keys of a single-cell workflow (neighbour graph, clusters, embeddings)
SC_UNS_MARKERS = ("neighbors", "leiden", "louvain", "umap")
SC_OBSM_MARKERS = ("X_umap", "X_tsne")
_BARCODE = r"^(?:[A-Za-z0-9]+[_:#-])?[ACGTN]{10,}(?:[-_.][0-9]+)?$"


def has_cell_annotations(obs: pd.DataFrame | None, uns: Any = None, obsm: Any = None) -> bool:
    """Whether observation annotations are those of cells.

    QC metrics or clusters of a single-cell workflow (:data:`SC_OBS_MARKERS`, :data:`SC_UNS_MARKERS`,
    :data:`SC_OBSM_MARKERS`), or an index of cell barcodes (``AAACCTGAGAAGGCCT-1``).

    Examples
    --------
    >>> import pandas as pd
    >>> has_cell_annotations(pd.DataFrame({"leiden": ["0", "1"]})), has_cell_annotations(pd.DataFrame())
    (True, False)
    """
    if obs is not None and len(obs.columns.intersection(SC_OBS_MARKERS)):
        return True
    if uns is not None and any(k in uns for k in SC_UNS_MARKERS):
        return True
    if obsm is not None and any(k in obsm for k in SC_OBSM_MARKERS):
        return True
    if obs is not None and len(obs.index) >= 10:
        idx = pd.Index(obs.index[:200]).astype(str)
        if idx.str.fullmatch(_BARCODE).mean() > 0.9:
            return True
    return False


def zero_share(X, n_rows: int | None = None, n_cols: int | None = None) -> float:
    """Share of zeros of a dense or sparse block (stored zeros of sparse data count as zeros).

    Examples
    --------
    >>> import numpy as np
    >>> zero_share(np.array([[0.0, 1.0], [0.0, 0.0]]))
    0.75
    """
    n_rows = X.shape[0] if n_rows is None else n_rows
    n_cols = X.shape[1] if n_cols is None else n_cols
    size = max(n_rows * n_cols, 1)
    if hasattr(X, "nnz"):
        return 1.0 - float(np.count_nonzero(X.data)) / size
    return float(np.count_nonzero(np.asarray(X) == 0)) / size


@dataclass
class DataKind:
    """What kind of expression data a matrix holds: single cell or bulk, and its scale.

    Attributes
    ----------
    kind
        ``"single_cell"`` or ``"bulk"`` (the rule of this module).
    zero_share
        Share of zero values in the rows examined (NaN when unknown).
    scale
        The :class:`~resistscore.pp.ScaleReport` of :func:`~resistscore.pp.detect_scale`, or ``None``
        when the scale could not be judged.
    evidence
        ``n_obs``, ``n_vars``, ``sparse`` (storage, which does not decide), ``zero_share``,
        ``cell_annotations``.
    reason
        One sentence saying why.
    """

    kind: str
    zero_share: float = float("nan")
    scale: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    @property
    def single_cell(self) -> bool:
        """Whether the data are single-cell data."""
        return self.kind == "single_cell"

    @property
    def problems(self) -> list[str]:
        """Sentences on why the data are unsuitable for scoring as they are (z-scores, unknown scale)."""
        problem = getattr(self.scale, "problem", "")
        return [problem] if problem else []

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``adata.uns``."""
        return {
            "kind": self.kind,
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "scale": self.scale.to_dict() if self.scale is not None else None,
            "problems": self.problems,
        }

    def __repr__(self) -> str:
        scale = getattr(self.scale, "kind", None)
        return f"DataKind(kind={self.kind!r}: {self.reason}; scale={scale!r})"


def judge(block, annotations: dict | None = None, scale: Any = None, *, n_obs: int | None = None) -> DataKind:
    """Apply the rule to a sample of rows ``block`` and the observations' annotations.

    Parameters
    ----------
    block
        Rows of the expression matrix (dense or sparse), observations x genes.
    annotations
        ``{"obs": DataFrame, "uns": mapping, "obsm": mapping}`` of an AnnData (any may be missing).
    scale
        The scale report of the data, kept in the result.
    n_obs
        Number of observations of the whole matrix (default: the rows of ``block``).

    Returns
    -------
    DataKind

    Examples
    --------
    >>> import numpy as np
    >>> judge(np.zeros((4, 10))).kind, judge(np.ones((4, 10))).kind
    ('single_cell', 'bulk')
    """
    zeros = zero_share(block) if block.shape[0] and block.shape[1] else float("nan")
    return decide(
        zeros,
        annotations,
        scale,
        n_obs=int(block.shape[0] if n_obs is None else n_obs),
        n_vars=int(block.shape[1]),
        sparse=bool(hasattr(block, "nnz")),
    )


def decide(
    zeros: float,
    annotations: dict | None = None,
    scale: Any = None,
    *,
    n_obs: int,
    n_vars: int,
    sparse: bool = False,
) -> DataKind:
    """Apply the rule to the share of zeros measured on a sample of rows (e.g. on a Dask worker).

    Parameters
    ----------
    zeros
        Share of zero values in the rows examined (NaN when unknown).
    annotations
        ``{"obs": DataFrame, "uns": mapping, "obsm": mapping}`` of an AnnData (any may be missing).
    scale
        The scale report of the data, kept in the result.
    n_obs, n_vars
        Shape of the whole matrix.
    sparse
        Whether the matrix is stored sparse (recorded; storage does not decide).

    Returns
    -------
    DataKind

    Examples
    --------
    >>> decide(0.92, n_obs=1000, n_vars=20000).kind, decide(0.1, n_obs=12, n_vars=20000).kind
    ('single_cell', 'bulk')
    """
    ann = annotations or {}
    cells = has_cell_annotations(ann.get("obs"), ann.get("uns"), ann.get("obsm"))
    evidence = {
        "n_obs": int(n_obs),
        "n_vars": int(n_vars),
        "sparse": bool(sparse),
        "zero_share": zeros,
        "cell_annotations": cells,
    }
    if cells:
        kind, reason = (
            "single_cell",
            "the observations carry cell annotations (QC metrics, clusters, an embedding or barcodes)",
        )
    elif zeros >= SC_ZERO_SHARE:
        kind, reason = (
            "single_cell",
            f"{zeros:.0%} of the values are zero (drop-outs; single cell from {SC_ZERO_SHARE:.0%})",
        )
    else:
        share = "unknown" if np.isnan(zeros) else f"{zeros:.0%}"
        kind, reason = (
            "bulk",
            f"{share} of the values are zero (single cell from {SC_ZERO_SHARE:.0%}) and no cell annotations",
        )
    return DataKind(kind, zeros, scale, evidence, reason)
