"""Progress bars that work on a terminal and in Jupyter (``tqdm.auto``), shown as ``rs.settings`` says."""

from __future__ import annotations

import sys

from resistscore._settings import settings

__all__ = ["in_jupyter", "progress_bar"]

#: in automatic mode, a bar appears only once a step has taken this long (seconds)
AUTO_DELAY = 1.0


def in_jupyter() -> bool:
    """Whether the code runs in a Jupyter kernel (notebook, lab, VS Code)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class _NoBar:
    """What a bar that is never shown does: nothing (tqdm is not imported for it, ~0.01 s of CPU a process)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        """Count nothing."""


def _bar_class():
    """``tqdm.auto``'s choice without its warning: a widget in Jupyter when ipywidgets is installed, else text."""
    from tqdm.std import tqdm as text_tqdm  # function-local: only a bar that may show needs tqdm

    if in_jupyter():
        try:
            import ipywidgets  # noqa: F401  function-local: optional, and only in Jupyter
            from tqdm.notebook import tqdm as widget_tqdm
        except ImportError:
            return text_tqdm
        return widget_tqdm
    return text_tqdm


def progress_bar(total: int, desc: str, unit: str, progress: bool | None = None):
    """Return a progress bar over ``total`` units (a context manager with ``update(n)``).

    ``progress``: ``True`` / ``False`` show it or not; ``None`` follows ``rs.settings.progress`` and,
    when that is ``None`` too, shows it on a terminal or in Jupyter once the step takes longer than
    :data:`AUTO_DELAY` seconds.
    """
    if progress is None:
        progress = settings.progress
    auto = progress is None
    show = (sys.stderr.isatty() or in_jupyter()) if auto else bool(progress)
    if not show:
        return _NoBar()
    return _bar_class()(total=total, desc=desc, unit=unit, leave=False, delay=AUTO_DELAY if auto else 0)
