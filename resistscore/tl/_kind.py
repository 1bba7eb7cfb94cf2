"""What kind of data a matrix holds (single cell or bulk) and the default number of threads.

One definition each, used by the scoring engine, GSVA and the statistics:

* :func:`is_single_cell`: the single rule that decides single-cell vs bulk data (and so the default
  method, number of control sets and null of :func:`resistscore.tl.score`, and whether rows are
  cells for the statistics);
* :func:`default_n_jobs`: the threads available to this process, on every operating system.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SC_OBS_MARKERS",
    "SC_OBSM_MARKERS",
    "SC_UNS_MARKERS",
    "SC_ZERO_SHARE",
    "default_n_jobs",
    "has_cell_annotations",
    "is_single_cell",
]

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


def default_n_jobs() -> int:
    """Threads available to this process: the CPU affinity where the OS has it (Linux), else the cores.

    Examples
    --------
    >>> default_n_jobs() >= 1
    True
    """
    getaffinity = getattr(os, "sched_getaffinity", None)  # Linux only: absent on macOS and Windows
    if getaffinity is not None:
        try:
            return max(1, len(getaffinity(0)))
        except OSError:  # pragma: no cover - restricted environments
            pass
    return max(1, os.cpu_count() or 1)


def has_cell_annotations(obs: pd.DataFrame | None, uns: Any = None, obsm: Any = None) -> bool:
    """Whether observation annotations are those of cells: QC metrics or clusters of a single-cell
    workflow (:data:`SC_OBS_MARKERS`, :data:`SC_UNS_MARKERS`, :data:`SC_OBSM_MARKERS`), or an index of
    cell barcodes (``AAACCTGAGAAGGCCT-1``)."""
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


def zero_share(X, n_rows: int, n_cols: int) -> float:
    """Share of zeros of a dense or sparse block (stored zeros of sparse data count as zeros)."""
    size = max(n_rows * n_cols, 1)
    if hasattr(X, "nnz"):
        return 1.0 - float(np.count_nonzero(X.data)) / size
    return float(np.count_nonzero(np.asarray(X) == 0)) / size


def is_single_cell(annotations: dict | None = None, zeros: float | None = None) -> bool:
    """The one rule for single-cell data.

    Data are single-cell when their observations carry cell annotations (QC metrics, clusters,
    an embedding or barcodes: :func:`has_cell_annotations`), or when at least
    :data:`SC_ZERO_SHARE` of the values are zero (measured on a sample of rows). How the matrix is
    stored (sparse or dense) or its number of rows does not decide.

    Parameters
    ----------
    annotations
        ``{"obs": DataFrame, "uns": mapping, "obsm": mapping}`` of an AnnData (any may be missing).
    zeros
        Share of zeros of the matrix, or ``None`` if unknown.

    Examples
    --------
    >>> is_single_cell(zeros=0.92), is_single_cell(zeros=0.1)
    (True, False)
    """
    ann = annotations or {}
    if has_cell_annotations(ann.get("obs"), ann.get("uns"), ann.get("obsm")):
        return True
    return zeros is not None and zeros >= SC_ZERO_SHARE
