r"""The on-disk cache of the built gene lookups: one file of ``marshal`` sections, each read on first use.

Building the HGNC lookups from the shipped tables (decompress, parse, split every alias list) takes ~0.2 s of
serial CPU at the start of every process that harmonises gene names; loading the lookups a process uses from
this cache takes a fraction of it. The cache is derived data: :mod:`resistscore._gene_tables` keys it by the
sha256 of the tables it was built from (verified against ``checksums.sha256``), the code that builds the
lookups, :data:`FORMAT` and :data:`marshal.version`, and anything missing, stale, unreadable or corrupt is
ignored (the lookups are then built from the tables, as without a cache).

A file holds ``MAGIC``, the length of the header, the header (a marshalled dict: ``format``, ``key`` and, for
each lookup, its offset, length and sha256) and the marshalled lookups. ``marshal`` loads only plain values
(dicts, strings, frozensets: no code is run) about as fast as Python can build them, and keeps the sharing of
objects within one lookup (the aliases of a gene share one frozenset). Each section is checked against its
sha256 before it is loaded.

The folder: ``RESISTSCORE_CACHE_DIR`` if set, else a ``__pycache__`` folder beside the shipped tables if it
is writable (filled at install time by ``resistscore compile``, as numba's cache beside the sources), else the
user's cache folder (``$XDG_CACHE_HOME/resistscore`` or ``~/.cache/resistscore``; ``~/Library/Caches/resistscore``
on macOS, ``%LOCALAPPDATA%\resistscore\Cache`` on Windows). Reading tries each in that order.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from resistscore._atomic import atomic_path

__all__ = [
    "ENV",
    "FORMAT",
    "LookupCache",
    "any_writable",
    "cache_folders",
    "user_cache_dir",
    "write_sections",
]

#: the environment variable that names the cache folder (it alone is then used)
ENV = "RESISTSCORE_CACHE_DIR"
#: version of the file layout below (part of every cache key)
FORMAT = 1
MAGIC = b"RSLOOKUP"
_HEAD = len(MAGIC) + 8
#: a header is a few hundred bytes: anything much longer is not one
_MAX_HEADER = 1 << 16


def user_cache_dir() -> Path | None:
    """Return resistscore's folder in the user's cache folder (``None`` when there is no home folder)."""
    try:
        if sys.platform == "win32":
            base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
            return Path(base) / "resistscore" / "Cache"
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Caches" / "resistscore"
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "resistscore"
    except RuntimeError:  # no home folder can be determined
        return None


def cache_folders(beside: Path | None) -> list[Path]:
    """Return the folders where the cache is looked for, in order (see the module's docstring)."""
    env = os.environ.get(ENV, "")
    if env:
        return [Path(env).expanduser()]
    folders = [beside / "__pycache__"] if beside is not None else []
    user = user_cache_dir()
    return folders + ([user] if user is not None else [])


def _writable(folder: Path) -> bool:
    """Whether a file can probably be created in ``folder`` (or in the folders to be made for it)."""
    p = folder
    while not os.path.lexists(p):
        if p.parent == p:
            return False
        p = p.parent
    return p.is_dir() and os.access(p, os.W_OK | os.X_OK)


def any_writable(folders: list[Path]) -> bool:
    """Whether one of ``folders`` can probably take the cache file."""
    return any(_writable(f) for f in folders)


class LookupCache:
    """A valid cache file: its sections (lookups) are read, checked and loaded one by one, on demand.

    Use :meth:`open`; :meth:`load` returns ``None`` (never raises) for anything it cannot vouch for.
    """

    def __init__(self, path: Path, key: str, sections: Mapping[str, tuple[int, int, str]], fh):
        self.path = path
        self.key = key
        self._sections = dict(sections)
        # the file stays open: a cache written again meanwhile (by `resistscore compile`, another process)
        # replaces the name, not the file this header describes
        self._fh = fh
        self._lock = threading.Lock()

    def __del__(self):
        fh = getattr(self, "_fh", None)
        if fh is not None:
            fh.close()

    @classmethod
    def open(cls, folders: list[Path], name: str, key: str) -> LookupCache | None:
        """Return the first file ``name`` in ``folders`` whose header is valid and has ``key``, or ``None``."""
        for folder in folders:
            path = folder / name
            try:
                fh = open(path, "rb")  # noqa: SIM115 (kept open by the LookupCache)
            except OSError:
                continue
            try:
                head = fh.read(_HEAD)
                size = int.from_bytes(head[len(MAGIC) :], "little")
                if len(head) != _HEAD or head[: len(MAGIC)] != MAGIC or size > _MAX_HEADER:
                    raise ValueError("not a cache file")
                header = marshal.loads(fh.read(size))
                length = os.fstat(fh.fileno()).st_size
                sections = _sections(header, key)
                # the sections follow the header; a truncated (or extended) file is not used
                if (
                    sections is None
                    or min((o for o, _, _ in sections.values()), default=-1) != _HEAD + size
                    or length != max(o + n for o, n, _ in sections.values())
                ):
                    raise ValueError("another key, or a damaged file")
            except (OSError, EOFError, ValueError, TypeError):
                fh.close()
                continue
            return cls(path, key, sections, fh)
        return None

    def load(self, name: str):
        """Return the lookup ``name`` (a dict), or ``None`` if the file does not hold an intact copy of it."""
        section = self._sections.get(name)
        if section is None:
            return None
        offset, size, digest = section
        try:
            with self._lock:
                self._fh.seek(offset)
                raw = self._fh.read(size)
        except (OSError, ValueError):  # ValueError: closed
            return None
        if len(raw) != size or hashlib.sha256(raw).hexdigest() != digest:
            return None
        try:
            value = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):  # pragma: no cover - the sha256 matched what was written
            return None
        return value if isinstance(value, dict) else None


def _sections(header, key: str) -> dict[str, tuple[int, int, str]] | None:
    """Return the sections of a header written for ``key`` (offsets from the start of the file), or ``None``."""
    if not (isinstance(header, dict) and header.get("format") == FORMAT and header.get("key") == key):
        return None
    sections = header.get("sections")
    if not isinstance(sections, dict):
        return None
    for name, s in sections.items():
        if not (
            isinstance(name, str)
            and isinstance(s, tuple)
            and len(s) == 3
            and all(isinstance(v, int) and v >= 0 for v in s[:2])
            and isinstance(s[2], str)
        ):
            return None
    return sections


def write_sections(folders: list[Path], name: str, key: str, sections: Mapping[str, dict]) -> Path | None:
    """Write ``sections`` (name -> lookup) as the cache file ``name`` into the first folder that takes it.

    The file is written beside its target and moved onto it when complete (:func:`~resistscore._atomic.atomic_path`):
    a reader never sees half a file. Returns the path written, or ``None`` if no folder could take it (a
    cache is optional: nothing is raised).
    """
    blobs = {n: marshal.dumps(v) for n, v in sections.items()}
    # offsets from the start of the data, shifted below by the length of the header that holds them
    rel, at = {}, 0
    for n, b in blobs.items():
        rel[n] = (at, len(b), hashlib.sha256(b).hexdigest())
        at += len(b)
    start = _HEAD
    for _ in range(4):  # marshal writes these ints with a fixed width: the second pass agrees with the first
        header = marshal.dumps(
            {"format": FORMAT, "key": key, "sections": {n: (start + o, s, d) for n, (o, s, d) in rel.items()}}
        )
        if _HEAD + len(header) == start:
            break
        start = _HEAD + len(header)
    else:  # pragma: no cover - marshal writes ints with a fixed width
        return None
    for folder in folders:
        target = folder / name
        try:
            with atomic_path(target) as tmp, open(tmp, "wb") as fh:
                fh.write(MAGIC + len(header).to_bytes(8, "little") + header)
                for b in blobs.values():
                    fh.write(b)
        except (OSError, ValueError):  # unwritable, full disk, ... (OutputError is a ValueError)
            continue
        return target
    return None
