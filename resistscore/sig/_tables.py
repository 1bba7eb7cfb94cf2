"""The data tables shipped beside the signatures: drugs, review inventory, Tables 1 and 2, BCR-ABL1."""

from __future__ import annotations

import functools
import re
from typing import Any

import pandas as pd

from resistscore._errors import SignatureError
from resistscore.sig._collection import _stat_key, shipped_root
from resistscore.sig._files import Resource, read_tsv
from resistscore.sig._problems import ValidationReport

__all__ = ["TABLES", "read_table", "shipped_table", "split_ids"]

#: name -> (relative path, schema name)
TABLES: dict[str, tuple[str, str]] = {
    "drugs": ("drugs/drugs.tsv", "drugs"),
    "drug_genes": ("drugs/drug_genes.tsv", "drug_genes"),
    "entities": ("review/entities.tsv", "entities"),
    "table1": ("review/table1_disease_pathways.tsv", "table1_disease_pathways"),
    "table2": ("review/table2_mirna.tsv", "table2_mirna"),
    "bcr_abl1": ("bcr_abl1/kinase_domain_mutations.tsv", "bcr_abl1_mutations"),
}

_ID_SPLIT = re.compile(r"\s*[|,;]\s*")


def split_ids(cell: Any) -> list[str]:
    """Split a list cell of ids (``|``-separated; ``,`` and ``;`` are accepted too)."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return []
    return [x for x in _ID_SPLIT.split(str(cell).strip()) if x]


def read_table(
    root: Resource, name: str, report: ValidationReport, display_root: str
) -> tuple[pd.DataFrame, list[int]] | None:
    """Read one of :data:`TABLES` from ``root``; return ``(table, line numbers)`` or None if absent/unreadable."""
    rel, schema_name = TABLES[name]
    res = root
    for part in rel.split("/"):
        res = res / part
    if not res.is_file():
        return None
    parsed = read_tsv(res, f"{display_root}/{rel}", report, schema_name)
    if parsed is None:
        return None
    header, rows = parsed
    df = pd.DataFrame([r for _, r in rows], columns=header)
    return df, [ln for ln, _ in rows]


@functools.lru_cache(maxsize=16)
def _shipped_cached(name: str, key: tuple) -> pd.DataFrame:
    root = shipped_root()
    report = ValidationReport("signatures/")
    got = read_table(root, name, report, "signatures")
    report.raise_if_errors()
    if got is None:
        rel = TABLES[name][0]
        raise SignatureError(
            f"signatures/{rel} is missing from this installation. Reinstall resistscore "
            "(in a source checkout: restore the file from git)."
        )
    return got[0]


def shipped_table(name: str) -> pd.DataFrame:
    """Return a fresh copy of one of the shipped :data:`TABLES`, checked against the manifest."""
    root = shipped_root()
    return _shipped_cached(name, _stat_key(root)).copy()
