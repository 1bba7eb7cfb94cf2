"""Write expression data (AnnData or samples x genes DataFrame) atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from resistscore._atomic import atomic_path
from resistscore._errors import InputFormatError
from resistscore._validate import check_choice

__all__ = ["write"]

_WRITE_FORMATS = ("auto", "h5ad", "csv", "tsv", "parquet", "excel")


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
    with atomic_path(path) as tmp:
        if fmt in ("csv", "tsv"):
            comp = "gzip" if path.name.lower().endswith(".gz") else None
            table.to_csv(tmp, sep="," if fmt == "csv" else "\t", compression=comp)
        elif fmt == "parquet":
            out = table.copy()
            out.columns = out.columns.astype(str)
            out.to_parquet(tmp)
        else:
            table.to_excel(tmp, engine="openpyxl")
    return path
