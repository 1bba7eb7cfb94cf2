"""Progress of a running job, by stage, without touching the analysis code.

The job calls the same workflow function as ``resistscore report``; that function calls the public API
in a fixed order (``rs.io.read`` -> ``rs.pp.harmonize_genes`` -> ``rs.tl.score`` -> the statistics ->
``rs.pl.save_all`` -> ``rs.report.write``; an h5ad upload is streamed: ``rs.tl.harmonized_rows`` ->
``rs.tl.score`` ...). While at least one job is tracked in a process,
:func:`tracking` keeps those public functions wrapped with a probe that reports the stage it enters to the
job tracked in the current thread (a context variable); calls from other threads pass straight through.
When the last tracked job ends, the original functions are put back, so the library is untouched outside
jobs. Progress is therefore "% done" by stage (``_store.STAGES``), never a guess from elapsed time.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["PROBES", "tracking"]

#: (module, function) -> the stage that starts when it is called
PROBES: dict[tuple[str, str], str] = {
    ("resistscore.io", "read"): "reading",
    ("resistscore.pp", "harmonize_genes"): "harmonising",
    # an h5ad upload is streamed: its gene names are harmonised here, its matrix read while scoring
    ("resistscore.tl", "harmonized_rows"): "harmonising",
    ("resistscore.tl", "score"): "scoring",
    ("resistscore.tl", "compare_groups"): "testing",
    ("resistscore.tl", "associate"): "testing",
    ("resistscore.tl", "survival"): "testing",
    ("resistscore.pl", "save_all"): "reporting",
    ("resistscore.report", "write"): "reporting",
}

_current: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "resistscore_service_progress", default=None
)
_lock = threading.Lock()
_active = 0  # jobs tracked in this process
_originals: dict[tuple[str, str], Callable] = {}


def _probe(fn: Callable, stage: str) -> Callable:
    @functools.wraps(fn)
    def probed(*args, **kwargs):
        report = _current.get()
        if report is not None:
            report(stage)
        return fn(*args, **kwargs)

    return probed


def _install() -> None:
    for (module_name, name), stage in PROBES.items():
        module = importlib.import_module(module_name)
        fn = getattr(module, name, None)
        if fn is not None:
            _originals[(module_name, name)] = fn
            setattr(module, name, _probe(fn, stage))


def _uninstall() -> None:
    for (module_name, name), fn in _originals.items():
        setattr(importlib.import_module(module_name), name, fn)
    _originals.clear()


@contextlib.contextmanager
def tracking(report: Callable[[str], None]) -> Iterator[None]:
    """Within the block, stages entered in this thread are passed to ``report`` (each once, in order)."""
    global _active
    seen: list[str] = []

    def once(stage: str) -> None:
        if stage not in seen:
            seen.append(stage)
            report(stage)

    with _lock:
        if _active == 0:
            _install()
        _active += 1
    token = _current.set(once)
    try:
        yield
    finally:
        _current.reset(token)
        with _lock:
            _active -= 1
            if _active == 0:
                _uninstall()
