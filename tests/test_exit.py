"""The end of a process that scored (issue 12 item 5): the interpreter's last collections skip the libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

import resistscore as rs


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def _frozen_at_exit(code: str) -> int:
    # an exit handler registered before resistscore's runs after it (last in, first out)
    prog = "import atexit, gc\natexit.register(lambda: print('frozen', gc.get_freeze_count()))\n" + code
    return int(_run(prog).split("frozen")[-1])


def test_the_exit_freezes_the_collector_unless_asked_not_to():
    # frozen objects are skipped by the collections of the interpreter's teardown (~0.25 s of CPU per process)
    assert _frozen_at_exit("import resistscore") > 1000
    assert _frozen_at_exit("import resistscore as rs\nrs.settings.quick_exit = False") == 0
    assert _frozen_at_exit("pass") == 0


def test_what_is_alive_at_a_quick_exit_is_still_released(tmp_path):
    # module globals are still cleared: an unclosed file is flushed, a finaliser runs
    path = tmp_path / "out.txt"
    code = (
        "import resistscore\n"
        f"fh = open({str(path)!r}, 'w')\nfh.write('written')\n"
        "class Noisy:\n    def __del__(self):\n        print('finalised')\n"
        "obj = Noisy()\n"
    )
    assert "finalised" in _run(code)
    assert path.read_text() == "written"


def test_quick_exit_takes_a_bool():
    assert rs.settings.quick_exit is True
    with pytest.raises(rs.ResistScoreError, match="quick_exit"):
        rs.settings.quick_exit = "yes"
    assert "quick_exit=True" in repr(rs.settings)
