"""numba's one-time set-up in a thread of its own (``resistscore.tl._jit``), and where the engine starts it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pandas as pd

import resistscore as rs
from resistscore.tl import _jit
from resistscore.tl import _score as sc


def _python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (this module's state is then that process's own)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_the_set_up_runs_once_in_a_daemon_thread_and_loads_the_kernel():
    out = _python(
        """
        from resistscore.tl import _jit
        assert _jit._state["thread"] is None and not _jit._ready.signatures
        _jit.warm_jit()
        t = _jit._state["thread"]
        assert t.name == "resistscore-jit-setup" and t.daemon
        _jit.warm_jit(wait=True)
        assert _jit._state["thread"] is t and not t.is_alive()  # one thread, however often it is asked
        assert _jit._ready.signatures  # numba compiled or loaded the kernel: it is set up
        print("ok")
        """
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_process_that_exits_at_once_waits_for_the_set_up():
    """A run that fails on its first argument exits while the thread may still be in numba: no crash, no hang."""
    out = _python(
        """
        from resistscore.tl import _jit
        _jit.warm_jit()
        raise SystemExit(0)
        """
    )
    assert out.returncode == 0, out.stderr


def test_a_failed_set_up_is_left_to_the_first_real_kernel(monkeypatch):
    """The set-up's error stays in its thread, unreported (an uncaught one would reach threading.excepthook)."""
    monkeypatch.setitem(_jit._state, "thread", None)
    calls, escaped = [], []

    def broken():
        calls.append(1)
        raise RuntimeError("numba's cache cannot be read")

    monkeypatch.setattr(_jit, "_ready", broken)
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    _jit.warm_jit(wait=True)  # no exception here: the run's own kernels report a broken cache
    assert calls == [1] and escaped == []
    assert not _jit._state["thread"].is_alive()


def test_score_starts_the_set_up_before_it_reads_the_data(monkeypatch):
    """The set-up overlaps the reading and harmonising of the data: it is started before them, once per call."""
    order = []
    real_rows = sc.file_rows
    monkeypatch.setattr(sc, "warm_jit", lambda wait=False: order.append(("jit", wait)))
    monkeypatch.setattr(sc, "file_rows", lambda *a, **k: order.append(("read", None)) or real_rows(*a, **k))
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(60)]
    df = pd.DataFrame(rng.gamma(2.0, 1.0, (12, 60)), columns=genes)
    rs.tl.score(df, {"up": genes[:10]}, harmonize=False, pvalues=False)
    assert order == [("jit", False), ("read", None)]
