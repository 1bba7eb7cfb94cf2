"""The result of :func:`resistscore.tl.score`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import ResistScoreError

__all__ = ["ScoreResult"]

OBSM_SCORES = "resistscore_scores"
OBSM_PVALUES = "resistscore_pvalues"
OBSM_FDR = "resistscore_fdr"
UNS_KEY = "resistscore"


@dataclass
class ScoreResult:
    """Scores of samples (or cells) for signatures, with significance, coverage and provenance.

    Attributes
    ----------
    scores
        Samples x signatures. Signatures below their minimal coverage are NaN (see ``coverage``).
    pvalues, fdr
        Samples x signatures empirical p-values against expression-matched random gene sets (with a
        generalised Pareto tail beyond the largest control, see ``tail``) and their
        Benjamini-Hochberg FDR over the family ``fdr_family``; ``None`` when ``pvalues=False``.
    coverage
        One row per signature: ``n_genes, n_up, n_down, n_found, weight_covered, min_coverage,
        reported, reason, missing``.
    method, params, seed, n_controls, versions
        How the scores were made: method name and parameters, random seed, number of control sets,
        ``{"resistscore": ..., "signatures": ...}``.
    null
        How p-values were made: ``"per_sample"`` or ``"pooled"`` ("" without p-values).
    tail
        ``"gpd"``: scores above their whole null got a generalised Pareto tail estimate; ``""``:
        empirical p-values only (or no p-values).
    fdr_family
        The family of the Benjamini-Hochberg FDR: ``"signature"`` (each signature across the samples)
        or ``"all"`` (all samples x signatures); ``""`` without p-values.
    extras
        Further per-sample outputs of the method (e.g. singscore's ``dispersion``), samples x signatures.
    unscored
        One row per sample (or cell) that could not be scored, with its ``reason`` (all values NaN,
        all zero, or one value for every gene); its scores, p-values and FDR are NaN. Empty when every
        sample was scored.
    data_kind
        ``"single_cell"`` or ``"bulk"``: how the data were judged (this chose the default method,
        number of control sets and null, and tells the statistics that rows are cells).
    """

    scores: pd.DataFrame
    pvalues: pd.DataFrame | None
    fdr: pd.DataFrame | None
    coverage: pd.DataFrame
    method: str
    params: dict[str, Any]
    seed: int
    n_controls: int
    versions: dict[str, str]
    extras: dict[str, pd.DataFrame] = field(default_factory=dict)
    null: str = "per_sample"
    tail: str = ""
    fdr_family: str = "all"
    unscored: pd.DataFrame = field(default_factory=lambda: _empty_unscored())
    data_kind: str = ""
    _context: Any = field(default=None, repr=False, compare=False)

    # ---------------------------------------------------------------------------------------------
    @property
    def signatures(self) -> list[str]:
        """Signature ids, in column order."""
        return list(self.scores.columns)

    def tidy(self) -> pd.DataFrame:
        """Long table, one row per sample and signature.

        Columns ``sample, signature, score, pvalue, fdr, coverage, n_found, note``: ``coverage`` is the
        share of the signature's (absolute) weight measured in the data and ``n_found`` its genes found
        (see :attr:`coverage`); ``note`` says why a score is NaN (a signature below its minimal
        coverage, or a sample that cannot be scored), else it is empty. ``pvalue`` and ``fdr`` are NaN
        when significance was not computed.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import resistscore as rs
        >>> df = pd.DataFrame(np.arange(12.0).reshape(2, 6), index=["a", "b"], columns=list("ABCDEF"))
        >>> res = rs.tl.score(df, {"s": ["A", "B", "X"]}, pvalues=False)
        >>> res.tidy()[["sample", "signature", "coverage", "n_found", "note"]]
          sample signature  coverage  n_found note
        0      a         s  0.666667        2
        1      b         s  0.666667        2
        """
        s = self.scores
        n, m = s.shape
        out = pd.DataFrame(
            {
                "sample": np.repeat(s.index.to_numpy(), m),
                "signature": np.tile(s.columns.to_numpy(), n),
                "score": s.to_numpy().ravel(),
                "pvalue": self.pvalues.to_numpy().ravel() if self.pvalues is not None else np.nan,
                "fdr": self.fdr.to_numpy().ravel() if self.fdr is not None else np.nan,
            }
        )
        cov = self.coverage.reindex(s.columns)
        out["coverage"] = np.tile(cov["weight_covered"].to_numpy(dtype=float), n)
        out["n_found"] = np.tile(cov["n_found"].to_numpy(), n)
        sig_note = np.where(
            cov["reported"].fillna(False).astype(bool), "", cov["reason"].fillna("").astype(str)
        )
        note = np.tile(sig_note.astype(object), n)
        if len(self.unscored):
            rows = s.index.get_indexer(self.unscored.index)
            reasons = self.unscored["reason"].to_numpy(dtype=object)
            for r, why in zip(rows, reasons):
                if r >= 0:
                    note[r * m : (r + 1) * m] = f"sample not scored: {why}"
        out["note"] = note
        return out

    def contributions(self, sample, signature: str) -> pd.DataFrame:
        """Per-gene contributions to the score of ``sample`` for ``signature`` (see :func:`resistscore.tl.contributions`)."""
        from resistscore.tl._contrib import contributions

        return contributions(self, sample, signature)

    def to_uns(self) -> dict[str, Any]:
        """The provenance dictionary stored in ``adata.uns["resistscore"]``."""
        cov = self.coverage.reset_index()
        return {
            "method": self.method,
            "params": {k: _plain(v) for k, v in self.params.items()},
            "seed": int(self.seed),
            "n_controls": int(self.n_controls),
            "null": self.null,
            "tail": self.tail,
            "fdr_family": self.fdr_family,
            "coverage": {c: [_plain(v) for v in cov[c].tolist()] for c in cov.columns},
            "versions": dict(self.versions),
            "signatures": self.signatures,
            "data_kind": self.data_kind,
            "unscored": {
                "sample": [str(x) for x in self.unscored.index],
                "reason": [str(x) for x in self.unscored["reason"]],
            },
        }

    def to_anndata(self, adata) -> None:
        """Write scores, p-values, FDR into ``adata.obsm`` and provenance into ``adata.uns["resistscore"]``.

        The samples of ``adata`` must be those scored (same ``obs_names``, same order).
        """
        if not adata.obs_names.equals(self.scores.index):
            raise ResistScoreError(
                "the AnnData's obs_names differ from the scored samples; write the result into the AnnData "
                "that was scored (or subset it with adata[result.scores.index])."
            )
        adata.obsm[OBSM_SCORES] = self.scores.copy()
        for key, frame in ((OBSM_PVALUES, self.pvalues), (OBSM_FDR, self.fdr)):
            if frame is not None:
                adata.obsm[key] = frame.copy()
            elif key in adata.obsm:
                del adata.obsm[key]
        # keep what earlier steps stored there (QC report, gene mapping, read report); replace the scoring part
        previous = dict(adata.uns.get(UNS_KEY, {}))
        adata.uns[UNS_KEY] = {**previous, **self.to_uns()}

    # ---------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        n, m = self.scores.shape
        rep = int(self.coverage["reported"].sum())
        tail = f", {self.tail} tail" if self.tail else ""
        fam = {"signature": ", FDR per signature", "all": ", FDR over all tests"}.get(self.fdr_family, "")
        sig = (
            f"p-values from {self.n_controls} control sets per signature ({self.null}{tail}{fam})"
            if self.pvalues is not None
            else "no p-values"
        )
        bad = f", {len(self.unscored)} samples not scored" if len(self.unscored) else ""
        return (
            f"ScoreResult: {n} samples x {m} signatures ({rep} reported{bad}), method={self.method!r}, {sig}, "
            f"seed={self.seed}, resistscore {self.versions.get('resistscore')}, "
            f"signatures {self.versions.get('signatures')}"
        )

    def _repr_html_(self) -> str:
        head = html.escape(repr(self))
        cov = self.coverage[["n_genes", "n_found", "weight_covered", "reported", "reason"]]
        return (
            f"<div><p><b>{head}</b></p><p>Scores (first rows):</p>{self.scores.head(10).to_html()}"
            f"<p>Coverage:</p>{cov.to_html()}</div>"
        )


def _empty_unscored() -> pd.DataFrame:
    return pd.DataFrame({"reason": pd.Series(dtype=object)}, index=pd.Index([], name="sample", dtype=object))


def unscored_from_uns(uns: dict) -> pd.DataFrame:
    """The ``unscored`` table stored by :meth:`ScoreResult.to_uns` (empty if absent)."""
    u = uns.get("unscored") or {}
    if not len(u.get("sample", [])):
        return _empty_unscored()
    return pd.DataFrame({"reason": list(u["reason"])}, index=pd.Index(list(u["sample"]), name="sample"))


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)
