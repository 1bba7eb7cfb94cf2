"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics."""

from resistscore.tl import stats as _stats
from resistscore.tl._contrib import contributions
from resistscore.tl._coverage import coverage_table
from resistscore.tl._result import ScoreResult
from resistscore.tl._score import as_network, score
from resistscore.tl.methods import show_methods
from resistscore.tl.stats import *  # noqa: F403

__all__ = [
    "ScoreResult",
    "as_network",
    "contributions",
    "coverage_table",
    "score",
    "show_methods",
    *_stats.__all__,
]
