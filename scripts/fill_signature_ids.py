#!/usr/bin/env python
"""Fill the HGNC ID and Ensembl gene ID columns of the signature TSVs from the shipped HGNC table.

The curator writes gene symbols; identifiers are never typed by hand. This script looks every
``symbol`` of ``signatures/genes/*.tsv`` and ``signatures/confounders/genes/*.tsv`` up in resistscore's shipped HGNC table
(:func:`resistscore.pp.gene_table`) and writes its ``hgnc_id`` and ``ensembl_gene_id`` in place.
For ``signatures/mirna/*.tsv`` (miRBase mature names such as ``hsa-miR-21-5p``) it fills the
HGNC ID of the MIR host gene (``MIR21``) when that gene is approved, and leaves the Ensembl
column as the table has it.

A symbol that is not a current approved HGNC symbol is reported together with what it may be
(an alias, a previous symbol, or a withdrawn symbol and its successor), and the script exits with
status 1 so that the curator fixes it by hand (use the current symbol and note the old name).

Usage::

    python scripts/fill_signature_ids.py            # fill in place, report problems
    python scripts/fill_signature_ids.py --check    # only report; exit 1 if any ID is missing or stale
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from resistscore._atomic import atomic_write
from resistscore.pp import gene_table
from resistscore.sig import GENE_COLUMNS

ROOT = Path(__file__).resolve().parent.parent / "signatures"
HEADER = list(GENE_COLUMNS)


def mir_host_symbol(mature: str) -> list[str]:
    """Return candidate HGNC MIR gene symbols for a miRBase mature name.

    ``hsa-miR-21-5p`` -> ``MIR21``, ``MIR21-1``, ``MIR21-2``, ``MIR21-3``; a name whose core ends in a
    letter (``hsa-miR-103a-3p``) -> ``MIR103A``, ``MIR103A1``, ``MIR103A2``. The caller keeps only the
    candidates present in the HGNC table and fills an ID only when exactly one remains (a mature miRNA
    made by several loci, e.g. miR-7 from MIR7-1/2/3, has no single gene).
    """
    m = re.fullmatch(r"hsa-(miR|let)-(\w+?)(?:-[35]p)?", mature)
    if not m:
        return []
    core = m.group(2).upper()
    base = ("MIRLET" if m.group(1) == "let" else "MIR") + core
    if core[-1].isalpha():
        return [base, base + "1", base + "2"]
    return [base, base + "-1", base + "-2", base + "-3"]


def build_lookup() -> tuple[dict, dict, dict, dict]:
    """Approved symbol -> (hgnc_id, ensembl); and alias/previous/withdrawn symbol -> approved candidates."""
    table = gene_table()
    approved = {r.symbol: (r.hgnc_id, r.ensembl_gene_id) for r in table.itertuples()}
    prev: dict[str, set[str]] = {}
    alias: dict[str, set[str]] = {}
    for r in table.itertuples():
        for p in filter(None, r.prev_symbols.split("|")):
            prev.setdefault(p.upper(), set()).add(r.symbol)
        for a in filter(None, r.alias_symbols.split("|")):
            alias.setdefault(a.upper(), set()).add(r.symbol)
    withdrawn = {}
    for r in gene_table("withdrawn").itertuples():
        withdrawn[r.withdrawn_symbol.upper()] = (r.status, r.successor_symbols)
    return approved, prev, alias, withdrawn


def explain(symbol: str, prev: dict, alias: dict, withdrawn: dict) -> str:
    """Say what a non-approved symbol might be."""
    key = symbol.upper()
    hints = []
    if key in prev:
        hints.append("previous symbol of " + ", ".join(sorted(prev[key])))
    if key in withdrawn:
        status, succ = withdrawn[key]
        hints.append(f"withdrawn ({status}) -> {succ or 'no successor'}")
    if key in alias:
        hints.append("alias of " + ", ".join(sorted(alias[key])))
    return "; ".join(hints) or "unknown to HGNC"


def process(path: Path, lookup, *, mirna: bool, check: bool) -> list[str]:
    """Fill (or check) one TSV; return a list of problem lines."""
    approved, prev, alias, withdrawn = lookup
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    if not rows or rows[0] != HEADER:
        return [f"{path.name}: header is not {HEADER}"]
    problems = []
    changed = False
    for row in rows[1:]:
        symbol = row[0]
        if mirna:
            hits = [s for s in mir_host_symbol(symbol) if s in approved]
            want = (approved[hits[0]][0], approved[hits[0]][1]) if len(hits) == 1 else None
            if want is None:
                # ambiguous (several loci) or absent: leave empty; the note must say so
                want = ("", "")
        else:
            if symbol not in approved:
                problems.append(
                    f"{path.name}: {symbol} is not an approved HGNC symbol ({explain(symbol, prev, alias, withdrawn)})"
                )
                continue
            want = approved[symbol]
        if (row[1], row[2]) != want:
            if check:
                problems.append(f"{path.name}: {symbol} ids {row[1]!r},{row[2]!r} != table {want}")
            else:
                row[1], row[2] = want
                changed = True
    if changed and not check:
        with atomic_write(path) as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n")
            w.writerows(rows)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report only; do not write")
    args = ap.parse_args(argv)
    lookup = build_lookup()
    problems = []
    for path in sorted((ROOT / "genes").glob("*.tsv")) + sorted(
        (ROOT / "confounders" / "genes").glob("*.tsv")
    ):
        problems += process(path, lookup, mirna=False, check=args.check)
    for path in sorted((ROOT / "mirna").glob("*.tsv")):
        problems += process(path, lookup, mirna=True, check=args.check)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
