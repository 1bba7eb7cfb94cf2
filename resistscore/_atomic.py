"""Safe output: a file or folder is written whole or not at all, and never over an input.

* :func:`atomic_path` / :func:`atomic_write`: one file, written beside its target and moved onto it only
  when complete.
* :func:`atomic_dir`: a whole output folder (``resistscore report``, ``demo``, ``plot``, ``nci60``,
  ``rs.analyze``), written into a temporary sibling folder and swapped in when complete, so that a failed
  run leaves the folder exactly as it was and a finished run never mixes with an older one.
* :func:`check_output_file` / :func:`check_output_folder`: refuse an output that is (or holds) an input,
  before any work is done.

Every ``OSError`` raised while writing names the target the user asked for, never a temporary file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from resistscore._errors import OutputError

__all__ = [
    "RUN_MANIFEST",
    "atomic_dir",
    "atomic_files",
    "atomic_path",
    "atomic_write",
    "check_output_file",
    "check_output_folder",
]

#: name of the file that lists what a run wrote into its output folder (see :func:`atomic_dir`)
RUN_MANIFEST = ".resistscore-run.json"
#: at most this many offending files are named in an error message
_SHOW = 3

PathLike = str | os.PathLike[str]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing ancestors; return the folders created, outermost first."""
    missing = []
    p = folder
    while not os.path.lexists(p):
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    created = []
    try:
        for d in reversed(missing):
            d.mkdir()
            created.append(d)
    except BaseException:
        _remove_created(created)
        raise
    return created


def _remove_created(created: Sequence[Path]) -> None:
    """Remove the (empty) folders made by :func:`_make_parents`, innermost first."""
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def _is_within(path: str | Path, parent: str | Path) -> bool:
    path, parent = str(path), str(parent)
    return path == parent or path.startswith(parent.rstrip(os.sep) + os.sep)


def _naming_target(err: OSError, target: Path, scratch: Path | None) -> OSError:
    """Return the same error, naming ``target`` where it named the temporary ``scratch`` path (or nothing).

    A path inside a temporary folder ``scratch`` becomes the same path inside ``target``.
    """
    name = err.filename
    named = target
    if name is not None:
        name = os.path.abspath(os.fsdecode(name))
        if scratch is not None and _is_within(name, os.path.abspath(scratch)):
            rel = os.path.relpath(name, os.path.abspath(scratch))
            if rel != "." and os.path.isdir(scratch):
                named = target / rel
        else:
            # a temporary name made beside the target (".NAME.xxxx.part", or nested ones "..NAME.xxxx.part.yy")
            first, *rest = Path(os.path.relpath(name, os.path.abspath(target.parent))).parts or ("",)
            if not (first.startswith(".") and first.lstrip(".").startswith(f"{target.name}.")):
                return err
            if rest and os.path.isdir(os.path.join(os.path.abspath(target.parent), first)):
                named = target.joinpath(*rest)
    if err.errno is None:
        return OSError(None, str(err), str(named))
    return OSError(err.errno, err.strerror or os.strerror(err.errno), str(named))


def _cleanup_and_reraise(err: BaseException, target: Path, scratch: Path | None, cleanup) -> None:
    """Run ``cleanup``, then re-raise ``err`` (an ``OSError`` naming ``target``, see :func:`_naming_target`)."""
    named = _naming_target(err, target, scratch) if isinstance(err, OSError) else err
    cleanup()
    if named is err:
        raise err
    raise named from err


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    Use it for writers that want a file name (``df.to_parquet(tmp)``, ``adata.write_h5ad(tmp)``,
    ``fig.savefig(tmp)``). Missing parent folders are created. On any exception the temporary file
    and the folders created for it are removed and ``path`` is untouched; an ``OSError`` (full disk,
    read-only file system, permission denied ...) is re-raised naming ``path``, not the temporary file.
    """
    target = Path(path)
    tmp_path: Path | None = None
    created: list[Path] = []
    try:
        created = _make_parents(target.parent)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part" + target.suffix, dir=target.parent
        )
        os.close(fd)
        tmp_path = Path(tmp)
        yield tmp_path
        # mkstemp creates the file private (0600); give it the mode a plain open() would (0666 & ~umask)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException as err:

        def cleanup():
            if tmp_path is not None:
                tmp_path.unlink(missing_ok=True)
            _remove_created(created)

        _cleanup_and_reraise(err, target, tmp_path, cleanup)


@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; replace ``path`` with it only on success."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline="" if encoding else None) as fh:
        yield fh


# ------------------------------------------------------------------------------ outputs vs inputs
def _existing(inputs: Iterable[PathLike | None]) -> list[Path]:
    return [Path(p) for p in inputs if p is not None and os.path.exists(p)]


def _files_under(folder: Path) -> Iterator[Path]:
    """Every file (or link) below ``folder``, lazily; sub-folders are entered, links are not followed."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            yield Path(root, name)
        for name in dirs:  # a link to a folder is listed by os.walk as a folder, but not entered
            if os.path.islink(os.path.join(root, name)):
                yield Path(root, name)


def _first_ancestor(path: Path) -> Path:
    p = path
    while not os.path.lexists(p) and p.parent != p:
        p = p.parent
    return p


def _check_parent(target: Path, option: str) -> None:
    ancestor = _first_ancestor(target.parent)
    if os.path.lexists(ancestor) and not ancestor.is_dir():
        raise OutputError(
            f"{option} {target}: {ancestor} is a file, not a folder; give a path inside a folder."
        )


def check_output_file(
    path: PathLike, inputs: Iterable[PathLike | None] = (), *, option: str = "--out"
) -> None:
    """Refuse an output file that is one of the inputs, lies inside an input folder, or is a folder.

    "The same file" is decided by the file system (:func:`os.path.samefile`: same device and inode), so a
    symbolic or hard link to an input is refused as well as the input's own path.

    Parameters
    ----------
    path
        The output file.
    inputs
        Every file or folder the run reads (``None`` entries are skipped).
    option
        How the output is named in messages (``"--out"`` on the command line, ``"path"`` in the API).

    Raises
    ------
    OutputError
        With a message naming the clash and the fix.
    """
    target = Path(path)
    if target.is_dir():
        raise OutputError(
            f"{option} {target} is a folder; give the name of a file (e.g. {target / 'out.csv'})."
        )
    _check_parent(target, option)
    if not os.path.lexists(target):
        return
    real = os.path.realpath(target)
    for inp in _existing(inputs):
        same = os.path.exists(target) and os.path.samefile(target, inp)
        if same or (inp.is_dir() and _is_within(real, os.path.realpath(inp))):
            how = "is" if str(target) == str(inp) else "is the same file as" if same else "is inside"
            raise OutputError(
                f"{option} {target} {how} the input {inp}; resistscore never writes over its input. "
                "Choose another output name."
            )


def _manifest_files(folder: Path) -> set[str] | None:
    try:
        with open(folder / RUN_MANIFEST, encoding="utf-8") as fh:
            doc = json.load(fh)
        files = doc["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(f) for f in files} if isinstance(files, list) else None


def check_output_folder(
    path: PathLike, inputs: Iterable[PathLike | None] = (), *, option: str = "--out"
) -> None:
    """Refuse an output folder that a run could not replace without losing something.

    A run replaces its whole output folder (see :func:`atomic_dir`), so the folder must be new, empty, or
    the output of an earlier resistscore run (its files listed in ``.resistscore-run.json``). Refused,
    before any work: a path that is a file; a folder holding (or being) an input, through a link too; a
    folder holding the current working folder; a folder with files resistscore did not write, which are
    named so the user can move them.

    Parameters
    ----------
    path
        The output folder.
    inputs
        Every file or folder the run reads (``None`` entries are skipped).
    option
        How the output is named in messages.

    Raises
    ------
    OutputError
        With a message naming the clash and the fix.
    """
    target = Path(path)
    if os.path.lexists(target) and not target.is_dir():
        raise OutputError(f"{option} {target} is a file; give the name of a folder for the outputs.")
    _check_parent(target, option)
    real = os.path.realpath(target)
    existing = _existing(inputs)
    for inp in existing:
        if _is_within(os.path.realpath(inp), real):
            raise OutputError(
                f"the input {inp} is inside the output folder {target}, which this run replaces as a whole; "
                f"choose another {option}."
            )
    if _is_within(os.path.realpath(os.getcwd()), real):
        raise OutputError(
            f"{option} {target} is (or holds) the current folder, which this run would replace; "
            "give a new folder, e.g. results/."
        )
    if not target.is_dir():
        return
    ours = _manifest_files(target) or set()
    foreign, files = [], []
    for f in _files_under(target):
        rel = f.relative_to(target).as_posix()
        if rel == RUN_MANIFEST:
            continue
        if rel not in ours:
            foreign.append(rel)
            if len(foreign) == _SHOW:
                break
        files.append(f)
    if foreign:
        raise OutputError(
            f"{option} {target} holds files resistscore did not write (e.g. {', '.join(foreign)}); a run "
            f"replaces its whole output folder, so move them out or choose another {option}."
        )
    for f in files:  # hard links of an input among the files of an earlier run
        for inp in existing:
            if inp.is_file() and os.path.exists(f) and os.path.samefile(f, inp):
                raise OutputError(
                    f"the input {inp} is the same file as {f} in the output folder {target}, which this run "
                    f"replaces; choose another {option}."
                )


def _write_manifest(stage: Path, extra: dict | None) -> None:
    from resistscore._version import __version__

    files = sorted(f.relative_to(stage).as_posix() for f in _files_under(stage) if f.name != RUN_MANIFEST)
    doc = {
        "written_by": f"resistscore {__version__}",
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **(extra or {}),
        "files": files,
    }
    with open(stage / RUN_MANIFEST, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, default=str)
        fh.write("\n")


def _swap_in(stage: Path, target: Path) -> None:
    """Put the finished ``stage`` folder at ``target``; the previous ``target`` (if any) is removed."""
    if not os.path.lexists(target):
        os.rename(stage, target)
        return
    old = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")  # a new name: portable rename
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(
    path: PathLike,
    inputs: Iterable[PathLike | None] = (),
    *,
    option: str = "--out",
    record: dict | None = None,
) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; make it ``path`` only if the block succeeds.

    :func:`check_output_folder` runs first. On success a manifest (``.resistscore-run.json``: the files
    written, the resistscore version, the time, and ``record``, which the block may still fill) is added
    and the folder is swapped in: the previous folder is renamed aside, the new one renamed into place
    and the old one deleted (two renames on the same file system; the previous output is never mixed
    with the new one). On any exception the temporary folder, and any parent folder created for it, are
    removed: ``path`` is exactly as it was. ``path`` is resolved first, so a link to a folder keeps
    pointing at the (new) output.

    Parameters
    ----------
    path
        The output folder.
    inputs
        Files and folders the run reads; refused inside ``path``.
    option
        How the output is named in messages.
    record
        Extra entries of the manifest (e.g. the command and its warnings).
    """
    target = Path(os.path.realpath(path)) if os.path.lexists(path) else Path(os.path.abspath(path))
    check_output_folder(path, inputs, option=option)
    stage: Path | None = None
    created: list[Path] = []
    try:
        created = _make_parents(target.parent)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
        os.chmod(stage, 0o777 & ~_umask())
        yield stage
        _write_manifest(stage, record)
        _swap_in(stage, target)
    except BaseException as err:

        def cleanup():
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            _remove_created(created)

        _cleanup_and_reraise(err, Path(path), stage, cleanup)


@contextlib.contextmanager
def atomic_files(folder: PathLike) -> Iterator[Path]:
    """Yield a temporary folder inside ``folder``; move the files written there into ``folder`` on success.

    For writers of several files into a folder that may hold other files (``rs.pl.save_all``): either
    every file is written, each replacing its namesake atomically, or - on any exception - none is, and
    the folders created for them are removed. Other files in ``folder`` are never touched.
    """
    target = Path(folder)
    stage: Path | None = None
    created: list[Path] = []
    try:
        created = _make_parents(target)
        stage = Path(tempfile.mkdtemp(prefix=".resistscore-", suffix=".part", dir=target))
        yield stage
        for f in sorted(_files_under(stage)):
            dest = target / f.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
        shutil.rmtree(stage)
    except BaseException as err:

        def cleanup():
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)
            _remove_created(created)

        _cleanup_and_reraise(err, target, stage, cleanup)
