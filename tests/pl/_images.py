"""Image regression helper: render a figure and compare it with a stored baseline PNG.

Baselines live in tests/_reference/pl/<name>.png. Regenerate them after an intended change with::

    RESISTSCORE_REGENERATE_BASELINES=1 .venv/bin/pytest tests/pl -k image

(the regenerated tests are reported as skipped; inspect the new PNGs before committing them).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib as mpl
import pytest
from matplotlib.testing.compare import compare_images

BASELINES = Path(__file__).resolve().parent.parent / "_reference" / "pl"
#: RMS tolerance (grey levels 0-255) of matplotlib.testing.compare.compare_images.
TOLERANCE = 2.0
DPI = 72
#: deterministic text rasterisation (as matplotlib's own image tests)
RC = {"text.hinting": "none", "text.hinting_factor": 1, "svg.hashsalt": "resistscore", "path.simplify": False}


def render(fig, path: Path) -> None:
    with mpl.rc_context(RC):
        fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None}, bbox_inches="tight")


def check_image(fig, name: str, tmp_path: Path, tol: float = TOLERANCE) -> None:
    """Compare ``fig`` with the baseline ``name``.png (or regenerate it when asked); closes ``fig``."""
    import matplotlib.pyplot as plt

    actual = tmp_path / f"{name}.png"
    try:
        render(fig, actual)
    finally:
        plt.close(fig)
    expected = BASELINES / f"{name}.png"
    if os.environ.get("RESISTSCORE_REGENERATE_BASELINES") == "1":
        BASELINES.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(actual.read_bytes())
        pytest.skip(f"baseline {expected.name} regenerated")
    assert expected.is_file(), (
        f"no baseline {expected}; create it with RESISTSCORE_REGENERATE_BASELINES=1 pytest tests/pl"
    )
    result = compare_images(str(expected), str(actual), tol=tol, in_decorator=True)
    assert result is None, (
        f"{name}: image differs from the baseline (RMS {result['rms']:.2f} > tol {tol}); diff: {result['diff']}. "
        "If the change is intended, regenerate with RESISTSCORE_REGENERATE_BASELINES=1."
    )
