"""Group comparisons of scores: Welch t, Mann-Whitney U, paired tests, ANOVA, Kruskal-Wallis."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import StatisticsError
from resistscore._validate import check_choice, check_probability
from resistscore.get import DEFAULT_KEY
from resistscore.tl.stats._confounders import mark_adjusted, with_adjustment
from resistscore.tl.stats._effects import (
    eta_squared_ci,
    fisher_z_ci,
    hedges_correction,
    hodges_lehmann,
    ncp_ci_t,
)
from resistscore.tl.stats._input import prepare
from resistscore.tl.stats._models import _group_model
from resistscore.tl.stats._results import COMPARE_COLUMNS, StatsResult, bh_fdr, group_levels

__all__ = ["COMPARE_COLUMNS", "compare_groups"]

_TESTS = ("welch", "mannwhitney", "anova", "kruskal")


def _empty_row(signature: str, test: str, g1: str, g2: str | None) -> dict[str, Any]:
    row = dict.fromkeys(COMPARE_COLUMNS, np.nan)
    row.update(signature=signature, test=test, group1=g1, group2=g2, note="")
    return row


def _two_sample(sig: str, x: np.ndarray, y: np.ndarray, g1: str, g2: str, test: str, level: float) -> dict:
    from scipy import stats

    name = "welch_t" if test == "welch" else "mann_whitney_u"
    row = _empty_row(sig, name, g1, g2)
    n1, n2 = len(x), len(y)
    row.update(n1=n1, n2=n2)
    if n1 < 2 or n2 < 2:
        row["note"] = "fewer than 2 non-missing scores in a group"
        return row
    row.update(mean1=float(np.mean(x)), mean2=float(np.mean(y)))
    if np.ptp(np.concatenate([x, y])) == 0:
        row["note"] = "constant scores"
        return row
    if test == "welch":
        res = stats.ttest_ind(x, y, equal_var=False)
        ci = res.confidence_interval(confidence_level=level)
        df_p = n1 + n2 - 2
        sp = math.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / df_p)
        j = hedges_correction(df_p)
        if sp > 0:
            d = (np.mean(x) - np.mean(y)) / sp
            scale = math.sqrt(1 / n1 + 1 / n2)
            lo, hi = ncp_ci_t(d / scale, df_p, level)
            effect, elo, ehi = j * d, j * lo * scale, j * hi * scale
        else:
            effect = elo = ehi = np.nan
            row["note"] = "zero within-group variance"
        row.update(
            estimate=float(np.mean(x) - np.mean(y)),
            estimate_type="mean_difference",
            estimate_ci_low=float(ci.low),
            estimate_ci_high=float(ci.high),
            statistic=float(res.statistic),
            df=float(res.df),
            effect=float(effect),
            effect_type="hedges_g",
            ci_low=float(elo),
            ci_high=float(ehi),
            pvalue=float(res.pvalue),
        )
    else:
        res = stats.mannwhitneyu(x, y, alternative="two-sided", method="auto")
        r = 2 * float(res.statistic) / (n1 * n2) - 1
        lo, hi = fisher_z_ci(r, math.sqrt((n1 + n2 + 1) / (3 * n1 * n2)), level)
        est, elo, ehi = hodges_lehmann(x, y, level)
        row.update(
            estimate=est,
            estimate_type="hodges_lehmann_shift",
            estimate_ci_low=elo,
            estimate_ci_high=ehi,
            statistic=float(res.statistic),
            effect=r,
            effect_type="rank_biserial",
            ci_low=lo,
            ci_high=hi,
            pvalue=float(res.pvalue),
        )
    return row


def _paired(sig: str, x: np.ndarray, y: np.ndarray, g1: str, g2: str, test: str, level: float) -> dict:
    from scipy import stats

    name = "paired_t" if test == "welch" else "wilcoxon_signed_rank"
    row = _empty_row(sig, name, g1, g2)
    n = len(x)
    row.update(n1=n, n2=n)
    if n < 2:
        row["note"] = "fewer than 2 complete pairs"
        return row
    row.update(mean1=float(np.mean(x)), mean2=float(np.mean(y)))
    d = x - y
    if np.ptp(d) == 0 and d[0] == 0:
        row["note"] = "all paired differences are zero"
        return row
    if test == "welch":
        res = stats.ttest_rel(x, y)
        ci = res.confidence_interval(confidence_level=level)
        sd = float(np.std(d, ddof=1))
        j = hedges_correction(n - 1)
        if sd > 0:
            dz = float(np.mean(d)) / sd
            lo, hi = ncp_ci_t(dz * math.sqrt(n), n - 1, level)
            effect, elo, ehi = j * dz, j * lo / math.sqrt(n), j * hi / math.sqrt(n)
        else:
            effect = elo = ehi = np.nan
            row["note"] = "constant paired differences"
        row.update(
            estimate=float(np.mean(d)),
            estimate_type="mean_paired_difference",
            estimate_ci_low=float(ci.low),
            estimate_ci_high=float(ci.high),
            statistic=float(res.statistic),
            df=float(n - 1),
            effect=float(effect),
            effect_type="hedges_g_z",
            ci_low=float(elo),
            ci_high=float(ehi),
            pvalue=float(res.pvalue),
        )
    else:
        nz = d[d != 0]
        m = len(nz)
        res = stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
        ranks = stats.rankdata(np.abs(nz))
        wplus, wminus = ranks[nz > 0].sum(), ranks[nz < 0].sum()
        r = float((wplus - wminus) / (wplus + wminus))
        se = math.sqrt((2 * m**3 + 3 * m**2 + m) / 6) / (m * (m + 1) / 2)
        lo, hi = fisher_z_ci(r, se, level)
        row.update(
            estimate=float(np.median(d)),
            estimate_type="median_paired_difference",
            statistic=float(res.statistic),
            effect=r,
            effect_type="matched_rank_biserial",
            ci_low=lo,
            ci_high=hi,
            pvalue=float(res.pvalue),
        )
    return row


def _omnibus(sig, groups, labels, test, level) -> dict:
    from scipy import stats

    name = "anova_f" if test == "anova" else "kruskal_wallis_h"
    row = _empty_row(sig, name, ", ".join(labels), None)
    n = sum(len(g) for g in groups)
    row.update(n1=n)
    if any(len(g) < 2 for g in groups):
        row["note"] = "fewer than 2 non-missing scores in a group"
        return row
    if np.ptp(np.concatenate(groups)) == 0:
        row["note"] = "constant scores"
        return row
    k = len(groups)
    if test == "anova":
        res = stats.f_oneway(*groups)
        grand = np.concatenate(groups).mean()
        ss_between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
        ss_total = float(((np.concatenate(groups) - grand) ** 2).sum())
        lo, hi = eta_squared_ci(float(res.statistic), k - 1, n - k, n, level)
        row.update(
            statistic=float(res.statistic),
            df=float(k - 1),
            effect=ss_between / ss_total,
            effect_type="eta_squared",
            ci_low=lo,
            ci_high=hi,
            pvalue=float(res.pvalue),
        )
    else:
        res = stats.kruskal(*groups)
        # epsilon^2 = H / (n - 1) is exactly eta^2 of the pooled ranks (tie-corrected H), so its CI is
        # the noncentral-F interval of the one-way ANOVA on ranks (rank-transform approach).
        ranks = stats.rankdata(np.concatenate(groups))
        cuts = np.cumsum([len(g) for g in groups])[:-1]
        f_rank = float(stats.f_oneway(*np.split(ranks, cuts)).statistic)
        lo, hi = eta_squared_ci(f_rank, k - 1, n - k, n, level)
        row.update(
            statistic=float(res.statistic),
            df=float(k - 1),
            effect=float(res.statistic) / (n - 1),
            effect_type="epsilon_squared",
            ci_low=lo,
            ci_high=hi,
            pvalue=float(res.pvalue),
        )
    return row


def compare_groups(
    scores: Any,
    metadata: pd.DataFrame | None = None,
    *,
    group: str,
    test: str = "welch",
    reference: str | None = None,
    groups: Sequence[str] | None = None,
    paired_by: str | None = None,
    covariates: str | Sequence[str] | None = None,
    signatures: str | Sequence[str] | None = None,
    key: str = DEFAULT_KEY,
    sample_key: str | None = None,
    unit: str = "sample",
    model: str | None = None,
    adjust: Any = None,
    level: float = 0.95,
) -> StatsResult:
    """Compare signature scores between groups of samples, with effect sizes and BH FDR.

    Two groups: Welch's t test (``test="welch"``, effect Hedges' g) or the Mann-Whitney U test
    (``"mannwhitney"``, effect rank-biserial r). More than two groups: one-way ANOVA (``"anova"``,
    eta^2) or Kruskal-Wallis (``"kruskal"``, epsilon^2); with ``"welch"``/``"mannwhitney"`` every
    level is compared with ``reference`` (or all pairs when no reference is given). With
    ``paired_by`` (e.g. patient, for pre/post designs) the paired t test or Wilcoxon signed-rank
    test is used. With ``covariates`` an OLS model ``score ~ C(group) + covariates`` gives the
    adjusted difference (see :func:`fit_model`). With ``adjust`` the confounder scores (e.g.
    ``adjust="proliferation"``) enter that model as covariates, so a difference carried by proliferation
    or by stromal / immune content is not reported as a mechanism's.

    Single-cell data are tested at the level of the biological replicate: scores are averaged per
    ``sample_key`` (a pseudobulk of scores). ``model="mixed"`` keeps cells and fits a linear mixed
    model with a random intercept per ``sample_key``. ``unit="cell"`` treats cells as replicates
    and emits :class:`~resistscore.CellsAsReplicatesWarning`.

    Parameters
    ----------
    scores
        :class:`ScoreResult`, AnnData with ``obsm["resistscore_scores"]``, or a samples x signatures DataFrame.
    metadata
        Sample metadata indexed by sample (default: ``adata.obs``).
    group
        Metadata column with the groups.
    test
        ``"welch"``, ``"mannwhitney"``, ``"anova"`` or ``"kruskal"``.
    reference
        Reference level: ``group2`` of every contrast (default: the first level, as in R).
    groups
        Restrict the analysis to these levels.
    paired_by
        Column identifying the unit of pairing (two groups only; one sample per unit and group).
    covariates
        Column(s) to adjust for (OLS; categorical columns are dummy-coded).
    signatures
        Subset of signatures (default: all).
    key
        The run to read from an AnnData (``key_added`` of :func:`resistscore.tl.score`, as in
        :func:`resistscore.get.scores`); default ``"resistscore"``. Ignored for a ScoreResult or DataFrame.
    sample_key
        Column naming the biological replicate of each cell (single-cell data).
    unit
        ``"sample"`` (default) or ``"cell"``.
    model
        ``None`` or ``"mixed"`` (random intercept per ``sample_key``; needs ``sample_key``).
    adjust
        Confounder(s) to adjust for: id(s) of confounder scores among ``scores`` (``"proliferation"``
        is short for ``confounder.proliferation``; ``True``: every ``confounder.*`` column), or the
        confounder scores themselves (a samples x confounders DataFrame, or a ScoreResult such as
        ``rs.get.result(adata, k)`` of ``rs.tl.score(adata, rs.sig.confounders(), key_added=k)``). Their
        scores are numeric covariates of the OLS (or mixed) model, averaged per sample with ``sample_key``;
        the confounders are not tested themselves. Recorded in ``params["adjust"]`` and the table's ``adjusted_for`` column.
    level
        Confidence level of the intervals.

    Returns
    -------
    StatsResult
        ``.table`` has the columns ``signature, test, group1, group2, n1, n2, mean1, mean2, estimate,
        estimate_type, estimate_ci_low, estimate_ci_high, statistic, df, effect, effect_type, ci_low,
        ci_high, pvalue, fdr, adjusted_for, note``. Differences are ``group1 - group2``. ``estimate`` is in score
        units (mean difference with Welch CI, Hodges-Lehmann shift, paired mean difference, or the
        adjusted OLS / mixed-model coefficient); ``effect`` is standardised (``hedges_g``,
        ``rank_biserial``, ``hedges_g_z``, ``matched_rank_biserial``, ``eta_squared``,
        ``epsilon_squared``). For omnibus tests ``group1`` lists the levels, ``n1`` is the total size
        and ``df`` the between-group degrees of freedom. ``fdr`` is the Benjamini-Hochberg
        adjustment across signatures within each contrast. ``note`` says why a row is NaN.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import resistscore as rs
    >>> rng = np.random.default_rng(0)
    >>> scores = pd.DataFrame(
    ...     {"efflux_abc": np.r_[rng.normal(1, 1, 8), rng.normal(0, 1, 8)]},
    ...     index=[f"s{i}" for i in range(16)],
    ... )
    >>> meta = pd.DataFrame({"response": ["resistant"] * 8 + ["sensitive"] * 8}, index=scores.index)
    >>> res = rs.tl.compare_groups(scores, meta, group="response", reference="sensitive")
    >>> res.table[["signature", "group1", "group2", "n1", "n2", "effect_type"]]
        signature     group1     group2  n1  n2 effect_type
    0  efflux_abc  resistant  sensitive   8   8    hedges_g
    >>> res.table.loc[0, ["estimate", "estimate_ci_low", "estimate_ci_high", "effect", "pvalue"]].astype(
    ...     float
    ... ).round(4)
    estimate            2.2361
    estimate_ci_low     1.5165
    estimate_ci_high    2.9558
    effect              3.1627
    pvalue              0.0000
    Name: 0, dtype: float64
    """
    check_choice("test", test, _TESTS)
    check_choice("model", model, (None, "mixed"))
    check_probability("level", level)
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
        keep_cells=model == "mixed",
        key=key,
    )
    if covariates or model == "mixed":
        _check_model_test(test, paired_by, adjusted)
        res = _group_model(
            scores,
            metadata,
            group=group,
            reference=reference,
            groups=groups,
            covariates=covariates,
            signatures=signatures,
            sample_key=sample_key,
            unit=unit,
            model=model,
            level=level,
            key=key,
        )
        mark_adjusted(res.table, adjusted)
        res.params["adjust"] = adjusted
        return res

    cols = [group] + ([paired_by] if paired_by else [])
    df, meta, info = prepare(
        scores,
        metadata,
        columns=cols,
        arg_names=["group"] + (["paired_by"] if paired_by else []),
        signatures=signatures,
        sample_key=sample_key,
        unit=unit,
        within=[group] if paired_by else (),
        replicate=paired_by,
        caller="compare_groups",
        key=key,
    )
    df, meta, g = _select_groups(df, meta, group, groups)
    rows, reference = _test_rows(df, meta, g, group, reference, paired_by, test, level)
    table = _compare_table(rows, df)
    params = {
        "group": group,
        "test": test,
        "reference": reference,
        "paired_by": paired_by,
        "level": level,
        **info,
    }
    mark_adjusted(table, [])
    return StatsResult("compare_groups", table, {**params, "adjust": []})


def _test_rows(
    df: pd.DataFrame,
    meta: pd.DataFrame,
    g: pd.Series,
    group: str,
    reference: Any,
    paired_by: str | None,
    test: str,
    level: float,
) -> tuple[list[dict[str, Any]], str | None]:
    """Return the rows of the tests without a model (paired, omnibus or two-sample contrasts) and the reference."""
    labels = group_levels(g)
    gs = g.astype(str).where(g.notna())
    reference = _check_levels(labels, gs, group, reference)
    if paired_by is not None:
        rows = _paired_rows(df, gs, meta[paired_by], labels, group, paired_by, reference, test, level)
    elif test in ("anova", "kruskal"):
        rows = [_omnibus(sig, _values(df[sig], gs, labels), labels, test, level) for sig in df.columns]
    else:
        rows = [
            _two_sample(sig, *_values(df[sig], gs, [g1, g2]), g1, g2, test, level)
            for g1, g2 in _contrasts(labels, reference)
            for sig in df.columns
        ]
    return rows, reference


def _check_model_test(test: str, paired_by: str | None, adjusted: Sequence[str] = ()) -> None:
    """Covariates, confounders or a mixed model: a linear model, which neither pairs nor ranks."""
    if paired_by is not None:
        raise StatisticsError(
            "`paired_by` cannot be combined with `covariates` or `model='mixed'`; add the pairing "
            "column as a covariate instead (e.g. covariates=['patient'])."
        )
    if test not in ("welch", "anova"):
        raise StatisticsError(
            f"test={test!r} cannot adjust for covariates{' or confounders' if adjusted else ''} or use a mixed "
            "model; use test='welch' (linear model)."
        )


def _select_groups(
    df: pd.DataFrame, meta: pd.DataFrame, group: str, groups: Sequence[Any] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Return the rows of the levels in ``groups`` (all rows when ``None``) and their group labels."""
    g = meta[group]
    if groups is None:
        return df, meta, g
    wanted = [str(x) for x in groups]
    present = set(g.dropna().astype(str))
    missing = [x for x in wanted if x not in present]
    if missing:
        raise StatisticsError(
            f"`groups`: level(s) {missing} absent from column {group!r}; present: {sorted(present)}."
        )
    keep = g.astype(str).isin(wanted) & g.notna()
    return df[keep], meta[keep], g[keep]


def _check_levels(labels: list[str], gs: pd.Series, group: str, reference: Any) -> str | None:
    """At least 2 levels of at least 2 samples each; the reference (as text) is one of them."""
    if len(labels) < 2:
        raise StatisticsError(
            f"column {group!r} has {len(labels)} level(s) ({labels}); at least 2 groups are needed to compare."
        )
    counts = gs.value_counts()
    small = counts[counts < 2]
    if len(small):
        raise StatisticsError(
            f"group(s) {small.index.tolist()} of {group!r} have a single sample; a test needs at least 2 per group. "
            "Drop or merge those levels (e.g. `groups=[...]`)."
        )
    if reference is None:
        return None
    reference = str(reference)
    if reference not in labels:
        raise StatisticsError(f"`reference`={reference!r} is not a level of {group!r}; levels: {labels}.")
    return reference


def _values(s: pd.Series, gs: pd.Series, labels: Sequence[str]) -> list[np.ndarray]:
    """Return the non-missing scores of each group of ``labels``."""
    return [s[(gs == lab) & s.notna()].to_numpy() for lab in labels]


def _contrasts(labels: list[str], reference: str | None) -> list[tuple[str, str]]:
    """``(group1, group2)`` pairs: each level against the reference, the 2 levels, or all pairs."""
    if reference is not None:
        return [(lab, reference) for lab in labels if lab != reference]
    if len(labels) == 2:
        return [(labels[1], labels[0])]
    return [(b, a) for a, b in itertools.combinations(labels, 2)]


def _paired_rows(
    df: pd.DataFrame,
    gs: pd.Series,
    units: pd.Series,
    labels: list[str],
    group: str,
    paired_by: str,
    reference: str | None,
    test: str,
    level: float,
) -> list[dict[str, Any]]:
    """Paired tests of 2 groups: one pair of samples per unit of ``paired_by``."""
    if len(labels) != 2:
        raise StatisticsError(
            f"paired tests compare exactly 2 groups; {group!r} has {len(labels)} ({labels}). Restrict with "
            "`groups=[...]`, or use `fit_model` with the pairing column as a covariate."
        )
    ref = reference if reference is not None else labels[0]
    other = labels[1] if ref == labels[0] else labels[0]
    dup = pd.crosstab(units, gs)
    if (dup > 1).any().any():
        bad = dup.index[(dup > 1).any(axis=1)][:3].tolist()
        raise StatisticsError(
            f"`paired_by`={paired_by!r}: unit(s) {bad} have more than one sample in a group; pairs need one "
            "sample per unit and group (for cells, pass `sample_key=` the column naming their sample: cells are "
            "then averaged per sample and group first)."
        )
    rows = []
    for sig in df.columns:
        wide = pd.DataFrame({"u": units.to_numpy(), "g": gs.to_numpy(), "s": df[sig].to_numpy()}).dropna()
        wide = wide.pivot(index="u", columns="g", values="s").dropna()
        x = wide[other].to_numpy() if other in wide else np.array([])
        y = wide[ref].to_numpy() if ref in wide else np.array([])
        rows.append(_paired(sig, x, y, other, ref, test, level))
    return rows


def _compare_table(rows: list[dict[str, Any]], df: pd.DataFrame) -> pd.DataFrame:
    """Return the rows as the table of :func:`compare_groups`: BH FDR per contrast, unreported signatures noted."""
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    for _, idx in table.groupby(["group1", "group2"], dropna=False).groups.items():
        table.loc[idx, "fdr"] = bh_fdr(table.loc[idx, "pvalue"])
    for c in ("n1", "n2"):
        table[c] = table[c].astype("Int64")
    table.loc[table["signature"].isin(df.columns[df.isna().all()]), "note"] = "score not reported (all NaN)"
    return table
