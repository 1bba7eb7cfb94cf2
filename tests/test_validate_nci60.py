"""scripts/validate_nci60.py (issue 14, item 9) on a small subset: two drugs, 30 random sets.

Skipped without the NCI-60 data (../shared/data/nci60) or without the git history that holds the 1.x
collection.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import resistscore as rs

pytestmark = pytest.mark.realdata

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "validate_nci60.py"


def _module():
    spec = importlib.util.spec_from_file_location("validate_nci60", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def run(nci60_dir, tmp_path_factory):
    mod = _module()
    if shutil.which("git") is None:
        pytest.skip("git is not available: the 1.x collection is read from the git history")
    try:
        mod.last_1x_commit()
    except (subprocess.CalledProcessError, SystemExit):
        pytest.skip("no git history with a 1.x collection (e.g. an sdist)")
    out = tmp_path_factory.mktemp("validation") / "table.tsv"
    assert (
        mod.main(
            [
                "--data",
                str(nci60_dir),
                "--out",
                str(out),
                "--n-random",
                "30",
                "--drugs",
                "doxorubicin,cisplatin",
            ]
        )
        == 0
    )
    return mod, pd.read_csv(out, sep="\t", keep_default_na=False, na_values=[""])


def test_table_layout(run):
    mod, t = run
    assert list(t.columns) == mod.COLUMNS
    # 2 drugs x 2 collections x (unadjusted, adjusted for proliferation)
    assert len(t) == 8
    assert sorted(t["collection"].unique()) == ["1.1.0", rs.sig.load().version]
    assert set(t["adjusted_for"].fillna("")) == {"", "confounder.proliferation"}
    assert (t["n_random"] == 30).all() and t["random_percentile"].between(0, 100).all()
    assert (t["n_lines"] >= 55).all()


def test_signature_row_equals_the_shipped_drug_signature(run, nci60_dir):
    """The script's current-collection signature is rs.sig.drug_signature, associated by rs.tl.associate."""
    _, t = run
    data = rs.ds.nci60(nci60_dir)
    expr = data.expression.to_df()
    gi = data.gi50[data.gi50["cell_line"].isin(expr.index)]
    gi50 = gi.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
    sc = rs.tl.score(expr, rs.sig.drug_signatures(["doxorubicin"]), method="singscore", pvalues=False)
    want = rs.tl.associate(sc, gi50[["Doxorubicin"]]).table.iloc[0]
    row = t[(t.collection == rs.sig.load().version) & (t.drug == "doxorubicin") & t.adjusted_for.isna()].iloc[
        0
    ]
    assert row["signature_rho"] == pytest.approx(
        want["effect"], abs=1e-4
    )  # the TSV keeps 4 significant digits
    assert row["n_lines"] == want["n"]
    # the best gene is the signature's own gene with the most negative rho (signed for down genes)
    genes = rs.sig.drug_signature("doxorubicin").genes
    genes = genes[genes["symbol"].isin(expr.columns)]
    signed = pd.DataFrame(
        {s: expr[s] * (-1.0 if d == "down" else 1.0) for s, d in zip(genes["symbol"], genes["direction"])}
    )
    per_gene = rs.tl.associate(signed, gi50[["Doxorubicin"]]).table.set_index("signature")["effect"]
    assert row["best_gene"] == per_gene.idxmin()
    assert row["best_gene_rho"] == pytest.approx(per_gene.min(), abs=1e-4)


def test_random_sets_keep_the_signature_structure(nci60_dir):
    mod = _module()
    expr = rs.ds.nci60(nci60_dir).expression.to_df()
    sig = rs.sig.drug_signature("cisplatin")
    key = mod._structure(sig, set(expr.columns))
    scores = mod.random_scores(expr, key, 5, seed=0)
    again = mod.random_scores(expr, key, 5, seed=0)
    pd.testing.assert_frame_equal(scores, again)  # a fixed seed: no tuning by re-drawing
    assert scores.shape == (expr.shape[0], 5) and np.isfinite(scores.to_numpy()).all()


def test_nci60_mechanisms_and_proliferation(nci60_dir):
    """The NCI-60 figures of docs/validation.md (confounders): correlation with proliferation, and its adjustment."""
    data = rs.ds.nci60(nci60_dir)
    expr = data.expression.to_df()
    ids = ["drug_target.topoisomerase", "dna_repair", *rs.sig.confounders().ids]
    res = rs.tl.score(expr, rs.sig.load(ids=ids), method="singscore", pvalues=False)
    corr = rs.tl.confounder_correlation(res).set_index(["signature", "confounder"])["spearman_rho"]
    assert corr[("drug_target.topoisomerase", "confounder.proliferation")] == pytest.approx(-0.319, abs=0.002)
    assert corr[("dna_repair", "confounder.proliferation")] == pytest.approx(-0.280, abs=0.002)
    prolif = res.scores["confounder.proliferation"]
    assert prolif.min() > 0.28 and prolif.max() < 0.39  # every line cycles: a narrow range
    # daunorubicin: the proliferation gene TOP2A loses part of its association once proliferation is held fixed
    gi = data.gi50[data.gi50["cell_line"].isin(expr.index)]
    gi50 = gi.pivot_table(index="cell_line", columns="drug", values="neg_log10_gi50", aggfunc="mean")
    top2a = -expr[["TOP2A"]]  # 'down' in resistance: sign-flipped, as in the validation table
    raw = rs.tl.associate(top2a, gi50[["Daunorubicin"]]).table.iloc[0]
    adj = rs.tl.associate(
        top2a, gi50[["Daunorubicin"]], adjust=res.scores[["confounder.proliferation"]]
    ).table
    assert raw["effect"] == pytest.approx(-0.255, abs=0.002)
    assert adj.iloc[0]["effect"] == pytest.approx(-0.149, abs=0.002)
    assert adj.iloc[0]["adjusted_for"] == "confounder.proliferation"
