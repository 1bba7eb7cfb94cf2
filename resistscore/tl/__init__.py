"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics.

The statistics (``rs.tl.compare_groups`` ..., the subpackage :mod:`resistscore.tl.stats`) are imported with
the rest of ``rs.tl``: they need scipy.stats and the one statsmodels submodule of OLS
(``statsmodels.regression.linear_model``, not ``statsmodels.api``), about 1 s of CPU on first use of ``rs.tl``.
``import resistscore`` stays fast: ``resistscore.__getattr__``, which imports a subpackage on first use, is the
package's one lazy-import layer.
"""

from __future__ import annotations

from resistscore.tl._coverage import coverage_table
from resistscore.tl._result import ScoreResult, contributions
from resistscore.tl._score import as_network, score
from resistscore.tl._stream import QCRows, harmonized_rows, qc_rows
from resistscore.tl.methods import show_methods
from resistscore.tl.stats import (
    RocResult,
    SampleMismatchWarning,
    StatsResult,
    SurvivalResult,
    adjust_scores,
    associate,
    compare_groups,
    compare_samples,
    confounder_correlation,
    fit_model,
    pseudobulk,
    roc,
    survival,
)

__all__ = [
    "QCRows",
    "RocResult",
    "SampleMismatchWarning",
    "ScoreResult",
    "StatsResult",
    "SurvivalResult",
    "adjust_scores",
    "as_network",
    "associate",
    "compare_groups",
    "compare_samples",
    "confounder_correlation",
    "contributions",
    "coverage_table",
    "fit_model",
    "harmonized_rows",
    "pseudobulk",
    "qc_rows",
    "roc",
    "score",
    "show_methods",
    "survival",
]
