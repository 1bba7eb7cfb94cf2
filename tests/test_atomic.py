"""Atomic writes: all or nothing, and files get the usual permissions."""

from __future__ import annotations

import os
import stat

import pytest

from resistscore._atomic import atomic_path, atomic_write


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("original")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert target.read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"], "no temporary file left behind"
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_atomic_path_creates_parents_and_honours_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "a" / "b" / "fig.png"
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"x")
        assert target.read_bytes() == b"x"
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(old)
