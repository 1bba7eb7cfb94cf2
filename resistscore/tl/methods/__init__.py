"""Scoring methods, one module each, registered in :mod:`resistscore.tl.methods._registry`."""

from resistscore.tl.methods._registry import GeneSetIndex, MethodInfo, get_method, methods_table, registry

__all__ = ["GeneSetIndex", "MethodInfo", "get_method", "methods_table", "registry", "show_methods"]


def show_methods():
    """Return the table of scoring methods and their properties (one row per method)."""
    return methods_table()
