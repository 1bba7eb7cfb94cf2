"""Prints how many inputs the fuzz suite generated in this session (see ``_fuzz.py``)."""

from __future__ import annotations

from ._fuzz import COUNTS


def pytest_terminal_summary(terminalreporter):
    if COUNTS:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz: {sum(COUNTS.values())} generated inputs ({parts})")
