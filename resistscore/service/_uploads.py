"""Receive a multipart upload straight to disk, counting bytes as they arrive.

An upload is never held whole in memory: the request body is parsed as it streams in
(``python-multipart``), each file part is written in chunks into the job's private incoming folder, and
the limit of each part is checked on every chunk, so an oversized upload is refused (413) as soon as it
crosses the limit. The name the client gives a file is kept as text only, to show it back; the file on
disk is named by the service (``expression``, ``metadata``, ``signatures``), never by the client.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

__all__ = ["FILE_FIELDS", "Rejected", "SavedFile", "Upload", "receive_upload"]

#: the file fields of a job and the name each is stored under
FILE_FIELDS = {"expression": "expression", "metadata": "metadata", "gmt": "signatures"}
_MAX_FIELDS = 32
_MAX_NAME = 255


class Rejected(Exception):
    """An upload refused with an HTTP status and a message the user can act on."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass
class SavedFile:
    """One uploaded file on disk."""

    field: str
    path: Path
    client_name: str
    size: int = 0


@dataclass
class Upload:
    """The files and text fields of one multipart request."""

    files: dict[str, SavedFile] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def clean_client_name(raw: str) -> str:
    """Return the client's file name as display text: last path component, printable, at most 255 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in "\x00")
    return name[:_MAX_NAME] or "upload"


class _Receiver:
    def __init__(self, folder: Path, file_limits: dict[str, int], max_field_bytes: int) -> None:
        self.folder = folder
        self.file_limits = file_limits
        self.max_field_bytes = max_field_bytes
        self.upload = Upload()
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._file: SavedFile | None = None
        self._fh = None
        self._text = bytearray()
        self._field_bytes = 0
        self._parts = 0
        self.error: Rejected | None = None

    # python-multipart callbacks -------------------------------------------------------------
    def on_part_begin(self) -> None:
        self._headers = {}
        self._parts += 1
        if self._parts > _MAX_FIELDS:
            raise Rejected(413, f"too many form fields (more than {_MAX_FIELDS}).")

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._name = name
        if filename is not None:
            if name not in FILE_FIELDS:
                raise Rejected(422, f"unexpected file field {name[:40]!r}; send expression, metadata or gmt.")
            if name in self.upload.files:
                raise Rejected(422, f"the file field {name!r} was sent twice; send one file per field.")
            client_name = clean_client_name(filename.decode("utf-8", "replace"))
            path = self.folder / FILE_FIELDS[name]
            self._file = SavedFile(field=name, path=path, client_name=client_name)
            self._fh = open(path, "xb")  # noqa: SIM115 - closed in on_part_end or close()
        else:
            self._file = None
            self._text = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if self._file is not None:
            self._file.size += n
            limit = self.file_limits[self._file.field]
            if self._file.size > limit:
                raise Rejected(
                    413,
                    f"the {self._file.field} file is larger than the limit of {_size(limit)}; "
                    "send a smaller file (e.g. gzip-compressed, or fewer samples), or ask the administrator "
                    "to raise max_upload_mb.",
                )
            self._fh.write(data[start:end])
        else:
            self._field_bytes += n
            if self._field_bytes > self.max_field_bytes:
                raise Rejected(413, f"the form fields are larger than {_size(self.max_field_bytes)} in all.")
            self._text += data[start:end]

    def on_part_end(self) -> None:
        if self._file is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            if self._file.size == 0:
                self._file.path.unlink()
            else:
                self.upload.files[self._file.field] = self._file
            self._file = None
        elif self._name:
            if self._name in self.upload.fields:  # a list sent as repeated fields: never keep only the last
                raise Rejected(
                    422,
                    f"the form field {self._name[:40]!r} was sent more than once; send it once (a list as one "
                    "comma-separated value, e.g. formats=png,pdf).",
                )
            try:
                self.upload.fields[self._name] = self._text.decode("utf-8")
            except UnicodeDecodeError as err:
                raise Rejected(422, f"the form field {self._name[:40]!r} is not UTF-8 text.") from err

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


async def receive_upload(
    request: Request, folder: Path, file_limits: dict[str, int], max_field_bytes: int = 64 * 1024
) -> Upload:
    """Parse a ``multipart/form-data`` request into ``folder``; raise :class:`Rejected` on any limit.

    Parameters
    ----------
    request
        The request; its body is consumed.
    folder
        Private folder that receives the files (``expression``, ``metadata``, ``signatures``).
    file_limits
        Largest size in bytes of each file field.
    max_field_bytes
        Largest size of all text fields together.
    """
    ctype, options = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in options:
        raise Rejected(
            415, "send the job as multipart/form-data (a form with an `expression` file, see /docs)."
        )
    declared = request.headers.get("content-length")
    total_limit = sum(file_limits.values()) + max_field_bytes + 64 * 1024
    if declared is not None and declared.isdigit() and int(declared) > total_limit:
        raise Rejected(
            413, f"the upload ({_size(int(declared))}) is larger than the limit of {_size(total_limit)}."
        )
    receiver = _Receiver(folder, file_limits, max_field_bytes)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(options[b"boundary"], callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except Rejected:
        raise
    except Exception as err:  # a malformed body: python-multipart's own errors
        raise Rejected(
            400, "the multipart body is malformed; send a standard multipart/form-data request."
        ) from err
    finally:
        receiver.close()
    return receiver.upload


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover
