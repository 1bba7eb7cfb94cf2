"""Numbers and names as a reader of the report wants them: 3 significant digits, tests and effects in words."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["effect_name", "fmt_ci", "fmt_num", "fmt_p", "listing", "plural", "test_name"]

_EFFECTS = {
    "hedges_g": "Hedges' g",
    "hedges_g_z": "Hedges' g (paired)",
    "rank_biserial": "rank-biserial r",
    "matched_rank_biserial": "matched rank-biserial r",
    "eta_squared": "eta squared",
    "epsilon_squared": "epsilon squared",
    "adjusted_mean_difference": "adjusted mean difference",
    "mean_difference": "mean difference",
    "rho": "Spearman rho",
    "r": "Pearson r",
    "slope": "slope",
    "hazard_ratio_per_sd": "hazard ratio per SD",
    "hazard_ratio_per_unit": "hazard ratio per score unit",
    "roc_auc": "AUC",
    "coefficient": "coefficient",
}
_TESTS = {
    "welch_t": "Welch's t test",
    "mann_whitney_u": "Mann-Whitney U test",
    "paired_t": "paired t test",
    "wilcoxon_signed_rank": "Wilcoxon signed-rank test",
    "anova_f": "one-way ANOVA",
    "kruskal_wallis_h": "Kruskal-Wallis test",
    "ols": "linear model (OLS)",
    "pseudobulk_ols": "linear model of replicate means (OLS)",
    "tobit": "censored (Tobit) regression",
    "mixedlm": "linear mixed model",
    "mixed": "linear mixed model",
    "spearman": "Spearman correlation",
    "partial_spearman": "partial Spearman correlation",
    "pearson": "Pearson correlation",
    "partial_pearson": "partial Pearson correlation",
}


def effect_name(kind: Any, method: Any = None) -> str:
    """``"hedges_g"`` -> ``"Hedges' g"``; a partial correlation says so.

    Examples
    --------
    >>> effect_name("rho", "partial_spearman")
    'partial Spearman rho'
    """
    name = _EFFECTS.get(str(kind), str(kind).replace("_", " "))
    return f"partial {name}" if str(method or "").startswith("partial_") else name


def test_name(test: Any) -> str:
    """``"welch_t"`` -> ``"Welch's t test"``."""
    return _TESTS.get(str(test), str(test).replace("_", " "))


test_name.__test__ = False  # type: ignore[attr-defined] - not a test function


def fmt_num(value: Any, digits: int = 3) -> str:
    """Return a number with ``digits`` significant digits; ``NA`` when missing.

    Examples
    --------
    >>> fmt_num(2.34567), fmt_num(0.000123456), fmt_num(12345.6), fmt_num(float("nan")), fmt_num(3)
    ('2.35', '0.000123', '12346', 'NA', '3')
    """
    if value is None or isinstance(value, (bool, np.bool_)):
        return "NA" if value is None else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "NA"
    if v == 0:
        return "0"
    if abs(v) >= 10 ** (digits + 2) or abs(v) < 1e-4:
        return f"{v:.{digits - 1}e}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(v))), 0)
    return f"{v:.{decimals}f}"


def fmt_p(p: Any) -> str:
    """Return a p-value or FDR: two significant digits, scientific below 0.001.

    Examples
    --------
    >>> fmt_p(0.04321), fmt_p(3.2e-12), fmt_p(1.0)
    ('0.043', '3.2e-12', '1')
    """
    try:
        v = float(p)
    except (TypeError, ValueError):
        return "NA"
    if not math.isfinite(v):
        return "NA"
    if v < 0.001:
        return f"{v:.1e}"
    return f"{v:.2g}" if v < 1 else "1"


def fmt_ci(low: Any, high: Any) -> str:
    """``"[0.31, 1.9]"``, or ``""`` when an end is missing."""
    try:
        lo, hi = float(low), float(high)
    except (TypeError, ValueError):
        return ""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"[{fmt_num(lo)}, {fmt_num(hi)}]"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "sample")`` -> ``"1 sample"``; ``plural(3, "sample")`` -> ``"3 samples"``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def listing(items: Sequence[Any], limit: int = 10) -> str:
    """Return ``"a, b, c"``; ``"a, b, ... and 12 more"`` beyond ``limit``."""
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" and {len(items) - limit:,} more"
