"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics.

The statistics (``rs.tl.compare_groups`` ...) are imported on first use: they pull in statsmodels
and scipy.stats (~2 s), which scoring does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from resistscore.tl._contrib import contributions
from resistscore.tl._coverage import coverage_table
from resistscore.tl._result import ScoreResult
from resistscore.tl._score import as_network, score
from resistscore.tl.methods import show_methods

if TYPE_CHECKING:  # pragma: no cover
    from resistscore.tl.stats import (  # noqa: F401  (names for type checkers; loaded lazily below)
        RocResult,
        SampleMismatchWarning,
        StatsResult,
        SurvivalResult,
        associate,
        compare_groups,
        compare_samples,
        fit_model,
        pseudobulk,
        roc,
        survival,
    )

#: the names of resistscore.tl.stats re-exported here (kept equal to its __all__ by a test)
_STATS = (
    "RocResult",
    "SampleMismatchWarning",
    "StatsResult",
    "SurvivalResult",
    "associate",
    "compare_groups",
    "compare_samples",
    "fit_model",
    "pseudobulk",
    "roc",
    "survival",
)

__all__ = ["ScoreResult", "as_network", "contributions", "coverage_table", "score", "show_methods", *_STATS]


def __getattr__(name: str):
    if name in _STATS or name == "stats":
        stats = importlib.import_module("resistscore.tl.stats")
        return stats if name == "stats" else getattr(stats, name)
    raise AttributeError(f"module 'resistscore.tl' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__, "stats"})
