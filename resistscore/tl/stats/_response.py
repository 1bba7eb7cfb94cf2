"""Association of scores with continuous drug response (IC50, AUC, GI50): Spearman, Pearson, regression."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import StatisticsError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_int, check_probability
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._censored import censoring_of, coarsen, tobit_slope
from resistscore.tl.stats._confounders import mark_adjusted, with_adjustment
from resistscore.tl.stats._effects import fisher_z_ci
from resistscore.tl.stats._input import prepare, require_columns
from resistscore.tl.stats._results import AssociationResult, bh_fdr

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
    "n_censored_low",
    "n_censored_high",
    "bound_low",
    "bound_high",
    "adjusted_for",
    "note",
]


def _covariate_matrix(cov: pd.DataFrame, rank: bool) -> np.ndarray:
    """Intercept + covariates (numeric ones ranked for rank methods, categorical ones dummy-coded)."""
    from scipy import stats

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
    from scipy import stats

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


def _one(sig, resp_name, x, y, cov, method, level, min_samples, side=None) -> dict:
    from scipy import stats
    from statsmodels.regression.linear_model import OLS

    row = dict.fromkeys(ASSOC_COLUMNS, np.nan)
    row.update(signature=sig, response=resp_name, n=len(x), note="")
    has_cov = cov is not None and cov.shape[1] > 0
    side = np.zeros(len(y), dtype=np.int8) if side is None else np.asarray(side)
    censored = bool((side != 0).any())
    row["method"] = {
        "spearman": "partial_spearman" if has_cov else "spearman",
        "pearson": "partial_pearson" if has_cov else "pearson",
        "regression": "tobit" if censored else "ols",
    }[method]
    row.update(n_censored_low=int((side < 0).sum()), n_censored_high=int((side > 0).sum()))
    if censored:
        _, low, high = coarsen(y, side)
        row.update(
            bound_low=low if np.isfinite(low) else np.nan, bound_high=high if np.isfinite(high) else np.nan
        )
    if len(x) < min_samples:
        row["note"] = f"fewer than {min_samples} complete samples"
        return row
    if np.ptp(x) == 0:
        row["note"] = "constant scores"
        return row
    if censored and method == "pearson":
        row["note"] = (
            f"{int((side != 0).sum())} censored response values (at the limits of the tested range): Pearson's r "
            "is not defined for them; use method='spearman' (ties at the limit) or 'regression' (censored regression)"
        )
        return row
    if censored and method == "spearman":
        y, low, high = coarsen(y, side)
        if low >= high:
            row["note"] = "every value is censored: the limits leave no order to test"
            return row
    if np.ptp(y) == 0:
        row["note"] = "constant response"
        return row
    if censored and method == "regression":
        z = _covariate_matrix(cov, rank=False) if has_cov else None
        row.update(tobit_slope(y, x, side, z, level), effect_type="slope")
        return row
    n = len(x)
    if method == "regression":
        z = _covariate_matrix(cov, rank=False) if has_cov else np.ones((n, 1))
        X = np.hstack([z[:, :1], x[:, None], z[:, 1:]])
        fit = OLS(y, X).fit()
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
    key: str = DEFAULT_KEY,
    sample_key: str | None = None,
    unit: str = "sample",
    level: float = 0.95,
    min_samples: int = 5,
    limits=None,
    detect_limits: bool = True,
    adjust: Any = None,
) -> AssociationResult:
    """Associate scores with a continuous drug response (IC50, AUC, GI50, ...).

    ``method="spearman"`` (default) gives Spearman's rho with a Fisher-z CI (Bonett-Wright SE);
    with ``covariates`` (e.g. tissue) the partial Spearman correlation on ranks. ``"pearson"`` is the
    (partial) Pearson r. ``"regression"`` fits the OLS ``response ~ score + covariates`` and reports
    the slope of the score. Each response is analysed separately; samples with a missing score,
    response or covariate are left out pairwise. ``adjust`` adds confounder scores (proliferation,
    stromal / immune content) as numeric covariates: the partial Spearman correlation then removes the
    part of the association that runs through them.

    **Censored responses.** Values at the limits of the tested range (a GI50 capped at the highest
    tested concentration) are bounds, not measurements. They are recognised from ``limits`` and, with
    ``detect_limits``, from values piled at a response's smallest or largest value (at least 3 samples
    and 5 % share it), and analysed as censored: Spearman ties them at their limit (below / above
    every exact value), ``"regression"`` becomes a censored normal (Tobit) regression (``method``
    ``"tobit"``; R ``survreg(..., dist="gaussian")``), and Pearson's r, which is undefined for them,
    gives a NaN row with a note. The table counts them (``n_censored_low``, ``n_censored_high``) and
    gives the limits (``bound_low``, ``bound_high``); ``.censoring`` flags every observation.

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
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.
    sample_key
        Column naming the biological replicate (single-cell data; scores averaged per replicate).
    unit
        ``"sample"`` (default) or ``"cell"``.
    level
        Confidence level of the intervals.
    min_samples
        Minimal number of complete samples; fewer gives a NaN row with a note.
    limits
        The limits of the tested range: ``(low, high)`` for every response, or ``{response: (low,
        high)}``; each a number, the name of a metadata column of per-sample limits (e.g. the highest
        concentration tested on each line), or ``None``. Values at or beyond ``low`` are
        left-censored (the true value is at most ``low``), at or beyond ``high`` right-censored. On a
        -log10 GI50 scale, the highest tested concentration is the *low* limit.
    detect_limits
        Also take a response's smallest (largest) value as its low (high) limit when at least
        ``max(3, 5 %)`` of the samples share it exactly (a side with a stated limit is not detected).
    adjust
        Confounder(s) to adjust for: id(s) of confounder scores among ``scores`` (``"proliferation"``
        is short for ``confounder.proliferation``; ``True``: every ``confounder.*`` column), or the
        confounder scores themselves (a samples x confounders DataFrame, or a ScoreResult such as
        ``rs.get.result(adata, k)`` of ``rs.tl.score(adata, rs.sig.confounders(), key_added=k)``). They are
        covariates as above (ranked for Spearman: the partial correlation of the rank residuals); the
        confounders are not analysed themselves. Recorded in ``params["adjust"]`` and the table's ``adjusted_for`` column.

    Returns
    -------
    AssociationResult
        ``.table`` has the columns ``signature, response, method, n, statistic, df, effect,
        effect_type, ci_low, ci_high, pvalue, fdr, n_censored_low, n_censored_high, bound_low,
        bound_high, adjusted_for, note``. ``effect`` is ``rho`` / ``r`` (``statistic`` is its t value on ``df``
        degrees of freedom), the regression ``slope`` (``statistic`` = t; for ``"tobit"`` the Wald z).
        ``fdr`` is the Benjamini-Hochberg adjustment across signatures within each response.
        ``.censoring`` has one row per analysed sample and response: ``sample, response, value``
        (limited), ``censored`` (``"left"``, ``"right"`` or ``""``), ``bound``.

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
    if not isinstance(detect_limits, (bool, np.bool_)):
        raise StatisticsError(f"`detect_limits` must be True or False; got {detect_limits!r}.")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates or [])
    base = metadata
    if base is None and is_anndata(scores):
        base = scores.obs.copy()
        base.index = pd.Index(scores.obs_names.astype(str))
    resp = _response_frame(response, base)
    base, covariates, signatures, adjusted = _with_confounders(
        scores,
        base,
        resp,
        adjust,
        covariates=covariates,
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        key=key,
    )
    _check_metadata_columns(base, resp, covariates, sample_key)
    meta = _join_response(base, resp)
    per_response = _limits_by_response(limits, list(resp.columns))
    limit_cols = sorted({v for lim in per_response.values() for v in (lim or ()) if isinstance(v, str)})
    if limit_cols:
        if base is None:
            raise StatisticsError(
                "`limits` name metadata columns but no `metadata` was given; pass `metadata=`."
            )
        require_columns(base, limit_cols, "limits")
    df, meta, info = prepare(
        scores,
        meta,
        columns=list(dict.fromkeys([*resp.columns, *covariates, *limit_cols])),
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        key=key,
    )
    rows = []
    censoring = {}
    for rname in resp.columns:
        cens = censoring_of(meta[rname], meta, rname, per_response[rname], detect_limits)
        censoring[rname] = cens
        for sig in df.columns:
            cols = [rname, *covariates]
            ok = df[sig].notna() & meta[cols].notna().all(axis=1)
            x = df.loc[ok, sig].to_numpy(float)
            y = cens.values[ok].to_numpy(float)
            cov = meta.loc[ok, covariates] if covariates else None
            rows.append(_one(sig, rname, x, y, cov, method, level, min_samples, cens.side[ok].to_numpy()))
    table = _association_table(rows, df)
    mark_adjusted(table, adjusted)
    params = {
        "method": method,
        "covariates": covariates,
        "adjust": adjusted,
        "level": level,
        "min_samples": min_samples,
        "detect_limits": bool(detect_limits),
        "censoring": {
            r: {"low": c.low, "high": c.high, "source_low": c.source_low, "source_high": c.source_high}
            for r, c in censoring.items()
            if c.any
        },
        **info,
    }
    return AssociationResult("associate", table, params, _censoring_table(censoring))


def _response_frame(response: Any, base: pd.DataFrame | None) -> pd.DataFrame:
    """Return the responses as a samples x responses table of numbers (text sample names, unique)."""
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
    return resp


def _with_confounders(
    scores: Any, base: pd.DataFrame | None, resp: pd.DataFrame, adjust: Any, **kwargs: Any
) -> tuple[pd.DataFrame | None, list[str], Any, list[str]]:
    """Return the metadata with the confounder scores of ``adjust`` as covariates, and their names.

    Returns ``(base, covariates, signatures, adjusted)``; unchanged (``adjusted`` empty) without ``adjust``.
    """
    if adjust is None or adjust is False:
        return base, kwargs["covariates"], kwargs["signatures"], []
    base, covariates, signatures, adjusted = with_adjustment(scores, base, adjust, **kwargs)
    clash = [c for c in adjusted if c in resp.columns]
    if clash:
        raise StatisticsError(
            f"confounder(s) {clash} are both a response and in `adjust`; rename the response."
        )
    return base, covariates, signatures, adjusted


def _check_metadata_columns(
    base: pd.DataFrame | None, resp: pd.DataFrame, covariates: list[str], sample_key: str | None
) -> None:
    """Check that the covariates and the sample key are columns of the metadata, and no covariate is a response."""
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


def _join_response(base: pd.DataFrame | None, resp: pd.DataFrame) -> pd.DataFrame:
    """Return the metadata with the responses (the responses win over metadata columns of the same name)."""
    if base is None:
        return resp
    other = base.drop(columns=[c for c in base.columns if c in resp.columns])
    other.index = pd.Index([str(i) for i in other.index])
    return other.join(resp, how="inner")


def _association_table(rows: list[dict], df: pd.DataFrame) -> pd.DataFrame:
    """Return the rows as the table of :func:`associate`: BH FDR per response, unreported signatures noted."""
    table = pd.DataFrame(rows, columns=ASSOC_COLUMNS)
    for _, idx in table.groupby("response").groups.items():
        table.loc[idx, "fdr"] = bh_fdr(table.loc[idx, "pvalue"])
    table.loc[table["signature"].isin(df.columns[df.isna().all()]), "note"] = "score not reported (all NaN)"
    for c in ("n", "n_censored_low", "n_censored_high"):
        table[c] = table[c].astype("Int64")
    return table


def _limits_by_response(limits, responses: list[str]) -> dict:
    """``{response: (low, high)}`` from ``limits`` (one pair for all, or a dict by response)."""
    if limits is None:
        return dict.fromkeys(responses)
    if isinstance(limits, dict):
        unknown = [k for k in limits if str(k) not in responses]
        if unknown:
            raise StatisticsError(
                f"`limits` names responses {unknown[:5]} that are not analysed; responses: {responses[:10]}."
            )
        return {r: limits.get(r) for r in responses}
    return dict.fromkeys(responses, limits)


def _censoring_table(censoring: dict) -> pd.DataFrame:
    """One row per analysed sample and response: the value used, whether it is censored, and its bound."""
    parts = []
    for rname, c in censoring.items():
        ok = c.values.notna()
        side = c.side[ok].to_numpy()
        value = c.values[ok].to_numpy(float)
        parts.append(
            pd.DataFrame(
                {
                    "sample": c.values.index[ok].astype(str),
                    "response": rname,
                    "value": value,
                    "censored": np.select([side < 0, side > 0], ["left", "right"], ""),
                    "bound": np.where(side != 0, value, np.nan),
                }
            )
        )
    cols = ["sample", "response", "value", "censored", "bound"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
