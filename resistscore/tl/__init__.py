"""Tools: scoring (``rs.tl.score``), significance, explanations and statistics."""

from resistscore.tl.methods import show_methods  # noqa: F401
