"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics.

The statistics (``rs.tl.compare_groups`` ..., the subpackage :mod:`resistscore.tl.stats`) are imported with
the rest of ``rs.tl``, as plain attributes (``dir(rs.tl)``, tab completion and the API docs see them), but the
libraries they compute with - scipy.stats, statsmodels, patsy, lifelines - are imported inside the functions,
on the first statistic computed. Scoring (``rs.tl.score``, with p-values too) never loads them: ~1 s of CPU
less per process (tested in ``tests/test_imports.py``). ``import resistscore`` stays fast:
``resistscore.__getattr__``, which imports a subpackage on first use, is the package's one lazy-import layer.
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
