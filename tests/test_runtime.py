"""The interpreter's settings while scoring (``resistscore._runtime``, ``rs.settings.tune_interpreter``): set for a call, restored after."""

from __future__ import annotations

import gc
import sys
import threading

import numpy as np
import pandas as pd
import pytest

import resistscore as rs
from resistscore._runtime import SWITCH_INTERVAL, run_interpreter
from resistscore.tl import _score


def _approx(seconds: float):
    # Python keeps the interval in whole microseconds
    return pytest.approx(seconds, abs=2e-6)


@pytest.fixture
def interpreter():
    """The interpreter's state before the test, restored after it whatever happens."""
    before = sys.getswitchinterval(), gc.isenabled(), rs.settings.tune_interpreter
    yield
    sys.setswitchinterval(before[0])
    (gc.enable if before[1] else gc.disable)()
    rs.settings.tune_interpreter = before[2]


@pytest.mark.parametrize("gc_on", [True, False])
def test_a_run_sets_the_switch_interval_and_pauses_the_collector_then_restores_both(interpreter, gc_on):
    sys.setswitchinterval(0.002)
    (gc.enable if gc_on else gc.disable)()
    with run_interpreter():
        assert sys.getswitchinterval() == _approx(SWITCH_INTERVAL)
        assert not gc.isenabled()
    assert sys.getswitchinterval() == _approx(0.002)
    assert gc.isenabled() is gc_on


def test_a_shorter_interval_of_the_user_is_kept(interpreter):
    sys.setswitchinterval(0.0001)
    with run_interpreter():
        assert sys.getswitchinterval() == _approx(0.0001)
    assert sys.getswitchinterval() == _approx(0.0001)


def test_runs_at_once_restore_when_the_last_one_ends(interpreter):
    sys.setswitchinterval(0.005)
    gc.enable()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with run_interpreter():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with run_interpreter():
            second_in.set()
            first_out.wait(5)  # the first run has ended: still set for this one
            seen["interval"], seen["gc"] = sys.getswitchinterval(), gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"interval": _approx(SWITCH_INTERVAL), "gc": False}
    assert sys.getswitchinterval() == _approx(0.005)
    assert gc.isenabled()


def test_without_tuning_nothing_changes(interpreter):
    rs.settings.tune_interpreter = False
    sys.setswitchinterval(0.005)
    gc.enable()
    with run_interpreter():
        assert sys.getswitchinterval() == _approx(0.005)
        assert gc.isenabled()


def _cohort():
    rng = np.random.default_rng(0)
    genes = ["ABCB1", "ABCC1", "ABCG2", "GSTP1", "BCL2", "MCL1"] + [f"G{i}" for i in range(40)]
    return pd.DataFrame(rng.lognormal(2, 1, (12, len(genes))), columns=genes), {
        "efflux": ["ABCB1", "ABCC1", "ABCG2"],
        "survival": ["BCL2", "MCL1", "GSTP1"],
    }


def test_score_runs_tuned_and_restores_the_interpreter_even_when_it_fails(interpreter, monkeypatch):
    df, sigs = _cohort()
    inner = _score._score
    seen = []

    def spy(*args, **kwargs):
        seen.append((sys.getswitchinterval(), gc.isenabled()))
        return inner(*args, **kwargs)

    monkeypatch.setattr(_score, "_score", spy)
    sys.setswitchinterval(0.005)
    gc.enable()
    rs.tl.score(df, sigs, n_controls=9)
    assert seen == [(_approx(SWITCH_INTERVAL), False)]
    assert (sys.getswitchinterval(), gc.isenabled()) == (_approx(0.005), True)
    bad = df.copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(rs.InputFormatError, match="infinite"):
        rs.tl.score(bad, sigs, n_controls=9)
    assert (sys.getswitchinterval(), gc.isenabled()) == (_approx(0.005), True)


def test_the_same_scores_tuned_or_not(interpreter):
    df, sigs = _cohort()
    tuned = rs.tl.score(df, sigs, n_controls=9)
    rs.settings.tune_interpreter = False
    plain = rs.tl.score(df, sigs, n_controls=9)
    pd.testing.assert_frame_equal(tuned.scores, plain.scores)
    pd.testing.assert_frame_equal(tuned.pvalues, plain.pvalues)


def test_tune_interpreter_takes_a_bool(interpreter):
    assert rs.settings.tune_interpreter is True
    with pytest.raises(rs.ResistScoreError, match="tune_interpreter"):
        rs.settings.tune_interpreter = 1
