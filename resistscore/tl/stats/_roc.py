"""Discrimination of responders: ROC AUC from the Mann-Whitney U statistic, with a bootstrap CI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import DeprecatedArgumentWarning, StatisticsError, warn
from resistscore._validate import check_int, check_probability
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._input import prepare
from resistscore.tl.stats._results import RocResult, bh_fdr

__all__ = ["ROC_COLUMNS", "roc"]

#: Fixed columns of :func:`roc` tables.
ROC_COLUMNS = [
    "signature",
    "positive",
    "n_pos",
    "n_neg",
    "effect",
    "effect_type",
    "ci_low",
    "ci_high",
    "pvalue",
    "fdr",
    "note",
]


def _auc_from_ranks(ranks: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """AUC = U_pos / (n_pos n_neg), U from the rank sum of the positives (ties count 1/2). Works row-wise."""
    n1 = int(pos.sum())
    n0 = pos.size - n1
    r1 = ranks[..., pos].sum(axis=-1)
    return (r1 - n1 * (n1 + 1) / 2) / (n1 * n0)


def _curve(sig: str, s: np.ndarray, pos: np.ndarray) -> pd.DataFrame:
    thr = np.unique(s)[::-1]
    tpr = [(s[pos] >= t).mean() for t in thr]
    fpr = [(s[~pos] >= t).mean() for t in thr]
    return pd.DataFrame(
        {"signature": sig, "threshold": np.r_[np.inf, thr], "fpr": np.r_[0.0, fpr], "tpr": np.r_[0.0, tpr]}
    )


def roc(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    responder: str,
    positive: Any = None,
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
    sample_key: str | None = None,
    unit: str = "sample",
    n_boot: int = 2000,
    level: float = 0.95,
    random_state: int = 0,
    seed: int | None = None,
) -> RocResult:
    """How well each score discriminates two classes (e.g. responders from non-responders): ROC AUC.

    The AUC is the Mann-Whitney U statistic of the positive class divided by ``n_pos * n_neg``
    (the probability that a random positive sample scores higher than a random negative one, ties
    counting one half). Its CI is the percentile interval of a bootstrap stratified by class
    (``n_boot`` resamples, reproducible under ``random_state``); the p-value is the two-sided Mann-Whitney
    test of AUC = 0.5. An AUC below 0.5 means the score is *lower* in the positive class.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData with ``obsm["resistscore_scores"]``, or a samples x signatures DataFrame.
    metadata
        Sample metadata indexed by sample (default: ``adata.obs``).
    responder
        Metadata column with two classes (bool, 0/1 or two labels).
    positive
        The positive class (default ``True`` / ``1`` when the column is boolean or 0/1; required otherwise).
    signatures
        Subset of signatures (default: all).
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.
    sample_key
        Column naming the biological replicate (single-cell data; scores averaged per replicate).
    unit
        ``"sample"`` (default) or ``"cell"``.
    n_boot
        Bootstrap resamples for the CI.
    level
        Confidence level.
    random_state
        Seed of the bootstrap (scanpy's name).
    seed
        Deprecated alias of ``random_state`` (a :class:`~resistscore.DeprecatedArgumentWarning`).

    Returns
    -------
    RocResult
        ``.table`` has the columns ``signature, positive, n_pos, n_neg, effect, effect_type, ci_low,
        ci_high, pvalue, fdr, note`` (``effect`` is the AUC, ``effect_type`` ``"roc_auc"``);
        ``.curves`` holds the ROC curves (``signature, threshold, fpr, tpr``).

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> sc = pd.DataFrame({"efflux": [0.1, 0.4, 0.35, 0.8, 0.9, 0.7]}, index=list("abcdef"))
    >>> meta = pd.DataFrame({"resistant": [False, False, False, True, True, True]}, index=sc.index)
    >>> res = rs.tl.roc(sc, meta, responder="resistant", n_boot=200)
    >>> float(res.table.loc[0, "effect"])
    1.0
    """
    check_int("n_boot", n_boot, minimum=100)
    check_probability("level", level)
    random_state = _random_state(random_state, seed)
    df, meta, info = prepare(
        scores,
        metadata,
        columns=[responder],
        arg_names=["responder"],
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        key=key,
    )
    y = meta[responder]
    positive = _positive_class(y, responder, positive)
    rng = np.random.default_rng(random_state)
    rows, curves = [], []
    for sig in df.columns:
        ok = df[sig].notna() & y.notna()
        s, pos = df.loc[ok, sig].to_numpy(float), (y[ok] == positive).to_numpy()
        row, curve = _roc_row(sig, s, pos, bool(ok.any()), positive, rng, n_boot, level)
        rows.append(row)
        if curve is not None:
            curves.append(curve)
    table = pd.DataFrame(rows, columns=ROC_COLUMNS)
    table["fdr"] = bh_fdr(table["pvalue"])
    curve_df = (
        pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["signature", "threshold", "fpr", "tpr"])
    )
    params = {
        "responder": responder,
        "positive": positive,
        "n_boot": n_boot,
        "level": level,
        "random_state": random_state,
        **info,
    }
    return RocResult("roc", table, params, curve_df)


def _positive_class(y: pd.Series, responder: str, positive: Any) -> Any:
    """Return the class expected to score higher: ``positive``, or 1 / True of a 0/1 or boolean column (checked)."""
    levels = list(pd.unique(y.dropna()))
    if len(levels) != 2:
        raise StatisticsError(
            f"`responder` column {responder!r} must have exactly 2 classes; it has {len(levels)} ({levels[:5]}). "
            "Recode it to two classes (e.g. responder vs non-responder)."
        )
    if positive is None:
        if set(levels) <= {True, False} or set(levels) <= {0, 1}:
            positive = 1 if not pd.api.types.is_bool_dtype(y) else True
        else:
            raise StatisticsError(
                f"pass `positive=` one of {sorted(map(str, levels))} (the class expected to score higher)."
            )
    if positive not in levels:
        raise StatisticsError(f"`positive`={positive!r} is not a class of {responder!r}; classes: {levels}.")
    return positive


def _roc_row(
    sig: str,
    s: np.ndarray,
    pos: np.ndarray,
    any_value: bool,
    positive: Any,
    rng: np.random.Generator,
    n_boot: int,
    level: float,
) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Return the table row of one signature (AUC, bootstrap CI, Mann-Whitney p) and its curve (None when not drawn).

    ``s`` are the scores of the samples with a score and a class, ``pos`` whether each is ``positive``;
    ``any_value``: whether any sample has both. The bootstrap draws from ``rng`` (one stream for all signatures).
    """
    from scipy import stats

    n1, n0 = int(pos.sum()), int((~pos).sum())
    row = dict.fromkeys(ROC_COLUMNS, np.nan)
    row.update(signature=sig, positive=str(positive), n_pos=n1, n_neg=n0, effect_type="roc_auc", note="")
    if n1 < 2 or n0 < 2:
        row["note"] = "fewer than 2 samples in a class" if any_value else "score not reported (all NaN)"
        return row, None
    if np.ptp(s) == 0:
        row.update(effect=0.5, note="constant scores")
        return row, None
    a = (1 - level) / 2
    auc = float(_auc_from_ranks(stats.rankdata(s), pos))
    p = float(stats.mannwhitneyu(s[pos], s[~pos], alternative="two-sided").pvalue)
    ip, ineg = np.flatnonzero(pos), np.flatnonzero(~pos)
    idx = np.hstack([ip[rng.integers(0, n1, (n_boot, n1))], ineg[rng.integers(0, n0, (n_boot, n0))]])
    bpos = np.r_[np.ones(n1, bool), np.zeros(n0, bool)]
    boot = _auc_from_ranks(stats.rankdata(s[idx], axis=1), bpos)
    row.update(
        effect=auc, ci_low=float(np.quantile(boot, a)), ci_high=float(np.quantile(boot, 1 - a)), pvalue=p
    )
    return row, _curve(sig, s, pos)


def _random_state(random_state: int, seed: int | None) -> int:
    """Return ``random_state``, or the deprecated ``seed`` (with a warning), checked."""
    if seed is not None:
        if random_state not in (0, seed):
            raise StatisticsError(
                f"`seed` ({seed!r}) and `random_state` ({random_state!r}) were both given; pass random_state only."
            )
        warn(
            "rs.tl.roc(seed=...) is deprecated; pass random_state=... (scanpy's name).",
            DeprecatedArgumentWarning,
        )
        random_state = seed
    return check_int("random_state", random_state, minimum=0)
