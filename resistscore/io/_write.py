"""Write tables and expression data atomically, safe to open in a spreadsheet.

Every text table resistscore writes (CSV, TSV, Excel; the scores, statistics, coverage tables and the
report's download) goes through :func:`neutralize_formulas`: a text cell - or a column header or row
label - that a spreadsheet would run as a formula gets a leading single quote (OWASP's advice against
CSV injection). Numbers are never changed.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from resistscore._atomic import atomic_path, atomic_write
from resistscore._errors import InputFormatError
from resistscore._validate import check_choice

__all__ = [
    "neutralize_formulas",
    "restore_formulas",
    "safe_text",
    "write",
    "write_table",
    "write_workbook",
]

#: spreadsheet workbook suffixes: a text writer refuses them (a CSV named .xlsx does not open in Excel)
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")

_WRITE_FORMATS = ("auto", "h5ad", "csv", "tsv", "parquet", "excel")

#: a spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _formula_like(text: str) -> bool:
    """Return True if ``text``, once leading quotes are removed, starts like a formula and is not a number."""
    core = text.lstrip("'")
    return core[:1] in FORMULA_START and _NUMBER.fullmatch(core) is None


def safe_text(value):
    """Neutralise one cell: a text a spreadsheet would run as a formula gets a leading single quote.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (after any leading
    single quotes) is prefixed with ``'``; text that is a plain number (``-1.5``, ``+3e-2``) and every
    non-text value are returned unchanged. :func:`restore_formulas` undoes it exactly.

    Examples
    --------
    >>> safe_text("=1+1"), safe_text("@SUM(A1)"), safe_text("-1.5"), safe_text("S001"), safe_text(-2.0)
    ("'=1+1", "'@SUM(A1)", '-1.5', 'S001', -2.0)
    """
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def _restore_text(value):
    if isinstance(value, str) and value.startswith("'") and _formula_like(value):
        return value[1:]
    return value


def _map_labels(index: pd.Index, fn) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_map_labels(lvl, fn) for lvl in index.levels]).set_names(
            [fn(n) for n in index.names]
        )
    if index.dtype != object and not isinstance(index.dtype, (pd.StringDtype, pd.CategoricalDtype)):
        return index.rename(fn(index.name))
    return pd.Index([fn(v) for v in index], name=fn(index.name), dtype=object)


def _map_column(col: pd.Series, fn) -> pd.Series:
    codes, uniques = pd.factorize(col.astype(object), use_na_sentinel=True)
    mapped = [fn(u) for u in uniques]
    if all(a is b for a, b in zip(mapped, uniques)):
        return col
    values = np.empty(len(col), dtype=object)
    values[:] = [mapped[c] if c >= 0 else v for c, v in zip(codes, col.astype(object))]
    return pd.Series(values, index=col.index, name=col.name)


def _map_text(df: pd.DataFrame, fn) -> pd.DataFrame:
    out = df.copy(deep=False)
    for i in range(df.shape[1]):
        values = df.iloc[:, i]
        if values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            new = _map_column(values, fn)
            if new is not values:
                out.isetitem(i, new)
    out.columns = _map_labels(df.columns, fn)
    out.index = _map_labels(df.index, fn)
    return out


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` safe to open in a spreadsheet: :func:`safe_text` on every text cell and label.

    Text cells, column headers, row labels and the names of the index and columns are neutralised;
    numeric, boolean and missing values are unchanged. The input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"group": ["=1+1", "ok"], "score": [-0.5, 0.2]}, index=["@S1", "S2"])
    >>> neutralize_formulas(df)
          group  score
    '@S1  '=1+1   -0.5
    S2       ok    0.2
    """
    return _map_text(df, safe_text)


def restore_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralize_formulas` (for tables resistscore wrote and reads back, e.g. scores)."""
    return _map_text(df, _restore_text)


def write_table(
    df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = True, sep: str | None = None
) -> Path:
    """Write a result table atomically as CSV (``.csv``) or TSV (``.tsv``, ``.txt``), ``.gz`` compressed.

    Text cells and labels are neutralised against spreadsheet formulas (:func:`neutralize_formulas`).

    Parameters
    ----------
    df
        The table.
    path
        Output file; the suffix sets the delimiter.
    index
        Write the row labels as the first column.
    sep
        Delimiter (default: tab for ``.tsv``, ``.txt`` and ``.tab``, else comma).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputFormatError
        If ``path`` has an Excel suffix (``.xlsx``): use :func:`write_workbook`.
    """
    path = check_text_table_path(path)
    name = path.name.lower().removesuffix(".gz")
    if sep is None:
        sep = "\t" if name.endswith((".tsv", ".txt", ".tab")) else ","
    _write_text_table(neutralize_formulas(df), path, sep=sep, index=index)
    return path


def check_text_table_path(path: str | os.PathLike[str], fix: str = ".to_excel(path)") -> Path:
    """Refuse a spreadsheet-workbook name (``.xlsx``, ...) for a text table; return the path.

    A CSV written under an ``.xlsx`` name does not open in Excel; the message names ``fix``.

    Examples
    --------
    >>> check_text_table_path("scores.tsv").name
    'scores.tsv'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        raise InputFormatError(
            f"{path.name!r} is an Excel name but to_csv writes text (CSV/TSV); use {fix} for a workbook, "
            "or a .csv / .tsv name."
        )
    return path


def write_workbook(
    sheets: dict[str, pd.DataFrame], path: str | os.PathLike[str], *, index: bool = True
) -> Path:
    """Write tables as the sheets of one Excel workbook (``.xlsx``), atomically and safe to open.

    Text that a spreadsheet would run as a formula is neutralised (:func:`neutralize_formulas`).

    Parameters
    ----------
    sheets
        Sheet name -> table (names are cut to Excel's 31 characters).
    path
        Output file; must end in ``.xlsx``.
    index
        Write the row labels as the first column.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputFormatError(
            f"to_excel writes an .xlsx workbook; got {path.name!r}. Name it .xlsx, or use to_csv for CSV/TSV text."
        )
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, table in sheets.items():
            neutralize_formulas(table).to_excel(writer, sheet_name=str(name)[:31], index=index)
    return path


#: gzip's level for ``.gz`` tables: the ``gzip`` command's default. Python's (9) took 8.8 s for the 58 MiB of
#: 100k cells x 54 scores, level 6 2.3 s, for a file 2.6 % larger (17.3 vs 16.9 MiB)
GZIP_LEVEL = 6


def _write_text_table(table: pd.DataFrame, path: Path, *, sep: str, index: bool = True) -> None:
    """``table.to_csv`` into ``path`` atomically; ``.gz``: gzip holding the target's name, not a temporary one."""
    with atomic_write(path, "wb") as raw:
        if path.name.lower().endswith(".gz"):
            stream = gzip.GzipFile(
                filename=path.name.removesuffix(".gz"),
                mode="wb",
                fileobj=raw,
                mtime=0,
                compresslevel=GZIP_LEVEL,
            )
        else:
            stream = raw
        with io.TextIOWrapper(stream, encoding="utf-8", newline="") as fh:
            table.to_csv(fh, sep=sep, index=index)


def _format_of(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    for suffix, fmt in (
        (".h5ad", "h5ad"),
        (".csv", "csv"),
        (".tsv", "tsv"),
        (".txt", "tsv"),
        (".parquet", "parquet"),
        (".xlsx", "excel"),
    ):
        if name.endswith(suffix):
            return fmt
    raise InputFormatError(
        f"cannot tell the output format from {path.name!r}; use a .h5ad, .csv(.gz), .tsv(.gz), .parquet or "
        ".xlsx suffix, or pass format=."
    )


def write(
    data,
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    orientation: str = "genes_x_samples",
    overwrite: bool = False,
) -> Path:
    """Write expression data to a file, atomically (the file is complete or absent, never half-written).

    In CSV, TSV and Excel files, gene and sample names that a spreadsheet would run as a formula get a
    leading single quote (:func:`neutralize_formulas`); values are numbers and are never changed.

    Parameters
    ----------
    data
        AnnData or samples x genes DataFrame.
    path
        Output file; ``.gz`` compresses CSV/TSV.
    format
        ``"auto"`` (from the suffix), ``"h5ad"``, ``"csv"``, ``"tsv"``, ``"parquet"`` or ``"excel"``.
    orientation
        For tables: ``"genes_x_samples"`` (default, the usual layout of bulk tables) or ``"samples_x_genes"``.
    overwrite
        Replace an existing file. False by default so that an input file is never replaced by mistake.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputFormatError
        If the file exists and ``overwrite`` is False, or the format is unknown.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> import resistscore as rs
    >>> df = pd.DataFrame({"ABCB1": [1.0, 2.0]}, index=["s1", "s2"])
    >>> out = rs.io.write(df, pathlib.Path(tempfile.mkdtemp()) / "expr.tsv")
    >>> print(out.read_text())
    gene	s1	s2
    ABCB1	1.0	2.0
    <BLANKLINE>
    """
    import anndata as ad

    check_choice("format", format, _WRITE_FORMATS)
    check_choice("orientation", orientation, ("genes_x_samples", "samples_x_genes"))
    path = Path(path)
    if path.exists() and not overwrite:
        raise InputFormatError(f"{path} exists; pass overwrite=True to replace it, or choose another name.")
    fmt = _format_of(path) if format == "auto" else format
    if fmt == "h5ad":
        adata = (
            data
            if isinstance(data, ad.AnnData)
            else ad.AnnData(
                X=data.to_numpy(dtype=float),
                obs=pd.DataFrame(index=data.index.astype(str)),
                var=pd.DataFrame(index=data.columns.astype(str)),
            )
        )
        with atomic_path(path) as tmp:
            adata.write_h5ad(tmp)
        return path
    if isinstance(data, ad.AnnData):
        X = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X)
        df = pd.DataFrame(X, index=data.obs_names.copy(), columns=data.var_names.copy())
    elif isinstance(data, pd.DataFrame):
        df = data
    else:
        raise InputFormatError(f"write takes an AnnData or a DataFrame, not {type(data).__name__}.")
    table = df.T if orientation == "genes_x_samples" else df
    table = table.rename_axis("gene" if orientation == "genes_x_samples" else "sample")
    if fmt in ("csv", "tsv", "excel"):
        table = neutralize_formulas(table)
    if fmt in ("csv", "tsv"):
        _write_text_table(table, path, sep="," if fmt == "csv" else "\t")
        return path
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            out = table.copy()
            out.columns = out.columns.astype(str)
            out.to_parquet(tmp)
        else:
            table.to_excel(tmp, engine="openpyxl")
    return path
