#!/usr/bin/env python
"""Write the confounder gene tables (signatures/confounders/genes/*.tsv) from the published gene-list files.

The lists are used exactly as published; the only change is that a symbol HGNC has since renamed is
written as its current approved symbol (looked up in resistscore's shipped HGNC table as a previous symbol
or, failing that, a unique alias), with the published symbol in ``note``. Identifiers come from the same
table. Provenance (repository, path, commit and sha256 of each input) is in signatures/confounders/README.md.

Inputs (retrieved once; not needed at run time or in CI):

* ``--tirosh``: scanpy's ``regev_lab_cell_cycle_genes.txt`` (scverse/scanpy_usage,
  ``180209_cell_cycle/data/regev_lab_cell_cycle_genes.txt``): 97 symbols, the first 43 S phase and the
  other 54 G2/M (Tirosh et al., Science 2016), as split in scanpy's tutorial.
* ``--estimate``: ``SI_geneset.gmt`` of the ``estimate`` R package 1.0.13 (Yoshihara et al., Nat Commun
  2013): rows ``StromalSignature`` and ``ImmuneSignature``, 141 symbols each.

Usage::

    python scripts/build_confounder_signatures.py --tirosh regev_lab_cell_cycle_genes.txt --estimate SI_geneset.gmt
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from pathlib import Path

from resistscore._atomic import atomic_write
from resistscore.pp import gene_table
from resistscore.sig import GENE_COLUMNS

OUT = Path(__file__).resolve().parent.parent / "signatures" / "confounders" / "genes"
N_S_PHASE = 43

TIROSH = (
    "Tirosh I et al. Dissecting the multicellular ecosystem of metastatic melanoma by single-cell RNA-seq. "
    "Science 2016;352:189-196 (doi:10.1126/science.aad0501)"
)
ESTIMATE = (
    "Yoshihara K et al. Inferring tumour purity and stromal and immune cell admixture from expression data. "
    "Nat Commun 2013;4:2612 (doi:10.1038/ncomms3612)"
)


def current_symbol(symbol: str, table) -> tuple[str, str]:
    """Return (approved symbol, note) for a published symbol; raise if it cannot be resolved uniquely."""
    approved = set(table["symbol"])
    if symbol in approved:
        return symbol, ""
    for col, kind in (("prev_symbols", "previous symbol"), ("alias_symbols", "alias")):
        hits = sorted(s for s, cell in zip(table["symbol"], table[col]) if symbol in str(cell).split("|"))
        if len(hits) == 1:
            return hits[0], f"published as {symbol} (an HGNC {kind} of {hits[0]})"
        if len(hits) > 1:
            raise SystemExit(f"{symbol} is a {kind} of several genes ({', '.join(hits)}); resolve it by hand")
    raise SystemExit(f"{symbol} is not known to the HGNC table; resolve it by hand")


def write(path: Path, rows: list[dict]) -> None:
    """Write one gene table atomically, in the column order of the signature format."""
    with atomic_write(path) as fh:
        w = csv.DictWriter(fh, fieldnames=list(GENE_COLUMNS), delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def rows_for(symbols: list[str], notes: list[str], evidence: str, table) -> list[dict]:
    """Gene rows (up, weight 1, literature, high confidence) with HGNC and Ensembl ids."""
    ids = {r.symbol: (r.hgnc_id, r.ensembl_gene_id) for r in table.itertuples()}
    out, seen = [], set()
    for sym, note in zip(symbols, notes):
        cur, renamed = current_symbol(sym, table)
        if cur in seen:
            raise SystemExit(f"{sym} -> {cur} appears twice")
        seen.add(cur)
        hgnc, ens = ids[cur]
        text = "; ".join(x for x in (note, renamed) if x)
        out.append({"symbol": cur, "hgnc_id": hgnc, "ensembl_gene_id": ens, "direction": "up", "weight": "1.0",
                    "evidence_source": "literature", "evidence": evidence, "confidence": "high", "note": text})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tirosh", type=Path, required=True, help="regev_lab_cell_cycle_genes.txt")
    ap.add_argument("--estimate", type=Path, required=True, help="SI_geneset.gmt of estimate 1.0.13")
    args = ap.parse_args(argv)
    table = gene_table()
    for p in (args.tirosh, args.estimate):
        print(f"{p.name}: sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}")
    cc = [x.strip() for x in args.tirosh.read_text(encoding="utf-8").split() if x.strip()]
    if len(cc) != 97:
        raise SystemExit(f"expected 97 cell-cycle genes, got {len(cc)}")
    phase = ["S phase"] * N_S_PHASE + ["G2/M"] * (len(cc) - N_S_PHASE)
    rows = rows_for(cc, [f"{p} gene" for p in phase], f"{TIROSH}; S-phase and G2/M lists as in scanpy's "
                    "regev_lab_cell_cycle_genes.txt", table)  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    write(OUT / "confounder.proliferation.tsv", rows)
    gmt = {}
    for line in args.estimate.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if cells and cells[0]:
            gmt[cells[0]] = [c for c in cells[2:] if c]
    for name, key in (("stromal", "StromalSignature"), ("immune", "ImmuneSignature")):
        genes = gmt[key]
        if len(genes) != 141:
            raise SystemExit(f"{key}: expected 141 genes, got {len(genes)}")
        ev = f"{ESTIMATE}; {key} of SI_geneset.gmt (estimate R package 1.0.13)"
        write(OUT / f"confounder.{name}.tsv", rows_for(genes, [""] * len(genes), ev, table))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
