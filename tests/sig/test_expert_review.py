"""The expert review of collection 1.1.0 (issue 14) is encoded: each test fails on the 1.1.0 data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import resistscore as rs
from resistscore.sig._tables import split_ids

ROOT = Path(__file__).resolve().parents[2] / "signatures"


@pytest.fixture(scope="module")
def sigs():
    return rs.sig.load(feature_type=None)


def _row(sig, symbol):
    g = sig.genes.set_index("symbol")
    return g.loc[symbol]


# -- item 1: Table 2 and mirna_targets follow the direct targets -------------------------------------------------------
def test_table2_lists_direct_targets_only():
    t2 = rs.sig.mirna_table().set_index("mirbase_id")
    targets = {m: set(split_ids(t)) for m, t in t2["target_symbols"].items()}
    assert targets["hsa-miR-25-3p"] == {"ULK1"}
    assert targets["hsa-miR-145-5p"] == {"SP1", "CDK6"}
    assert targets["hsa-miR-200c-3p"] == {"ZEB1", "ZEB2", "MAPK9"}
    assert targets["hsa-miR-127-3p"] == set() and targets["hsa-miR-196a-5p"] == set()
    assert targets["hsa-miR-221-3p"] == targets["hsa-miR-222-3p"] == {"BBC3", "CDKN1B"}
    assert "bortezomib" in t2.loc["hsa-miR-202-3p", "note"] and "C36" in t2.loc["hsa-miR-202-3p", "note"]
    # ABCB1 is a direct target only of miR-129-5p and miR-508-5p
    with_abcb1 = {m for m, t in targets.items() if "ABCB1" in t}
    assert with_abcb1 == {"hsa-miR-129-5p", "hsa-miR-508-5p"}


def test_mirna_targets_rest_on_direct_links(sigs):
    mt = sigs["mirna_targets"]
    assert _row(mt, "ABCB1")["weight"] == 0.5
    assert "miR-145" not in _row(mt, "ABCB1")["evidence"] and "miR-200c" not in _row(mt, "ABCB1")["evidence"]
    assert _row(mt, "CDKN1B")["direction"] == "down"
    assert {"SP1", "CDK6", "ZEB1", "ZEB2", "MAPK9"} <= set(mt.up)
    assert "JUN" not in mt  # downstream of JNK2, not a target
    t2 = rs.sig.mirna_table()
    direct = {
        g
        for c in t2.loc[t2["direction_in_resistance"].isin(["up", "down"]), "target_symbols"]
        for g in split_ids(c)
    }
    assert set(mt.symbols) <= direct  # every mirna_targets gene is a direct target of a scored miRNA


def test_efflux_does_not_cite_indirect_mirna_links(sigs):
    for sid in ("efflux_abc", "efflux_abc.abcc", "efflux_abc.abcg2"):
        for sym in ("ABCC1", "ABCG2"):
            if sym in sigs[sid]:
                ev = _row(sigs[sid], sym)["evidence"]
                cited = re.search(r"Table 2 \(([^)]*?)(?:, direct| direct)", ev)
                assert cited, (sid, sym, ev)
                assert not re.search(r"miR-(9|25|127|196a|221)\b", cited.group(1)), (sid, sym, ev)


# -- item 2: directions, inclusions, weights ---------------------------------------------------------------------------
def test_reviewed_directions_and_inclusions(sigs):
    assert "MDM2" not in sigs["apoptosis.anti_apoptotic"]
    assert _row(sigs["apoptosis.p53_targets"], "MDM2")["direction"] == "down"
    assert {"CDKN1A", "MDM2", "BAX"} <= set(sigs["apoptosis.p53_targets"].down)
    for gone in ("CYCS", "TNFRSF1A"):
        assert gone not in sigs["apoptosis"]
    assert "TOP1" not in sigs["drug_target.topoisomerase"]
    assert sigs["drug_target.topoisomerase_i"].down == ["TOP1"]
    assert set(sigs["drug_target.topoisomerase_i"].drugs) == {"irinotecan", "topotecan"}
    for drug in ("gefitinib", "erlotinib"):
        assert "KRAS" not in rs.sig.drug_signature(drug)
    for drug in ("vincristine", "vinblastine"):
        assert drug not in sigs["drug_target.tubulin"].drugs
        assert "MAPT" not in rs.sig.drug_signature(drug)
    assert "MAPT" in rs.sig.drug_signature("paclitaxel")
    inpp5d = _row(sigs["survival_signalling.pi3k_akt"], "INPP5D")
    assert inpp5d["weight"] == 0.25 and "immune" in inpp5d["note"]


def test_weights_follow_the_collection_rule(sigs):
    for sid, sym in (("reduced_uptake", "SLC31A1"), ("drug_metabolism", "CYP3A4"), ("drug_metabolism", "CYP1B1"),
                     ("heterogeneity_extrinsic", "SLC9A1"), ("dna_repair", "APEX1"), ("apoptosis", "XIAP"),
                     ("drug_target", "NR3C1")):  # fmt: skip
        assert _row(sigs[sid], sym)["weight"] == 0.5, (sid, sym)
    # the rule: weight 1.0 = high-confidence core gene
    for s in sigs:
        core = s.genes.loc[s.genes["weight"] == 1.0]
        assert (core["confidence"] == "high").all(), (
            s.id,
            core.loc[core["confidence"] != "high", "symbol"].tolist(),
        )


def test_proliferation_genes_carry_the_caveat(sigs):
    cycling = set(rs.sig.confounders()["confounder.proliferation"].symbols)
    hr = set(sigs["dna_repair.hr"].symbols)
    for s in sigs:
        for sym, note in zip(s.genes["symbol"], s.genes["note"]):
            if sym in cycling or sym in hr or sym in {"TYMS", "EZH2"}:
                assert "proliferation" in note, (s.id, sym)


# -- item 3: missing biology --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sid", "up", "down"),
    [
        ("drug_inactivation.nrf2", {"NFE2L2", "TXNRD1", "SRXN1", "AKR1C1"}, {"KEAP1"}),
        ("efflux_abc.copper_atpase", {"ATP7A", "ATP7B"}, set()),
        ("drug_target.antimetabolite", {"RRM1", "RRM2"}, set()),
        ("dna_repair.ner", {"ERCC3"}, set()),
        ("dna_repair.hr", {"FANCA"}, set()),
        ("dna_repair.ber", {"MPG"}, set()),
        ("drug_inactivation.thiol_detoxification", {"GSTT1", "GSTA2", "MGST2", "MGST3"}, set()),
        ("microenvironment.sfm_dr", {"IL6R", "IL6ST", "TNFRSF17", "TNFRSF13B", "TNFRSF13C"}, set()),
        ("microenvironment.caf", {"TGFB1", "FAP", "ACTA2", "PDGFRB"}, set()),
        ("apoptosis.p53_targets", set(), {"CDKN1A", "ZMAT3", "RRM2B", "SESN1"}),
        ("gene_amplification", {"ERBB2", "EGFR", "AR", "MYCN", "CDK4"}, set()),
        ("survival_signalling.ras_mapk", {"BRAF"}, set()),
        ("drug_target.kinase", {"IGF1R", "ERBB3"}, set()),
    ],
)
def test_missing_biology_is_added(sigs, sid, up, down):
    assert up <= set(sigs[sid].up) and down <= set(sigs[sid].down)


def test_nqo1_stays_out_of_the_nrf2_set(sigs):
    assert "NQO1" not in sigs["drug_inactivation"]  # activates mitomycin C: drug-dependent direction
    assert rs.sig.drug_signature("mitomycin").weights["NQO1"] < 0


# -- item 4: drug map ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("drug", "up", "down"),
    [
        ("tamoxifen", {"ERBB2", "EGFR", "CCND1", "FGFR1", "SULT1A1"}, {"PGR", "CYP2D6", "CDKN1B", "ESR1"}),
        ("trastuzumab", {"ERBB3", "IGF1R", "MUC4"}, {"ERBB2"}),
        ("gefitinib", {"ERBB2", "MET", "HGF", "IGF1R", "VIM", "ZEB1"}, {"CDH1"}),
        ("erlotinib", {"ERBB2", "MET", "HGF", "IGF1R", "VIM", "ZEB1"}, {"CDH1"}),
        ("mitomycin", {"ERCC1", "ERCC4", "FANCA"}, {"SLFN11", "NQO1"}),
        ("cytarabine", {"RRM1", "RRM2"}, set()),
        ("melphalan", {"FANCA"}, {"SLC7A5", "SLFN11"}),
        ("irinotecan", {"ABCG2", "UGT1A1"}, {"TOP1", "CES2", "SLFN11"}),
        ("topotecan", {"ABCG2"}, {"TOP1", "SLFN11"}),
    ],
)
def test_drug_map_is_filled_in(drug, up, down):
    sig = rs.sig.drug_signature(drug)
    assert up <= set(sig.up) and down <= set(sig.down)


def test_trastuzumab_is_kept_apart_from_the_erbb2_up_signatures(sigs):
    # ERBB2 is down for trastuzumab but up in gene_amplification: the drug must not list that signature
    mech = set(rs.sig.drug_mechanisms("trastuzumab")["signature_id"])
    assert not any("ERBB2" in sigs[m] for m in mech)


# -- items 5 and 6: BCR-ABL1 and CORRECTIONS ---------------------------------------------------------------------------
def test_bcr_abl1_additions_and_notes():
    sens = rs.sig.bcr_abl1_sensitivity
    for mut in ("F317I", "F317C"):
        assert sens(mut, "dasatinib") == "R" and sens(mut, "nilotinib") == "S"
    for mut in ("Y253F", "L248V", "D276G", "E279K", "F311L"):
        assert sens(mut, "ponatinib") == "S"
    assert sens("Y253F", "imatinib") == "R"
    assert sens("I502L", "asciminib") == "R" and sens("I502L", "imatinib") == "S"
    table = rs.sig.bcr_abl1_mutations().set_index("mutation")
    assert "second-generation TKI" in table.loc["M351T", "note"] and "C37" in table.loc["M351T", "note"]
    assert "NCCN" in table.loc["F317L", "note"] and "NCCN" in table.loc["G250E", "note"]


def test_corrections_added():
    text = (ROOT / "CORRECTIONS.md").read_text(encoding="utf-8")
    for cid, word in (
        ("C36", "miR-202"),
        ("C37", "M351T"),
        ("C38", "CpG"),
        ("C39", "antibiotics"),
        ("C40", "90%"),
    ):
        assert re.search(rf"^### {cid} - .*", text, flags=re.M), cid
        section = text.split(f"### {cid} - ")[1].split("\n### ")[0]
        assert word in section, cid
    inv = rs.sig.review_inventory()
    assert (inv.loc[inv["entity"] == "TNF-R", "status"] == "not_scored").all()
