"""Linear models of scores with covariates (OLS) and linear mixed models (random intercept per replicate)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import StatisticsError
from resistscore._types import is_anndata
from resistscore._validate import check_choice, check_probability
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._input import prepare, require_columns
from resistscore.tl.stats._lmm import fit_random_intercept
from resistscore.tl.stats._results import COMPARE_COLUMNS, StatsResult, bh_fdr, group_levels

__all__ = ["MODEL_COLUMNS", "fit_model"]

#: Fixed columns of :func:`fit_model` tables.
MODEL_COLUMNS = [
    "signature",
    "model",
    "term",
    "n",
    "effect",
    "effect_type",
    "std_err",
    "statistic",
    "df",
    "ci_low",
    "ci_high",
    "pvalue",
    "fdr",
    "note",
]

_RESPONSE = "score"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
#: patsy names that may appear without a call (contrast codings, builtins)
_PATSY_NAMES = {"C", "Q", "I", "Sum", "Treatment", "Diff", "Poly", "Helmert", "True", "False", "None"}


def _formula_columns(formula: str, columns: pd.Index) -> list[str]:
    """Columns named on the right-hand side of ``formula``; unknown bare names are returned too (to be reported)."""
    if "~" not in formula:
        raise StatisticsError(f"`formula` must look like 'score ~ group + covariates'; got {formula!r}.")
    lhs, rhs = formula.split("~", 1)
    if lhs.strip() != _RESPONSE:
        raise StatisticsError(
            f"the left-hand side of `formula` must be `{_RESPONSE}` (each signature's score in turn); got {lhs.strip()!r}."
        )
    quoted = re.findall(r"Q\(\s*['\"](.+?)['\"]\s*\)", rhs)
    bare = re.sub(r"Q\(\s*['\"].+?['\"]\s*\)", " ", rhs)
    bare = re.sub(r"(['\"]).*?\1", " ", bare)
    names = []
    for m in _IDENT.finditer(bare):
        following = bare[m.end() :].lstrip()
        if not following.startswith(("(", "=")) and m.group(0) not in _PATSY_NAMES:
            names.append(m.group(0))
    wanted = list(dict.fromkeys([*names, *quoted]))
    return [n for n in wanted if n in columns or not n.replace(".", "").isdigit()]


def _fit_one(
    formula: str, data: pd.DataFrame, model: str | None, groups_col: str | None, key: str | None = None
):
    """``(fit, note, failed)``; a failed mixed model is refitted on the replicate means (pseudobulk)."""
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    if model == "mixed":
        return _fit_mixed(formula, data, groups_col, key or groups_col)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = OLS.from_formula(formula, data).fit()
    notes = {
        "did not converge"
        if issubclass(w.category, ConvergenceWarning)
        else str(w.message).split("\n")[0][:100]
        for w in caught
    }
    failure = _fit_failure(fit, model, notes)
    if failure:
        notes.add(failure)
    return fit, "; ".join(sorted(notes)), bool(failure)


def _fit_mixed(formula: str, data: pd.DataFrame, groups_col: str, key: str):
    """Fit a random intercept per ``groups_col`` by profiled REML (:mod:`._lmm`, as lme4).

    A boundary fit is reported with a note; a fit that fails is replaced by OLS of the replicate means (pseudobulk).
    """
    import patsy

    y, X = patsy.dmatrices(formula, data, return_type="dataframe", NA_action="drop")
    groups = data.loc[X.index, groups_col].to_numpy()
    n_groups = len(pd.unique(groups))
    why = ""
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        why = "rank-deficient design (confounded terms)"
    elif n_groups < 2:
        why = f"one {key} only: no between-{key} variance to estimate"
    else:
        fit = fit_random_intercept(y.iloc[:, 0].to_numpy(), X, groups)
        if fit.converged:
            note = ""
            if fit.singular:
                note = (
                    f"boundary (singular) fit: the between-{key} variance is estimated at 0, so estimate, CI and "
                    "p-value are those of ordinary least squares on the cells (as lme4 reports them) and treat "
                    "cells as independent; the pseudobulk test (the default) is the safer inference"
                )
            return fit, note, False
        why = (
            f"no finite REML optimum: no variation within {key}s, or the between-{key} variance is unbounded"
        )
    return _pseudobulk_fallback(formula, data, groups_col, key, why)


def _pseudobulk_fallback(formula: str, data: pd.DataFrame, groups_col: str, key: str, why: str):
    """OLS of ``formula`` on the mean score of each replicate (the design must be constant within replicates)."""
    cols = [c for c in _formula_columns(formula, data.columns) if c in data.columns and c != groups_col]
    g = data.groupby(groups_col, sort=True, observed=True)
    varies = [c for c in cols if (g[c].nunique(dropna=False) > 1).any()]
    failed = f"mixed model fit failed ({why})"
    if varies:
        return None, f"{failed}; no pseudobulk test either: {varies[0]!r} varies within {key}s", True
    agg = g[cols].first()
    agg[_RESPONSE] = g[_RESPONSE].mean()
    if len(agg) < 3:
        return None, f"{failed}; too few {key}s ({len(agg)}) for the pseudobulk test", True
    fit, note, failed_ols = _fit_one(formula, agg.reset_index(drop=True), None, None)
    fit.pseudobulk = True
    if failed_ols:
        return fit, f"{failed}; pseudobulk test: {note}", True
    return (
        fit,
        f"{failed}; pseudobulk fallback: OLS of the {len(agg)} {key} means" + (f"; {note}" if note else ""),
        False,
    )


def _fit_failure(fit: Any, model: str | None, notes: set[str]) -> str:
    """Why an OLS fit's coefficients must not be reported (empty string when they can be)."""
    exog = fit.model.exog
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        return "rank-deficient design (confounded terms): coefficients not identifiable, not reported"
    return ""


def _coef_rows(
    sig: str, fit: Any, model: str | None, terms: Sequence[str], level: float, note: str, failed: bool = False
) -> list[dict]:
    pseudobulk = getattr(fit, "pseudobulk", False)
    label = "pseudobulk_ols" if pseudobulk else ("mixedlm" if model == "mixed" else "ols")
    ci = fit.conf_int(alpha=1 - level) if fit is not None else None
    rows = []
    for t in terms:
        row = dict.fromkeys(MODEL_COLUMNS, np.nan) | {
            "signature": sig,
            "model": label,
            "term": t,
            "n": int(fit.nobs) if fit is not None else np.nan,
            "effect_type": "coefficient",
        }
        if failed or fit is None or not np.isfinite(fit.bse[t]):
            rows.append(row | {"note": note or "non-finite standard error: not reported"})
            continue
        wald = model == "mixed" and not pseudobulk
        rows.append(
            row
            | {
                "effect": float(fit.params[t]),
                "std_err": float(fit.bse[t]),
                "statistic": float(fit.tvalues[t]),
                "df": np.nan if wald else float(fit.df_resid),
                "ci_low": float(ci.loc[t, 0]),
                "ci_high": float(ci.loc[t, 1]),
                "pvalue": float(fit.pvalues[t]),
                "note": note,
            }
        )
    return rows


def _run(
    df: pd.DataFrame,
    meta: pd.DataFrame,
    formula: str,
    term: str | None,
    model: str | None,
    groups_col,
    level,
    key: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    import patsy
    from patsy import PatsyError

    if _RESPONSE in meta.columns:
        raise StatisticsError(
            f"the metadata already has a column named {_RESPONSE!r}, which the formula reserves for the "
            "signature score; rename that column."
        )
    rows: list[dict] = []
    fits: dict[str, Any] = {}
    for sig in df.columns:
        data = meta.copy()
        data[_RESPONSE] = df[sig].to_numpy()
        data = data[data[_RESPONSE].notna()]
        empty = dict.fromkeys(MODEL_COLUMNS, np.nan) | {
            "signature": sig,
            "model": model or "ols",
            "term": term or "",
        }
        if model == "mixed":
            empty["model"] = "mixedlm"
        if len(data) < 3:
            rows.append(
                empty
                | {
                    "n": len(data),
                    "note": "score not reported (all NaN)" if len(data) == 0 else "too few samples",
                }
            )
            continue
        if np.ptp(data[_RESPONSE].to_numpy()) == 0:
            rows.append(empty | {"n": len(data), "note": "constant scores"})
            continue
        try:
            fit, note, failed = _fit_one(formula, data, model, groups_col, key)
            coef = (
                fit.params.index
                if fit is not None
                else patsy.dmatrices(formula, data, return_type="dataframe")[1].columns
            )
        except (PatsyError, np.linalg.LinAlgError) as exc:
            raise StatisticsError(
                f"cannot fit `formula`={formula!r}: {exc}. Check the column names and levels."
            ) from exc
        names = [n for n in coef if n != "Intercept" and n != "Group Var"]
        chosen = (
            names
            if term is None
            else [n for n in names if n == term or n.startswith(term + "[") or n.startswith(term)]
        )
        if not chosen:
            raise StatisticsError(
                f"`term`={term!r} matches no coefficient of the model; coefficients: {names}."
            )
        if fit is not None and fit.df_resid <= 0 and (model != "mixed" or getattr(fit, "pseudobulk", False)):
            rows.append(
                empty
                | {
                    "n": int(fit.nobs),
                    "note": (note + "; " if note else "") + "no residual degrees of freedom",
                }
            )
            continue
        if fit is not None:
            fits[sig] = fit
        rows.extend(_coef_rows(sig, fit, model, chosen, level, note, failed))
    table = pd.DataFrame(rows, columns=MODEL_COLUMNS)
    for _, idx in table.groupby("term", dropna=False).groups.items():
        table.loc[idx, "fdr"] = bh_fdr(table.loc[idx, "pvalue"])
    table["n"] = table["n"].astype("Int64")
    return table, fits


def fit_model(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    formula: str,
    term: str | None = None,
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
    sample_key: str | None = None,
    unit: str = "sample",
    model: str | None = None,
    level: float = 0.95,
) -> StatsResult:
    """Fit a linear model of each signature's score on metadata columns (statsmodels formula).

    For every signature, ``formula`` is fitted with ``score`` set to that signature's scores:
    ordinary least squares by default, or a linear mixed model with a random intercept per
    ``sample_key`` (``model="mixed"``, REML as lme4; for cells nested in patients). Coefficients of
    ``term`` are reported with CI, p-value and the Benjamini-Hochberg FDR across signatures.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData with ``obsm["resistscore_scores"]``, or a samples x signatures DataFrame.
    metadata
        Sample metadata indexed by sample (default: ``adata.obs``).
    formula
        A statsmodels / patsy formula whose left-hand side is ``score``, e.g.
        ``"score ~ C(response, Treatment('sensitive')) + tissue"``. Quote awkward names with ``Q("...")``.
    term
        Report the coefficients whose name starts with ``term`` (e.g. ``"C(response"``); default: all but the intercept.
    signatures
        Subset of signatures (default: all).
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.
    sample_key
        Column naming the biological replicate. Without ``model="mixed"``, scores are averaged per
        replicate before fitting (the formula's columns must be constant within a replicate).
    unit
        ``"sample"`` (default) or ``"cell"`` (cells as replicates; warns).
    model
        ``None`` (OLS) or ``"mixed"`` (random intercept per ``sample_key``, profiled REML as
        ``lme4::lmer``). A boundary (singular) fit - the between-replicate variance estimated at 0 - is
        reported, as lme4 reports it, with a note (its numbers are then those of OLS on the cells); a fit
        without a finite optimum (no variation within replicates) falls back to OLS of the replicate means
        (``model`` ``"pseudobulk_ols"``, with a note).
    level
        Confidence level of the intervals.

    Returns
    -------
    StatsResult
        ``.table`` has the columns ``signature, model, term, n, effect, effect_type, std_err,
        statistic, df, ci_low, ci_high, pvalue, fdr, note``: ``effect`` is the coefficient of ``term``
        (``effect_type`` ``"coefficient"``), ``statistic`` is t for OLS and the Wald z for the mixed
        model, ``fdr`` is across signatures within each term. ``.models`` maps signature to the fit whose
        numbers are in the table: a statsmodels OLS result, or a
        :class:`~resistscore.tl.stats._lmm.RandomInterceptFit` (``scale``, ``group_var``, ``theta``,
        ``llf``, ``singular``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(1)
    >>> meta = pd.DataFrame(
    ...     {"resp": ["R", "S"] * 10, "tissue": ["lung"] * 10 + ["breast"] * 10},
    ...     index=[f"s{i}" for i in range(20)],
    ... )
    >>> sc = pd.DataFrame({"efflux": (meta.resp == "R") * 1.0 + rng.normal(0, 0.5, 20)}, index=meta.index)
    >>> res = rs.tl.fit_model(sc, meta, formula="score ~ C(resp, Treatment('S')) + tissue", term="C(resp")
    >>> res.table[["signature", "term", "n"]]
      signature                             term   n
    0    efflux  C(resp, Treatment('S'))[T.R]  20
    """
    check_choice("model", model, (None, "mixed"))
    check_probability("level", level)
    if not isinstance(formula, str):
        raise StatisticsError(
            f"`formula` must be a string like 'score ~ group + tissue'; got {type(formula).__name__}."
        )
    if isinstance(metadata, pd.DataFrame):
        meta_cols = metadata.columns
    elif metadata is None and is_anndata(scores):
        meta_cols = scores.obs.columns
    else:
        meta_cols = pd.Index([])
    cols = _formula_columns(formula, meta_cols)
    require_columns(pd.DataFrame(columns=meta_cols), cols, "formula")
    if model == "mixed" and sample_key is None:
        raise StatisticsError(
            "`model='mixed'` needs `sample_key=` the column of the replicate (patient) for the random intercept."
        )
    df, meta, info = prepare(
        scores,
        metadata,
        columns=cols,
        arg_names=["formula"] * len(cols),
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        keep_cells=model == "mixed",
        caller="fit_model",
        key=key,
    )
    table, fits = _run(df, meta, formula, term, model, sample_key, level)
    res = StatsResult(
        "fit_model",
        table,
        {"formula": formula, "term": term, "model": model or "ols", "level": level, **info},
    )
    res.models = fits
    return res


def _group_model(
    scores, metadata, *, group, reference, groups, covariates, signatures, sample_key, unit, model, level, key
) -> StatsResult:
    """``compare_groups`` with covariates or a mixed model: OLS / random-intercept REML, in the compare_groups layout."""
    if model == "mixed" and sample_key is None:
        raise StatisticsError(
            "`model='mixed'` needs `sample_key=` the column of the replicate (patient) for the random intercept."
        )
    df, meta, info = prepare(
        scores,
        metadata,
        columns=[group, *covariates],
        arg_names=["group"] + ["covariates"] * len(covariates),
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        keep_cells=model == "mixed",
        caller="compare_groups",
        key=key,
    )
    df, meta, ref = _chosen_groups(df, meta, group, groups, reference)
    data, rhs, groups_col = _model_frame(
        meta, group, ref, covariates, sample_key if model == "mixed" else None
    )
    formula = f"{_RESPONSE} ~ " + " + ".join(rhs)
    table, _ = _run(df.loc[data.index], data, formula, rhs[0], model, groups_col, level, key=sample_key)
    res = _group_contrasts(table, df.loc[data.index], data, ref)
    params = {
        "group": group,
        "test": res["test"].iloc[0] if len(res) else "ols",
        "reference": ref,
        "covariates": list(covariates),
        "model": model or "ols",
        "level": level,
        **info,
    }
    return StatsResult("compare_groups", res, params)


def _chosen_groups(
    df: pd.DataFrame, meta: pd.DataFrame, group: str, groups: Sequence[str] | None, reference: Any
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Keep the rows of ``groups`` (all when None); return them and the reference level (checked)."""
    g = meta[group]
    if groups is not None:
        keep = g.astype(str).isin([str(x) for x in groups])
        df, meta, g = df[keep], meta[keep], g[keep]
    labels = group_levels(g)
    if len(labels) < 2:
        raise StatisticsError(
            f"column {group!r} has {len(labels)} level(s); at least 2 groups are needed to compare."
        )
    ref = str(reference) if reference is not None else labels[0]
    if ref not in labels:
        raise StatisticsError(f"`reference`={ref!r} is not a level of {group!r}; levels: {labels}.")
    return df, meta, ref


def _model_frame(
    meta: pd.DataFrame, group: str, ref: str, covariates: Sequence[str], replicate: str | None
) -> tuple[pd.DataFrame, list[str], str | None]:
    """Return the model data (``_group``, ``_cov<i>``, ``_replicate``; complete rows), its terms and group column.

    The first term is the group with ``ref`` as reference level; numeric covariates enter as they are,
    the others dummy-coded. ``replicate`` (mixed models) is the column of the random intercept.
    """
    g = meta[group]
    data = pd.DataFrame(index=meta.index)
    data["_group"] = g.astype(str).where(g.notna())
    rhs = [f"C(_group, Treatment(reference={ref!r}))"]
    for i, c in enumerate(covariates):
        col = f"_cov{i}"
        data[col] = meta[c].to_numpy()
        numeric = pd.api.types.is_numeric_dtype(meta[c]) and not pd.api.types.is_bool_dtype(meta[c])
        rhs.append(col if numeric else f"C({col})")
    groups_col = None
    if replicate is not None:
        data["_replicate"] = meta[replicate].astype(str).to_numpy()
        groups_col = "_replicate"
    return data.dropna(), rhs, groups_col


def _group_contrasts(table: pd.DataFrame, df: pd.DataFrame, data: pd.DataFrame, ref: str) -> pd.DataFrame:
    """Return the group coefficients of the model ``table`` in the compare_groups layout, BH FDR per contrast."""
    out = [_contrast_row(r, df[r["signature"]], data, ref) for _, r in table.iterrows()]
    res = pd.DataFrame(out, columns=COMPARE_COLUMNS)
    for _, idx in res.groupby(["group1", "group2"], dropna=False).groups.items():
        res.loc[idx, "fdr"] = bh_fdr(res.loc[idx, "pvalue"])
    for c in ("n1", "n2"):
        res[c] = res[c].astype("Int64")
    return res


def _contrast_row(r: pd.Series, s: pd.Series, data: pd.DataFrame, ref: str) -> dict[str, Any]:
    """Return the row of one coefficient ``r`` (``[T.<level>]``) of the scores ``s``: the level against ``ref``."""
    m = re.search(r"\[T\.(.*)\]$", str(r["term"]))
    g1 = m.group(1) if m else None
    row = dict.fromkeys(COMPARE_COLUMNS, np.nan)
    row.update(
        signature=r["signature"],
        test=r["model"],
        group1=g1,
        group2=ref,
        estimate=r["effect"],
        estimate_type="adjusted_mean_difference",
        estimate_ci_low=r["ci_low"],
        estimate_ci_high=r["ci_high"],
        statistic=r["statistic"],
        df=r["df"],
        effect=r["effect"],
        effect_type="adjusted_mean_difference",
        ci_low=r["ci_low"],
        ci_high=r["ci_high"],
        pvalue=r["pvalue"],
        note=r["note"],
    )
    if g1 is not None:
        gs = data["_group"]
        ok = s.notna()
        row.update(
            n1=int(((gs == g1) & ok).sum()),
            n2=int(((gs == ref) & ok).sum()),
            mean1=float(s[(gs == g1) & ok].mean()),
            mean2=float(s[(gs == ref) & ok].mean()),
        )
        if r["model"] == "pseudobulk_ols":  # the fallback compared replicates, not cells
            reps = data.loc[ok[ok].index, "_replicate"]
            row.update(n1=int(reps[gs == g1].nunique()), n2=int(reps[gs == ref].nunique()))
    return row
