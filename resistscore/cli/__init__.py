"""The ``resistscore`` command: a thin shell over the public API (no analysis logic lives here)."""

from resistscore.cli._main import cli, main

__all__ = ["cli", "main"]
