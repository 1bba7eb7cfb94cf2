"""numba's one-time set-up in a process, started early so that it overlaps other work.

The first compiled kernel a process calls costs ~0.3-0.5 s of CPU however small it is: numba sets up
its compiler, its type system and its on-disk cache (the kernels after it load in milliseconds, see
:mod:`resistscore._precompile`). :func:`warm_jit` pays that set-up on a tiny kernel of its own, in a
daemon thread, while the calling thread goes on: ``rs.tl.score`` starts it before it reads the gene
names of the data, so that the set-up overlaps the gene harmonisation instead of following it; a Dask
worker pays it while the client plans the run (:func:`resistscore.tl._distributed.warm_workers`),
instead of in its first partition; the client of a Dask run, before it counts the p-values.
Nothing here changes a number: the kernel returns a constant and is never used.
"""

from __future__ import annotations

import atexit
import contextlib
import threading

import numba as nb

__all__ = ["warm_jit"]

_state: dict = {"thread": None, "lock": threading.Lock()}


@nb.njit(nogil=True, cache=True)
def _ready() -> int:
    """Return 1: a kernel that does nothing, its first call sets numba up (see the module's docstring)."""
    return 1


def _set_up() -> None:
    # a broken numba cache shows (and is reported) on the first real kernel, not here
    with contextlib.suppress(Exception):
        _ready()


def warm_jit(wait: bool = False) -> None:
    """Set numba up in this process once, in a daemon thread (``wait=True``: before returning).

    Later calls return at once (with ``wait``, once the set-up has ended). The interpreter waits for
    the thread at exit (less than a second; at most 30 s), so that a short run never exits in the middle of it.
    """
    with _state["lock"]:
        thread = _state["thread"]
        if thread is None:
            thread = _state["thread"] = threading.Thread(
                target=_set_up, name="resistscore-jit-setup", daemon=True
            )
            thread.start()
            atexit.register(thread.join, 30.0)  # bounded: never a hang at exit
    if wait:
        thread.join()
