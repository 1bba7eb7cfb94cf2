"""Read expression files (CSV/TSV, Excel, parquet, GCT, GEO series matrix, h5ad, 10x) into AnnData.

Every reader returns an AnnData with ``obs`` = samples and ``var`` = genes and records what it did in
``adata.uns["resistscore"]["read_report"]`` (format and why, delimiter, encoding, number format and why,
which columns were taken as data and which as annotation and why, orientation and why, shape, dropped
rows, duplicated ids, the sha256 of the input file). The input file is only ever opened for reading.

What the readers never do silently: guess a number format (``1,500``) the data cannot decide, take row
numbers for gene identifiers, rename duplicated sample names, or turn text cells into missing values -
each is one :class:`~resistscore.InputFormatError` that names the problem and the fix.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import lzma
import os
import re
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get
from resistscore._errors import InputFormatError, OrientationError
from resistscore._gene_tables import ENSG, ENSMUSG, MOUSE_SYMBOL, PROBE, hgnc_index, mouse_index
from resistscore._validate import check_choice
from resistscore.io import _numbers
from resistscore.io._numbers import NA_STRINGS, NumberEvidence, NumberFormat, is_number_like

__all__ = ["FORMATS", "ORIENTATIONS", "read"]

FORMATS = ("auto", "csv", "tsv", "excel", "parquet", "gct", "geo", "h5ad", "10x_mtx", "10x_h5")
ORIENTATIONS = ("auto", "genes_x_samples", "samples_x_genes")

# column names that hold gene annotation rather than a sample (case-insensitive, punctuation-insensitive)
_ANNOTATION_NAMES = {
    "symbol",
    "symbols",
    "gene",
    "genes",
    "genesymbol",
    "genename",
    "geneid",
    "genetitle",
    "entrez",
    "entrezid",
    "entrezgene",
    "entrezgeneid",
    "ncbigeneid",
    "ensembl",
    "ensemblid",
    "ensemblgeneid",
    "probe",
    "probeid",
    "probeset",
    "probesetid",
    "idref",
    "id",
    "name",
    "description",
    "desc",
    "chr",
    "chrom",
    "chromosome",
    "start",
    "end",
    "stop",
    "strand",
    "length",
    "genelength",
    "genetype",
    "genebiotype",
    "biotype",
    "hgncid",
    "hgncsymbol",
    "unnamed0",
}
# whole column names (case and punctuation ignored) of integer identifier columns
_ID_NAMES = {
    "id",
    "ids",
    "idref",
    "index",
    "rowid",
    "ncbiid",
    "ncbigene",
    "ncbigeneid",
    "entrez",
    "entrezid",
    "entrezgene",
    "entrezgeneid",
    "geneid",
    "genesid",
    "locusid",
    "locuslinkid",
    "probeid",
    "probesetid",
    "hgncid",
    "uniprotid",
    "refseqid",
    "accession",
}
# words that mark a column of integers as identifiers (NCBI_ID, GeneID, probe_id, Entrez ...), not a sample
_ID_WORDS = {
    "id",
    "ids",
    "entrez",
    "ncbi",
    "locus",
    "locuslink",
    "probe",
    "probeset",
    "accession",
    "refseq",
    "ensembl",
    "hgnc",
    "uniprot",
    "index",
    "idx",
}
_MAX_SHA256_BYTES = 2 << 30
_HEAD_BYTES = 1 << 16
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}
_UNNAMED = re.compile(r"Unnamed: \d+")
_QUOTED = re.compile(r'"[^"]*"')
_STRAY_COMMA = re.compile(
    r"(?<![0-9]),|,(?![0-9])"
)  # a comma that is not number formatting  # pandas' (and our) name for an empty header field


def _norm_name(x: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(x).lower())


def _name_words(x: Any) -> list[str]:
    """``"NCBI_ID"`` -> ``["ncbi", "id"]``, ``"EntrezGeneID"`` -> ``["entrez", "gene", "id"]``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(x))
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    return [w for w in re.split(r"[^a-z0-9]+", s.lower()) if w]


# --------------------------------------------------------------------------------------------------
# bytes: compression and text encoding, decided from the content (never from the file name alone)


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError as err:
        raise InputFormatError(
            f"cannot open {path}: {err.strerror or err}; check the path and permissions."
        ) from err


def _compression(path: Path) -> str | None:
    """``gzip`` / ``bz2`` / ``xz`` / ``zip`` from the magic bytes, else None (plain text)."""
    magic = _magic(path)
    for sig, kind in _COMPRESSED.items():
        if magic.startswith(sig):
            return kind
    if magic.startswith(b"PK\x03\x04") and path.name.lower().endswith(".zip"):
        return "zip"
    return None


def _open_binary(path: Path, compression: str | None):
    if compression == "gzip":
        return gzip.open(path, "rb")
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    if compression == "zip":
        zf = zipfile.ZipFile(path)
        members = [n for n in zf.namelist() if not n.endswith("/")]
        if len(members) != 1:
            zf.close()
            raise InputFormatError(
                f"{path.name} is a zip archive with {len(members)} files; resistscore reads a zip holding exactly "
                "one table - unpack it and pass the table."
            )
        return zf.open(members[0])
    return open(path, "rb")


_DAMAGED = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def _damaged(path: Path, compression: str | None, err: Exception) -> InputFormatError:
    """Return the error for a file that could not be decompressed or read (names the user's file)."""
    if compression:
        return InputFormatError(
            f"{path.name} is a damaged or truncated {compression} file ({type(err).__name__}: {err}); "
            "re-download it or compress it again."
        )
    return InputFormatError(f"{path.name} could not be read ({type(err).__name__}: {err}).")


def _head_bytes(path: Path, n: int = _HEAD_BYTES) -> bytes:
    comp = _compression(path)
    try:
        with _open_binary(path, comp) as fh:
            return fh.read(n)
    except _DAMAGED as err:
        raise _damaged(path, comp, err) from err


def _bom_encoding(raw: bytes) -> str | None:
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return None


def _text_head(path: Path, n: int = _HEAD_BYTES) -> str:
    raw = _head_bytes(path, n)
    enc = _bom_encoding(raw)
    if enc == "utf-16":
        raw = raw[: len(raw) - len(raw) % 2]
    return raw.decode(enc or "utf-8", errors="replace")


# --------------------------------------------------------------------------------------------------
# format detection


def _detect_format(path: Path) -> tuple[str, str]:
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
        if names & {"matrix.mtx", "matrix.mtx.gz"}:
            return "10x_mtx", "folder with matrix.mtx(.gz): 10x Genomics matrix folder"
        raise InputFormatError(
            f"{path} is a folder without matrix.mtx(.gz); pass a file, or a 10x matrix folder "
            "(matrix.mtx.gz, features.tsv.gz / genes.tsv, barcodes.tsv.gz)."
        )
    magic = _magic(path)
    name = path.name.lower()
    stem = re.sub(r"\.(gz|bz2|xz|zip)$", "", name)
    if magic.startswith(b"\x89HDF"):
        if stem.endswith(".h5ad"):
            return "h5ad", "HDF5 file with .h5ad suffix"
        try:
            import h5py

            with h5py.File(path, "r") as f:
                keys = set(f.keys())
        except OSError as err:
            raise InputFormatError(f"{path.name} is a damaged HDF5 file ({err}); re-export it.") from err
        if {"obs", "var", "X"} <= keys:
            return "h5ad", "HDF5 file with obs/var/X groups (AnnData)"
        if "matrix" in keys:
            return "10x_h5", "HDF5 file with a 'matrix' group (10x Genomics feature-barcode matrix)"
        raise InputFormatError(
            f"{path.name} is an HDF5 file but neither AnnData (.h5ad) nor a 10x .h5 matrix (groups: "
            f"{sorted(keys)}); convert it to .h5ad with anndata."
        )
    if magic.startswith(b"PAR1"):
        return "parquet", "parquet magic bytes"
    if magic.startswith(b"PK\x03\x04") and not name.endswith(".zip"):
        return "excel", "zip container (xlsx)"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel", "OLE2 container (legacy .xls)"
    if stem.endswith((".xlsx", ".xlsm", ".xls")) and _compression(path) is None:
        return "excel", f"suffix {stem.rsplit('.', 1)[-1]}"
    if stem.endswith((".parquet", ".pq")):
        return "parquet", "suffix .parquet"
    if stem.endswith(".h5ad"):
        return "h5ad", "suffix .h5ad"
    head = _text_head(path)
    if "\x00" in head:
        raise InputFormatError(
            f"{path.name} is a binary file of an unknown kind; resistscore reads CSV/TSV (plain, gzip, bz2, xz "
            "or zip), Excel, parquet, GCT, GEO series matrix, h5ad and 10x files."
        )
    if stem.endswith(".gct") or head.startswith(("#1.2", "#1.3")):
        return "gct", "GCT header (#1.2)" if head.startswith("#1.") else "suffix .gct"
    if head.lstrip().startswith("!") and "!Series_" in head or "series_matrix" in stem:
        return "geo", "GEO series-matrix header (!Series_...)"
    if stem.endswith(".csv"):
        return "csv", "suffix .csv"
    if stem.endswith((".tsv", ".tab", ".txt")):
        return "tsv", f"suffix .{stem.rsplit('.', 1)[-1]}"
    sep = _sniff_sep(head)
    return ("csv" if sep == "," else "tsv"), f"delimiter {sep!r} sniffed from the first lines"


def _sniff_sep(head: str, skiprows: int = 0, decimal: str | None = None, thousands: str | None = None) -> str:
    """Return the delimiter that splits every data line into the same number of fields (tab when none does).

    The header may have one field less (R's ``write.table`` leaves out the row-name column); the last
    line of the head is left out when it may be cut.
    """
    all_lines = head.splitlines()[skiprows:]
    if len(all_lines) > 2 and not head.endswith(("\n", "\r")):
        all_lines = all_lines[:-1]  # cut at the end of the head
    lines = [ln for ln in all_lines[:20] if ln.strip() and not ln.startswith("#")]
    if not lines:
        return "\t"
    best, best_score = "\t", (0.0, 0, 0)
    text = "\n".join(lines)
    for sep in ("\t", ",", ";", "|"):
        counts = [_field_count(ln, sep) - 1 for ln in lines]
        header, data = counts[0], counts[1:] or counts
        # the most common count (ties: the larger), so that a short (truncated) line does not hide the delimiter
        mode = max(set(data), key=lambda c: (data.count(c), c))
        if mode == 0 or data.count(mode) < len(data) / 2:
            continue
        if sep in (decimal, thousands) and header == 0:
            # the user's number separator, absent from the header: a delimiter only if it also stands
            # outside quotes and not between two digits (else it is part of the numbers: 70,125)
            unquoted = _QUOTED.sub('""', "\n".join(lines[1:]))
            if not re.search(rf"(?<![0-9]){re.escape(sep)}|{re.escape(sep)}(?![0-9])", unquoted):
                continue
        consistent = len(set(data)) == 1 and header in (data[0], data[0] - 1)
        # on a tie, the delimiters left inside fields count against: only a comma between digits is
        # number formatting (1,5), a tab, ';' or '|' never is
        stray = sum(text.count(o) for o in ("\t", ";", "|") if o != sep)
        if sep != ",":
            stray += len(_STRAY_COMMA.findall(text))
        # ties: a decimal comma given by the user makes ',' the less likely delimiter
        score = (
            mode + (10 if consistent else 0) + (5 if consistent and header == mode else 0),
            -int(sep == decimal),
            -stray,
        )
        if score > best_score:
            best, best_score = sep, score
    return best


def _field_count(line: str, sep: str) -> int:
    """Fields of one line, quotes respected (``"1,5"`` is one field of a ``,`` file)."""
    try:
        return len(next(csv.reader([line], delimiter=sep)))
    except (csv.Error, StopIteration):
        return line.count(sep) + 1


# --------------------------------------------------------------------------------------------------
# raw tables


@dataclass
class _Raw:
    """A table as read: unique internal column names, the names as written, and how to re-read it as text."""

    df: pd.DataFrame
    names: list[str]
    text: Callable[[], pd.DataFrame] | None = None  # the same table with every cell as written (str)
    typed: bool = False  # cells come typed (Excel, parquet): numbers carry no number-format evidence
    lines: Callable[[], str] | None = None  # the whole decoded text, to find rows with missing fields
    skiprows: int = 0  # lines before the header


def _short_lines(text: str, sep: str, n_fields: int, skiprows: int) -> tuple[int, list[str]]:
    """Find the data lines with fewer fields than the table has columns (pandas fills them with NaN silently)."""
    n_short, examples = 0, []
    if '"' not in text and "\r" not in text.replace("\r\n", "") and len(sep) == 1 and sep.isascii():
        # no quoting, one kind of line end: count the delimiters of every line at C speed
        lines = text.split("\n")
        b = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        line_of_sep = np.searchsorted(np.flatnonzero(b == 10), np.flatnonzero(b == ord(sep)))
        fields = np.bincount(line_of_sep, minlength=len(lines)) + 1
        header = next((i for i in range(skiprows, len(lines)) if lines[i].strip()), len(lines))
        for i in np.flatnonzero(fields[: len(lines)] < n_fields):
            if i > header and lines[i].strip():
                n_short += 1
                if len(examples) < 3:
                    examples.append(f"line {i + 1} has {fields[i]} of {n_fields} fields")
        return n_short, examples
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    for k, row in enumerate(reader):
        if k <= skiprows or not "".join(row).strip():
            continue
        if len(row) < n_fields:
            n_short += 1
            if len(examples) < 3:
                examples.append(f"line {reader.line_num} has {len(row)} of {n_fields} fields")
    return n_short, examples


def _check_complete_rows(raw: _Raw, X: np.ndarray, name: str, sep: str | None, skiprows: int) -> None:
    if raw.lines is None or sep is None or not np.isnan(X).any():
        return
    n_short, examples = _short_lines(raw.lines(), sep, raw.df.shape[1], skiprows)
    if n_short:
        raise InputFormatError(
            f"{name}: {n_short} row(s) have fewer fields than the table has columns ({'; '.join(examples)}), so "
            "their missing values would be invented as NaN; the file may be truncated (download or export it "
            "again), or a row lost its delimiters - write an empty field or NA for a missing value."
        )


def _names_as_written(raw_header: list[str], n: int) -> list[str] | None:
    if len(raw_header) != n:
        return None
    return [h.strip() if h.strip() else f"Unnamed: {i}" for i, h in enumerate(raw_header)]


def _finish_frame(
    df: pd.DataFrame, raw_header: list[str] | None, name: str
) -> tuple[pd.DataFrame, list[str]]:
    """Row names pandas took from a header one field short (R's write.table) become the first column."""
    if isinstance(df.index, pd.MultiIndex):
        raise InputFormatError(
            f"{name}: the data rows have {df.index.nlevels} more fields than the header line; check the "
            "delimiter and that every row has one field per column name."
        )
    if not isinstance(df.index, pd.RangeIndex):
        if raw_header and _norm_name(raw_header[0]) in _ANNOTATION_NAMES:
            # R's write.table leaves the row-name column out of the header; a header that names it
            # ('gene', 'symbol' ...) is one field short because the data rows have one field too many
            raise InputFormatError(
                f"{name}: the first data row has one more field than the header line (which starts with "
                f"{raw_header[0]!r}); check the delimiter and that every row has one field per column name."
            )
        df = df.reset_index()
        if raw_header is not None:
            raw_header = ["", *raw_header]
    names = _names_as_written(raw_header, df.shape[1]) if raw_header is not None else None
    if names is None:
        names = [str(c).strip() for c in df.columns]
    df.columns = [f"c{i}" for i in range(df.shape[1])]  # internal names: unique whatever the header says
    return df, names


def _parse_error(name: str, sep: str, err: Exception) -> InputFormatError:
    what = "tab" if sep == "\t" else repr(sep)
    return InputFormatError(
        f"{name} could not be parsed as a {what}-delimited table ({str(err).strip()}); check that every row has "
        "one field per column name and that quotes are closed (API: format='csv' or 'tsv' sets the delimiter)."
    )


def _header_fields(raw_head: bytes, enc: str, sep: str, skiprows: int) -> list[str] | None:
    """Return the header line's fields as written (pandas renames duplicates), or None if it is not in ``raw_head``."""
    whole = len(raw_head) < _HEAD_BYTES
    if enc == "utf-16":
        raw_head = raw_head[: len(raw_head) - len(raw_head) % 2]
    reader = csv.reader(io.StringIO(raw_head.decode(enc, errors="replace"), newline=""), delimiter=sep)
    try:
        for k, row in enumerate(reader):
            if k < skiprows or not "".join(row).strip():
                continue
            # complete if the whole file is in the head, or another record follows the header
            return row if whole or next(reader, None) is not None else None
    except csv.Error:
        return None
    return [] if whole else None


def _read_delimited(
    path: Path,
    sep: str | None,
    report: dict,
    *,
    as_text: bool = False,
    skiprows: int = 0,
    decimal: str | None = None,
    thousands: str | None = None,
) -> _Raw:
    """Read a delimited text file.

    Numbers are parsed with a decimal point (``as_text=False``; other number formats are decided later
    from all cells) and NA spellings become NaN; ``as_text`` keeps every cell as str.
    """
    comp = _compression(path)
    raw_head = _head_bytes(path)
    head = _text_head(path)
    if sep is None:
        sep = _sniff_sep(head, skiprows, decimal, thousands)
    report["delimiter"] = sep
    if comp:
        report["compression"] = comp
    elif path.name.lower().endswith((".gz", ".bz2", ".xz")):
        report["note_compression"] = f"{path.name} is not compressed (despite its name); read as plain text"
    bom = _bom_encoding(raw_head)
    encodings = [bom] if bom else ["utf-8", "latin-1"]

    def parse(text: bool, enc: str, **extra) -> pd.DataFrame:
        return pd.read_csv(
            path,
            sep=sep,
            compression=comp,
            encoding=enc,
            dtype=str if text else None,
            keep_default_na=not text,
            na_filter=not text,
            na_values=None if text else NA_STRINGS,
            float_precision=None if text else "round_trip",
            comment=None,
            skip_blank_lines=True,
            skiprows=skiprows,
            low_memory=False,
            **extra,
        )

    last_err: Exception | None = None
    for enc in encodings:
        try:
            df = parse(as_text, enc)
            raw_header = _header_fields(raw_head, enc, sep, skiprows)
            if raw_header is None:  # a header longer than the head of the file
                header = parse(True, enc, header=None, nrows=1)
                raw_header = [str(h) for h in header.iloc[0].tolist()] if len(header) else []
        except UnicodeError as err:
            last_err = err
            continue
        except pd.errors.EmptyDataError as err:
            raise InputFormatError(
                f"{path.name} is empty; check that the file was written completely."
            ) from err
        except pd.errors.ParserError as err:
            raise _parse_error(path.name, sep, err) from err
        except _DAMAGED as err:
            raise _damaged(path, comp, err) from err
        if enc != "utf-8":
            report["encoding"] = enc
        df, names = _finish_frame(df, raw_header, path.name)

        def text(enc: str = enc) -> pd.DataFrame:
            try:
                t = parse(True, enc)
            except (
                pd.errors.ParserError,
                UnicodeError,
                *_DAMAGED,
            ) as err:  # pragma: no cover - read once already
                raise InputFormatError(f"{path.name} could not be read again as text ({err}).") from err
            return _finish_frame(t, None, path.name)[0]

        def lines(enc: str = enc) -> str:
            try:
                with _open_binary(path, comp) as fh:
                    return fh.read().decode(enc, errors="replace")
            except _DAMAGED as err:  # pragma: no cover - read once already
                raise _damaged(path, comp, err) from err

        if comp is None and not as_text:
            with open(path, "rb") as fh:
                fh.seek(max(0, path.stat().st_size - 4))
                if not re.search(rb"[\r\n]\x00?$", fh.read()):
                    report["note_last_line"] = (
                        "the file does not end with a line break: if it was cut short, its last row may be incomplete"
                    )
        return _Raw(df, names, None if as_text else text, lines=None if as_text else lines, skiprows=skiprows)
    raise InputFormatError(
        f"{path.name} has an unknown text encoding ({last_err}); save it as UTF-8."
    )  # pragma: no cover - latin-1 decodes any byte


def _read_excel(path: Path, sheet: str | int | None, report: dict) -> _Raw:
    try:
        sheets = pd.ExcelFile(path)
    except ImportError as err:
        raise InputFormatError(
            f"reading {path.name} needs an Excel engine that is not installed ({err}); save the sheet as "
            ".xlsx or CSV, or install it (pip install xlrd for legacy .xls)."
        ) from err
    except Exception as err:  # openpyxl/xlrd raise many types on damaged workbooks
        raise InputFormatError(
            f"{path.name} is not a readable Excel workbook ({type(err).__name__}: {err}); re-save it as .xlsx."
        ) from err
    with sheets:
        names = [str(n) for n in sheets.sheet_names]
        report["sheets"] = names
        if not names:
            raise InputFormatError(
                f"{path.name} has no sheets; re-save it as .xlsx with the data in a sheet."
            )
        if sheet is None:
            sheet = names[0]
            if len(names) > 1:
                report["note_sheet"] = (
                    f"workbook has sheets {names}; read the first (pass sheet= / --sheet to choose)"
                )
        elif isinstance(sheet, str) and sheet not in names:
            raise InputFormatError(
                f"sheet {sheet!r} is not in {path.name} (sheets: {names}); pass one of them (sheet= / --sheet)."
            )
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise InputFormatError(
                f"sheet index {sheet} is out of range ({len(names)} sheets in {path.name}: {names})."
            )
        report["sheet"] = sheet if isinstance(sheet, str) else names[sheet]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about styles and data validation
                df = sheets.parse(sheet, header=None, na_values=NA_STRINGS, keep_default_na=True)
        except Exception as err:  # damaged sheet XML, unsupported features
            raise InputFormatError(f"sheet {sheet!r} of {path.name} could not be read ({err}).") from err
    df = df.dropna(how="all").dropna(axis=1, how="all")
    if df.shape[0] == 0:
        raise InputFormatError(
            f"sheet {report['sheet']!r} of {path.name} is empty; pass the sheet with the data (sheet= / --sheet; "
            f"sheets: {names})."
        )
    header = ["" if pd.isna(h) else str(h) for h in df.iloc[0].tolist()]
    df = df.iloc[1:].reset_index(drop=True).infer_objects()
    names_w = _names_as_written(header, df.shape[1]) or [str(c) for c in df.columns]
    df.columns = [f"c{i}" for i in range(df.shape[1])]
    return _Raw(df, names_w, None, typed=True)


def _read_parquet(path: Path) -> _Raw:
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise InputFormatError(f"{path.name} is not a readable parquet file ({err}); re-export it.") from err
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    names = [str(c).strip() for c in df.columns]
    df.columns = [f"c{i}" for i in range(df.shape[1])]
    return _Raw(df, names, None, typed=True)


def _read_gct(path: Path, report: dict) -> _Raw:
    head = _text_head(path).splitlines()
    if len(head) < 3 or not head[0].startswith("#1."):
        raise InputFormatError(
            f"{path.name} is not a GCT file (its first line should be '#1.2'); pass format='tsv' if it is a plain table."
        )
    raw = _read_delimited(path, "\t", report, skiprows=2)
    if (
        raw.df.shape[1] < 3
        or _norm_name(raw.names[0]) not in ("name", "id")
        or _norm_name(raw.names[1]) != "description"
    ):
        raise InputFormatError(
            f"{path.name}: a GCT table must start with the columns 'Name' and 'Description' (found "
            f"{raw.names[:2]})."
        )
    report["gct_version"] = head[0].strip()
    return raw


def _read_geo(path: Path, report: dict) -> tuple[_Raw, pd.DataFrame]:
    """Return (table, sample metadata) from a GEO series-matrix file."""
    comp = _compression(path)
    meta: dict[str, list[list[str]]] = {}
    table_lines: list[str] = []
    inside = False
    try:
        with _open_binary(path, comp) as fb, io.TextIOWrapper(fb, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("!series_matrix_table_begin"):
                    inside = True
                    continue
                if line.startswith("!series_matrix_table_end"):
                    inside = False
                    continue
                if inside:
                    table_lines.append(line)
                elif line.startswith("!Sample_"):
                    key, *vals = next(csv.reader([line.rstrip("\n")], delimiter="\t"))
                    meta.setdefault(key[len("!Sample_") :], []).append(vals)
    except _DAMAGED as err:
        raise _damaged(path, comp, err) from err
    if not table_lines:
        raise InputFormatError(
            f"{path.name} has no '!series_matrix_table_begin' data block; it is not a GEO series matrix "
            "with expression values (some series keep them only in supplementary files)."
        )
    block = "".join(table_lines)

    def parse(text: bool, **extra) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO(block),
            sep="\t",
            dtype=str if text else None,
            keep_default_na=not text,
            na_filter=not text,
            na_values=None if text else NA_STRINGS,
            float_precision=None if text else "round_trip",
            **extra,
        )

    try:
        df = parse(False)
        header = parse(True, header=None, nrows=1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputFormatError(f"the data block of {path.name} could not be parsed ({err}).") from err
    df, names = _finish_frame(df, [str(h) for h in header.iloc[0].tolist()], path.name)
    obs = pd.DataFrame(index=[str(c) for c in names[1:]])
    for key, rows in meta.items():
        for k, vals in enumerate(rows):
            if len(vals) != len(obs):
                continue
            col = key if len(rows) == 1 else f"{key}_{k + 1}"
            if key.startswith("characteristics") and all(":" in v for v in vals if v):
                labels = {v.split(":", 1)[0].strip() for v in vals if v}
                if len(labels) == 1:
                    col = labels.pop()
                    vals = [v.split(":", 1)[1].strip() if ":" in v else v for v in vals]
            obs[col] = vals
    report["geo_sample_fields"] = list(obs.columns)
    raw = _Raw(df, names, lambda: _finish_frame(parse(True), None, path.name)[0], lines=lambda: block)
    report["delimiter"] = "\t"
    return raw, obs


# --------------------------------------------------------------------------------------------------
# table -> AnnData


def _gene_like_fraction(labels: list[str]) -> float:
    """Score how much labels look like gene ids.

    Approved HGNC symbols, Ensembl gene ids, probe-set ids and MGI symbols count 1, Entrez ids 0.5,
    aliases and previous symbols only 0.25 (short sample names such as ``S1`` or ``P1`` are often
    someone's alias).
    """
    sample = [s for s in labels if s][:2000]
    if not sample:
        return 0.0
    idx = hgnc_index()
    score = 0.0
    for s in sample:
        if (
            s in idx.hgnc_id
            or ENSG.match(s)
            or ENSMUSG.match(s)
            or PROBE.match(s)
            or MOUSE_SYMBOL.match(s)
            and s in mouse_index().symbol
        ):
            score += 1
        elif s.removesuffix(".0") in idx.entrez:
            score += 0.5  # Entrez ids, but small numbers are also plain sample numbers
        elif s.upper() in idx.upper or s in idx.prev or s in idx.alias:
            score += 0.25
    return score / len(sample)


def _numeric_share(col: pd.Series, extra=None) -> float:
    """Share of the present cells of a column that are numbers (in any supported number format)."""
    if pd.api.types.is_bool_dtype(col):
        return 0.0
    if pd.api.types.is_numeric_dtype(col):
        return 1.0
    values = col.to_numpy(dtype=object)
    present = values[~_numbers.is_missing(values)]
    if not len(present):
        return 1.0
    return float(is_number_like(present, extra).mean())


def _id_like_integers(name: str, col: pd.Series) -> str | None:
    """Why a column of integers holds identifiers (NCBI_ID, GeneID, probe_id ...), or None if it may be a sample.

    A name that is an identifier name as a whole (``NCBI_ID``, ``GeneID``, ``Entrez``, ``probe_id``) is
    enough for positive integers; a name that only contains such a word (``Sample_ID_1``) needs the
    values too: at least 10 of them, distinct or mostly NCBI Gene (Entrez) ids.
    """
    norm = _norm_name(name)
    strong = norm in _ID_NAMES
    if not strong and not set(_name_words(name)) & _ID_WORDS:
        return None
    v = pd.to_numeric(col, errors="coerce") if not pd.api.types.is_numeric_dtype(col) else col
    v = v.dropna()
    if not len(v) or pd.api.types.is_bool_dtype(v):
        return None
    vals = np.asarray(v, dtype=float)
    if not (np.all(np.isfinite(vals)) and np.all(vals == np.round(vals)) and np.all(vals > 0)):
        return None
    if strong:
        return "positive integers under an identifier name"
    if len(vals) < 10:
        return None
    entrez = hgnc_index().entrez
    share_entrez = float(np.mean([str(int(x)) in entrez for x in vals[:2000]]))
    if share_entrez >= 0.5:
        return f"integers named like identifiers, {share_entrez:.0%} of them NCBI Gene (Entrez) ids"
    if len(np.unique(vals)) == len(vals):
        return "distinct positive integers named like identifiers"
    return None


def _split_columns(
    df: pd.DataFrame, names: list[str], gene_column: str | None, report: dict, number_grammar=None
):
    """Positions of the label column, the annotation columns and the data columns, with the reasons.

    A column is annotation when the user names it (``gene_column``), its name is a known annotation name
    (``symbol``, ``Description``, ``entrez`` ...), it is mostly text (leading columns) or text only
    (anywhere), or it holds integers named like identifiers (``NCBI_ID``, ``GeneID`` ...). Every other
    column is data. The label column is ``gene_column`` or the first annotation column before the data.
    """
    if df.shape[1] == 0:
        raise InputFormatError("the table has no columns; check the delimiter and the header line.")
    gene_pos = None
    if gene_column is not None:
        hits = [i for i, c in enumerate(names) if c == str(gene_column).strip()]
        if not hits:
            raise InputFormatError(
                f"gene_column {gene_column!r} is not a column of the table (first columns: {names[:8]}); "
                "pass the exact column name (CLI: --gene-column)."
            )
        if len(hits) > 1:
            raise InputFormatError(
                f"gene_column {gene_column!r} names {len(hits)} columns of the table; rename them so that "
                "one column holds the gene ids."
            )
        gene_pos = hits[0]
    reasons: dict[int, str] = {}
    data: list[int] = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        share = _numeric_share(col, number_grammar)
        reason = None
        if i == gene_pos:
            reason = "gene_column given by the user"
        elif _norm_name(names[i]) in _ANNOTATION_NAMES:
            reason = "annotation column name"
        elif share == 0.0 or (share < 0.5 and not data):
            reason = "text (not numbers)"
        elif share == 1.0:
            reason = _id_like_integers(names[i], col)
        if reason is None:
            data.append(i)
        else:
            reasons[i] = reason
    if gene_pos is not None:
        label = gene_pos
    else:
        first_data = data[0] if data else df.shape[1]
        label = next((i for i in sorted(reasons) if i < first_data), None)
        if label is None:
            # no label column before the data: a later annotation column whose values look like gene ids
            label = next(
                (
                    i
                    for i in sorted(reasons)
                    if _gene_like_fraction(_as_str(df.iloc[:2000, i]).str.strip().tolist()) >= 0.3
                ),
                None,
            )
    report["annotation_reasons"] = {names[i]: r for i, r in reasons.items()}
    return label, [i for i in sorted(reasons) if i != label], data


def _as_str(col: pd.Series) -> pd.Series:
    """Strings for labels/annotation: NaN -> "", integral floats without ".0" (Entrez ids)."""
    if pd.api.types.is_float_dtype(col):
        finite = col.dropna().to_numpy()
        if len(finite) and np.all(np.abs(finite) < 2**53) and np.all(finite == np.round(finite)):
            return col.map(lambda v: "" if np.isnan(v) else str(int(v)))
    return col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def _is_row_numbers(labels: list[str], orientation: str = "auto", named_ids: bool = False) -> bool:
    """Return True for labels that number rows rather than name genes: 0, 1, 2 ...

    (or 1, 2, 3 ...) in order, a written-out DataFrame index; or, in a column not named as identifiers
    (``ID_REF``, ``probe_id`` ... may hold numeric probe ids), whole numbers of which fewer than half are
    NCBI Gene (Entrez) ids.
    """
    present = [s for s in labels if s]
    if not present or not all(re.fullmatch(r"[+-]?[0-9]+", s) for s in present):
        return False
    v = np.array([int(s) for s in present])
    if len(v) >= 2 and v[0] in (0, 1) and np.all(np.diff(v) == 1):
        return True
    if orientation == "samples_x_genes" or named_ids:
        return False  # numbered samples, or numeric ids under an identifier name
    entrez = hgnc_index().entrez
    return float(np.mean([s.lstrip("0") in entrez for s in present[:2000]])) < 0.5


def _number_format_of(
    raw: _Raw, rows: np.ndarray, data: list[int], name: str, report: dict, decimal, thousands
) -> tuple[NumberFormat, pd.DataFrame | None]:
    """Decide the number format from every data cell; returns it and the text of the re-read table, if needed."""
    df = raw.df
    ev = NumberEvidence()
    floats = []
    for j in data:
        col = df.iloc[rows, j]
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_integer_dtype(col):
            ev.add_integers(col.to_numpy())
        elif pd.api.types.is_float_dtype(col):
            if not raw.typed:
                ev.add_parsed(col.to_numpy(dtype=float))
                floats.append(j)
        else:
            ev.add_tokens(col)
    text = None
    point_certain = (
        decimal == "."
        or thousands == ","
        or (decimal is None and thousands != "." and ev.definitive["."] > 0)
    )
    if floats and raw.text is not None and not point_certain:
        # the parsed numbers of these columns cannot show how they were written (1.5 or 1.500): read the text
        text = raw.text()
        if decimal is None and thousands not in (",", "."):
            for j in floats:
                ev.add_tokens(text.iloc[rows, j])
    fmt = _numbers.decide(ev, name, decimal, thousands)
    return fmt, text


def _to_matrix(
    raw: _Raw,
    rows: np.ndarray,
    data: list[int],
    fmt: NumberFormat,
    text: pd.DataFrame | None,
    name: str,
    row_labels: list[str] | None,
    col_labels: list[str],
) -> np.ndarray:
    """Return the data block as floats in ``fmt``; any text cell is an error that names the cells."""
    df = raw.df
    X = np.empty((int(rows.sum()), len(data)))
    bad: list[tuple[int, int, str]] = []
    n_bad = 0
    for k, j in enumerate(data):
        col = df.iloc[rows, j]
        if pd.api.types.is_bool_dtype(col):
            vals, is_text = np.full(len(col), np.nan), col.notna().to_numpy()
            col = col.astype(str)
        elif pd.api.types.is_numeric_dtype(col) and (text is None or pd.api.types.is_integer_dtype(col)):
            vals, is_text = col.to_numpy(dtype=float), np.zeros(len(col), dtype=bool)
        else:
            src = text.iloc[rows, j] if text is not None and pd.api.types.is_float_dtype(col) else col
            vals, is_text = _numbers.convert(src, fmt)
            col = src
        X[:, k] = vals
        if is_text.any():
            n_bad += int(is_text.sum())
            for i in np.flatnonzero(is_text)[: max(0, 5 - len(bad))]:
                bad.append((int(i), k, str(col.iloc[i])))
    if n_bad:
        where = "; ".join(
            f"row {row_labels[i] if row_labels is not None else i + 1!r}, column {col_labels[k]!r}: {v!r}"
            for i, k, v in bad
        )
        fmt_note = (
            f" (numbers read with decimal {fmt.decimal!r}"
            + (f" and thousands separator {fmt.thousands!r}" if fmt.thousands else "")
            + ")"
        )
        raise InputFormatError(
            f"{name}: {n_bad} data cell(s) hold text, not numbers{fmt_note}: {where}. Replace them by numbers, or "
            "leave them empty / write NA if the value is missing; if the table was misread, pass gene_column= "
            "(CLI: --gene-column), decimal= / thousands= (CLI: --decimal / --thousands) or, in the API, format=."
        )
    return X


def _positional_error(name: str, numbered: str | None) -> InputFormatError:
    why = (
        f"column {numbered!r} holds row numbers (0, 1, 2 ..., or numbers that are not NCBI Gene ids), not gene ids"
        if numbered
        else "every column holds numbers"
    )
    return InputFormatError(
        f"{name} has no column of gene identifiers: {why}, and row numbers are never gene ids. Pass "
        "gene_column='<column with gene ids>' (CLI: --gene-column), add a column of gene symbols or "
        "Ensembl / Entrez ids to the file, or, if the genes are the columns, orientation='samples_x_genes' "
        "(CLI: --orientation samples_x_genes)."
    )


def _nonblank_rows(df: pd.DataFrame, name: str, report: dict) -> np.ndarray:
    """Return the mask of the rows that are not entirely blank (the count of the others goes to ``report``)."""
    blank = df.isna().to_numpy()
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        if col.dtype == object:
            blank[:, j] |= _numbers.is_blank(col.to_numpy(dtype=object))
    rows = ~blank.all(axis=1)
    if not rows.all():
        report["dropped_empty_rows"] = int((~rows).sum())
    if not rows.any():
        raise InputFormatError(f"{name} has a header but no data rows; check that the file is complete.")
    return rows


def _table_to_anndata(
    raw: _Raw,
    name: str,
    *,
    orientation: str,
    gene_column: str | None,
    report: dict,
    obs_extra: pd.DataFrame | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
):
    """Turn a parsed table into an AnnData: label, annotation and data columns, orientation, numbers."""
    import anndata as ad

    df, names = raw.df, raw.names
    rows = _nonblank_rows(df, name, report)
    label, ann, data = _split_columns(
        df, names, gene_column, report, _numbers.user_grammar(decimal, thousands)
    )
    if not data:
        raise InputFormatError(
            f"{name} has no columns of numeric expression values (columns: {names[:8]}); check the delimiter, "
            "the header line, and that the values are numbers."
        )
    label, ann, row_labels, numbered = _row_labels(
        df, names, rows, label, ann, gene_column, orientation, report
    )
    col_labels = [names[j] for j in data]
    report["label_column"] = names[label] if label is not None else None
    report["annotation_columns"] = [names[j] for j in ann]
    report["n_data_columns"] = len(data)
    report["data_columns"] = col_labels[:20]
    genes_rows = _genes_are_rows(row_labels, col_labels, orientation, numbered, name, report)
    if genes_rows:
        rows, row_labels = _rows_with_gene_id(rows, row_labels, name, names[label], report)
    data, col_labels = _named_data_columns(data, names, genes_rows, name, report)
    sample_labels = col_labels if genes_rows else (row_labels or [str(i + 1) for i in range(int(rows.sum()))])
    _check_unique_samples(sample_labels, name, "columns" if genes_rows else "rows")
    fmt, text = _number_format_of(raw, rows, data, name, report, decimal, thousands)
    report["decimal"], report["thousands"] = fmt.decimal, fmt.thousands
    report["number_format_reason"] = fmt.reason
    X = _to_matrix(raw, rows, data, fmt, text, name, row_labels, col_labels)
    _check_complete_rows(raw, X, name, report.get("delimiter"), raw.skiprows)
    annotation = pd.DataFrame(
        {names[j]: _as_str(df.iloc[rows, j]).tolist() for j in ann}, index=pd.RangeIndex(int(rows.sum()))
    )
    if genes_rows:
        var = annotation
        var.index = pd.Index(row_labels)
        obs = pd.DataFrame(index=pd.Index(col_labels))
        X = X.T
    else:
        # other columns of a samples x genes table are sample metadata
        obs = annotation
        obs.index = pd.Index(sample_labels)
        var = pd.DataFrame(index=pd.Index(col_labels))
    if obs_extra is not None and len(obs_extra.columns):
        obs = obs.join(obs_extra[~obs_extra.index.duplicated()], how="left")
    report["rows_in_file"] = len(df)
    return _make_anndata(X, obs, var, report, ad)


def _row_labels(
    df: pd.DataFrame,
    names: list[str],
    rows: np.ndarray,
    label: int | None,
    ann: list[int],
    gene_column: str | None,
    orientation: str,
    report: dict,
) -> tuple[int | None, list[int], list[str] | None, str | None]:
    """Return ``(label, annotation columns, row labels, numbered)``: the labels of the kept rows.

    A label column that holds row numbers (``1, 2, 3 ...`` not named as an id) labels nothing: it becomes
    an annotation column (unless pandas' ``Unnamed: 0`` index) and ``numbered`` is its name.
    """
    row_labels = _as_str(df.iloc[rows, label]).str.strip().tolist() if label is not None else None
    if (
        row_labels is not None
        and gene_column is None
        and _is_row_numbers(row_labels, orientation, named_ids=_norm_name(names[label]) in _ID_NAMES)
    ):
        numbered = names[label]
        report["note_labels"] = f"column {numbered!r} holds row numbers, not gene ids"
        ann = sorted([*ann, label]) if numbered != "Unnamed: 0" else ann
        return None, ann, None, numbered
    return label, ann, row_labels, None


def _genes_are_rows(
    row_labels: list[str] | None,
    col_labels: list[str],
    orientation: str,
    numbered: str | None,
    name: str,
    report: dict,
) -> bool:
    """Whether the rows are genes; rows without labels must be samples (their columns gene ids)."""
    if row_labels is not None:
        return _decide_orientation(row_labels, col_labels, orientation, report)
    report.setdefault("note_labels", "no label column: rows are numbered")
    fc = _gene_like_fraction(col_labels)
    report["gene_like_share_columns"] = round(fc, 3)
    if orientation == "genes_x_samples" or (orientation == "auto" and fc < 0.3):
        raise _positional_error(name, numbered)
    report["orientation"] = "samples_x_genes"
    report["orientation_reason"] = (
        "given by the user"
        if orientation != "auto"
        else f"rows have no labels and {fc:.0%} of column labels look like gene ids"
    )
    return False


def _rows_with_gene_id(
    rows: np.ndarray, row_labels: list[str], name: str, label_name: str, report: dict
) -> tuple[np.ndarray, list[str]]:
    """Leave out the gene rows without an identifier (counted in the report); at least one must remain."""
    no_id = np.array([lbl == "" for lbl in row_labels])
    if no_id.any():
        report["dropped_rows_without_gene_id"] = int(no_id.sum())
        keep = np.flatnonzero(rows)[~no_id]
        rows = np.zeros(len(rows), dtype=bool)
        rows[keep] = True
        row_labels = [r for r, k in zip(row_labels, ~no_id) if k]
    if not rows.any():
        raise InputFormatError(f"{name}: no row has a gene identifier in column {label_name!r}.")
    return rows, row_labels


def _named_data_columns(
    data: list[int], names: list[str], genes_rows: bool, name: str, report: dict
) -> tuple[list[int], list[str]]:
    """Return the data columns and their labels: a sample needs a name; a gene column without one is left out."""
    unnamed = [j for j in data if _UNNAMED.fullmatch(names[j])]
    if unnamed and genes_rows:
        raise InputFormatError(
            f"{name}: {len(unnamed)} data column(s) have no name in the header (column "
            f"{', '.join(str(j + 1) for j in unnamed[:5])}); give every sample a name in the header line."
        )
    if unnamed:  # genes x columns: a gene column without an id is left out, like a gene row without one
        report["dropped_columns_without_gene_id"] = len(unnamed)
        data = [j for j in data if j not in unnamed]
        report["n_data_columns"], report["data_columns"] = len(data), [names[j] for j in data][:20]
        if not data:
            raise InputFormatError(f"{name}: no data column has a gene id in the header.")
    return data, [names[j] for j in data]


def _check_unique_samples(labels: list[str], name: str, axis: str) -> None:
    counts = Counter(labels)
    dup = [(s, n) for s, n in counts.items() if n > 1]
    if dup:
        shown = ", ".join(f"{s!r} ({n}x)" for s, n in dup[:5])
        raise InputFormatError(
            f"{name}: {len(dup)} sample name(s) occur more than once in the {axis} ({shown}"
            f"{', ...' if len(dup) > 5 else ''}); resistscore does not rename samples. Make the names unique in the "
            "file (e.g. S001_a, S001_b), or remove the repeated samples."
        )


def _decide_orientation(row_labels: list[str], col_labels: list[str], orientation: str, report: dict) -> bool:
    """Return True if rows are genes."""
    if orientation != "auto":
        report["orientation"] = orientation
        report["orientation_reason"] = "given by the user"
        return orientation == "genes_x_samples"
    fr, fc = _gene_like_fraction(row_labels), _gene_like_fraction(col_labels)
    report["gene_like_share_rows"] = round(fr, 3)
    report["gene_like_share_columns"] = round(fc, 3)
    if fr >= 0.3 and fr > fc + 0.2:
        genes_rows, why = True, f"{fr:.0%} of row labels look like gene ids vs {fc:.0%} of column labels"
    elif fc >= 0.3 and fc > fr + 0.2:
        genes_rows, why = False, f"{fc:.0%} of column labels look like gene ids vs {fr:.0%} of row labels"
    else:
        genes_rows = len(row_labels) >= len(col_labels)
        why = (
            f"labels are inconclusive ({fr:.0%} of rows, {fc:.0%} of columns look like gene ids); assumed the "
            f"longer axis ({'rows' if genes_rows else 'columns'}) holds genes - pass orientation= to override"
        )
    report["orientation"] = "genes_x_samples" if genes_rows else "samples_x_genes"
    report["orientation_reason"] = why
    return genes_rows


def _make_anndata(X, obs, var, report, ad):
    obs.index = obs.index.astype(str)
    var.index = var.index.astype(str)
    obs.index.name = None
    var.index.name = None
    dup_g = var.index[var.index.duplicated()].unique()
    dup_s = obs.index[obs.index.duplicated()].unique()
    report["duplicated_gene_ids"] = len(dup_g)
    if len(dup_g):
        report["duplicated_gene_examples"] = list(map(str, dup_g[:5]))
    report["duplicated_sample_ids"] = len(dup_s)
    if len(dup_s):
        report["duplicated_sample_examples"] = list(map(str, dup_s[:5]))
    with warnings.catch_warnings():
        # duplicated ids are reported above and handled by rs.pp.harmonize_genes / rs.pp.qc
        warnings.filterwarnings("ignore", message=".*names are not unique.*")
        adata = ad.AnnData(X=X, obs=obs, var=var)
    report["n_samples"], report["n_genes"] = int(adata.n_obs), int(adata.n_vars)
    return adata


def _sha256(path: Path) -> str | None:
    if path.is_dir() or path.stat().st_size > _MAX_SHA256_BYTES:
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _orient_anndata(adata, orientation: str, report: dict, backed: bool):
    if orientation == "samples_x_genes":
        report["orientation"], report["orientation_reason"] = orientation, "given by the user"
        return adata
    if orientation == "genes_x_samples":
        if backed:
            raise OrientationError("a backed AnnData cannot be transposed; read it with backed=False.")
        report["orientation"], report["orientation_reason"] = orientation, "given by the user (transposed)"
        return adata.T.to_memory() if adata.is_view else adata.T.copy()
    fo = _gene_like_fraction(list(map(str, adata.obs_names[:2000])))
    fv = _gene_like_fraction(list(map(str, adata.var_names[:2000])))
    report["gene_like_share_obs"], report["gene_like_share_var"] = round(fo, 3), round(fv, 3)
    if fo >= 0.3 and fo > fv + 0.2:
        if backed:
            raise OrientationError(
                f"{fo:.0%} of obs names look like gene ids but only {fv:.0%} of var names: the file seems to store "
                "genes as observations. Read it with backed=False (resistscore then transposes it) or fix the file."
            )
        report["orientation"] = "genes_x_samples"
        report["orientation_reason"] = (
            f"{fo:.0%} of obs names look like gene ids vs {fv:.0%} of var names: transposed"
        )
        return adata.T.copy()
    report["orientation"] = "samples_x_genes"
    report["orientation_reason"] = "AnnData convention (obs = samples, var = genes)"
    return adata


def _read_10x_mtx(path: Path):
    import scanpy as sc

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return sc.read_10x_mtx(path, var_names="gene_ids", make_unique=False)
    except (OSError, ValueError, KeyError, IndexError, EOFError, zlib.error, pd.errors.ParserError) as err:
        raise InputFormatError(
            f"{path} could not be read as a 10x matrix folder ({type(err).__name__}: {err}); it needs "
            "matrix.mtx.gz, features.tsv.gz (or genes.tsv) and barcodes.tsv.gz from the same run."
        ) from err


def _read_10x_h5(path: Path):
    import scanpy as sc

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", message=".*names are not unique.*")
            adata = sc.read_10x_h5(path)
    except (OSError, ValueError, KeyError, IndexError) as err:
        raise InputFormatError(
            f"{path.name} could not be read as a 10x Genomics .h5 matrix ({type(err).__name__}: {err}); "
            "check that it is a 'filtered_feature_bc_matrix.h5' from Cell Ranger."
        ) from err
    if "gene_ids" in adata.var and adata.var["gene_ids"].is_unique:
        adata.var["gene_symbols"] = adata.var_names.astype(str)
        adata.var_names = pd.Index(adata.var["gene_ids"].astype(str))
    return adata


def _read_h5ad(path: Path, backed: bool):
    import anndata as ad

    try:
        adata = ad.read_h5ad(path, backed="r" if backed else None)
    except Exception as err:  # h5py/anndata raise many types on damaged or foreign files
        raise InputFormatError(
            f"{path.name} is not a readable h5ad file ({type(err).__name__}: {err})."
        ) from err
    try:
        no_x = adata.X is None
    except KeyError:  # a backed file without an X dataset
        no_x = True
    if no_x:
        layers = list(adata.layers.keys())
        fix = (
            f"copy one of its layers {layers} into X (adata.X = adata.layers[{layers[0]!r}]) and save it again"
            if layers
            else "save it again with the expression matrix in X"
        )
        if backed:
            adata.file.close()
        raise InputFormatError(f"{path.name} has no expression matrix (its X is empty): {fix}.")
    return adata


def read(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    orientation: str = "auto",
    gene_column: str | None = None,
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    backed: bool = False,
    as_frame: bool = False,
):
    r"""Read an expression file into an AnnData (obs = samples, var = genes).

    Parameters
    ----------
    path
        A file (CSV/TSV/TXT, plain or compressed with gzip, bz2, xz or zip; Excel; parquet; GCT; GEO
        series matrix; h5ad; 10x ``.h5``) or a 10x matrix folder. The file is only opened for reading.
        Text files may be UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
        Latin-1.
    format
        ``"auto"`` (from magic bytes, suffix and content) or one of ``"csv"``, ``"tsv"``, ``"excel"``,
        ``"parquet"``, ``"gct"``, ``"geo"``, ``"h5ad"``, ``"10x_mtx"``, ``"10x_h5"``.
    orientation
        ``"auto"``: the axis whose labels look like gene ids (HGNC symbols, aliases, Ensembl, probe
        sets) holds genes; if the labels are inconclusive, the longer axis. ``"genes_x_samples"`` or
        ``"samples_x_genes"`` to override. For h5ad/10x files, the AnnData convention is assumed unless
        obs names clearly look like genes.
    gene_column
        Name of the column with gene ids in a genes x samples table (CLI: ``--gene-column``; default: the
        first text column before the data; other text columns such as ``symbol`` or ``Description``, and
        integer columns named like identifiers such as ``NCBI_ID`` or ``GeneID``, go to ``var``). Row
        numbers (no label column, or a written-out index 0, 1, 2 ...) are never taken as gene ids: such a
        table raises unless its columns are the genes.
    sheet
        Excel sheet name or index (CLI: ``--sheet``; default: the first sheet).
    decimal, thousands
        Number format of text tables (CLI: ``--decimal``, ``--thousands``): ``decimal`` is ``"."`` or
        ``","``; ``thousands`` is ``""`` (none), ``","``, ``"."``, ``" "`` or ``"'"``. Default (None):
        decided from every data cell of the table (``1,500`` is 1500 beside ``900`` and ``2,000``, 1.5
        beside ``0,25`` and ``3,5``); a table that cannot be decided raises and asks for these.
    backed
        Open h5ad files in backed (on-disk, read-only) mode for data larger than memory.
    as_frame
        Return a samples x genes DataFrame instead (its ``attrs["resistscore_read_report"]`` holds the report).

    Returns
    -------
    anndata.AnnData or pandas.DataFrame
        ``adata.uns["resistscore"]["read_report"]``: ``path``, ``format``, ``format_reason``,
        ``delimiter``, ``encoding``, ``decimal``, ``thousands``, ``number_format_reason``,
        ``orientation``, ``orientation_reason``, ``n_samples``, ``n_genes``, ``label_column``,
        ``data_columns`` (the first 20) and ``n_data_columns``, ``annotation_columns`` and
        ``annotation_reasons`` (why each column was not taken as data), ``dropped_*`` counts,
        ``duplicated_gene_ids``, ``input_sha256`` ...

    Raises
    ------
    InputFormatError
        If the file cannot be read as an expression table (the message says why and what to do):
        unreadable or damaged files, no column of gene ids, duplicated sample names, text in data cells,
        an undecidable number format, an h5ad file without ``X``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "expr.tsv"
    >>> _ = tmp.write_text("gene\tS1\tS2\tS3\nABCB1\t5.1\t2.0\t7.3\nABCG2\t1.0\t0.5\t3.2\n")
    >>> adata = rs.io.read(tmp)
    >>> adata.shape, list(adata.var_names)
    ((3, 2), ['ABCB1', 'ABCG2'])
    >>> adata.uns["resistscore"]["read_report"]["orientation"]
    'genes_x_samples'
    >>> _ = tmp.write_text("gene\tS1\tS2\nABCB1\t1,500\t900\nABCG2\t800\t2,000\n")
    >>> rs.io.read(tmp, as_frame=True)
          ABCB1   ABCG2
    S1  1500.0   800.0
    S2   900.0  2000.0
    """
    check_choice("format", format, FORMATS)
    check_choice("orientation", orientation, ORIENTATIONS)
    _numbers.check_format_args(decimal, thousands)
    path = Path(path)
    if not path.exists():
        raise InputFormatError(
            f"{path} does not exist; check the path (relative paths start at {Path.cwd()})."
        )
    report: dict[str, Any] = {"path": str(path)}
    if not path.is_dir() and path.stat().st_size == 0:
        raise InputFormatError(f"{path.name} is empty (0 bytes); check that the file was written completely.")
    if format == "auto":
        fmt, why = _detect_format(path)
    else:
        fmt, why = format, "given by the user"
    report["format"], report["format_reason"] = fmt, why
    if backed and fmt != "h5ad":
        raise InputFormatError(
            f"backed=True works for .h5ad files only, not {fmt}; drop backed= or convert to h5ad."
        )
    if fmt in _ANNDATA_FORMATS:
        adata = _read_anndata_format(path, fmt, orientation, backed, report)
    else:
        table = {"orientation": orientation, "report": report, "decimal": decimal, "thousands": thousands}
        adata = _read_table_format(path, fmt, format != "auto", gene_column, sheet, table)
    report["input_sha256"] = _sha256(path)
    report = {k: v for k, v in report.items() if v is not None}
    return _with_read_report(adata, report, as_frame=as_frame, backed=backed)


#: the formats read as an AnnData by their own library (the others are tables)
_ANNDATA_FORMATS = ("h5ad", "10x_mtx", "10x_h5")


def _read_table_format(
    path: Path, fmt: str, given: bool, gene_column: str | None, sheet: str | int | None, table: dict[str, Any]
):
    """Read a table format (delimited text, Excel, Parquet, GCT, GEO series matrix) into an AnnData.

    ``given``: the format was named by the user (it then fixes the delimiter of a text table). ``table``
    holds the keywords of :func:`_table_to_anndata` (``orientation``, ``report``, number format).
    """
    report, orientation = table["report"], table["orientation"]
    if fmt in ("csv", "tsv"):
        # an explicit format fixes the delimiter; otherwise it is sniffed (a ".csv" may use ";")
        raw = _read_delimited(
            path,
            ("," if fmt == "csv" else "\t") if given else None,
            report,
            decimal=table["decimal"],
            thousands=table["thousands"],
        )
        return _table_to_anndata(raw, path.name, gene_column=gene_column, **table)
    if fmt == "excel":
        raw = _read_excel(path, sheet, report)
        try:
            return _table_to_anndata(raw, path.name, gene_column=gene_column, **table)
        except InputFormatError as err:
            if sheet is None and len(report["sheets"]) > 1:
                raise InputFormatError(
                    f"{err} This workbook has the sheets {report['sheets']} and the first one, "
                    f"{report['sheet']!r}, was read: pass sheet='<name>' (CLI: --sheet) to read the data sheet."
                ) from err
            raise
    if fmt == "parquet":
        return _table_to_anndata(_read_parquet(path), path.name, gene_column=gene_column, **table)
    if fmt == "gct":
        raw = _read_gct(path, report)
        table["orientation"] = "genes_x_samples" if orientation == "auto" else orientation
        adata = _table_to_anndata(raw, path.name, gene_column=gene_column or raw.names[0], **table)
        if orientation == "auto":
            report["orientation_reason"] = "GCT files are genes x samples by definition"
        return adata
    if fmt == "geo":
        raw, obs = _read_geo(path, report)
        table["orientation"] = "genes_x_samples" if orientation == "auto" else orientation
        adata = _table_to_anndata(raw, path.name, gene_column=gene_column, obs_extra=obs, **table)
        if orientation == "auto":
            report["orientation_reason"] = "GEO series matrices are probes x samples by definition"
        report["note_geo"] = (
            "GEO rows are platform probe ids; map them with rs.pp.harmonize_genes(adata, annotation=...) "
            "using the platform (GPL) annotation"
        )
        return adata
    raise AssertionError(fmt)  # pragma: no cover - guarded by check_choice


def _read_anndata_format(path: Path, fmt: str, orientation: str, backed: bool, report: dict):
    """Read an ``.h5ad`` (possibly backed) or a 10x matrix (folder or ``.h5``) into an oriented AnnData."""
    if fmt == "h5ad":
        adata = _orient_anndata(_read_h5ad(path, backed), orientation, report, backed)
    elif fmt == "10x_mtx":
        adata = _orient_anndata(_read_10x_mtx(path), orientation, report, False)
    else:
        adata = _orient_anndata(_read_10x_h5(path), orientation, report, False)
    report["n_samples"], report["n_genes"] = int(adata.n_obs), int(adata.n_vars)
    if fmt == "10x_mtx":
        report["note_10x"] = (
            "var_names are the Ensembl gene ids of features.tsv; symbols are in var['gene_symbols']"
        )
    return adata


def _with_read_report(adata, report: dict, *, as_frame: bool, backed: bool):
    """Return ``adata`` (or its samples x genes DataFrame with ``as_frame``) holding the read report."""
    if as_frame:
        X = adata.X[:] if backed else adata.X
        if hasattr(X, "toarray"):
            X = X.toarray()
        out = pd.DataFrame(np.asarray(X), index=adata.obs_names.copy(), columns=adata.var_names.copy())
        get.store_record(out, get.READ_REPORT, report)
        return out
    # for a backed file uns lives in memory: the read-only file is not changed
    get.store_record(adata, get.READ_REPORT, report)
    return adata
