"""The registry of scoring methods: one module per method registers itself here.

A method is a function ``fn(X, sets, **params) -> ndarray`` where

* ``X`` is a samples x genes block: a C-contiguous float ``numpy.ndarray`` or a
  ``scipy.sparse.csr_matrix`` (never densified by the engine);
* ``sets`` is a :class:`GeneSetIndex`: for every signature, the column indices and
  absolute weights of its up- and down-regulated genes that are present in ``X``;
* the return value is a float array of shape ``(n_samples, n_sets)``.

Methods with ``single_sample=True`` score every row from that row alone; the engine may then
call them on any row chunk and must get identical results whatever the chunk size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "MAX_DENSE_GIB",
    "GeneSetIndex",
    "check_dense_size",
    "MethodInfo",
    "get_method",
    "register",
    "registry",
]

#: largest dense copy (GiB) that a method which is not sparse-aware may make of sparse input
MAX_DENSE_GIB = 4.0


def check_dense_size(n_rows: int, n_cols: int, method: str) -> None:
    """Refuse to densify sparse data whose dense copy would exceed :data:`MAX_DENSE_GIB`."""
    from resistscore._errors import ResistScoreError

    gib = n_rows * n_cols * 8 / 2**30
    if gib > MAX_DENSE_GIB:
        raise ResistScoreError(
            f"method {method!r} needs the whole matrix dense: {n_rows} x {n_cols} would take {gib:.0f} GiB. "
            "Use a sparse-aware method (rs.tl.show_methods(); UCell is the single-cell default), or aggregate "
            "cells first (rs.tl.pseudobulk)."
        )


@dataclass(frozen=True)
class GeneSetIndex:
    """Signatures resolved against the genes (columns) of one expression matrix."""

    names: tuple[str, ...]
    up_idx: tuple[np.ndarray, ...]  # int64 column indices, one array per set
    up_w: tuple[np.ndarray, ...]  # float64 absolute weights (> 0), aligned with up_idx
    dn_idx: tuple[np.ndarray, ...]
    dn_w: tuple[np.ndarray, ...]
    n_genes: int  # number of columns of X
    # the first n_primary sets are the signatures; any further sets are random control sets of the
    # significance test (methods may skip by-products such as dispersions for them). None = all.
    n_primary: int | None = None

    def __len__(self) -> int:
        return len(self.names)

    @property
    def directional(self) -> np.ndarray:
        """Boolean per set: it has at least one down-regulated gene."""
        return np.array([len(d) > 0 for d in self.dn_idx], dtype=bool)


@dataclass(frozen=True)
class MethodInfo:
    """What a scoring method is and does."""

    name: str
    fn: Callable[..., np.ndarray]
    summary: str
    reference: str  # the method's paper (short citation with DOI)
    directional: bool  # uses up- and down-sets natively
    weighted: bool  # uses gene weights
    single_sample: bool  # a sample's score does not depend on the other samples
    sparse_aware: bool  # works on CSR without densifying
    defaults: dict = field(default_factory=dict)
    validated_against: str = ""  # the independent reference it is tested against
    # an optional cohort-level step ``finalize(scores, params) -> scores`` applied once to the complete
    # samples x signatures matrix after all chunks are scored (never per chunk); it must be a rescaling
    # common to all samples and sets, so that p-values against the control sets do not change
    finalize: Callable[[np.ndarray, dict], np.ndarray] | None = None
    # an optional cohort-level step ``prepare(gene_means, sets, params) -> dict`` run once before
    # scoring, given the exact mean of every gene over all samples: it returns extra keyword
    # arguments for ``fn`` (e.g. module_score's control genes), after which the method scores any row
    # chunk on its own, so the engine reads and scores the data in chunks even if single_sample is False
    prepare: Callable[[np.ndarray, GeneSetIndex, dict], dict] | None = None
    # why the method may give a signature no score on some data (NaN for every sample), in words for
    # the coverage table; the engine then reports the signature as not scored with this reason
    nan_reason: str = ""


registry: dict[str, MethodInfo] = {}


def register(info: MethodInfo) -> MethodInfo:
    """Add a method to the registry (called at import time by each method module)."""
    if info.name in registry:
        raise RuntimeError(f"scoring method {info.name!r} registered twice")
    registry[info.name] = info
    return info


def get_method(name: str) -> MethodInfo:
    """Return the registered method ``name`` or raise a clear error listing the methods."""
    from resistscore._errors import ResistScoreError

    try:
        return registry[name]
    except KeyError:
        raise ResistScoreError(
            f"`method` {name!r} is not a resistscore scoring method; choose one of {sorted(registry)} "
            "(see rs.tl.show_methods())."
        ) from None


def methods_table() -> pd.DataFrame:
    """Return the registered methods and their properties as a table (one row per method)."""
    rows = [
        {
            "method": m.name,
            "summary": m.summary,
            "directional": m.directional,
            "weighted": m.weighted,
            "single_sample": m.single_sample,
            "sparse_aware": m.sparse_aware,
            "reference": m.reference,
            "validated_against": m.validated_against,
        }
        for m in registry.values()
    ]
    return pd.DataFrame(rows).set_index("method") if rows else pd.DataFrame()
