"""Package-wide settings (``rs.settings``, as ``scanpy.settings``): verbosity, progress bars, threads.

Imports nothing heavy: ``import resistscore`` stays fast.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys

from resistscore._errors import ResistScoreError

__all__ = ["Settings", "default_n_jobs", "logger", "settings"]

#: the package's logger; :attr:`Settings.verbosity` sets its level
logger = logging.getLogger("resistscore")
logger.addHandler(logging.NullHandler())

#: verbosity -> logging level: 0 errors, 1 warnings (default), 2 information, 3 details (hints)
_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.DEBUG}


def available_cores() -> int:
    """Threads available to this process: the CPU affinity where the OS has it (Linux), else the cores.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    getaffinity = getattr(os, "sched_getaffinity", None)  # Linux only: absent on macOS and Windows
    if getaffinity is not None:
        try:
            return max(1, len(getaffinity(0)))
        except OSError:  # pragma: no cover - restricted environments
            pass
    return max(1, os.cpu_count() or 1)


class Settings:
    """Settings of resistscore (``rs.settings``).

    Attributes
    ----------
    verbosity
        ``0`` errors only, ``1`` warnings (default), ``2`` what each step decided (the method chosen,
        the kind of data, the number of control sets), ``3`` details. Messages go to the logger
        ``"resistscore"`` (shown on standard error when no logging is configured). Warnings of
        resistscore (:class:`~resistscore.ResistScoreWarning`) are Python warnings and are not
        affected: filter them with :mod:`warnings`.
    progress
        Progress bars of long steps (scoring): ``None`` (default) shows them on a terminal and in
        Jupyter (as a widget when ipywidgets is installed) once a step takes more than a second;
        ``True`` always, ``False`` never. A function's own ``progress=`` argument wins.
    n_jobs
        Threads of the scoring engine when a call does not pass ``n_jobs``; ``None`` (default): every
        core available to the process (:func:`default_n_jobs`). Results do not depend on it.
    quick_exit
        ``True`` (default): when the Python process ends, the garbage collector is frozen
        (:func:`gc.freeze`) before the interpreter tears down its modules, so that the exit does not
        walk every object of the libraries scoring loads (numba, pandas, scipy): ~0.25 s of CPU less
        per process. Module globals are still cleared at exit (an unclosed file of a script is flushed,
        the finaliser of a global runs); objects kept alive only by a reference cycle are left to the
        operating system without their finalisers (Python does not promise to run those at exit).
        ``False``: the usual exit.
    tune_interpreter
        ``True`` (default): while :func:`resistscore.tl.score` runs, the interpreter's GIL switch interval is
        0.5 ms instead of Python's 5 ms (the threads that score the rows and the one that reads them take
        turns on the GIL without waiting up to 5 ms each time) and the cyclic garbage collector is paused
        (the collector's full walks of every object of pandas, numba and
        scipy, ~90 ms in a fresh 100k-cell run, are left for after the call); both are restored when the call
        returns. A second 100k-cell call in one process: 2.76 -> 2.69 s (median of 8) on 2 cores. ``False``:
        the interpreter is left as it is.

    Examples
    --------
    >>> import resistscore as rs
    >>> rs.settings.n_jobs = 2
    >>> rs.get.default_n_jobs()
    2
    >>> rs.settings.n_jobs = None
    """

    def __init__(self) -> None:
        self._verbosity = 1
        self._progress: bool | None = None
        self._n_jobs: int | None = None
        self._quick_exit = True
        self._tune_interpreter = True
        self._handler: logging.Handler | None = None
        self.verbosity = 1

    @property
    def verbosity(self) -> int:
        """How much resistscore tells: 0 errors, 1 warnings, 2 information, 3 details."""
        return self._verbosity

    @verbosity.setter
    def verbosity(self, value: int) -> None:
        if isinstance(value, bool) or value not in _LEVELS:
            raise ResistScoreError(f"`verbosity` must be 0, 1, 2 or 3; got {value!r}.")
        self._verbosity = int(value)
        logger.setLevel(_LEVELS[self._verbosity])
        if self._verbosity >= 2 and self._handler is None and not logging.getLogger().handlers:
            # no logging configured by the user: show our messages on standard error, as scanpy does
            self._handler = logging.StreamHandler(sys.stderr)
            self._handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(self._handler)

    @property
    def progress(self) -> bool | None:
        """Progress bars: ``None`` (automatic), ``True`` or ``False``."""
        return self._progress

    @progress.setter
    def progress(self, value: bool | None) -> None:
        if value is not None and not isinstance(value, bool):
            raise ResistScoreError(f"`progress` must be None, True or False; got {value!r}.")
        self._progress = value

    @property
    def n_jobs(self) -> int | None:
        """Default number of threads (``None``: every core available)."""
        return self._n_jobs

    @n_jobs.setter
    def n_jobs(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ResistScoreError(f"`n_jobs` must be None or an integer >= 1; got {value!r}.")
        self._n_jobs = value

    @property
    def quick_exit(self) -> bool:
        """Freeze the garbage collector when the process ends (a faster exit); see the class."""
        return self._quick_exit

    @quick_exit.setter
    def quick_exit(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ResistScoreError(f"`quick_exit` must be True or False; got {value!r}.")
        self._quick_exit = value

    @property
    def tune_interpreter(self) -> bool:
        """A short GIL switch interval and the cyclic GC paused while scoring; see the class."""
        return self._tune_interpreter

    @tune_interpreter.setter
    def tune_interpreter(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ResistScoreError(f"`tune_interpreter` must be True or False; got {value!r}.")
        self._tune_interpreter = value

    def __repr__(self) -> str:
        return (
            f"resistscore settings: verbosity={self.verbosity}, progress={self.progress}, n_jobs={self.n_jobs}, "
            f"quick_exit={self.quick_exit}, tune_interpreter={self.tune_interpreter}"
        )


settings = Settings()


def _freeze_at_exit() -> None:
    """At exit: freeze the objects alive, so that the interpreter's last collections skip them (issue 12).

    Registered when resistscore is imported, so it runs after the exit handlers registered later
    (:mod:`atexit` runs them last in, first out). The collections of the interpreter's teardown then walk
    none of the ~200,000 objects of numba, pandas and scipy (~0.25 s of CPU per process); module globals
    are still cleared and what they held is still released.
    """
    if settings.quick_exit:
        # __main__ is held until the modules still alive are cleared (sys's own entries are cleared after
        # them): its globals are released then - an unclosed file is flushed, a finaliser runs - as without
        # the freeze, where the collection of __main__'s cycles releases them
        sys._resistscore_main = sys.modules.get("__main__")  # type: ignore[attr-defined]
        gc.freeze()


atexit.register(_freeze_at_exit)


def default_n_jobs() -> int:
    """Threads used when a call does not say: :attr:`Settings.n_jobs`, else every core available.

    Examples
    --------
    >>> default_n_jobs() >= 1
    True
    """
    return settings.n_jobs if settings.n_jobs is not None else available_cores()
