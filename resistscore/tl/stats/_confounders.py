"""Confounders of mechanism scores: correlation with them, adjustment in the statistics, residualised scores.

Proliferation and the stromal / immune content of a sample (``rs.sig.confounders()``) move many
expression signatures at once. Their scores are used here as covariates of the statistics
(``adjust=`` of :func:`compare_groups`, :func:`associate`, :func:`survival`), to residualise
per-sample scores (:func:`adjust_scores`), and to report how much each mechanism tracks them
(:func:`confounder_correlation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._design import CONFOUNDER_HOW, CONFOUNDER_PREFIX, confounder_ids
from resistscore._errors import StatisticsError
from resistscore._types import is_anndata
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._input import _as_score_frame

__all__ = ["CORRELATION_COLUMNS", "adjust_scores", "confounder_correlation"]

#: Fixed columns of :func:`confounder_correlation`.
CORRELATION_COLUMNS = ["signature", "confounder", "spearman_rho", "p", "n"]


def confounder_scores(
    scores: Any, confounders: Any, arg: str = "confounders", key: str = DEFAULT_KEY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(mechanism scores, confounder scores)``, both samples x signatures, on the samples of ``scores``.

    ``confounders`` is ``None``/``True`` (every ``confounder.*`` column of the scores), confounder id(s)
    (columns of the scores; ``"proliferation"`` is short for ``confounder.proliferation``), or the
    confounder scores themselves (a DataFrame or a ``ScoreResult``, aligned by sample name).
    """
    frame = _as_score_frame(scores, key)
    if confounders is None or confounders is True:
        ids = [c for c in frame.columns if c.startswith(CONFOUNDER_PREFIX)]
        if not ids:
            raise StatisticsError(
                f"`{arg}`: the scores hold no confounder column (`confounder.*`); " + CONFOUNDER_HOW + "."
            )
        conf = frame[ids]
    elif isinstance(confounders, (str, list, tuple)):
        conf = frame[confounder_ids(confounders, frame, arg)]
    elif isinstance(confounders, pd.DataFrame) or isinstance(
        getattr(confounders, "scores", None), pd.DataFrame
    ):
        conf = _as_score_frame(confounders)
        shared = conf.index.intersection(frame.index)
        if len(shared) == 0:
            raise StatisticsError(
                f"`{arg}`: no sample of the confounder scores is among the scores (e.g. {list(conf.index[:3])} vs "
                f"{list(frame.index[:3])}); score the confounders on the same samples."
            )
        conf = conf.reindex(frame.index)
    else:
        raise StatisticsError(
            f"`{arg}` must be confounder id(s), a samples x confounders DataFrame or a ScoreResult; got "
            f"{type(confounders).__name__}."
        )
    mech = frame.drop(columns=[c for c in conf.columns if c in frame.columns])
    mech = mech.loc[:, [c for c in mech.columns if not c.startswith(CONFOUNDER_PREFIX)]]
    if mech.shape[1] == 0:
        raise StatisticsError(
            f"`{arg}`: the scores hold no signature besides the confounders; score the mechanisms too."
        )
    return mech, conf


def with_adjustment(
    scores: Any,
    metadata: pd.DataFrame | None,
    adjust: Any,
    *,
    covariates: list[str],
    signatures: str | Sequence[str] | None,
    sample_key: str | None = None,
    unit: str = "sample",
    keep_cells: bool = False,
    key: str = DEFAULT_KEY,
) -> tuple[pd.DataFrame | None, list[str], Any, list[str]]:
    """Add the confounder scores named by ``adjust`` to the metadata as covariates.

    Returns ``(metadata, covariates, signatures, adjust ids)``; with ``adjust=None`` the inputs unchanged
    (and no id). The signatures analysed exclude the confounders; for cells averaged per
    ``sample_key`` the confounder covariate is averaged per sample too.
    """
    if adjust is None or adjust is False:
        return metadata, covariates, signatures, []
    mech, conf = confounder_scores(scores, adjust, arg="adjust", key=key)
    ids = list(conf.columns)
    if signatures is None:
        signatures = list(mech.columns)
    else:
        wanted = [signatures] if isinstance(signatures, str) else list(signatures)
        clash = [s for s in wanted if s in ids]
        if clash:
            raise StatisticsError(
                f"signature(s) {clash} are also in `adjust`; a score cannot be adjusted for itself. Drop them from "
                "`signatures=` or from `adjust=`."
            )
        signatures = wanted
    if metadata is None:
        if is_anndata(scores):
            metadata = scores.obs.copy()
            metadata.index = pd.Index(scores.obs_names.astype(str))
        else:
            metadata = pd.DataFrame(index=conf.index)
    meta = metadata.copy()
    meta.index = pd.Index([str(i) for i in meta.index])
    clash = [c for c in ids if c in meta.columns or c in covariates]
    if clash:
        raise StatisticsError(
            f"`adjust`: the metadata already hold column(s) {clash}; rename them (the confounder scores take these names)."
        )
    conf = conf.reindex(meta.index)
    if sample_key is not None and unit == "sample" and not keep_cells and sample_key in meta.columns:
        # cells are averaged per sample by the statistics: so is their confounder score
        conf = conf.groupby(meta[sample_key].astype(str).to_numpy()).transform("mean")
    for c in ids:
        meta[c] = conf[c].to_numpy()
    return meta, [*covariates, *ids], signatures, ids


def mark_adjusted(table: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Fill the ``adjusted_for`` column: the confounders the row is adjusted for (comma-separated, "" for none)."""
    table["adjusted_for"] = ", ".join(ids)
    return table


def _mechanisms(scores: Any, confounders: Any, signatures, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(mechanism scores, confounder scores)``, the mechanisms restricted to ``signatures`` when given."""
    mech, conf = confounder_scores(scores, confounders, key=key)
    if signatures is not None:
        wanted = [signatures] if isinstance(signatures, str) else list(signatures)
        missing = [s for s in wanted if s not in mech.columns]
        if missing:
            raise StatisticsError(
                f"signature(s) {missing} not among the mechanism scores; available: {list(mech.columns)[:20]}."
            )
        mech = mech[wanted]
    return mech, conf


def confounder_correlation(
    scores: Any,
    confounders: Any = None,
    *,
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
) -> pd.DataFrame:
    """Spearman correlation of every mechanism score with every confounder score.

    A mechanism that correlates strongly with proliferation or with stromal / immune content may
    report the composition or growth of the samples rather than resistance; adjust for it (``adjust=``
    in the statistics, :func:`adjust_scores`) or read it with that caveat. Correlations are computed
    on the rows given (samples, or pseudobulk samples for single-cell data: pass per-sample scores),
    leaving out samples with a missing score pairwise.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData scored by :func:`resistscore.tl.score`, or a samples x signatures
        DataFrame.
    confounders
        ``None`` (default): every ``confounder.*`` column of ``scores``; confounder id(s) among the
        scores (``"proliferation"`` is short for ``confounder.proliferation``); or the confounder scores
        themselves (a DataFrame, or a ScoreResult such as ``rs.get.result(adata, k)`` of a run of
        ``rs.tl.score(adata, rs.sig.confounders(), key_added=k)``).
    signatures
        Mechanism signatures to report (default: every non-confounder column).
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.

    Returns
    -------
    pandas.DataFrame
        One row per signature and confounder, columns ``signature, confounder, spearman_rho, p, n``
        (``p``: two-sided p-value of Spearman's rho, scipy's t approximation; NaN with fewer than 3
        complete samples or a constant score).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> sc = pd.DataFrame(
    ...     {"efflux_abc": [1.0, 2.0, 3.0, 4.0, 5.0], "confounder.proliferation": [2.0, 1.0, 4.0, 3.0, 5.0]},
    ...     index=list("abcde"),
    ... )
    >>> rs.tl.confounder_correlation(sc)
        signature                confounder  spearman_rho      p  n
    0  efflux_abc  confounder.proliferation           0.8  0.104  5
    """
    from scipy import stats

    mech, conf = _mechanisms(scores, confounders, signatures, key)
    rows = []
    for sig in mech.columns:
        for c in conf.columns:
            ok = mech[sig].notna() & conf[c].notna()
            x, y = mech.loc[ok, sig].to_numpy(float), conf.loc[ok, c].to_numpy(float)
            rho = p = np.nan
            if ok.sum() >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                res = stats.spearmanr(x, y)
                rho, p = float(res.statistic), float(res.pvalue)
            rows.append({"signature": sig, "confounder": c, "spearman_rho": rho, "p": p, "n": int(ok.sum())})
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def adjust_scores(
    scores: Any,
    confounders: Any = None,
    *,
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
) -> pd.DataFrame:
    """Residualise per-sample mechanism scores on confounder scores (proliferation, stromal / immune content).

    Each mechanism score is regressed on an intercept and the confounder scores by ordinary least
    squares over the samples where all are present; the adjusted score is the residual (mean 0 over
    those samples). It answers "is this sample's mechanism score high *for its proliferation*?".

    Unlike the raw scores, which are single-sample (a sample's score does not depend on the other
    samples), adjusted scores are **cohort-dependent**: the regression is fitted on the samples given,
    so the same sample gets a different adjusted score in another cohort, and the scores of different
    cohorts are not comparable. Adjust within one cohort, and prefer ``adjust=`` in the statistics
    (which also counts the degrees of freedom the adjustment uses) for tests.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData scored by :func:`resistscore.tl.score`, or a samples x signatures DataFrame.
    confounders
        As in :func:`confounder_correlation`: ``None`` (every ``confounder.*`` column of ``scores``),
        confounder id(s) among the scores, or the confounder scores (DataFrame or ScoreResult).
    signatures
        Mechanism signatures to adjust (default: every non-confounder column).
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.

    Returns
    -------
    pandas.DataFrame
        Samples x signatures adjusted scores (NaN where the score or a confounder is missing);
        ``.attrs["adjusted_for"]`` lists the confounders.

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> sc = pd.DataFrame(
    ...     {"efflux_abc": [1.0, 2.0, 4.0, 4.0], "confounder.proliferation": [0.0, 1.0, 2.0, 3.0]},
    ...     index=list("abcd"),
    ... )
    >>> rs.tl.adjust_scores(sc).round(2)
       efflux_abc
    a       -0.1
    b       -0.2
    c        0.7
    d       -0.4
    """
    mech, conf = _mechanisms(scores, confounders, signatures, key)
    out = pd.DataFrame(np.nan, index=mech.index, columns=mech.columns)
    conf_ok = conf.notna().all(axis=1).to_numpy()
    for sig in mech.columns:
        ok = conf_ok & mech[sig].notna().to_numpy()
        if ok.sum() <= conf.shape[1] + 1:
            continue  # no residual degrees of freedom: leave NaN
        z = np.column_stack([np.ones(ok.sum()), conf.to_numpy(float)[ok]])
        y = mech[sig].to_numpy(float)[ok]
        beta = np.linalg.lstsq(z, y, rcond=None)[0]
        out.loc[ok, sig] = y - z @ beta
    out.attrs["adjusted_for"] = list(conf.columns)
    return out
