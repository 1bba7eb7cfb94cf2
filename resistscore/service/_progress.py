"""Progress of a running job, by stage, without touching the analysis code.

The job calls the same workflow function as ``resistscore report``; that function calls the public API
in a fixed order (``rs.io.read`` -> ``rs.pp.harmonize_genes`` -> ``rs.tl.score`` -> the statistics ->
``rs.pl.save_all`` -> ``rs.report.write``). :func:`install` wraps those public functions once per worker
process with a probe that, when a job is being tracked in the current thread (a context variable), reports
the stage it enters; outside a tracked job a probe does nothing but call the function. Progress is
therefore "% done" by stage (``_store.STAGES``), never a guess from elapsed time.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import threading
from collections.abc import Callable, Iterator

__all__ = ["PROBES", "install", "tracking"]

#: (module, function) -> the stage that starts when it is called
PROBES: dict[tuple[str, str], str] = {
    ("resistscore.io", "read"): "reading",
    ("resistscore.pp", "harmonize_genes"): "harmonising",
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
_installed = False


def _probe(fn: Callable, stage: str) -> Callable:
    @functools.wraps(fn)
    def probed(*args, **kwargs):
        report = _current.get()
        if report is not None:
            report(stage)
        return fn(*args, **kwargs)

    probed.__resistscore_probe__ = True  # type: ignore[attr-defined]
    return probed


def install() -> None:
    """Wrap the public functions of :data:`PROBES` (once per process; idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        for (module_name, name), stage in PROBES.items():
            module = importlib.import_module(module_name)
            fn = getattr(module, name, None)
            if fn is None or getattr(fn, "__resistscore_probe__", False):
                continue
            setattr(module, name, _probe(fn, stage))
        _installed = True


@contextlib.contextmanager
def tracking(report: Callable[[str], None]) -> Iterator[None]:
    """Within the block, stages entered in this thread are passed to ``report`` (each once, in order)."""
    install()
    seen: list[str] = []

    def once(stage: str) -> None:
        if stage not in seen:
            seen.append(stage)
            report(stage)

    token = _current.set(once)
    try:
        yield
    finally:
        _current.reset(token)
