"""Settings and input counter of the generative fuzz suite (``tests/fuzz``).

Every fuzz test takes its hypothesis settings from :func:`fuzz_settings` and counts each generated
input with :func:`count_input`; the session prints the total (``fuzz: N generated inputs``), which
CI keeps at 10,000 or more.

Profiles (environment variable ``RESISTSCORE_FUZZ``):

* ``ci`` (default): the example counts written in each test; the whole fuzz folder runs in a few minutes.
* ``nightly``: 20x as many examples per test, for a long run on a spare machine:
  ``RESISTSCORE_FUZZ=nightly python -m pytest tests/fuzz -q``.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("RESISTSCORE_FUZZ", "ci")
_SCALE = {"ci": 1, "nightly": 20}
if PROFILE not in _SCALE:
    raise RuntimeError(f"RESISTSCORE_FUZZ={PROFILE!r}: use one of {sorted(_SCALE)}")

#: generated inputs per fuzz area in this session
COUNTS: Counter[str] = Counter()


def fuzz_settings(max_examples: int, **kwargs) -> settings:
    """Hypothesis settings of a fuzz test: ``max_examples`` scaled by the profile, no deadline."""
    return settings(
        max_examples=max_examples * _SCALE[PROFILE],
        deadline=None,
        derandomize=PROFILE == "ci",  # CI runs are reproducible; nightly explores new inputs
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **kwargs,
    )


def count_input(area: str) -> None:
    """Count one generated input of a fuzz area (readers, harmonize, score, cli, ...)."""
    COUNTS[area] += 1
