"""Descriptive contrast of two samples (e.g. a resistant line and its parent) with per-gene contributions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get
from resistscore._errors import StatisticsError
from resistscore._types import is_anndata
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._results import StatsResult

__all__ = ["SAMPLE_CONTRAST_COLUMNS", "compare_samples"]

#: Fixed columns of :func:`compare_samples` tables.
SAMPLE_CONTRAST_COLUMNS = [
    "signature",
    "gene",
    "direction",
    "weight",
    "value",
    "value_reference",
    "contribution",
    "contribution_reference",
    "difference",
    "share",
    "contribution_kind",
]


def compare_samples(
    result: Any,
    sample: str,
    reference: str,
    signatures: str | Sequence[str] | None = None,
    *,
    key: str = DEFAULT_KEY,
) -> StatsResult:
    """Contrast the scores of two samples gene by gene (e.g. a drug-selected line against its parent).

    For each signature, the per-gene contributions of ``sample`` and ``reference`` (from
    ``result.contributions``) are aligned and differenced, so the score difference is explained
    gene by gene. This is descriptive: with one sample per side there is no test.

    Parameters
    ----------
    result
        A :class:`~resistscore.tl.ScoreResult` (anything with ``scores`` and ``contributions(sample, signature)``),
        or an AnnData scored by :func:`resistscore.tl.score` (its run ``key``, read by :func:`resistscore.get.result`).
    sample, reference
        Sample names (rows of ``result.scores``).
    signatures
        Signature id(s) (default: all).
    key
        The run of an AnnData ``result`` (``key_added`` of :func:`resistscore.tl.score`); default ``"resistscore"``.

    Returns
    -------
    StatsResult
        ``.table`` has the columns ``signature, gene, direction, weight, value, value_reference,
        contribution, contribution_reference, difference, share, contribution_kind``, one row per
        measured gene, sorted within signature by decreasing ``|difference|``; ``difference`` is
        ``contribution - contribution_reference`` and ``share`` its part of the score difference
        (for additive contributions, the ``difference`` column sums to the score difference).
        ``.scores`` has one row per signature: ``signature, score, score_reference, difference``.

    Examples
    --------
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> df = pd.DataFrame(
    ...     [[9.0, 2, 3, 4, 5, 1], [1.0, 2, 3, 4, 5, 6]],
    ...     index=["resistant", "parent"],
    ...     columns=list("ABCDEF"),
    ... )
    >>> res = rs.tl.score(df, {"efflux": ["A", "F"]}, method="singscore", pvalues=False)
    >>> tab = rs.tl.compare_samples(res, "resistant", "parent").table
    >>> tab[["gene", "difference"]].round(3)
      gene  difference
    0    A       0.625
    1    F      -0.625
    """
    if is_anndata(result):
        result = get.result(result, key)
    if not (hasattr(result, "contributions") and isinstance(getattr(result, "scores", None), pd.DataFrame)):
        raise StatisticsError(
            "`result` must be a ScoreResult (from `rs.tl.score` on a DataFrame, matrix or file), which holds the "
            "data needed for per-gene contributions."
        )
    scores = result.scores
    for name, s in (("sample", sample), ("reference", reference)):
        if s not in scores.index:
            raise StatisticsError(
                f"`{name}`={s!r} is not a sample of the scores; e.g. {scores.index[:5].tolist()}."
            )
    if signatures is None:
        sigs = list(scores.columns)
    else:
        sigs = [signatures] if isinstance(signatures, str) else list(signatures)
        bad = [s for s in sigs if s not in scores.columns]
        if bad:
            raise StatisticsError(
                f"signature(s) {bad} not among the scores; available: {list(scores.columns)[:20]}."
            )
    parts, summary = [], []
    for sig in sigs:
        a, b = scores.loc[sample, sig], scores.loc[reference, sig]
        summary.append({"signature": sig, "score": a, "score_reference": b, "difference": a - b})
        if not (np.isfinite(a) and np.isfinite(b)):
            continue
        ca = result.contributions(sample, sig).set_index("gene")
        cb = result.contributions(reference, sig).set_index("gene")
        t = pd.DataFrame(
            {
                "signature": sig,
                "gene": ca.index,
                "direction": ca["direction"].to_numpy(),
                "weight": ca["weight"].to_numpy(),
                "value": ca["value"].to_numpy(),
                "value_reference": cb["value"].reindex(ca.index).to_numpy(),
                "contribution": ca["contribution"].to_numpy(),
                "contribution_reference": cb["contribution"].reindex(ca.index).to_numpy(),
                "contribution_kind": ca["contribution_kind"].to_numpy(),
            }
        )
        t["difference"] = t["contribution"] - t["contribution_reference"]
        total = t["difference"].sum()
        t["share"] = t["difference"] / total if total != 0 else np.nan
        parts.append(t.iloc[np.argsort(-t["difference"].abs().to_numpy(), kind="stable")])
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    table = table.reindex(columns=SAMPLE_CONTRAST_COLUMNS)
    res = StatsResult("compare_samples", table, {"sample": sample, "reference": reference})
    res.scores = pd.DataFrame(summary, columns=["signature", "score", "score_reference", "difference"])
    return res
