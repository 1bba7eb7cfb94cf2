"""Association of scores with continuous drug response (IC50, AUC, GI50): Spearman, Pearson, regression."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from resistscore._errors import StatisticsError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int, check_probability
from resistscore.tl.stats._effects import fisher_z_ci
from resistscore.tl.stats._input import prepare, require_columns
from resistscore.tl.stats._results import StatsResult, bh_fdr

__all__ = ["ASSOC_COLUMNS", "associate"]

#: Fixed columns of :func:`associate` tables.
ASSOC_COLUMNS = [
    "signature",
    "response",
    "method",
    "n",
    "statistic",
    "df",
    "effect",
    "effect_type",
    "ci_low",
    "ci_high",
    "pvalue",
    "fdr",
    "note",
]


def _covariate_matrix(cov: pd.DataFrame, rank: bool) -> np.ndarray:
    """Intercept + covariates (numeric ones ranked for rank methods, categorical ones dummy-coded)."""
    parts = [np.ones((len(cov), 1))]
    for c in cov.columns:
        col = cov[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            v = stats.rankdata(col) if rank else col.to_numpy(float)
            parts.append(np.asarray(v, float)[:, None])
        else:
            d = pd.get_dummies(col.astype(str), drop_first=True, dtype=float)
            if d.shape[1]:
                parts.append(d.to_numpy())
    return np.hstack(parts)


def _partial_corr(x, y, cov: pd.DataFrame, rank: bool):
    """Partial correlation of x and y given ``cov`` (on ranks for Spearman), with t test on n - 2 - k df."""
    if rank:
        x, y = stats.rankdata(x), stats.rankdata(y)
    z = _covariate_matrix(cov, rank)
    k = np.linalg.matrix_rank(z) - 1
    beta_x = np.linalg.lstsq(z, x, rcond=None)[0]
    beta_y = np.linalg.lstsq(z, y, rcond=None)[0]
    rx, ry = x - z @ beta_x, y - z @ beta_y
    if np.allclose(rx, 0) or np.allclose(ry, 0):
        return np.nan, np.nan, np.nan, k
    r = float(np.corrcoef(rx, ry)[0, 1])
    df = len(x) - 2 - k
    if df < 1:
        return r, np.nan, np.nan, k
    t = r * math.sqrt(df / max(1 - r * r, 1e-300))
    return r, t, float(2 * stats.t.sf(abs(t), df)), k


def _one(sig, resp_name, x, y, cov, method, level, min_samples) -> dict:
    row = dict.fromkeys(ASSOC_COLUMNS, np.nan)
    row.update(signature=sig, response=resp_name, n=len(x), note="")
    has_cov = cov is not None and cov.shape[1] > 0
    row["method"] = {
        "spearman": "partial_spearman" if has_cov else "spearman",
        "pearson": "partial_pearson" if has_cov else "pearson",
        "regression": "ols",
    }[method]
    if len(x) < min_samples:
        row["note"] = f"fewer than {min_samples} complete samples"
        return row
    if np.ptp(x) == 0:
        row["note"] = "constant scores"
        return row
    if np.ptp(y) == 0:
        row["note"] = "constant response"
        return row
    n = len(x)
    if method == "regression":
        z = _covariate_matrix(cov, rank=False) if has_cov else np.ones((n, 1))
        X = np.hstack([z[:, :1], x[:, None], z[:, 1:]])
        fit = sm.OLS(y, X).fit()
        ci = fit.conf_int(alpha=1 - level)
        row.update(
            statistic=float(fit.tvalues[1]),
            df=float(fit.df_resid),
            effect=float(fit.params[1]),
            effect_type="slope",
            ci_low=float(ci[1, 0]),
            ci_high=float(ci[1, 1]),
            pvalue=float(fit.pvalues[1]),
        )
        return row
    rank = method == "spearman"
    if has_cov:
        r, t, p, k = _partial_corr(x, y, cov, rank)
        df = n - 2 - k
        stat = t
    else:
        res = stats.spearmanr(x, y) if rank else stats.pearsonr(x, y)
        r, p, k, df = float(res.statistic), float(res.pvalue), 0, n - 2
        stat = r * math.sqrt(df / max(1 - r * r, 1e-300))
    se_df = n - 3 - k
    if se_df < 1:
        lo = hi = np.nan
    else:
        se = math.sqrt((1 + r * r / 2) / se_df) if rank else 1 / math.sqrt(se_df)
        lo, hi = fisher_z_ci(r, se, level)
    row.update(
        statistic=stat,
        df=float(df),
        effect=r,
        effect_type="rho" if rank else "r",
        ci_low=lo,
        ci_high=hi,
        pvalue=p,
    )
    return row


def associate(
    scores: Any,
    response: pd.Series | pd.DataFrame | str | Sequence[str],
    *,
    metadata: pd.DataFrame | None = None,
    method: str = "spearman",
    covariates: str | Sequence[str] | None = None,
    signatures: str | Sequence[str] | None = None,
    sample_key: str | None = None,
    unit: str = "sample",
    level: float = 0.95,
    min_samples: int = 5,
) -> StatsResult:
    """Associate scores with a continuous drug response (IC50, AUC, GI50, ...).

    ``method="spearman"`` (default) gives Spearman's rho with a Fisher-z CI (Bonett-Wright SE);
    with ``covariates`` (e.g. tissue) the partial Spearman correlation on ranks. ``"pearson"`` is the
    (partial) Pearson r. ``"regression"`` fits the OLS ``response ~ score + covariates`` and reports
    the slope of the score. Each response is analysed separately; samples with a missing score,
    response or covariate are left out pairwise.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData with ``obsm["resistscore_scores"]``, or a samples x signatures DataFrame.
    response
        A Series indexed by sample, a samples x responses DataFrame (e.g. one column per drug), or
        the name(s) of metadata column(s). Mind the direction: for ``-log10 GI50`` higher means more sensitive.
    metadata
        Sample metadata holding ``covariates`` (and ``response`` columns given by name); default ``adata.obs``.
    method
        ``"spearman"``, ``"pearson"`` or ``"regression"``.
    covariates
        Metadata column(s) to adjust for (categorical ones dummy-coded).
    signatures
        Subset of signatures (default: all).
    sample_key
        Column naming the biological replicate (single-cell data; scores averaged per replicate).
    unit
        ``"sample"`` (default) or ``"cell"``.
    level
        Confidence level of the intervals.
    min_samples
        Minimal number of complete samples; fewer gives a NaN row with a note.

    Returns
    -------
    StatsResult
        ``.table`` has the columns ``signature, response, method, n, statistic, df, effect,
        effect_type, ci_low, ci_high, pvalue, fdr, note``. ``effect`` is ``rho`` / ``r`` (``statistic``
        is its t value on ``df`` degrees of freedom) or the regression ``slope`` (``statistic`` = t).
        ``fdr`` is the Benjamini-Hochberg adjustment across signatures within each response.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> idx = [f"line{i}" for i in range(6)]
    >>> sc = pd.DataFrame({"efflux": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, index=idx)
    >>> gi50 = pd.DataFrame({"doxorubicin": [7.5, 7.1, 7.3, 6.8, 6.2, 6.0]}, index=idx)
    >>> res = rs.tl.associate(sc, gi50)
    >>> res.table[["signature", "response", "n", "effect", "effect_type"]]
      signature     response  n    effect effect_type
    0    efflux  doxorubicin  6 -0.942857         rho
    """
    check_choice("method", method, ("spearman", "pearson", "regression"))
    check_probability("level", level)
    check_int("min_samples", min_samples, minimum=3)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates or [])
    base = metadata
    if base is None and is_anndata(scores):
        base = scores.obs.copy()
        base.index = pd.Index(scores.obs_names.astype(str))
    if isinstance(response, (str, list, tuple)):
        names = [response] if isinstance(response, str) else list(response)
        if base is None:
            raise StatisticsError(
                "`response` names metadata columns but no `metadata` was given; pass `metadata=`."
            )
        require_columns(base, names, "response")
        resp = base[names].copy()
    elif isinstance(response, pd.Series):
        resp = response.to_frame(name=str(response.name) if response.name is not None else "response")
    elif isinstance(response, pd.DataFrame):
        resp = response.copy()
    else:
        raise StatisticsError(
            f"`response` must be a Series, a samples x responses DataFrame or column name(s); got {type(response).__name__}."
        )
    resp.columns = pd.Index([str(c) for c in resp.columns])
    resp.index = pd.Index([str(i) for i in resp.index])
    if not resp.index.is_unique:
        raise StatisticsError(
            "`response` has duplicated sample names; pivot long tables to one row per sample first."
        )
    bad = [c for c in resp.columns if not pd.api.types.is_numeric_dtype(resp[c])]
    if bad:
        raise StatisticsError(
            f"response column(s) {bad[:5]} are not numeric; pass numeric drug-response values."
        )
    if covariates:
        if base is None:
            raise StatisticsError(
                "`covariates` need `metadata=` (a DataFrame indexed by sample holding those columns)."
            )
        require_columns(base, covariates, "covariates")
        clash = [c for c in covariates if c in resp.columns]
        if clash:
            raise StatisticsError(
                f"column(s) {clash} are both a response and a covariate; rename one of them."
            )
    if sample_key is not None:
        if base is None:
            raise StatisticsError("`sample_key` needs `metadata=` (or an AnnData) holding that column.")
        require_columns(base, [sample_key], "sample_key")
    if base is not None:
        other = base.drop(columns=[c for c in base.columns if c in resp.columns])
        other.index = pd.Index([str(i) for i in other.index])
        meta = other.join(resp, how="inner")
    else:
        meta = resp
    df, meta, info = prepare(
        scores,
        meta,
        columns=[*resp.columns, *covariates],
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
    )
    rows = []
    for rname in resp.columns:
        for sig in df.columns:
            cols = [rname, *covariates]
            ok = df[sig].notna() & meta[cols].notna().all(axis=1)
            x = df.loc[ok, sig].to_numpy(float)
            y = meta.loc[ok, rname].to_numpy(float)
            cov = meta.loc[ok, covariates] if covariates else None
            rows.append(_one(sig, rname, x, y, cov, method, level, min_samples))
    table = pd.DataFrame(rows, columns=ASSOC_COLUMNS)
    for _, idx in table.groupby("response").groups.items():
        table.loc[idx, "fdr"] = bh_fdr(table.loc[idx, "pvalue"])
    table.loc[table["signature"].isin(df.columns[df.isna().all()]), "note"] = "score not reported (all NaN)"
    table["n"] = table["n"].astype("Int64")
    params = {"method": method, "covariates": covariates, "level": level, "min_samples": min_samples, **info}
    return StatsResult("associate", table, params)
