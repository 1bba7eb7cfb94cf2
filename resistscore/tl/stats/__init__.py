"""Statistics on resistance scores: group tests, linear and mixed models, drug response, survival, ROC.

Every function takes scores as a ``ScoreResult``, an AnnData scored by :func:`resistscore.tl.score`
(``obsm["resistscore_scores"]``) or a samples x signatures DataFrame, plus sample metadata, and
returns a result object whose ``.table`` is a tidy DataFrame with fixed, documented columns.
Single-cell data are analysed per biological replicate by default (see ``sample_key``).
"""

from __future__ import annotations

import importlib

from resistscore._errors import SampleMismatchWarning

#: where each function and result class lives; loaded on first use (statsmodels and scipy.stats take
#: ~2 s to import, and scoring needs neither)
_WHERE = {
    "RocResult": "_results",
    "StatsResult": "_results",
    "SurvivalResult": "_results",
    "adjust_scores": "_confounders",
    "associate": "_response",
    "compare_groups": "_groups",
    "compare_samples": "_samples",
    "confounder_correlation": "_confounders",
    "fit_model": "_models",
    "pseudobulk": "_pseudobulk",
    "roc": "_roc",
    "survival": "_survival",
}

__all__ = ["SampleMismatchWarning", *_WHERE]


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"resistscore.tl.stats.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'resistscore.tl.stats' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
