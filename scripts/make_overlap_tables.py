#!/usr/bin/env python
"""Regenerate the shipped overlap tables (signatures/overlap/) from the signature data.

* ``pairwise_overlap.tsv``: :func:`resistscore.sig.overlap` over every gene-level signature of the collection
  and the confounder signatures (every pair, zero overlaps included): shared genes, Jaccard index, share of each
  signature's weight carried by the shared genes.
* ``exclusive_assignment.tsv``: :func:`resistscore.sig.exclusive_assignment`, the one top-level mechanism that
  scores each gene in the exclusive view (``rs.sig.load(exclusive=True)``).

Both are derived data: never edit them by hand. Run this after any change of the gene tables, then rebuild the
manifest (``resistscore signatures manifest``); ``tests/sig/test_overlap.py`` fails while they are stale.

Usage::

    python scripts/make_overlap_tables.py            # write the tables
    python scripts/make_overlap_tables.py --check    # exit 1 if a table is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import resistscore as rs
from resistscore._atomic import atomic_write

OUT = Path(__file__).resolve().parent.parent / "signatures" / "overlap"
HEADER = (
    "# Derived from the signature data by scripts/make_overlap_tables.py (collection {version}, confounders "
    "{conf}); do not edit by hand.\n"
)


def render() -> dict[str, str]:
    """Return ``{file name: text}`` of the overlap tables for the current (shipped) signature data."""
    sigs = rs.sig.load(confounders=True)
    head = HEADER.format(version=sigs.version, conf=sigs.metadata["confounders"]["version"])
    pairs = rs.sig.overlap(sigs)
    assign = rs.sig.exclusive_assignment(sigs)
    return {
        "pairwise_overlap.tsv": head
        + pairs.to_csv(sep="\t", index=False, float_format="%.4f", lineterminator="\n"),
        "exclusive_assignment.tsv": head
        + assign.to_csv(sep="\t", index=False, float_format="%g", lineterminator="\n"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report stale tables; do not write")
    args = ap.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = OUT / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            OUT.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as fh:
                fh.write(text)
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "up to date")
        return 1 if stale else 0
    print(f"wrote {', '.join(stale) or 'nothing (up to date)'} in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
