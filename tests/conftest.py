"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("RESISTSCORE_SHARED_DATA", REPO.parent / "shared" / "data"))
REFERENCE_DIR = Path(__file__).resolve().parent / "_reference"


@pytest.fixture(scope="session")
def nci60_dir() -> Path:
    """The NCI-60 folder of ../shared/data; the test is skipped when it is absent."""
    d = SHARED_DATA / "nci60"
    if not (d / "expression_u133a_gcrma.csv.gz").is_file():
        pytest.skip(
            f"real NCI-60 data not found at {d} (set RESISTSCORE_SHARED_DATA to the shared data folder)"
        )
    return d


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Folder of stored reference outputs (see tests/_reference/README.md)."""
    return REFERENCE_DIR
