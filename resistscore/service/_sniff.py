"""What an uploaded file is, by its content: kind, decompressed size and matrix dimensions.

Runs in the web process on every upload before a job is accepted, in a worker thread, reading the file
as a stream (memory stays flat whatever its size). It never parses the data as the analysis does - it
only answers "is this a file ``rs.io.read`` could read, and is it within the limits?" - so that a bad or
oversized upload is refused (413 / 422) before any work is queued. The file keeps the name the service
chose; only its suffix is set here, from the content, so that ``rs.io.read`` sees the right format.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from resistscore.service._uploads import Rejected

__all__ = ["FileInfo", "inspect_upload", "metadata_columns"]

_CHUNK = 1 << 20
_TEXT_SUFFIXES = (".csv", ".tsv", ".txt", ".tab", ".gct")
_HDF5 = b"\x89HDF\r\n\x1a\n"


@dataclass
class FileInfo:
    """The result of sniffing one upload."""

    kind: str  # text, gzip-text, h5ad, 10x_h5, parquet, xlsx, xls
    suffix: str  # the suffix the stored file gets (".csv.gz", ".h5ad", ...)
    n_rows: int | None = None
    n_cols: int | None = None
    entries: int | None = None  # stored entries (non-zeros of a sparse matrix)
    decompressed: int | None = None


def _client_suffix(client_name: str, allowed: tuple[str, ...]) -> str:
    name = client_name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return next((s for s in allowed if name.endswith(s)), "")


def inspect_upload(path: Path, client_name: str, role: str, *, max_decompressed: int) -> FileInfo:
    """Sniff ``path`` and give it the suffix of its content; raise :class:`Rejected` when unusable.

    Parameters
    ----------
    path
        The stored upload (renamed here to carry the right suffix; see ``FileInfo.suffix``).
    client_name
        The name the client gave, used only to keep a text file's ``.csv`` / ``.tsv`` / ``.gct``
        suffix (which decides its delimiter for ``rs.io.read``, as on the command line).
    role
        ``expression``, ``metadata`` or ``gmt``.
    max_decompressed
        Largest decompressed size in bytes of a gzip file or a zip container.
    """
    with open(path, "rb") as fh:
        magic = fh.read(8)
    what = {"expression": "expression file", "metadata": "metadata file", "gmt": "GMT file"}[role]
    allowed_binary = role != "gmt"
    if magic.startswith(_HDF5) and role == "expression":
        info = _hdf5(path)
    elif magic.startswith(b"PAR1") and allowed_binary:
        info = _parquet(path)
    elif magic.startswith(b"PK\x03\x04") and allowed_binary:
        info = _xlsx(path, max_decompressed)
    elif magic.startswith(b"\xd0\xcf\x11\xe0") and allowed_binary:
        info = FileInfo(kind="xls", suffix=".xls")
    elif magic.startswith(b"\x1f\x8b"):
        info = _text(path, client_name, max_decompressed, gz=True, what=what)
    else:
        info = _text(path, client_name, max_decompressed, gz=False, what=what)
    if role == "gmt":
        info.suffix = ".gmt.gz" if info.kind == "gzip-text" else ".gmt"
    return info


def _binary_error(what: str) -> Rejected:
    return Rejected(
        422,
        f"the {what} is a binary file of an unknown kind; send CSV/TSV (optionally gzipped), Excel "
        "(.xlsx), parquet, GCT, a GEO series matrix, h5ad or a 10x .h5 file.",
    )


def _text(path: Path, client_name: str, max_decompressed: int, *, gz: bool, what: str) -> FileInfo:
    """Count lines and header fields of a (gzipped) text file while streaming it."""
    opener = gzip.open if gz else open
    total = 0
    lines = 0
    head = b""
    last = b"\n"
    try:
        with opener(path, "rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                if gz and total > max_decompressed:
                    raise Rejected(
                        413,
                        f"the {what} decompresses to more than {max_decompressed / 2**20:.0f} MiB "
                        "(the limit for compressed uploads); send a smaller file.",
                    )
                if len(head) < 65536:
                    head += chunk[: 65536 - len(head)]
                    if b"\x00" in head:
                        raise _binary_error(what)
                lines += chunk.count(b"\n")
                last = chunk[-1:]
    except (OSError, EOFError, zlib.error) as err:
        if not gz:
            raise
        raise Rejected(422, f"the {what} is a damaged or truncated gzip file; compress it again.") from err
    if total == 0:
        raise Rejected(422, f"the {what} is empty.")
    if last != b"\n":
        lines += 1
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("latin-1")
        except UnicodeDecodeError as err:  # pragma: no cover - latin-1 decodes any byte
            raise _binary_error(what) from err
    if sum(not (c.isprintable() or c in "\r\n\t") for c in text[:4096]) > 40:
        raise _binary_error(what)
    suffix = _client_suffix(client_name, _TEXT_SUFFIXES)
    n_rows, n_cols = _dimensions(text, lines)
    return FileInfo(
        kind="gzip-text" if gz else "text",
        suffix=suffix + (".gz" if gz else ""),
        n_rows=n_rows,
        n_cols=n_cols,
        entries=n_rows * n_cols,
        decompressed=total,
    )


def _dimensions(head: str, n_lines: int) -> tuple[int, int]:
    """Rows and columns of a table from its first lines and line count (an upper bound, for limits)."""
    rows = [ln for ln in head.splitlines()[:50] if ln.strip() and not ln.startswith(("#", "!"))]
    if not rows:
        return max(n_lines - 1, 0), 1
    first = rows[0]
    sep = max(("\t", ",", ";", "|"), key=first.count)
    n_cols = len(next(csv.reader([first], delimiter=sep))) if first.count(sep) else 1
    return max(n_lines - 1, 0), n_cols


def _hdf5(path: Path) -> FileInfo:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            keys = set(f.keys())
            if {"obs", "var", "X"} <= keys:
                kind, suffix, node = "h5ad", ".h5ad", f["X"]
                if isinstance(node, h5py.Dataset):
                    shape = tuple(int(s) for s in node.shape)
                    entries = shape[0] * shape[1] if len(shape) == 2 else 0
                else:
                    shape = tuple(int(s) for s in node.attrs.get("shape", (0, 0)))
                    entries = int(node["data"].shape[0]) if "data" in node else 0
            elif "matrix" in keys:
                kind, suffix, node = "10x_h5", ".h5", f["matrix"]
                shape = tuple(int(s) for s in node["shape"][()]) if "shape" in node else (0, 0)
                entries = int(node["data"].shape[0]) if "data" in node else 0
            else:
                raise Rejected(
                    422,
                    "the expression file is an HDF5 file but neither an AnnData (.h5ad) nor a 10x .h5 matrix; "
                    "convert it to .h5ad with anndata.",
                )
    except OSError as err:
        raise Rejected(422, "the expression file is a damaged HDF5 file; export it again.") from err
    if len(shape) != 2:
        raise Rejected(422, "the expression file's matrix is not two-dimensional.")
    return FileInfo(kind=kind, suffix=suffix, n_rows=shape[0], n_cols=shape[1], entries=entries)


def _parquet(path: Path) -> FileInfo:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as err:  # pyarrow raises several kinds for a broken file
        raise Rejected(422, "the file is a damaged parquet file; export it again.") from err
    return FileInfo(
        kind="parquet",
        suffix=".parquet",
        n_rows=meta.num_rows,
        n_cols=meta.num_columns,
        entries=meta.num_rows * meta.num_columns,
    )


def _xlsx(path: Path, max_decompressed: int) -> FileInfo:
    """Check an Excel workbook (a zip container): every member decompressed as a stream, bytes counted."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise Rejected(
                    422,
                    "the file is a zip archive but not an Excel workbook (.xlsx); send the table itself "
                    "(CSV/TSV, optionally gzipped, or .xlsx).",
                )
            total = 0
            for member in zf.infolist():
                if member.file_size > max_decompressed:
                    raise _zip_bomb(max_decompressed)
                with zf.open(member) as fh:
                    while chunk := fh.read(_CHUNK):
                        total += len(chunk)
                        if total > max_decompressed:
                            raise _zip_bomb(max_decompressed)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise Rejected(422, "the file is a damaged zip container (.xlsx); save it again.") from err
    return FileInfo(kind="xlsx", suffix=".xlsx", decompressed=total)


def _zip_bomb(limit: int) -> Rejected:
    return Rejected(
        413,
        f"the Excel file decompresses to more than {limit / 2**20:.0f} MiB (the limit for compressed "
        "uploads); send it as gzipped CSV instead.",
    )


def check_dimensions(info: FileInfo, *, max_entries: int, max_dimension: int) -> None:
    """Refuse (422) a matrix with more entries or a longer side than the limits."""
    if info.n_rows is None or info.n_cols is None:
        return
    side = max(info.n_rows, info.n_cols)
    if side > max_dimension:
        raise Rejected(
            422,
            f"the expression matrix has {side:,} rows or columns, more than the limit of {max_dimension:,}; "
            "split it, or ask the administrator to raise max_dimension.",
        )
    if info.entries is not None and info.entries > max_entries:
        raise Rejected(
            422,
            f"the expression matrix has {info.entries:,} values ({info.n_rows:,} x {info.n_cols:,}), more "
            f"than the limit of {max_entries:,}; split it, or ask the administrator to raise max_matrix_entries.",
        )


def stored_with_suffix(path: Path, info: FileInfo) -> Path:
    """Rename ``path`` to carry the suffix of its content; return the new path."""
    if not info.suffix:
        return path
    new = path.with_name(path.name + info.suffix)
    os.rename(path, new)
    return new


def metadata_columns(path: Path, info: FileInfo, limit: int = 200) -> list[str]:
    """Return the column names of a metadata table (its header only; the rest is not read)."""
    if info.kind in ("text", "gzip-text"):
        opener = gzip.open if info.kind == "gzip-text" else open
        with opener(path, "rb") as fh:
            head = fh.read(65536)
        text = head.decode("utf-8", "replace")
        first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
        sep = max(("\t", ",", ";", "|"), key=first.count)
        names = next(csv.reader(io.StringIO(first), delimiter=sep), [])
    elif info.kind == "parquet":
        import pyarrow.parquet as pq

        names = list(pq.ParquetFile(path).schema_arrow.names)
    elif info.kind == "xlsx":
        import openpyxl

        try:
            with open(path, "rb") as fh:
                wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
                try:
                    ws = wb.worksheets[0]
                    first_row = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
                    names = ["" if v is None else str(v) for v in first_row]
                finally:
                    wb.close()
        except Exception as err:  # openpyxl raises many kinds for a broken workbook
            raise Rejected(
                422, "the metadata workbook could not be read; save it again as .xlsx or CSV."
            ) from err
    else:
        raise Rejected(422, "read the metadata columns of CSV/TSV, Excel (.xlsx) or parquet files only.")
    names = [n.strip() for n in names]
    return [n for n in names if n][:limit]
