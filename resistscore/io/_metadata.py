"""Read sample metadata and join it to expression data by sample id, with a report of what matched."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resistscore import get
from resistscore._errors import InputFormatError
from resistscore._validate import check_choice

__all__ = ["MetadataJoinReport", "read_metadata", "read_table"]


def normalize_sample_id(x: Any) -> str:
    """Case- and punctuation-insensitive form of a sample id (``"NCI/ADR-RES"`` -> ``"NCIADRRES"``).

    Examples
    --------
    >>> normalize_sample_id("NCI/ADR-RES"), normalize_sample_id("ov:nci_adr_res ")
    ('NCIADRRES', 'OVNCIADRRES')
    """
    return re.sub(r"[^0-9A-Z]", "", str(x).upper())


@dataclass
class MetadataJoinReport:
    """How sample metadata matched the expression data.

    Attributes
    ----------
    id_column
        The metadata column (or ``"index"``) holding sample ids.
    matched
        Data sample ids that have a metadata row.
    only_in_data
        Data sample ids without metadata (their metadata are NaN).
    only_in_metadata
        Metadata ids absent from the data (dropped from the joined table).
    renamed
        ``{metadata id: data id}`` for ids matched only after normalising case and punctuation.
    """

    id_column: str
    matched: list[str] = field(default_factory=list)
    only_in_data: list[str] = field(default_factory=list)
    only_in_metadata: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``adata.uns``."""
        return {
            "id_column": self.id_column,
            "n_matched": len(self.matched),
            "only_in_data": list(self.only_in_data),
            "only_in_metadata": list(self.only_in_metadata),
            "renamed": dict(self.renamed),
        }

    def __repr__(self) -> str:
        return (
            f"MetadataJoinReport(id_column={self.id_column!r}, matched={len(self.matched)}, "
            f"only_in_data={len(self.only_in_data)}, only_in_metadata={len(self.only_in_metadata)}, "
            f"matched_after_normalising={len(self.renamed)})"
        )


def _id_strings(values: pd.Series) -> pd.Series:
    """Sample ids as text: strings stripped, whole numbers without ".0" (an Excel cell 7 is id "7")."""

    def one(v):
        if isinstance(v, str):
            return v.strip()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return "" if v is None or (isinstance(v, float) and v != v) else str(v)

    return values.map(one)


def _read_table(
    path: Path, sheet, decimal: str | None = None, thousands: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(table with numeric columns as numbers, table as written) of a CSV/TSV, Excel or parquet file.

    A column becomes numeric when every present cell is a number; the number format (decimal and
    thousands separators) is decided from all such cells at once, as for expression files.
    """
    from resistscore.io import _numbers
    from resistscore.io._read import _detect_format, _read_delimited, _read_excel, _read_parquet

    _numbers.check_format_args(decimal, thousands)
    if not path.exists():
        raise InputFormatError(f"{path} does not exist; check the path.")
    if path.is_dir():
        raise InputFormatError(f"{path} is a folder; pass a table file (CSV/TSV, Excel or parquet).")
    if path.stat().st_size == 0:
        raise InputFormatError(f"{path.name} is empty (0 bytes).")
    fmt, _ = _detect_format(path)
    report: dict = {}
    if fmt in ("csv", "tsv"):
        raw = _read_delimited(path, None, report, as_text=True)
    elif fmt == "excel":
        raw = _read_excel(path, sheet, report)
    elif fmt == "parquet":
        raw = _read_parquet(path)
    else:
        raise InputFormatError(
            f"{path.name} looks like a {fmt} file; sample metadata must be CSV/TSV, Excel or parquet."
        )
    counts = pd.Series(raw.names).value_counts()
    dup = list(counts[counts > 1].index)
    if dup:
        raise InputFormatError(
            f"{path.name}: the column name(s) {dup[:5]} occur more than once; give every column its own name."
        )
    written = raw.df.copy()
    written.columns = raw.names
    df = written.copy()
    ev = _numbers.NumberEvidence()
    numeric = []
    for c in df.columns:
        values = df[c].to_numpy(dtype=object)
        present = values[~_numbers.is_missing(values)]
        if not len(present) or not any(isinstance(v, str) for v in present):
            continue  # empty, or typed already (Excel, parquet)
        if _numbers.is_number_like(present).all():
            numeric.append(c)
            ev.add_tokens(values)
    number_format = _numbers.decide(ev, path.name, decimal, thousands)
    for c in df.columns:
        if c in numeric:
            vals, text = _numbers.convert(df[c], number_format)
            if not text.any():
                finite = vals[~np.isnan(vals)]
                whole = (
                    len(finite) == len(vals)
                    and np.all(finite == np.round(finite))
                    and np.all(abs(finite) < 2**53)
                )
                df[c] = vals.astype(np.int64) if whole else vals
                continue
        if df[c].dtype == object:
            df[c] = df[c].map(lambda v: pd.NA if isinstance(v, str) and not v.strip() else v)
    return df, written


def read_table(
    path: str | os.PathLike[str],
    *,
    what: str = "table",
    index_col: str | int | None = 0,
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> pd.DataFrame:
    r"""Read a small table (scores, sample metadata) indexed by sample id.

    Parameters
    ----------
    path
        CSV/TSV (plain or gzipped), Excel or parquet file. Only opened for reading.
    what
        What the table is (``"scores"``, ``"metadata"``...), used in error messages.
    index_col
        Column holding the row ids (name or position; default: the first column); None keeps a
        default integer index.
    sheet
        Excel sheet.
    decimal, thousands
        Number format, as in :func:`resistscore.io.read` (default: decided from all numeric cells).

    Returns
    -------
    pandas.DataFrame
        Indexed by the id column (as written, stripped: ``001`` stays ``001``); entirely numeric
        columns are numbers (missing values and NA spellings NaN), others strings with empty cells as
        ``<NA>``.

    Raises
    ------
    InputFormatError
        If the file cannot be read, has no rows, or its ids are duplicated.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = p.write_text("sample,efflux_abc,apoptosis\nS1,0.5,-0.2\nS2,0.1,0.3\n")
    >>> read_table(p, what="scores")
            efflux_abc  apoptosis
    sample
    S1             0.5       -0.2
    S2             0.1        0.3
    """
    df, written = _read_table(Path(path), sheet, decimal, thousands)
    if df.shape[0] == 0:
        raise InputFormatError(f"the {what} table {Path(path).name} has no rows.")
    if index_col is None:
        return df
    if isinstance(index_col, int):
        if not 0 <= index_col < df.shape[1]:
            raise InputFormatError(
                f"the {what} table has {df.shape[1]} columns; index_col={index_col} is out of range."
            )
        index_col = df.columns[index_col]
    elif index_col not in df.columns:
        raise InputFormatError(
            f"the {what} table has no column {index_col!r} (columns: {list(df.columns)[:10]}); pass index_col=."
        )
    ids = _id_strings(written[index_col])
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputFormatError(
            f"the {what} table {Path(path).name} has duplicated ids in column {index_col!r} ({list(dup[:5])}); "
            "keep one row per sample."
        )
    if (ids == "").any():
        raise InputFormatError(
            f"the {what} table {Path(path).name} has {int((ids == '').sum())} row(s) without an id in column "
            f"{index_col!r}; give every row an id."
        )
    out = df.drop(columns=[index_col])
    out.index = pd.Index(ids.to_numpy(), name=index_col)
    return out


def read_metadata(
    path_or_df: str | os.PathLike[str] | pd.DataFrame,
    adata=None,
    id_column: str | None = None,
    *,
    match: str = "normalized",
    sheet: str | int | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
) -> tuple[pd.DataFrame, MetadataJoinReport | None]:
    """Read a sample-metadata table and (optionally) align it to the samples of ``adata``.

    Parameters
    ----------
    path_or_df
        CSV/TSV/Excel/parquet file, or a DataFrame (not modified).
    adata
        AnnData (its ``obs_names``) or samples x genes DataFrame (its index) to join to. If given, the
        returned metadata are indexed exactly like the data samples.
    id_column
        Column with sample ids. Default: the column whose values match the data's sample ids best
        (or the first column when no data is given); ``"index"`` uses the DataFrame index.
    match
        ``"exact"`` or ``"normalized"`` (default): ids not matching exactly are matched after removing
        case and punctuation (``NCI/ADR-RES`` = ``nci_adr_res``), and reported in ``renamed``.
    sheet
        Excel sheet.
    decimal, thousands
        Number format of a text file, as in :func:`resistscore.io.read` (default: decided from all
        numeric cells).

    Returns
    -------
    tuple
        ``(metadata, report)``; ``report`` is None when ``adata`` is None. When joining, the id column
        is kept so that ids matched after normalisation still show their original spelling. Use
        ``adata.obs = adata.obs.join(metadata)`` to attach it.

    Raises
    ------
    InputFormatError
        If the id column is missing or has duplicated ids.

    Examples
    --------
    >>> import pandas as pd
    >>> expr = pd.DataFrame({"ABCB1": [1.0, 2.0, 3.0]}, index=["NCI/ADR-RES", "OVCAR-8", "K-562"])
    >>> meta = pd.DataFrame({"line": ["nci_adr_res", "ovcar_8", "MCF7"], "resistant": [True, False, False]})
    >>> joined, report = read_metadata(meta, expr)
    >>> joined
                        line resistant
    NCI/ADR-RES  nci_adr_res      True
    OVCAR-8          ovcar_8     False
    K-562                NaN       NaN
    >>> report.only_in_data, report.only_in_metadata
    (['K-562'], ['MCF7'])
    """
    check_choice("match", match, ("exact", "normalized"))
    if isinstance(path_or_df, pd.DataFrame):
        meta = path_or_df.copy()
        written = meta
    else:
        meta, written = _read_table(Path(path_or_df), sheet, decimal, thousands)
    if meta.shape[0] == 0:
        raise InputFormatError("the metadata table has no rows.")
    data_ids: list[str] | None = None
    if adata is not None:
        if isinstance(adata, pd.DataFrame):
            data_ids = list(map(str, adata.index))
        elif hasattr(adata, "obs_names"):
            data_ids = list(map(str, adata.obs_names))
        else:
            raise InputFormatError("`adata` must be an AnnData or a samples x genes DataFrame.")

    def ids_of(col: str) -> pd.Series:
        values = meta.index.to_series() if col == "index" else written[col]
        return _id_strings(pd.Series(values.to_numpy(dtype=object), index=meta.index))

    if id_column is None:
        candidates = (
            ["index", *list(meta.columns)]
            if not isinstance(meta.index, pd.RangeIndex)
            else list(meta.columns)
        )
        if data_ids is None:
            id_column = candidates[0]
        else:
            target = set(data_ids)
            target_n = {normalize_sample_id(x) for x in data_ids}

            def score(c: str) -> tuple[int, int]:
                v = ids_of(c)
                return int(v.isin(target).sum()), int(v.map(normalize_sample_id).isin(target_n).sum())

            id_column = max(candidates, key=score)
    elif id_column != "index" and id_column not in meta.columns:
        raise InputFormatError(
            f"id_column {id_column!r} is not a metadata column (columns: {list(meta.columns)}); pass one of them."
        )
    ids = ids_of(id_column)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputFormatError(
            f"the metadata id column {id_column!r} has duplicated ids ({list(dup[:5])}); keep one row per sample."
        )
    meta = meta.copy()
    meta.index = pd.Index(ids.to_numpy(), name=None)
    if id_column != "index":
        meta = meta.drop(columns=[id_column]) if data_ids is None else meta
    if data_ids is None:
        return meta, None

    present = set(meta.index)
    renamed: dict[str, str] = {}
    if match == "normalized":
        norm = {}
        for m in meta.index:
            norm.setdefault(normalize_sample_id(m), []).append(m)
        for d in data_ids:
            if d in present:
                continue
            hits = norm.get(normalize_sample_id(d), [])
            if len(hits) == 1 and hits[0] not in data_ids and hits[0] not in renamed:
                renamed[hits[0]] = d
    aligned = meta.rename(index=renamed).reindex(pd.Index(data_ids))
    aligned.attrs = {}
    used = set(data_ids)
    report = MetadataJoinReport(
        id_column=id_column,
        matched=[d for d in data_ids if d in present or d in renamed.values()],
        only_in_data=[d for d in data_ids if d not in present and d not in renamed.values()],
        only_in_metadata=[m for m in meta.index if m not in used and m not in renamed],
        renamed=renamed,
    )
    get.store_record(aligned, get.JOIN_REPORT, report.to_dict())
    return aligned, report
