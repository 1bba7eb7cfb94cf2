"""Issue 10 #15: harmonising changes a score only through the genes it maps into signatures.

The CLI (``resistscore score ... --method ssgsea``) on the NCI-60 symbol table equals R GSVA 1.46's
ssGSEA (``ssgsea.norm = FALSE``) to 1e-6, R seeing every measured gene of the file (see
tests/_reference/README.md, "nci60_ssgsea/"). On main the CLI dropped the identifiers it could not
map, which shrank the ranking universe and moved the scores by up to 2.6e-2 (relative to R's scale).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from resistscore.cli import cli

pytestmark = pytest.mark.realdata


def _symbol_table(nci60_dir, path):
    """The file's symbol column and its 59 cell lines (probe and entrez dropped), as a user would export it."""
    d = pd.read_csv(nci60_dir / "expression_u133a_gcrma.csv.gz", dtype={"symbol": str})
    d.drop(columns=["probe", "entrez"]).to_csv(path, index=False)
    return path


def _r_scores(reference_dir) -> pd.DataFrame:
    es = pd.read_csv(reference_dir / "nci60_ssgsea" / "ssgsea_raw.tsv", sep="\t", index_col=0)
    sigs = sorted({s.rsplit("_", 1)[0] for s in es.index})
    out = {}
    for s in sigs:
        up = es.loc[f"{s}_UP"] if f"{s}_UP" in es.index else 0.0
        dn = es.loc[f"{s}_DN"] if f"{s}_DN" in es.index else 0.0
        out[s] = up - dn  # resistscore's directional ssGSEA: ES(up) - ES(down)
    return pd.DataFrame(out)


def test_cli_ssgsea_on_symbol_table_equals_r_gsva(nci60_dir, reference_dir, tmp_path):
    table = _symbol_table(nci60_dir, tmp_path / "nci60_symbols.csv")
    out = tmp_path / "scores.csv"
    gmt = reference_dir / "nci60_ssgsea" / "gene_sets.gmt"
    res = CliRunner().invoke(
        cli,
        [
            "score",
            str(table),
            "--out",
            str(out),
            "--method",
            "ssgsea",
            "--no-pvalues",
            "--signatures",
            str(gmt),
        ],
    )
    assert res.exit_code == 0, res.output
    ours = pd.read_csv(out, index_col=0)
    ref = _r_scores(reference_dir)
    assert list(ours.index) == list(ref.index)  # the 59 cell lines, in file order
    reported = [c for c in ours.columns if ours[c].notna().all()]
    assert len(reported) >= 40  # signatures below their minimal coverage are NaN by design
    diff = np.abs(ours[reported].to_numpy() - ref[reported].to_numpy())
    assert diff.max() < 1e-6, (diff.max(), ours[reported].abs().max().max())
