"""Read sample metadata and join it to expression data by sample id, with a report of what matched."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

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


def _read_table(path: Path, sheet) -> pd.DataFrame:
    from resistscore.io._read import _detect_format, _read_delimited, _read_excel, _read_parquet

    if not path.exists():
        raise InputFormatError(f"{path} does not exist; check the path.")
    if path.stat().st_size == 0:
        raise InputFormatError(f"{path.name} is empty (0 bytes).")
    fmt, _ = _detect_format(path)
    report: dict = {}
    if fmt in ("csv", "tsv"):
        df = _read_delimited(path, None, report, as_text=True)
    elif fmt == "excel":
        df = _read_excel(path, sheet, report)
    elif fmt == "parquet":
        df = _read_parquet(path)
    else:
        raise InputFormatError(
            f"{path.name} looks like a {fmt} file; sample metadata must be CSV/TSV, Excel or parquet."
        )
    df.columns = [str(c).strip() for c in df.columns]
    # convert columns that are entirely numeric
    for c in df.columns:
        conv = pd.to_numeric(df[c].replace("", pd.NA), errors="coerce")
        nonempty = df[c].astype(str).str.strip() != ""
        if nonempty.any() and conv[nonempty].notna().all():
            df[c] = conv
        else:
            df[c] = df[c].replace("", pd.NA)
    return df


def read_table(
    path: str | os.PathLike[str],
    *,
    what: str = "table",
    index_col: str | int | None = 0,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a small table (scores, sample metadata) indexed by sample id.

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

    Returns
    -------
    pandas.DataFrame
        Indexed by the id column (as strings); entirely numeric columns are numbers, others strings
        with missing values as ``<NA>``.

    Raises
    ------
    InputFormatError
        If the file cannot be read, has no rows, or its ids are duplicated.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = p.write_text("sample,efflux_abc,apoptosis\\nS1,0.5,-0.2\\nS2,0.1,0.3\\n")
    >>> read_table(p, what="scores")
            efflux_abc  apoptosis
    sample
    S1             0.5       -0.2
    S2             0.1        0.3
    """
    df = _read_table(Path(path), sheet)
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
    ids = df[index_col].astype(str).str.strip()
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise InputFormatError(
            f"the {what} table {Path(path).name} has duplicated ids in column {index_col!r} ({list(dup[:5])}); "
            "keep one row per sample."
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
    else:
        meta = _read_table(Path(path_or_df), sheet)
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
        return (
            pd.Series(meta.index if col == "index" else meta[col], index=meta.index).astype(str).str.strip()
        )

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
    aligned.attrs["resistscore_join_report"] = report.to_dict()
    return aligned, report
