"""Scoring methods, one module each, registered in :mod:`resistscore.tl.methods._registry`.

Importing this package registers every method; :func:`show_methods` lists them with their
properties (directional, weighted, single-sample, sparse-aware, reference).
"""

from resistscore.tl.methods._registry import GeneSetIndex, MethodInfo, get_method, methods_table, registry

# each import registers one method
from resistscore.tl.methods import singscore as _singscore  # noqa: F401  isort: skip
from resistscore.tl.methods import ucell as _ucell  # noqa: F401  isort: skip
from resistscore.tl.methods import aucell as _aucell  # noqa: F401  isort: skip
from resistscore.tl.methods import module_score as _module_score  # noqa: F401  isort: skip
from resistscore.tl.methods import wmean as _wmean  # noqa: F401  isort: skip
from resistscore.tl.methods import ulm as _ulm  # noqa: F401  isort: skip

from resistscore.tl.methods import ssgsea as _ssgsea  # noqa: F401  isort: skip
from resistscore.tl.methods import gsva as _gsva  # noqa: F401  isort: skip

__all__ = ["GeneSetIndex", "MethodInfo", "get_method", "methods_table", "registry", "show_methods"]


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
