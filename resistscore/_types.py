"""Type checks shared by the modules (one definition each)."""

from __future__ import annotations

from typing import Any

__all__ = ["is_anndata"]


def is_anndata(obj: Any) -> bool:
    """Whether ``obj`` is an AnnData (in memory or backed)."""
    from anndata import AnnData

    return isinstance(obj, AnnData)
