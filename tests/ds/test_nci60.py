from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from resistscore._errors import InputFormatError
from resistscore.ds._nci60 import HISTORICAL_ABC_NAMES, cell_line_key, nci60
from resistscore.pp import gene_table

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def data(nci60_dir):
    return nci60(nci60_dir)


def test_keys_match_across_spellings():
    assert cell_line_key("OV:NCI_ADR_RES") == cell_line_key("NCI/ADR-RES") == cell_line_key("MCF7ADRr")
    assert cell_line_key("LE:HL_60") == cell_line_key("HL-60(TB)") == cell_line_key("HL60")
    assert cell_line_key("ME:LOXIMVI") == cell_line_key("LOX IMVI")
    assert cell_line_key("MCF7") != cell_line_key("NCI/ADR-RES")


def test_historical_abc_names_agree_with_hgnc():
    wd = gene_table("withdrawn").set_index("withdrawn_symbol")
    for old, new in HISTORICAL_ABC_NAMES.items():
        assert wd.loc[old, "successor_symbols"] == new


def test_shapes_and_join(data):
    assert data.probes.shape == (59, 22283)  # README: 22,283 probe sets x 59 lines
    assert data.qpcr.shape == (60, 48)
    j = data.join_report
    assert j["in_all_three"] == 59
    assert j["qpcr_not_in_expression"] == ["NCI-H23"]  # README: NCI-H23 is absent from the expression
    assert j["renamed_by_alias"] == {"MCF7ADRr": "NCI/ADR-RES"}
    assert j["gi50_names_set_aside"] == ["MCF7/ATCC"]
    row = data.cell_lines.loc["NCI/ADR-RES"]
    assert (row["name_expression"], row["name_gi50"], row["name_qpcr"]) == (
        "OV:NCI_ADR_RES",
        "NCI/ADR-RES",
        "MCF7ADRr",
    )
    assert row["panel"] == "Ovarian"
    assert set(data.expression.obs_names) <= set(data.gi50["cell_line"])
    assert "NCI/ADR-RES" in set(data.qpcr.obs_names)


def test_gene_mapping_coverage(data):
    j = data.join_report
    ge = j["genes_expression"]
    assert ge["n_input"] == 22283
    assert ge["n_mapped"] + ge["steps"].get("unmapped", 0) + ge["steps"].get("ambiguous", 0) == 22283
    # U133A probe sets cover ~13,000 distinct genes
    assert 12_000 < ge["n_genes"] < 13_500
    # probe sets without an HGNC gene stay under their probe id (issue 10 #15: the ranking universe is kept)
    t = data.gene_mapping["expression"].table
    unmapped_ids = t.loc[t["symbol"] == "", "input_id"].nunique()
    assert data.expression.n_vars == ge["n_genes"] + unmapped_ids
    assert (data.expression.var["hgnc_id"] == "").sum() == unmapped_ids
    assert j["genes_qpcr"]["n_genes"] == 48
    q = data.gene_mapping["qpcr"].table.set_index("input_id")
    for old, new in HISTORICAL_ABC_NAMES.items():
        assert (q.loc[old, "symbol"], q.loc[old, "step"]) == (new, "previous")
    assert {"TAP1", "TAP2", "CFTR"} <= set(data.qpcr.var_names)
    assert "ABCB2" not in set(data.qpcr.var_names)


def test_abcb1_probes_averaged_within_each_line(data):
    # the default collapse (issue 10 #4): the two ABCB1 probe sets are averaged cell line by cell line,
    # so a line's value never depends on the other lines
    t = data.gene_mapping["expression"].table.set_index("input_id")
    assert t.loc["209993_at", "symbol"] == t.loc["209994_s_at", "symbol"] == "ABCB1"
    assert data.gene_mapping["expression"].collapse_rule == "mean"
    p = np.asarray(data.probes[:, ["209993_at", "209994_s_at"]].X)
    assert data.expression.var.loc["ABCB1", "input_ids"] == "209993_at|209994_s_at"
    np.testing.assert_allclose(data.expression[:, "ABCB1"].X.ravel(), p.mean(axis=1), rtol=1e-12)


def test_known_biology_adr_res_vs_ovcar8(data):
    e = data.expression
    diff = np.asarray(e["NCI/ADR-RES"].X - e["OVCAR-8"].X).ravel()
    # README: ABCB1 is the most up-regulated gene genome-wide against OVCAR-8, about +8 log2
    assert e.var_names[int(np.argmax(diff))] == "ABCB1"
    assert 7.0 < diff.max() < 9.0
    # qPCR (independent assay) agrees: ABCB1 is far higher in NCI/ADR-RES
    q = data.qpcr
    assert float(q["NCI/ADR-RES", "ABCB1"].X[0, 0] - q["OVCAR-8", "ABCB1"].X[0, 0]) > 5


def test_gi50_join_doxorubicin(data):
    g = data.gi50
    dox = g[g["drug"].str.lower() == "doxorubicin"].set_index("cell_line")["neg_log10_gi50"]
    # README: NCI/ADR-RES is far less sensitive than OVCAR-8 to doxorubicin
    assert dox["NCI/ADR-RES"] < dox["OVCAR-8"] - 1
    # ABCB1 (array) vs doxorubicin sensitivity: negative rank correlation across the joined lines
    e = data.expression
    common = [c for c in e.obs_names if c in dox.index]
    rho = stats.spearmanr(np.asarray(e[common, "ABCB1"].X).ravel(), dox.loc[common]).statistic
    assert len(common) >= 55
    assert rho < 0


def test_qpcr_agrees_with_array_for_abcb1(data):
    e, q = data.expression, data.qpcr
    common = [c for c in q.obs_names if c in set(e.obs_names)]
    res = stats.spearmanr(np.asarray(e[common, "ABCB1"].X).ravel(), np.asarray(q[common, "ABCB1"].X).ravel())
    # two assays of the same gene: clearly positive (measured rho = 0.53 with the two ABCB1 probe sets
    # averaged per line; 0.49 with the higher-mean probe set alone, the collapse before issue 10)
    assert len(common) == 59
    assert res.statistic > 0.4 and res.pvalue < 1e-3


def test_missing_folder(tmp_path):
    with pytest.raises(InputFormatError, match="lacks the NCI-60"):
        nci60(tmp_path)


def test_inputs_untouched(nci60_dir, data):
    # the loader only reads: the shared files are read-only and still parse identically
    df = pd.read_csv(nci60_dir / "abc_transporters_qpcr.csv")
    assert df.shape == (60, 50)


def test_gi50_wide_and_obs_names(data):
    wide = data.gi50_wide()
    assert list(wide.index) == list(data.cell_lines.index)
    g = data.gi50
    sel = g[(g["cell_line"] == "NCI/ADR-RES") & (g["drug"] == "Doxorubicin")]["neg_log10_gi50"]
    assert len(sel) >= 1
    assert wide.loc["NCI/ADR-RES", "Doxorubicin"] == pytest.approx(sel.mean())
    obs = data.qpcr.obs.loc["NCI/ADR-RES"]
    assert (obs["name_qpcr"], obs["name_gi50"], obs["name_expression"]) == (
        "MCF7ADRr",
        "NCI/ADR-RES",
        "OV:NCI_ADR_RES",
    )
    assert data.expression.obs.loc["NCI/ADR-RES", "panel"] == "Ovarian"


def test_gi50_wide_by_nsc(data):
    by_nsc = data.gi50_wide(by="nsc")
    cols = [c for c in by_nsc.columns if c.startswith("6-Thioguanine (NSC ")]
    assert sorted(cols) == ["6-Thioguanine (NSC 752)", "6-Thioguanine (NSC 757348)"]
    # the file: 786-0 has 5.839 (NSC 752) and 6.476 (NSC 757348); by drug they are averaged
    assert by_nsc.loc["786-0", "6-Thioguanine (NSC 752)"] == pytest.approx(5.839)
    assert data.gi50_wide().loc["786-0", "6-Thioguanine"] == pytest.approx((5.839 + 6.476) / 2)
