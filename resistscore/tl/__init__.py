"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics.

The statistics (``rs.tl.compare_groups`` ..., the subpackage :mod:`resistscore.tl.stats`) are imported
on first use by this module's ``__getattr__``: they pull in statsmodels and scipy.stats (~2 s), which
scoring does not need. Apart from ``resistscore.__getattr__`` (the subpackages), it is the package's
only lazy import.
"""

from __future__ import annotations

import importlib

from resistscore.tl._coverage import coverage_table
from resistscore.tl._result import ScoreResult, contributions
from resistscore.tl._score import as_network, score
from resistscore.tl._stream import QCRows, harmonized_rows, qc_rows
from resistscore.tl.methods import show_methods

#: the names of :mod:`resistscore.tl.stats`, reachable as ``rs.tl.<name>``
_STATISTICS = (
    "RocResult",
    "SampleMismatchWarning",
    "StatsResult",
    "SurvivalResult",
    "adjust_scores",
    "associate",
    "compare_groups",
    "compare_samples",
    "confounder_correlation",
    "fit_model",
    "pseudobulk",
    "roc",
    "survival",
)

__all__ = [
    "QCRows",
    "ScoreResult",
    "as_network",
    "contributions",
    "coverage_table",
    "harmonized_rows",
    "qc_rows",
    "score",
    "show_methods",
    *_STATISTICS,
]


def __getattr__(name: str):
    if name == "stats" or name in _STATISTICS:
        stats = importlib.import_module("resistscore.tl.stats")  # the statistics, on first use
        return stats if name == "stats" else getattr(stats, name)
    raise AttributeError(f"module 'resistscore.tl' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
