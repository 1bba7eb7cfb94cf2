"""The result of :func:`resistscore.tl.score`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get, io
from resistscore._errors import ResistScoreError
from resistscore._types import is_anndata
from resistscore.tl._contrib import Context, explain

__all__ = ["ScoreResult", "check_result_dtype", "contributions"]

#: the types a result's scores, p-values and FDR may be kept in (``rs.tl.score(dtype=...)``)
RESULT_DTYPES = ("float64", "float32")


def check_result_dtype(dtype) -> np.dtype:
    """Return the numpy type of ``rs.tl.score(dtype=...)``: float64 (default) or float32, else an error naming both."""
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError, SyntaxError):  # numpy reads e.g. "01" as Python code
        dt = None
    if dt is None or dt.name not in RESULT_DTYPES:
        raise ResistScoreError(
            f"`dtype` must be 'float64' (the default) or 'float32' (half the memory of the results); got {dtype!r}."
        )
    return dt


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
        return explain(self, sample, signature)

    def to_uns(self) -> dict[str, Any]:
        """Return the provenance dictionary stored in ``adata.uns["resistscore"]``."""
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
            "extras": sorted(self.extras),
            "unscored": {
                "sample": [str(x) for x in self.unscored.index],
                "reason": [str(x) for x in self.unscored["reason"]],
            },
        }

    def to_anndata(self, adata, key_added: str = get.DEFAULT_KEY, *, copy: bool = True) -> None:
        """Write the run into ``adata`` under ``key_added`` (see :mod:`resistscore.get` for the layout).

        Scores, p-values, FDR and the method's extra outputs go to ``obsm["<key_added>_scores"]`` ...,
        the provenance to ``uns["<key_added>"]``; a run already stored under ``key_added`` is replaced,
        other runs are kept. The samples of ``adata`` must be those scored (same ``obs_names``, same order).
        With ``copy=False`` the AnnData's tables hold this result's values themselves, not copies (for a result
        that is not used afterwards: :func:`resistscore.tl.score` of an AnnData, which saves a copy of the
        scores, p-values and FDR, 1.3 GB at a million cells in float64).
        """
        if not adata.obs_names.equals(self.scores.index):
            raise ResistScoreError(
                "the AnnData's obs_names differ from the scored samples; write the result into the AnnData "
                "that was scored (or subset it with adata[result.scores.index])."
            )
        previous = adata.uns.get(key_added)
        previous = dict(previous) if isinstance(previous, dict) else {}
        tables = {get.SCORES: self.scores, get.PVALUES: self.pvalues, get.FDR: self.fdr, **self.extras}
        for name in {*tables, *get.extra_names(previous)}:
            frame, key = tables.get(name), get.obsm_key(key_added, name)
            if frame is not None:
                # the AnnData's own obs_names (equal to the frame's): a file's names are of pandas' str dtype,
                # which anndata does not write
                frame = frame.copy(deep=copy)
                frame.index = adata.obs_names.rename(frame.index.name)
                adata.obsm[key] = frame
            elif key in adata.obsm:
                del adata.obsm[key]
        run = self.to_uns()
        ctx = self._context
        if ctx is not None:
            run["network"] = {c: ctx.net[c].tolist() for c in ("source", "target", "weight")}
            run["layer"], run["use_raw"] = ctx.layer or "", bool(ctx.use_raw)
        # uns["resistscore"] also keeps what reading and preprocessing recorded (read report, gene mapping, QC)
        adata.uns[key_added] = {**previous, **run}

    @classmethod
    def from_anndata(cls, adata, key: str = get.DEFAULT_KEY) -> ScoreResult:
        """Rebuild the result of the run ``key`` of a scored AnnData (what :func:`resistscore.get.result` returns)."""
        uns = get.run_info(adata, key)
        cov = pd.DataFrame({k: list(v) for k, v in uns["coverage"].items()}).set_index("signature")
        cov["reported"] = cov["reported"].astype(bool)
        extras = {}
        for name in get.extra_names(uns):
            frame = adata.obsm.get(get.obsm_key(key, name))
            if frame is not None:
                extras[str(name)] = pd.DataFrame(frame, index=adata.obs_names).rename_axis("sample")
        return cls(
            scores=get.scores(adata, key),
            pvalues=get.pvalues(adata, key),
            fdr=get.fdr(adata, key),
            coverage=cov,
            method=str(uns["method"]),
            params=dict(uns["params"]),
            seed=int(uns["seed"]),
            n_controls=int(uns["n_controls"]),
            versions=dict(uns["versions"]),
            extras=extras,
            null=str(uns.get("null", "")),
            tail=str(uns.get("tail", "")),
            fdr_family=str(uns.get("fdr_family", "")),
            unscored=unscored_from_uns(uns),
            data_kind=str(uns.get("data_kind", "")),
            _context=Context.from_anndata(adata, uns, cov) if "network" in uns else None,
        )

    def to_csv(self, path, *, tidy: bool = False) -> Path:
        """Write the scores as a text table, atomically and safe to open in a spreadsheet.

        Parameters
        ----------
        path
            ``.csv`` or ``.tsv`` (``.txt``), optionally ``.gz``. An Excel name (``.xlsx``) is refused:
            use :meth:`to_excel`.
        tidy
            Write :meth:`tidy` (one row per sample and signature, with p-value, FDR and coverage)
            instead of the samples x signatures scores.

        Returns
        -------
        pathlib.Path
        """
        table = self.tidy() if tidy else self.scores
        return io.write_table(table, path, index=not tidy)

    def to_excel(self, path) -> Path:
        """Write an Excel workbook: sheets ``scores``, ``pvalues`` and ``fdr`` (when computed), ``coverage``, ``unscored``.

        Written atomically; text a spreadsheet would run as a formula is neutralised.

        Returns
        -------
        pathlib.Path
        """
        sheets = {"scores": self.scores, "pvalues": self.pvalues, "fdr": self.fdr}
        sheets = {k: v for k, v in sheets.items() if v is not None}
        sheets.update(coverage=self.coverage, unscored=self.unscored)
        return io.write_workbook(sheets, path)

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
    """Return the ``unscored`` table stored by :meth:`ScoreResult.to_uns` (empty if absent)."""
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


def contributions(result, sample, signature: str, *, key: str = get.DEFAULT_KEY) -> pd.DataFrame:
    """Per-gene contributions to the score of one sample for one signature.

    Parameters
    ----------
    result
        A :class:`~resistscore.tl.ScoreResult` (from :func:`resistscore.tl.score` on a DataFrame,
        matrix or file), or an AnnData scored by :func:`resistscore.tl.score` (the run ``key``).
    sample
        Sample (row) name.
    signature
        Signature id.
    key
        For an AnnData: the run (``key_added`` of :func:`resistscore.tl.score`).

    Returns
    -------
    pandas.DataFrame
        One row per measured gene of the signature, sorted by decreasing ``|contribution|``, with
        columns ``gene``, ``direction`` (``up``/``down``), ``weight`` (signed), ``value`` (expression),
        ``typical`` (mean of the gene over the samples, or over up to 50,000 cells), ``z``
        (``(value - typical) / sd``), ``rank`` (rank of the gene within the sample, 1 = lowest
        expression; ties get the minimum), ``contribution`` and ``contribution_kind``.

        For singscore, UCell (before clipping at 0), AUCell, wmean and ulm the contributions add up
        exactly to the score (``contribution_kind = "additive"``; the rule is the method's own, in its
        module: ``rs.tl.methods.get_method(name).contributions``): e.g. for singscore, a gene ``g`` of an
        up-set of ``k`` genes among ``n`` contributes ``((r_g - (k + 1) / 2) / (n - k) - 1 / 2) / k``.
        For the other methods the contribution is the signed, weighted z-score (``"signed_z"``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> df = pd.DataFrame([[1.0, 2, 3, 4, 5], [5.0, 4, 3, 2, 1]], index=["s1", "s2"], columns=list("ABCDE"))
    >>> res = rs.tl.score(df, {"sig": {"E": 1.0, "A": -1.0}}, method="singscore", pvalues=False)
    >>> tbl = res.contributions("s1", "sig")
    >>> tbl[["gene", "direction", "rank", "contribution"]]
      gene direction  rank  contribution
    0    E        up   5.0           0.5
    1    A      down   1.0           0.5
    >>> float(tbl["contribution"].sum()) == float(res.scores.loc["s1", "sig"])
    True
    """
    if is_anndata(result):
        result = ScoreResult.from_anndata(result, key)
    if not isinstance(result, ScoreResult):
        raise ResistScoreError(
            f"contributions explain a ScoreResult or an AnnData scored by rs.tl.score; got a {type(result).__name__}."
        )
    return result.contributions(sample, signature)
