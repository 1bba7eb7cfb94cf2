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


# ------------------------------------------------------------------ errors name the target (issue 10)
def test_os_error_names_the_target_and_leaves_nothing(tmp_path, os_fault):
    import errno

    target = tmp_path / "new" / "deeper" / "out.csv"
    with os_fault(errno.ENOSPC, tmp_path), pytest.raises(OSError) as info, atomic_write(target) as fh:
        fh.write("x" * 1000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert list(tmp_path.iterdir()) == [], "temporary file and created folders removed"
    with os_fault(errno.EROFS, tmp_path), pytest.raises(OSError) as info, atomic_write(tmp_path / "o.csv"):
        pass
    assert info.value.errno == errno.EROFS and info.value.filename == str(tmp_path / "o.csv")


# ------------------------------------------------------------------ outputs are never inputs (issue 10)
def test_check_output_file_refuses_every_way_to_name_an_input(tmp_path):
    from resistscore._atomic import check_output_file
    from resistscore._errors import OutputError

    src = tmp_path / "in.csv"
    src.write_text("x")
    os.link(src, tmp_path / "hard.csv")
    os.symlink(src, tmp_path / "soft.csv")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "member.tsv").write_text("x")
    (tmp_path / "file").write_text("x")
    for out, words in [
        (src, "is the input"),
        (tmp_path / "hard.csv", "same file as"),
        (tmp_path / "soft.csv", "same file as"),
        (tmp_path / "folder" / "member.tsv", "is inside"),
        (tmp_path / "folder", "is a folder"),
        (tmp_path / "file" / "out.csv", "is a file, not a folder"),
    ]:
        with pytest.raises(OutputError, match=words):
            check_output_file(out, [src, tmp_path / "folder"])
    check_output_file(tmp_path / "new.csv", [src])
    check_output_file(tmp_path / "folder" / "new.csv", [src, tmp_path / "folder"])  # a new file: fine
    assert src.read_text() == "x"


def test_check_output_folder(tmp_path, monkeypatch):
    from resistscore._atomic import RUN_MANIFEST, check_output_folder
    from resistscore._errors import OutputError

    out = tmp_path / "out"
    check_output_folder(out)  # new
    out.mkdir()
    check_output_folder(out)  # empty
    (out / "figures").mkdir()
    (out / "figures" / "a.png").write_bytes(b"x")
    (out / RUN_MANIFEST).write_text('{"files": ["figures/a.png"]}')
    check_output_folder(out)  # an earlier run
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="did not write.*notes.txt"):
        check_output_folder(out)
    (out / "notes.txt").unlink()
    with pytest.raises(OutputError, match="input .* is inside"):
        check_output_folder(out, [out / "figures" / "a.png"])
    outside = tmp_path / "input.png"
    os.link(out / "figures" / "a.png", outside)
    with pytest.raises(OutputError, match="same file as"):
        check_output_folder(out, [outside])
    with pytest.raises(OutputError, match="is a file"):
        check_output_folder(outside)
    monkeypatch.chdir(out / "figures")
    with pytest.raises(OutputError, match="current folder"):
        check_output_folder(out)


def test_atomic_dir_swaps_whole_folders(tmp_path):
    import json

    from resistscore._atomic import RUN_MANIFEST, atomic_dir

    out = tmp_path / "out"
    with atomic_dir(out, record={"warnings": ["w1"]}) as stage:
        (stage / "a.csv").write_text("first")
        (stage / "figures").mkdir()
        (stage / "figures" / "f.png").write_bytes(b"png")
    manifest = json.loads((out / RUN_MANIFEST).read_text())
    assert manifest["files"] == ["a.csv", "figures/f.png"] and manifest["warnings"] == ["w1"]
    link = tmp_path / "link"
    os.symlink(out, link)
    with atomic_dir(link) as stage:  # a second run replaces the first one entirely
        (stage / "b.csv").write_text("second")
    assert link.is_symlink() and sorted(p.name for p in out.iterdir()) == [RUN_MANIFEST, "b.csv"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError), atomic_dir(out) as stage:
        (stage / "c.csv").write_text("half")
        raise RuntimeError("boom")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "out"], "no temporary folder left"


def test_atomic_files_all_or_nothing_beside_other_files(tmp_path):
    from resistscore._atomic import atomic_files

    (tmp_path / "mine.txt").write_text("keep")
    (tmp_path / "a.png").write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_files(tmp_path) as stage:
        (stage / "a.png").write_bytes(b"new")
        raise RuntimeError("boom")
    assert (tmp_path / "a.png").read_bytes() == b"old"
    with atomic_files(tmp_path) as stage:
        (stage / "a.png").write_bytes(b"new")
        (stage / "b.png").write_bytes(b"b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "mine.txt"]
    assert (tmp_path / "a.png").read_bytes() == b"new" and (tmp_path / "mine.txt").read_text() == "keep"
