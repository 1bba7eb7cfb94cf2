"""Scoring methods, one module each, listed in :data:`registry` (:mod:`resistscore.tl.methods._registry`).

Each method's module holds its function and its :class:`MethodInfo`: properties, defaults, citation
and contribution rule. :func:`show_methods` lists them with their properties (directional, weighted,
single-sample, sparse-aware, reference).
"""

from resistscore.tl.methods._base import Citation, GeneSetIndex, GeneTerms, MethodInfo, check_dense_size
from resistscore.tl.methods._registry import get_method, methods_table, registry

__all__ = [
    "Citation",
    "GeneSetIndex",
    "GeneTerms",
    "MethodInfo",
    "check_dense_size",
    "get_method",
    "methods_table",
    "registry",
    "show_methods",
]


def show_methods():
    """Return the table of scoring methods and their properties (one row per method).

    Examples
    --------
    >>> import resistscore.tl as tl
    >>> tbl = tl.show_methods()
    >>> bool(tbl.loc["singscore", "single_sample"])
    True
    """
    return methods_table()
