"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics.

The statistics (``rs.tl.compare_groups`` ...) are imported on first use: they pull in statsmodels
and scipy.stats (~2 s), which scoring does not need.
"""

from __future__ import annotations

from resistscore.tl import stats
from resistscore.tl._coverage import coverage_table
from resistscore.tl._result import ScoreResult, contributions
from resistscore.tl._score import as_network, score
from resistscore.tl.methods import show_methods

__all__ = [
    "ScoreResult",
    "as_network",
    "contributions",
    "coverage_table",
    "score",
    "show_methods",
    *stats.__all__,
]


def __getattr__(name: str):
    if name in stats.__all__:
        return getattr(stats, name)  # the statistics are imported on first use
    raise AttributeError(f"module 'resistscore.tl' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
