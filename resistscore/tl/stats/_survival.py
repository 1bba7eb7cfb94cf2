"""Survival: Cox proportional hazards per signature, Kaplan-Meier curves and log-rank test of high vs low."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import StatisticsError
from resistscore._validate import check_choice, check_probability
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._confounders import mark_adjusted, with_adjustment
from resistscore.tl.stats._input import prepare
from resistscore.tl.stats._results import SurvivalResult, bh_fdr

__all__ = ["SURVIVAL_COLUMNS", "survival"]

#: Fixed columns of :func:`survival` tables.
SURVIVAL_COLUMNS = [
    "signature",
    "n",
    "n_events",
    "effect",
    "effect_type",
    "ci_low",
    "ci_high",
    "statistic",
    "pvalue",
    "fdr",
    "n_high",
    "n_low",
    "median_high",
    "median_low",
    "logrank_statistic",
    "logrank_pvalue",
    "logrank_fdr",
    "adjusted_for",
    "note",
]
KM_COLUMNS = ["signature", "group", "time", "n_at_risk", "n_events", "survival", "ci_low", "ci_high"]


def _design(cov: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for c in cov.columns:
        col = cov[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            parts.append(col.astype(float).rename(f"cov:{c}"))
        else:
            d = pd.get_dummies(col.astype(str), prefix=f"cov:{c}", drop_first=True, dtype=float)
            parts.append(d)
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=cov.index)


_EVENT_WORDS = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}


def _event_indicator(values: pd.Series, name: str) -> pd.Series:
    """1.0 (event) / 0.0 (censored) / NaN from numbers, booleans or the words True/False, yes/no, 1/0."""
    if values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype)):
        words = values.map(lambda v: _EVENT_WORDS.get(str(v).strip().lower(), v) if isinstance(v, str) else v)
        values = words
    levels = set(pd.unique(values.dropna()))
    if not levels <= {0, 1}:
        raise StatisticsError(
            f"`event` column {name!r} must be 1/True (event) or 0/False (censored); found "
            f"{sorted(map(str, levels))[:5]}. Recode it to 1/0 (or True/False)."
        )
    return values.astype(float)


def _km(sig: str, label: str, t: np.ndarray, e: np.ndarray, level: float) -> tuple[pd.DataFrame, float]:
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter(alpha=1 - level).fit(t, e)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    et = kmf.event_table
    out = pd.DataFrame(
        {
            "signature": sig,
            "group": label,
            "time": sf.index.to_numpy(float),
            "n_at_risk": et["at_risk"].reindex(sf.index).to_numpy(),
            "n_events": et["observed"].reindex(sf.index).to_numpy(),
            "survival": sf.to_numpy(),
            "ci_low": ci.iloc[:, 0].to_numpy(),
            "ci_high": ci.iloc[:, 1].to_numpy(),
        }
    )
    return out, float(kmf.median_survival_time_)


def survival(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    time: str,
    event: str,
    covariates: str | Sequence[str] | None = None,
    split: str | float = "median",
    per: str = "sd",
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
    sample_key: str | None = None,
    unit: str = "sample",
    level: float = 0.95,
    adjust: Any = None,
) -> SurvivalResult:
    """Survival analysis of each score: Cox proportional hazards, Kaplan-Meier curves and log-rank test.

    The score enters a Cox model (lifelines ``CoxPHFitter``, Efron ties, as R ``survival::coxph``)
    as a continuous variable, with optional covariates; the hazard ratio is given per standard
    deviation of the score (``per="sd"``) or per score unit (``per="unit"``), with a Wald CI and
    p-value. Samples are also split into ``high`` (score above the median, or above the quantile
    ``split``) and ``low``; Kaplan-Meier curves of both groups are returned in ``.km`` and compared
    with the log-rank test (as R ``survival::survdiff``).

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData with ``obsm["resistscore_scores"]``, or a samples x signatures DataFrame.
    metadata
        Sample metadata indexed by sample (default: ``adata.obs``).
    time
        Column with the follow-up time (non-negative).
    event
        Column with the event indicator (1/True = event, 0/False = censored).
    covariates
        Column(s) to adjust the Cox model for (categorical ones dummy-coded).
    split
        ``"median"`` or a quantile in (0, 1) defining the high / low groups.
    per
        ``"sd"`` (hazard ratio per standard deviation of the score) or ``"unit"``.
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
        Confidence level.
    adjust
        Confounder(s) to adjust the Cox model for: id(s) of confounder scores among ``scores``
        (``"proliferation"`` is short for ``confounder.proliferation``; ``True``: every ``confounder.*``
        column), or the confounder scores (a samples x confounders DataFrame or a ScoreResult). They
        are numeric covariates of the Cox model only; the Kaplan-Meier split and the log-rank test stay
        unadjusted. Recorded in ``params["adjust"]`` and the table's ``adjusted_for`` column.

    Returns
    -------
    SurvivalResult
        ``.table`` has the columns ``signature, n, n_events, effect, effect_type, ci_low, ci_high,
        statistic, pvalue, fdr, n_high, n_low, median_high, median_low, logrank_statistic,
        logrank_pvalue, logrank_fdr, adjusted_for, note``: ``effect`` is the hazard ratio (``effect_type``
        ``hazard_ratio_per_sd`` or ``hazard_ratio_per_unit``), ``statistic`` its Wald z, ``fdr`` and
        ``logrank_fdr`` Benjamini-Hochberg across signatures. ``.km`` holds the Kaplan-Meier curves
        (``signature, group, time, n_at_risk, n_events, survival, ci_low, ci_high``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> sc = pd.DataFrame({"efflux": rng.normal(size=40)}, index=[f"p{i}" for i in range(40)])
    >>> meta = pd.DataFrame(
    ...     {"months": rng.exponential(20 * np.exp(-0.8 * sc["efflux"])), "dead": rng.random(40) < 0.8},
    ...     index=sc.index,
    ... )
    >>> res = rs.tl.survival(sc, meta, time="months", event="dead")
    >>> res.table[["signature", "n", "effect_type"]]
      signature   n          effect_type
    0    efflux  40  hazard_ratio_per_sd
    >>> bool(res.table.loc[0, "effect"] > 1)
    True
    """
    check_choice("per", per, ("sd", "unit"))
    check_probability("level", level)
    q = _split_quantile(split)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates or [])
    metadata, covariates, signatures, adjusted = with_adjustment(
        scores,
        metadata,
        adjust,
        covariates=covariates,
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        key=key,
    )
    df, meta, info = prepare(
        scores,
        metadata,
        columns=[time, event, *covariates],
        arg_names=["time", "event"] + ["covariates"] * len(covariates),
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        caller="survival",
        key=key,
    )
    t_all = _follow_up_times(meta[time], time)
    e_all = _event_indicator(meta[event], event)
    cov_design = _design(meta[covariates]) if covariates else pd.DataFrame(index=meta.index)
    rows, kms = [], []
    for sig in df.columns:
        ok = df[sig].notna() & t_all.notna() & e_all.notna()
        if covariates:
            ok &= meta[covariates].notna().all(axis=1)
        s, t, e = df.loc[ok, sig].astype(float), t_all[ok].astype(float), e_all[ok]
        row, curves = _signature_row(sig, s, t, e, cov_design.loc[ok], per=per, q=q, level=level)
        rows.append(row)
        kms.extend(curves)
    table = _survival_table(rows)
    km = pd.concat(kms, ignore_index=True) if kms else pd.DataFrame(columns=KM_COLUMNS)
    mark_adjusted(table, adjusted)
    params = {
        "time": time,
        "event": event,
        "covariates": covariates,
        "adjust": adjusted,
        "split": split,
        "per": per,
        "level": level,
        **info,
    }
    return SurvivalResult("survival", table, params, km)


def _split_quantile(split: str | float) -> float:
    """Return the quantile of the high/low split: 0.5 for ``"median"``, else ``split`` (a probability)."""
    if isinstance(split, str):
        check_choice("split", split, ("median",))
        return 0.5
    return check_probability("split", split)


def _follow_up_times(t_all: pd.Series, time: str) -> pd.Series:
    """Return the follow-up times, checked: non-negative numbers."""
    if (
        not pd.api.types.is_numeric_dtype(t_all)
        or pd.api.types.is_bool_dtype(t_all)
        or (t_all.dropna() < 0).any()
    ):
        raise StatisticsError(
            f"`time` column {time!r} must hold non-negative numbers (follow-up time); convert it with "
            "pd.to_numeric and drop negative times."
        )
    return t_all


def _signature_row(
    sig: str,
    s: pd.Series,
    t: pd.Series,
    e: pd.Series,
    covs: pd.DataFrame,
    *,
    per: str,
    q: float,
    level: float,
) -> tuple[dict[str, Any], list[pd.DataFrame]]:
    """Return the row of one signature (Cox model, log-rank test of high vs low) and its Kaplan-Meier curves."""
    row = dict.fromkeys(SURVIVAL_COLUMNS, np.nan)
    row.update(signature=sig, effect_type=f"hazard_ratio_per_{per}", note="")
    row.update(n=len(s), n_events=int(e.sum()))
    if len(s) == 0:
        row["note"] = "score not reported (all NaN)"
        return row, []
    if len(s) < 4 or e.sum() < 1 or np.ptp(s.to_numpy()) == 0:
        row["note"] = "constant scores" if np.ptp(s.to_numpy()) == 0 else "too few samples or no event"
        return row, []
    x = s / s.std(ddof=1) if per == "sd" else s
    data = pd.concat([pd.DataFrame({"_t": t, "_e": e, "_score": x}), covs], axis=1)
    notes = _cox(row, data, level)
    curves = _high_low(row, sig, s, t, e, q, level)
    row["note"] = "; ".join(notes)
    return row, curves


def _cox(row: dict[str, Any], data: pd.DataFrame, level: float) -> list[str]:
    """Fit the Cox model of ``data`` into ``row`` (hazard ratio, CI, z, p); return its notes."""
    from lifelines import CoxPHFitter

    notes = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cph = CoxPHFitter(alpha=1 - level).fit(data, duration_col="_t", event_col="_e")
        if caught:
            notes.append("cox: " + str(caught[0].message).split("\n")[0][:120])
        summ = cph.summary.loc["_score"]
        ci = cph.confidence_intervals_.loc["_score"]
        row.update(
            effect=float(np.exp(summ["coef"])),
            ci_low=float(np.exp(ci.iloc[0])),
            ci_high=float(np.exp(ci.iloc[1])),
            statistic=float(summ["z"]),
            pvalue=float(summ["p"]),
        )
    except Exception as exc:  # lifelines raises ConvergenceError on separation / collinearity
        notes.append(f"cox model failed: {type(exc).__name__}")
    return notes


def _high_low(
    row: dict[str, Any], sig: str, s: pd.Series, t: pd.Series, e: pd.Series, q: float, level: float
) -> list[pd.DataFrame]:
    """Split at the ``q`` quantile: log-rank test and medians into ``row``; return the two KM curves."""
    from lifelines.statistics import logrank_test

    cut = float(np.quantile(s, q))
    high = (s > cut).to_numpy()
    row.update(n_high=int(high.sum()), n_low=int((~high).sum()))
    if not (high.sum() and (~high).sum()):
        return []
    lr = logrank_test(t[high], t[~high], e[high], e[~high])
    row.update(logrank_statistic=float(lr.test_statistic), logrank_pvalue=float(lr.p_value))
    curves = []
    for label, m in (("high", high), ("low", ~high)):
        curve, med = _km(sig, label, t[m].to_numpy(), e[m].to_numpy(), level)
        curves.append(curve)
        row[f"median_{label}"] = med
    return curves


def _survival_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return the rows as the table of :func:`survival`, with the FDR of the Cox and the log-rank p-values."""
    table = pd.DataFrame(rows, columns=SURVIVAL_COLUMNS)
    table["fdr"] = bh_fdr(table["pvalue"])
    table["logrank_fdr"] = bh_fdr(table["logrank_pvalue"])
    for c in ("n", "n_events", "n_high", "n_low"):
        table[c] = table[c].astype("Int64")
    return table
