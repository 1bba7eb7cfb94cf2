"""Statistics on resistance scores: group tests, linear and mixed models, drug response, survival, ROC.

Every function takes scores as a ``ScoreResult``, an AnnData scored by :func:`resistscore.tl.score`
(``obsm["resistscore_scores"]``) or a samples x signatures DataFrame, plus sample metadata, and
returns a result object whose ``.table`` is a tidy DataFrame with fixed, documented columns.
Single-cell data are analysed per biological replicate by default (see ``sample_key``).

The modules import scipy.stats, scipy.optimize, statsmodels and patsy inside the functions that use them, not
at module level: ``rs.tl`` imports this subpackage, and scoring must not pay for libraries only a statistic
needs (``tests/test_imports.py``).
"""

from __future__ import annotations

from resistscore._errors import SampleMismatchWarning
from resistscore.tl.stats._confounders import adjust_scores, confounder_correlation
from resistscore.tl.stats._groups import compare_groups
from resistscore.tl.stats._models import fit_model
from resistscore.tl.stats._pseudobulk import pseudobulk
from resistscore.tl.stats._response import associate
from resistscore.tl.stats._results import RocResult, StatsResult, SurvivalResult
from resistscore.tl.stats._roc import roc
from resistscore.tl.stats._samples import compare_samples
from resistscore.tl.stats._survival import survival

__all__ = [
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
]
