"""Read expression files (CSV/TSV, Excel, parquet, GCT, GEO series matrix, h5ad, 10x) into AnnData.

Every reader returns an AnnData with ``obs`` = samples and ``var`` = genes and records what it did in
``adata.uns["resistscore"]["read_report"]`` (format and why, orientation and why, shape, dropped rows,
coerced cells, duplicated ids, the sha256 of the input file). The input file is only ever opened for
reading.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import re
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from resistscore._errors import InputFormatError, OrientationError
from resistscore._validate import check_choice

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
_NA_STRINGS = ["", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "-", ".", "#N/A", "?"]
_MAX_SHA256_BYTES = 2 << 30


def _norm_name(x: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(x).lower())


# --------------------------------------------------------------------------------------------------
# format detection


def _magic(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(8)
    except OSError as err:
        raise InputFormatError(
            f"cannot open {path}: {err.strerror or err}; check the path and permissions."
        ) from err


def _text_head(path: Path, n: int = 4096) -> str:
    opener = gzip.open if _magic(path)[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(n)
    except (OSError, EOFError, zlib.error) as err:
        raise InputFormatError(
            f"{path.name} is not a readable gzip file ({err}); it may be truncated: re-download or re-compress it."
        ) from err
    return raw.decode("utf-8", errors="replace")


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
    stem = name[:-3] if name.endswith(".gz") else name
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
    if magic.startswith(b"PK\x03\x04"):
        return "excel", "zip container (xlsx)"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel", "OLE2 container (legacy .xls)"
    if stem.endswith((".xlsx", ".xlsm", ".xls")):
        return "excel", f"suffix {stem.rsplit('.', 1)[-1]}"
    if stem.endswith((".parquet", ".pq")):
        return "parquet", "suffix .parquet"
    if stem.endswith(".h5ad"):
        return "h5ad", "suffix .h5ad"
    head = _text_head(path)
    if "\x00" in head:
        raise InputFormatError(
            f"{path.name} is a binary file of an unknown kind; resistscore reads CSV/TSV (optionally "
            "gzipped), Excel, parquet, GCT, GEO series matrix, h5ad and 10x files."
        )
    if stem.endswith(".gct") or head.startswith(("#1.2", "#1.3")):
        return "gct", "GCT header (#1.2)" if head.startswith("#1.") else "suffix .gct"
    if head.lstrip().startswith("!") and "!Series_" in head[:4096] or "series_matrix" in stem:
        return "geo", "GEO series-matrix header (!Series_...)"
    if stem.endswith(".csv"):
        return "csv", "suffix .csv"
    if stem.endswith((".tsv", ".tab", ".txt")):
        return "tsv", f"suffix .{stem.rsplit('.', 1)[-1]}"
    sep = _sniff_sep(head)
    return ("csv" if sep == "," else "tsv"), f"delimiter {sep!r} sniffed from the first lines"


def _sniff_sep(head: str) -> str:
    lines = [ln for ln in head.splitlines()[:20] if ln.strip() and not ln.startswith("#")]
    if not lines:
        return "\t"
    best, best_score = "\t", 0.0
    for sep in ("\t", ",", ";", "|"):
        counts = [ln.count(sep) for ln in lines[:-1] or lines]
        if min(counts) == 0:
            continue
        score = min(counts) + (10 if len(set(counts)) == 1 else 0)
        if score > best_score:
            best, best_score = sep, score
    return best


# --------------------------------------------------------------------------------------------------
# raw tables


def _read_delimited(
    path: Path, sep: str | None, report: dict, *, as_text: bool = False, **kw
) -> pd.DataFrame:
    """Read a delimited text file; numbers are parsed (``as_text=False``) and NA spellings become NaN."""
    head = _text_head(path)
    if sep is None:
        sep = _sniff_sep(head)
    report["delimiter"] = sep
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    try:
        header = next(csv.reader([first], delimiter=sep)) if len(sep) == 1 else []
    except csv.Error:
        header = []
    dup = sorted({h.strip() for h in header if h.strip()} - {h for h in set(header) if header.count(h) == 1})
    if dup and "skiprows" not in kw:
        # pandas renames duplicated columns "S1", "S1.1": say so, since they may be duplicated samples
        report["duplicated_columns_renamed"] = dup[:10]
    if not as_text and sep in (";", "\t") and "decimal" not in kw:
        body = "\n".join(head.splitlines()[1:])
        if re.search(r"\d,\d", body) and not re.search(r"\d\.\d", body):
            kw["decimal"] = ","
            report["decimal"] = ","
    last_err: Exception | None = None
    for enc in ("utf-8", "latin-1"):
        try:
            df = pd.read_csv(
                path,
                sep=sep,
                dtype=str if as_text else None,
                keep_default_na=not as_text,
                na_filter=not as_text,
                na_values=None if as_text else _NA_STRINGS,
                float_precision=None if as_text else "round_trip",
                encoding=enc,
                comment=None,
                skip_blank_lines=True,
                low_memory=False,
                **kw,
            )
            if enc != "utf-8":
                report["encoding"] = enc
            return df
        except UnicodeDecodeError as err:
            last_err = err
            continue
        except pd.errors.EmptyDataError as err:
            raise InputFormatError(
                f"{path.name} is empty; check that the file was written completely."
            ) from err
        except pd.errors.ParserError as err:
            raise InputFormatError(
                f"{path.name} could not be parsed as a {'tab' if sep == chr(9) else repr(sep)}-delimited table "
                f"({str(err).strip()}); check the delimiter (pass format='csv' or 'tsv') and that every row has "
                "the same number of fields."
            ) from err
        except (EOFError, OSError, zlib.error) as err:
            raise InputFormatError(
                f"{path.name} could not be read ({err}); if it is gzipped it may be truncated: re-download it."
            ) from err
    raise InputFormatError(f"{path.name} has an unknown text encoding ({last_err}); save it as UTF-8.")


def _read_excel(path: Path, sheet: str | int | None, report: dict) -> pd.DataFrame:
    try:
        sheets = pd.ExcelFile(path)
    except ImportError as err:
        raise InputFormatError(
            f"reading {path.name} needs an Excel engine that is not installed ({err}); save the sheet as "
            ".xlsx or CSV, or install it (pip install xlrd for legacy .xls)."
        ) from err
    except (ValueError, zipfile.BadZipFile, OSError, KeyError) as err:
        raise InputFormatError(
            f"{path.name} is not a readable Excel workbook ({err}); re-save it as .xlsx."
        ) from err
    with sheets:
        names = sheets.sheet_names
        if sheet is None:
            sheet = names[0]
            if len(names) > 1:
                report["note_sheet"] = f"workbook has sheets {names}; read the first (pass sheet= to choose)"
        elif isinstance(sheet, str) and sheet not in names:
            raise InputFormatError(
                f"sheet {sheet!r} is not in {path.name} (sheets: {names}); pass one of them."
            )
        elif isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise InputFormatError(
                f"sheet index {sheet} is out of range ({len(names)} sheets in {path.name})."
            )
        report["sheet"] = sheet if isinstance(sheet, str) else names[sheet]
        try:
            df = sheets.parse(sheet, header=0, na_values=_NA_STRINGS)
        except (ValueError, KeyError, OSError) as err:
            raise InputFormatError(f"sheet {sheet!r} of {path.name} could not be read ({err}).") from err
    return df.dropna(how="all").dropna(axis=1, how="all")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise InputFormatError(f"{path.name} is not a readable parquet file ({err}); re-export it.") from err
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    return df


def _read_gct(path: Path, report: dict) -> pd.DataFrame:
    head = _text_head(path).splitlines()
    if len(head) < 3 or not head[0].startswith("#1."):
        raise InputFormatError(
            f"{path.name} is not a GCT file (its first line should be '#1.2'); pass format='tsv' if it is a plain table."
        )
    df = _read_delimited(path, "\t", report, skiprows=2)
    if (
        df.shape[1] < 3
        or _norm_name(df.columns[0]) not in ("name", "id")
        or _norm_name(df.columns[1]) != "description"
    ):
        raise InputFormatError(
            f"{path.name}: a GCT table must start with the columns 'Name' and 'Description' (found "
            f"{list(df.columns[:2])})."
        )
    report["gct_version"] = head[0].strip()
    return df


def _read_geo(path: Path, report: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (table, sample metadata) from a GEO series-matrix file."""
    opener = gzip.open if _magic(path)[:2] == b"\x1f\x8b" else open
    meta: dict[str, list[list[str]]] = {}
    table_lines: list[str] = []
    inside = False
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
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
    except (OSError, EOFError, zlib.error) as err:
        raise InputFormatError(
            f"{path.name} could not be read ({err}); it may be truncated: re-download it."
        ) from err
    if not table_lines:
        raise InputFormatError(
            f"{path.name} has no '!series_matrix_table_begin' data block; it is not a GEO series matrix "
            "with expression values (some series keep them only in supplementary files)."
        )
    try:
        df = pd.read_csv(io.StringIO("".join(table_lines)), sep="\t", na_values=_NA_STRINGS)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise InputFormatError(f"the data block of {path.name} could not be parsed ({err}).") from err
    obs = pd.DataFrame(index=[str(c) for c in df.columns[1:]])
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
    return df, obs


# --------------------------------------------------------------------------------------------------
# table -> AnnData


def _gene_like_fraction(labels: list[str]) -> float:
    """Score how much labels look like gene ids.

    Approved HGNC symbols, Ensembl gene ids, probe-set ids and MGI symbols count 1, Entrez ids 0.5,
    aliases and previous symbols only 0.25 (short sample names such as ``S1`` or ``P1`` are often
    someone's alias).
    """
    from resistscore.pp._harmonize import _ENSG, _ENSMUSG, _MOUSE_SYMBOL, _PROBE, _index, _mouse_index

    sample = [s for s in labels if s][:2000]
    if not sample:
        return 0.0
    idx = _index()
    score = 0.0
    for s in sample:
        if (
            s in idx.hgnc_id
            or _ENSG.match(s)
            or _ENSMUSG.match(s)
            or _PROBE.match(s)
            or _MOUSE_SYMBOL.match(s)
            and s in _mouse_index().symbol
        ):
            score += 1
        elif s.removesuffix(".0") in idx.entrez:
            score += 0.5  # Entrez ids, but small numbers are also plain sample numbers
        elif s.upper() in idx.upper or s in idx.prev or s in idx.alias:
            score += 0.25
    return score / len(sample)


def _split_annotation(
    df: pd.DataFrame, gene_column: str | None, report: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split leading annotation columns (ids, symbols, descriptions) from the numeric block."""
    cols = list(df.columns)
    if not cols:
        raise InputFormatError("the table has no columns; check the delimiter and the header line.")
    if gene_column is not None and gene_column not in cols:
        raise InputFormatError(
            f"gene_column {gene_column!r} is not a column of the table (first columns: {cols[:8]}); "
            "pass the exact column name."
        )
    n_ann = 0
    for c in cols:
        values = df[c]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numeric_share = 1.0
        else:
            present = values.notna() & ~values.astype(str).str.strip().isin(_NA_STRINGS)
            numeric = pd.to_numeric(values[present], errors="coerce").notna()
            numeric_share = float(numeric.mean()) if len(numeric) else 1.0
        if _norm_name(c) in _ANNOTATION_NAMES or c == gene_column or numeric_share < 0.5:
            n_ann += 1
        else:
            break
    if n_ann == 0:
        # no label column: row labels are the positions (a bare matrix)
        ann = pd.DataFrame(index=df.index)
        report["note_labels"] = "no label column found; rows are numbered"
    else:
        ann = df.iloc[:, :n_ann]
    block = df.iloc[:, n_ann:]
    if gene_column is not None and gene_column in block.columns:
        raise InputFormatError(f"gene_column {gene_column!r} holds numbers; pass the column with gene ids.")
    return ann, block


def _as_str(col: pd.Series) -> pd.Series:
    """Strings for labels/annotation: NaN -> "", integral floats without ".0" (Entrez ids)."""
    if pd.api.types.is_float_dtype(col):
        finite = col.dropna()
        if len(finite) and np.all(np.isfinite(finite)) and np.all(finite == np.round(finite)):
            return col.astype("Int64").astype(str).replace("<NA>", "")
    return col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def _to_numeric(block: pd.DataFrame, name: str, report: dict) -> np.ndarray:
    if block.shape[1] == 0 or block.shape[0] == 0:
        raise InputFormatError(
            f"{name} has no numeric expression values; check the delimiter, the header line, and that "
            "values are numbers (e.g. not '1,5' with a decimal comma: convert it or use ';' as delimiter)."
        )
    vals = block
    obj_cols = [c for c in vals.columns if not pd.api.types.is_numeric_dtype(vals[c])]
    if not obj_cols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return vals.to_numpy(dtype=float)
    num = vals.copy()
    for c in obj_cols:
        num[c] = pd.to_numeric(vals[c], errors="coerce")
    missing = vals.isna()
    for c in obj_cols:
        missing[c] = missing[c] | vals[c].astype(str).str.strip().isin(_NA_STRINGS)
    bad = num.isna() & ~missing
    n_bad = int(bad.to_numpy().sum())
    if n_bad:
        share = n_bad / bad.size
        examples = []
        for c in bad.columns[bad.any()][:3]:
            examples.append(f"{c}: {vals.loc[bad[c], c].iloc[0]!r}")
        if share > 0.1:
            raise InputFormatError(
                f"{name}: {n_bad} of {bad.size} values are not numbers (e.g. {'; '.join(examples)}); remove "
                "text columns from the expression block, or pass gene_column= / format= if the table was misread."
            )
        report["non_numeric_cells_set_to_nan"] = n_bad
        report["non_numeric_examples"] = examples
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        X = num.to_numpy(dtype=float)
    return X


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


def _table_to_anndata(
    df: pd.DataFrame,
    name: str,
    *,
    orientation: str,
    gene_column: str | None,
    report: dict,
    obs_extra: pd.DataFrame | None = None,
):
    import anndata as ad

    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    n0 = len(df)
    # drop fully empty rows
    blank = df.isna()
    for c in df.columns:
        if df[c].dtype == object:
            blank[c] = blank[c] | (df[c].astype(str).str.strip() == "")
    empty = blank.all(axis=1)
    if empty.any():
        df = df.loc[~empty]
        report["dropped_empty_rows"] = int(empty.sum())
    if df.shape[0] == 0:
        raise InputFormatError(f"{name} has a header but no data rows; check that the file is complete.")
    ann, block = _split_annotation(df, gene_column, report)
    X = _to_numeric(block, name, report)
    id_col = gene_column if gene_column is not None else (ann.columns[0] if ann.shape[1] else None)
    row_labels = (
        _as_str(ann[id_col]).str.strip().tolist() if id_col is not None else [str(i) for i in range(len(df))]
    )
    col_labels = [str(c) for c in block.columns]
    report["label_column"] = id_col
    report["annotation_columns"] = [c for c in ann.columns if c != id_col]
    genes_rows = _decide_orientation(row_labels, col_labels, orientation, report)
    if genes_rows:
        no_id = np.array([lbl == "" for lbl in row_labels])
        if no_id.any():
            report["dropped_rows_without_gene_id"] = int(no_id.sum())
            keep = ~no_id
            X = X[keep]
            ann = ann.loc[keep]
            row_labels = [r for r, k in zip(row_labels, keep) if k]
        var = ann.drop(columns=[id_col]) if id_col is not None else pd.DataFrame(index=ann.index)
        var = var.copy()
        var.index = pd.Index(row_labels)
        obs = pd.DataFrame(index=pd.Index(col_labels))
        X = X.T
    else:
        if report["annotation_columns"]:
            # other text columns of a samples x genes table are sample metadata
            obs = ann.drop(columns=[id_col]).copy()
        else:
            obs = pd.DataFrame(index=ann.index)
        obs.index = pd.Index(row_labels)
        var = pd.DataFrame(index=pd.Index(col_labels))
    for frame in (obs, var):
        for c in frame.columns:
            frame[c] = _as_str(frame[c])
    if obs_extra is not None:
        obs = obs.join(obs_extra, how="left") if len(obs_extra.columns) else obs
    report["rows_in_file"] = n0
    return _make_anndata(X, obs, var, report, ad)


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


def read(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    orientation: str = "auto",
    gene_column: str | None = None,
    sheet: str | int | None = None,
    backed: bool = False,
    as_frame: bool = False,
):
    """Read an expression file into an AnnData (obs = samples, var = genes).

    Parameters
    ----------
    path
        A file (CSV/TSV/TXT, plain or gzipped; Excel; parquet; GCT; GEO series matrix; h5ad; 10x
        ``.h5``) or a 10x matrix folder. The file is only opened for reading.
    format
        ``"auto"`` (from magic bytes, suffix and content) or one of ``"csv"``, ``"tsv"``, ``"excel"``,
        ``"parquet"``, ``"gct"``, ``"geo"``, ``"h5ad"``, ``"10x_mtx"``, ``"10x_h5"``.
    orientation
        ``"auto"``: the axis whose labels look like gene ids (HGNC symbols, aliases, Ensembl, probe
        sets) holds genes; if the labels are inconclusive, the longer axis. ``"genes_x_samples"`` or
        ``"samples_x_genes"`` to override. For h5ad/10x files, the AnnData convention is assumed unless
        obs names clearly look like genes.
    gene_column
        Name of the column with gene ids in a genes x samples table (default: the first text column;
        other leading text columns such as ``symbol`` or ``Description`` go to ``var``).
    sheet
        Excel sheet name or index (default: the first sheet).
    backed
        Open h5ad files in backed (on-disk, read-only) mode for data larger than memory.
    as_frame
        Return a samples x genes DataFrame instead (its ``attrs["resistscore_read_report"]`` holds the report).

    Returns
    -------
    anndata.AnnData or pandas.DataFrame
        ``adata.uns["resistscore"]["read_report"]``: ``path``, ``format``, ``format_reason``,
        ``orientation``, ``orientation_reason``, ``n_samples``, ``n_genes``, ``label_column``,
        ``annotation_columns``, ``dropped_*`` counts, ``duplicated_gene_ids``, ``input_sha256`` ...

    Raises
    ------
    InputFormatError
        If the file cannot be read as an expression table (the message says why and what to do).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import resistscore as rs
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "expr.tsv"
    >>> _ = tmp.write_text("gene\\tS1\\tS2\\tS3\\nABCB1\\t5.1\\t2.0\\t7.3\\nABCG2\\t1.0\\t0.5\\t3.2\\n")
    >>> adata = rs.io.read(tmp)
    >>> adata.shape, list(adata.var_names)
    ((3, 2), ['ABCB1', 'ABCG2'])
    >>> adata.uns["resistscore"]["read_report"]["orientation"]
    'genes_x_samples'
    """
    import anndata as ad

    check_choice("format", format, FORMATS)
    check_choice("orientation", orientation, ORIENTATIONS)
    path = Path(path)
    if not path.exists():
        raise InputFormatError(
            f"{path} does not exist; check the path (relative paths start at {Path.cwd()})."
        )
    report: dict[str, Any] = {"path": str(path)}
    if format == "auto":
        fmt, why = _detect_format(path)
    else:
        fmt, why = format, "given by the user"
    report["format"], report["format_reason"] = fmt, why
    if not path.is_dir() and path.stat().st_size == 0:
        raise InputFormatError(f"{path.name} is empty (0 bytes); check that the file was written completely.")
    if backed and fmt != "h5ad":
        raise InputFormatError(
            f"backed=True works for .h5ad files only, not {fmt}; drop backed= or convert to h5ad."
        )

    if fmt in ("csv", "tsv"):
        # an explicit format fixes the delimiter; otherwise it is sniffed (a ".csv" may use ";")
        df = _read_delimited(path, None if format == "auto" else ("," if fmt == "csv" else "\t"), report)
        adata = _table_to_anndata(
            df, path.name, orientation=orientation, gene_column=gene_column, report=report
        )
    elif fmt == "excel":
        df = _read_excel(path, sheet, report)
        adata = _table_to_anndata(
            df, path.name, orientation=orientation, gene_column=gene_column, report=report
        )
    elif fmt == "parquet":
        df = _read_parquet(path)
        adata = _table_to_anndata(
            df, path.name, orientation=orientation, gene_column=gene_column, report=report
        )
    elif fmt == "gct":
        df = _read_gct(path, report)
        adata = _table_to_anndata(
            df,
            path.name,
            orientation="genes_x_samples" if orientation == "auto" else orientation,
            gene_column=gene_column or df.columns[0],
            report=report,
        )
        if orientation == "auto":
            report["orientation_reason"] = "GCT files are genes x samples by definition"
    elif fmt == "geo":
        df, obs = _read_geo(path, report)
        adata = _table_to_anndata(
            df,
            path.name,
            orientation="genes_x_samples" if orientation == "auto" else orientation,
            gene_column=gene_column,
            report=report,
            obs_extra=obs,
        )
        if orientation == "auto":
            report["orientation_reason"] = "GEO series matrices are probes x samples by definition"
        report["note_geo"] = (
            "GEO rows are platform probe ids; map them with rs.pp.harmonize_genes(adata, annotation=...) "
            "using the platform (GPL) annotation"
        )
    elif fmt == "h5ad":
        try:
            adata = ad.read_h5ad(path, backed="r" if backed else None)
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise InputFormatError(
                f"{path.name} is not a readable h5ad file ({type(err).__name__}: {err})."
            ) from err
        adata = _orient_anndata(adata, orientation, report, backed)
        report["n_samples"], report["n_genes"] = int(adata.n_obs), int(adata.n_vars)
    elif fmt == "10x_mtx":
        adata = _orient_anndata(_read_10x_mtx(path), orientation, report, False)
        report["n_samples"], report["n_genes"] = int(adata.n_obs), int(adata.n_vars)
        report["note_10x"] = (
            "var_names are the Ensembl gene ids of features.tsv; symbols are in var['gene_symbols']"
        )
    elif fmt == "10x_h5":
        adata = _orient_anndata(_read_10x_h5(path), orientation, report, False)
        report["n_samples"], report["n_genes"] = int(adata.n_obs), int(adata.n_vars)
    else:  # pragma: no cover - guarded by check_choice
        raise AssertionError(fmt)
    report["input_sha256"] = _sha256(path)
    report = {k: v for k, v in report.items() if v is not None}
    if as_frame:
        X = adata.X[:] if backed else adata.X
        if hasattr(X, "toarray"):
            X = X.toarray()
        out = pd.DataFrame(np.asarray(X), index=adata.obs_names.copy(), columns=adata.var_names.copy())
        out.attrs["resistscore_read_report"] = report
        return out
    # for a backed file uns lives in memory: the read-only file is not changed
    rs_uns = dict(adata.uns.get("resistscore", {}))
    rs_uns["read_report"] = report
    adata.uns["resistscore"] = rs_uns
    return adata
