"""Type checks shared by the modules (one definition each)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_anndata"]


def is_anndata(obj: Any) -> bool:
    """Whether ``obj`` is an AnnData (in memory or backed).

    Never imports anndata (~0.3 s): an object can only be an AnnData if anndata is imported already.

    Examples
    --------
    >>> is_anndata([1, 2])
    False
    """
    mod = sys.modules.get("anndata")
    return mod is not None and isinstance(obj, mod.AnnData)
