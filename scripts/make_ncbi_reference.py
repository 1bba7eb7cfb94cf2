#!/usr/bin/env python
"""Make tests/_reference/io/ncbi_*_sample.tsv: independent NCBI Gene identifier samples.

The reference is NCBI Gene (2022-Sep-12 build) as shipped in the Debian package
``r-bioc-org.hs.eg.db`` 3.16.0-1 (``org.Hs.eg.sqlite``). NCBI maintains its own gene symbols, aliases
and Ensembl cross-references, independently of the HGNC snapshot that resistscore ships. Only the
package file is downloaded (``apt-get download``) and unpacked (``dpkg -x``); nothing is installed.

Samples (protein-coding genes in NCBI, deterministic: sorted, every k-th row):

* ``ncbi_entrez_sample.tsv``: ``entrez_id``, ``ncbi_symbol`` (every 25th gene by numeric id);
* ``ncbi_ensembl_sample.tsv``: ``ensembl_gene_id``, ``ncbi_symbol`` (Ensembl ids linked to one gene; every 25th);
* ``ncbi_alias_sample.tsv``: ``alias``, ``ncbi_symbol`` (aliases of exactly one gene that are no gene's
  official NCBI symbol; every 50th).

Usage: ``python scripts/make_ncbi_reference.py [--deb PATH]``.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

DEB_SHA256 = "0f61810d35b858915b1a9787d8dcab08b7e164c14c20a9e1d86eb9837308c2c2"
SQLITE = "usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite"
OUT = Path(__file__).resolve().parent.parent / "tests" / "_reference" / "io"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deb", type=Path, help="a local r-bioc-org.hs.eg.db_3.16.0-1_all.deb")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        deb = args.deb
        if deb is None:
            subprocess.run(["apt-get", "download", "r-bioc-org.hs.eg.db=3.16.0-1"], check=True, cwd=tmp)
            deb = next(Path(tmp).glob("r-bioc-org.hs.eg.db_*.deb"))
        digest = hashlib.sha256(deb.read_bytes()).hexdigest()
        if digest != DEB_SHA256:
            raise SystemExit(f"{deb}: sha256 {digest}, expected {DEB_SHA256}")
        subprocess.run(["dpkg", "-x", str(deb), str(Path(tmp) / "x")], check=True)
        con = sqlite3.connect(Path(tmp) / "x" / SQLITE)
        genes = pd.read_sql(
            "select g.gene_id, i.symbol, t.gene_type from genes g join gene_info i on g._id = i._id "
            "join genetype t on g._id = t._id",
            con,
        )
        ens = pd.read_sql(
            "select e.ensembl_id, i.symbol, t.gene_type from ensembl e join gene_info i on e._id = i._id "
            "join genetype t on e._id = t._id",
            con,
        )
        alias = pd.read_sql(
            "select a.alias_symbol, i.symbol, t.gene_type from alias a join gene_info i on a._id = i._id "
            "join genetype t on a._id = t._id",
            con,
        )
        source_date = dict(con.execute("select name, value from metadata").fetchall())["EGSOURCEDATE"]
        con.close()

    pc = genes[genes["gene_type"] == "protein-coding"].copy()
    pc = pc.iloc[pc["gene_id"].astype(int).argsort(kind="stable")].iloc[::25]
    pd.DataFrame({"entrez_id": pc["gene_id"], "ncbi_symbol": pc["symbol"]}).to_csv(
        OUT / "ncbi_entrez_sample.tsv", sep="\t", index=False
    )

    e = ens[ens["gene_type"] == "protein-coding"]
    n = e.groupby("ensembl_id")["symbol"].nunique()
    e = (
        e[e["ensembl_id"].isin(n[n == 1].index)]
        .drop_duplicates("ensembl_id")
        .sort_values("ensembl_id")
        .iloc[::25]
    )
    pd.DataFrame({"ensembl_gene_id": e["ensembl_id"], "ncbi_symbol": e["symbol"]}).to_csv(
        OUT / "ncbi_ensembl_sample.tsv", sep="\t", index=False
    )

    n = alias.groupby("alias_symbol")["symbol"].nunique()
    a = alias[
        (alias["gene_type"] == "protein-coding")
        & alias["alias_symbol"].isin(n[n == 1].index)
        & ~alias["alias_symbol"].isin(set(genes["symbol"]))
    ]
    a = a.drop_duplicates("alias_symbol").sort_values("alias_symbol").iloc[::50]
    pd.DataFrame({"alias": a["alias_symbol"], "ncbi_symbol": a["symbol"]}).to_csv(
        OUT / "ncbi_alias_sample.tsv", sep="\t", index=False
    )
    print(
        f"NCBI Gene source date {source_date}: {len(pc)} Entrez ids, {len(e)} Ensembl ids, {len(a)} aliases"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
