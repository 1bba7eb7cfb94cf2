"""The registry of scoring methods: an explicit list of the method modules' ``INFO``.

Adding a method: write ``resistscore/tl/methods/<name>.py`` with its function and ``INFO =
MethodInfo(...)`` (see :class:`~resistscore.tl.methods.MethodInfo`), and add it to :data:`registry`
below. Nothing registers itself when imported.
"""

from __future__ import annotations

import pandas as pd

from resistscore._errors import ResistScoreError
from resistscore.tl.methods import aucell, gsva, module_score, singscore, ssgsea, ucell, ulm, wmean
from resistscore.tl.methods._base import MethodInfo

__all__ = ["get_method", "methods_table", "registry"]

#: every scoring method, by name, in the order of :func:`methods_table`
registry: dict[str, MethodInfo] = {
    info.name: info
    for info in (
        singscore.INFO,
        ucell.INFO,
        aucell.INFO,
        module_score.INFO,
        wmean.INFO,
        ulm.INFO,
        ssgsea.INFO,
        gsva.INFO,
    )
}


def get_method(name: str) -> MethodInfo:
    """Return the method ``name`` or raise a clear error listing the methods.

    Examples
    --------
    >>> get_method("ucell").single_sample
    True
    """
    try:
        return registry[name]
    except (KeyError, TypeError):
        raise ResistScoreError(
            f"`method` {name!r} is not a resistscore scoring method; choose one of {sorted(registry)} "
            "(see rs.tl.show_methods())."
        ) from None


def methods_table() -> pd.DataFrame:
    """Return the methods and their properties as a table (one row per method).

    Examples
    --------
    >>> methods_table().loc["singscore", "single_sample"]
    np.True_
    """
    rows = [
        {
            "method": m.name,
            "summary": m.summary,
            "directional": m.directional,
            "weighted": m.weighted,
            "single_sample": m.single_sample,
            "sparse_aware": m.sparse_aware,
            "additive_contributions": m.contributions is not None,
            "reference": m.reference,
            "validated_against": m.validated_against,
        }
        for m in registry.values()
    ]
    return pd.DataFrame(rows).set_index("method")
