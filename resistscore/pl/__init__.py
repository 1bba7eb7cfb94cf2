"""Plotting: figures of scores, coverage and statistics in one colour-blind-safe theme.

Every function takes plain DataFrames (samples x signatures scores, tidy statistics tables) or the
resistscore objects that carry them (``ScoreResult``, scored AnnData, statistics results), draws into
``ax=`` when given, returns the Axes (or the Figure / ClusterGrid of multi-panel plots), never calls
``show()``, and writes the figure atomically when ``save=`` names a file (format from the suffix:
``.pdf``/``.svg`` vector, ``.png`` raster).
"""

from resistscore.pl._groups import groups, profile
from resistscore.pl._heatmap import annotation_colors, contributions, heatmap
from resistscore.pl._matrix import matrixplot
from resistscore.pl._save_all import StandardFigure, save_all, standard_figures
from resistscore.pl._scatter import coverage, embedding, response
from resistscore.pl._stats import forest, roc, volcano
from resistscore.pl._survival import kaplan_meier, km_table
from resistscore.pl._theme import (
    DIVERGING_CMAP,
    OKABE_ITO,
    SEQUENTIAL_CMAP,
    categorical_colors,
    rc_params,
    set_theme,
    theme,
)
from resistscore.pl._utils import save_figure

__all__ = [
    "DIVERGING_CMAP",
    "OKABE_ITO",
    "SEQUENTIAL_CMAP",
    "StandardFigure",
    "annotation_colors",
    "categorical_colors",
    "contributions",
    "coverage",
    "embedding",
    "forest",
    "groups",
    "heatmap",
    "kaplan_meier",
    "km_table",
    "matrixplot",
    "profile",
    "rc_params",
    "response",
    "roc",
    "save_all",
    "save_figure",
    "set_theme",
    "standard_figures",
    "theme",
    "volcano",
]
