"""Locate the data that ships with resistscore (signatures, gene tables).

In an installed wheel the top-level ``signatures/`` folder of the repository is packaged as
``resistscore/_signatures`` and read through :mod:`importlib.resources`. In a source checkout
(editable install, running the tests), the same files are read from the repository itself.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["data_root", "sha256", "signatures_root"]


def signatures_root() -> Traversable:
    """Return the folder holding the shipped signature files."""
    packaged = importlib.resources.files("resistscore") / "_signatures"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "signatures"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(  # pragma: no cover - a broken installation
        "resistscore's signature files are missing from this installation; reinstall resistscore."
    )


def data_root() -> Traversable:
    """Return the folder of package data (gene tables and other shipped resources)."""
    return importlib.resources.files("resistscore") / "_data"


def sha256(resource: Traversable | Path) -> str:
    """Return the hex sha256 digest of a shipped file."""
    h = hashlib.sha256()
    with resource.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
