"""The interpreter's settings while resistscore scores: a short GIL switch interval, the cyclic GC paused.

A scoring run reads blocks of rows in the calling thread and scores them in a pool of threads: compiled
kernels that release the GIL, between short stretches of Python (and of numpy calls, each of which
releases and takes the GIL again). With Python's default switch interval (5 ms), a thread that wants the
GIL back waits up to 5 ms for the thread holding it to drop it - many times per block of rows: the
threads wait in turn (the "convoy"; a second 100k-cell call in one process on 2 cores: 2.76 s with 5 ms,
2.69 s with 0.5 ms, medians of 8). The run also creates hundreds of thousands of long-lived objects (the
gene tables, numba's typing registries), and every one of those allocations counts toward a collection of
the cyclic garbage collector, whose full collections walk every object of the process (pandas, numba,
scipy: ~90 ms in a fresh 100k-cell run, measured with :data:`gc.callbacks`). Paused, the collector defers
those walks to after the call; a cycle the run leaves is collected then, not lost.

:func:`run_interpreter` sets the switch interval to 0.5 ms and pauses the collector for the duration of
a call, and restores both when the last of the calls running at once returns
(``rs.settings.tune_interpreter``; ``False`` leaves the interpreter as it is).
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SWITCH_INTERVAL", "run_interpreter"]

#: the GIL switch interval during a run, in seconds (Python's default: 0.005)
SWITCH_INTERVAL = 0.0005

_lock = threading.Lock()
_state = {"depth": 0, "interval": None, "gc": None}


@contextmanager
def run_interpreter() -> Iterator[None]:
    """Within this block: the GIL switch interval at most :data:`SWITCH_INTERVAL`, the cyclic GC paused.

    Both are restored when the last block entered (in any thread) is left, to what they were when the
    first was entered. Without ``rs.settings.tune_interpreter``, nothing is changed.
    """
    from resistscore._settings import settings

    if not settings.tune_interpreter:
        yield
        return
    with _lock:
        if _state["depth"] == 0:
            _state["interval"], _state["gc"] = sys.getswitchinterval(), gc.isenabled()
            sys.setswitchinterval(min(SWITCH_INTERVAL, _state["interval"]))
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                sys.setswitchinterval(_state["interval"])
                if _state["gc"]:
                    gc.enable()
