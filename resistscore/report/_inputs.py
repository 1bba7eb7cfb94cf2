"""What the report reads from a scoring result: one view of a ScoreResult, a scored AnnData or a score table.

This module is the only place of the report that reads where a scored AnnData keeps its scores
(``obsm``) and its provenance (``uns``), through the keys of :mod:`resistscore.get`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore._validate import check_score_table

__all__ = ["ResultView", "result_view"]

_OBSM_SCORES = get.OBSM_SCORES
_OBSM_FDR = get.OBSM_FDR
_UNS = get.DEFAULT_KEY


@dataclass
class ResultView:
    """The scores of a run with how they were made (``None`` / empty where the input does not say)."""

    scores: pd.DataFrame
    fdr: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    n_controls: int | None = None
    null: str | None = None
    tail: str | None = None
    fdr_family: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    qc: list[Any] = field(default_factory=list)
    unscored: pd.DataFrame | None = None
    data_kind: str = ""
    anndata: bool = False

    @cached_property
    def reported(self) -> list[str]:
        """Signatures with at least one score (computed once: the report asks for them many times)."""
        found = self.scores.notna().any(axis=0).to_numpy()
        return [c for c, ok in zip(self.scores.columns, found) if ok]


def _scores_table(df: Any) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ResistScoreError(
            "`result` must be a samples x signatures DataFrame, a ScoreResult or a scored AnnData; "
            f"got {type(df).__name__}."
        )
    return check_score_table(df, "result")


def _from_anndata(adata: Any) -> ResultView:
    if _OBSM_SCORES not in adata.obsm:
        raise ResistScoreError(
            f'`result`: the AnnData has no obsm["{_OBSM_SCORES}"]; score it first with rs.tl.score(adata).'
        )
    uns = dict(adata.uns.get(_UNS) or {})
    scores = adata.obsm[_OBSM_SCORES]
    if not isinstance(scores, pd.DataFrame):
        scores = pd.DataFrame(np.asarray(scores), index=adata.obs_names, columns=uns.get("signatures"))
    fdr = adata.obsm.get(_OBSM_FDR, None)
    coverage = pd.DataFrame(uns["coverage"]) if uns.get("coverage") is not None else None
    if coverage is not None and "signature" in coverage.columns:
        coverage = coverage.set_index("signature")
    unscored = uns.get("unscored") or {}
    return ResultView(
        scores=_scores_table(scores),
        fdr=fdr if isinstance(fdr, pd.DataFrame) else None,
        coverage=coverage,
        method=uns.get("method"),
        params=dict(uns.get("params") or {}),
        seed=uns.get("seed"),
        n_controls=uns.get("n_controls"),
        null=uns.get("null"),
        tail=uns.get("tail"),
        fdr_family=uns.get("fdr_family"),
        versions=dict(uns.get("versions") or {}),
        qc=[get.record(adata, k) for k in (get.QC, get.GENE_MAPPING) if get.record(adata, k) is not None],
        unscored=pd.DataFrame(
            {"reason": list(unscored.get("reason", []))}, index=pd.Index(list(unscored.get("sample", [])))
        ),
        data_kind=str(uns.get("data_kind") or ""),
        anndata=True,
    )


def result_view(result: Any) -> ResultView:
    """Read a ``ScoreResult``, a scored AnnData or a samples x signatures DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> view = result_view(pd.DataFrame({"efflux_abc": [0.1, 0.2]}, index=["a", "b"]))
    >>> view.reported, view.method
    (['efflux_abc'], None)
    """
    if is_anndata(result):
        view = _from_anndata(result)
    elif isinstance(result, pd.DataFrame):
        view = ResultView(scores=_scores_table(result))
    else:
        view = ResultView(scores=_scores_table(getattr(result, "scores", None)))
        for key in ("method", "seed", "n_controls", "null", "tail", "fdr_family", "data_kind"):
            value = getattr(result, key, None)
            if value is not None:
                setattr(view, key, value)
        view.params = dict(getattr(result, "params", None) or {})
        view.versions = dict(getattr(result, "versions", None) or {})
        for key in ("fdr", "coverage", "unscored"):
            value = getattr(result, key, None)
            setattr(view, key, value if isinstance(value, pd.DataFrame) else None)
        qc = getattr(result, "qc", None)
        view.qc = list(qc) if isinstance(qc, (list, tuple)) else ([qc] if qc is not None else [])
    if view.coverage is not None and "signature" in view.coverage.columns:
        view.coverage = view.coverage.set_index("signature")
    if isinstance(view.params, Mapping):
        for key in ("n_controls", "null", "tail", "fdr_family"):
            if getattr(view, key) is None and view.params.get(key) is not None:
                setattr(view, key, view.params[key])
    return view
