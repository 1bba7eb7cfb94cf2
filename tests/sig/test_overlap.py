"""Shared genes: rs.sig.overlap (every pair), the exclusive view of the mechanisms, and the shipped overlap tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import resistscore as rs

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_overlap_tables.py"
OVERLAP_DIR = Path(__file__).resolve().parents[2] / "signatures" / "overlap"


def _script():
    spec = importlib.util.spec_from_file_location("make_overlap_tables", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_overlap_matches_a_hand_computed_case():
    sigs = rs.sig.load(
        {
            "efflux": {"ABCB1": 1.0, "ABCG2": 0.5, "ABCC1": 0.5},
            "efflux.pgp": {"ABCB1": 1.0},
            "stem": {"ABCG2": 1.0, "CD44": 1.0, "ABCC1": -0.25, "PROM1": 0.5},
        }
    )
    ov = rs.sig.overlap(sigs).set_index(["signature_a", "signature_b"])
    assert len(ov) == 3  # every pair, zero overlaps included
    r = ov.loc[("efflux", "stem")]
    # shared ABCG2, ABCC1; union ABCB1, ABCG2, ABCC1, CD44, PROM1
    assert r["n_shared"] == 2 and r["jaccard"] == pytest.approx(2 / 5)
    assert r["weight_share_a"] == pytest.approx((0.5 + 0.5) / 2.0)
    assert r["weight_share_b"] == pytest.approx((1.0 + 0.25) / 2.75)
    assert r["n_opposite"] == 1  # ABCC1 up in efflux, down in stem
    assert r["shared_genes"] == "ABCG2, ABCC1" and r["relation"] == "different mechanisms"
    pc = ov.loc[("efflux", "efflux.pgp")]
    assert pc["relation"] == "parent-child" and pc["weight_share_b"] == 1.0 and pc["weight_share_a"] == 0.5
    none = ov.loc[("efflux.pgp", "stem")]
    assert none["n_shared"] == 0 and none["jaccard"] == 0 and none["shared_genes"] == ""


def test_overlap_of_the_shipped_collection_covers_every_pair():
    sigs = rs.sig.load()
    ov = rs.sig.overlap()
    n = len(sigs)
    assert len(ov) == n * (n - 1) // 2
    assert (ov["n_opposite"] == 0).all()  # a gene has one direction everywhere
    assert ov[["jaccard", "weight_share_a", "weight_share_b"]].apply(lambda c: c.between(0, 1)).all().all()
    top = ov[(ov["relation"] == "different mechanisms")].set_index(["signature_a", "signature_b"])
    # the example: gene_amplification shared 62 % of its weight with drug_target in 1.1.0
    share = top.loc[("drug_target", "gene_amplification"), "weight_share_b"]
    assert share < 0.5


def test_shipped_overlap_tables_are_up_to_date():
    stale = [name for name, text in _script().render().items()
             if (OVERLAP_DIR / name).read_text(encoding="utf-8") != text]  # fmt: skip
    assert not stale, (
        f"{stale} are stale: run python scripts/make_overlap_tables.py, then resistscore signatures manifest"
    )


def test_shipped_overlap_table_includes_the_confounders():
    text = (OVERLAP_DIR / "pairwise_overlap.tsv").read_text(encoding="utf-8")
    table = pd.read_csv(OVERLAP_DIR / "pairwise_overlap.tsv", sep="\t", comment="#", keep_default_na=False)
    assert text.startswith("# Derived from the signature data")
    pairs = table.set_index(["signature_a", "signature_b"])
    assert "TOP2A" in pairs.loc[("drug_target", "confounder.proliferation"), "shared_genes"]
    assert "FAP" in pairs.loc[("microenvironment", "confounder.stromal"), "shared_genes"]


def test_exclusive_view_puts_every_gene_in_exactly_one_mechanism():
    full = rs.sig.load()
    view = rs.sig.load(exclusive=True)
    tops = [s for s in full if s.parent is None]
    assert view.ids == [s.id for s in tops]  # same ids, sub-signatures left out
    assert view.metadata["view"] == "exclusive"
    seen: dict[str, str] = {}
    for s in view:
        for g in s.symbols:
            assert g not in seen, (g, s.id, seen[g])
            seen[g] = s.id
        parent = full[s.id]
        assert set(s.symbols) <= set(parent.symbols)
        assert s.weights.to_dict() == {g: parent.weights[g] for g in s.symbols}  # weights and directions kept
        assert s.version == parent.version and s.min_coverage == parent.min_coverage
    assert set(seen) == {g for s in tops for g in s.symbols}
    # the rule: largest weight, ties to the more proximal mechanism
    assert seen["ABCB1"] == "efflux_abc"  # 1.0 in efflux, 0.5 in four others
    assert seen["CD44"] == "cancer_stem_cells"  # 1.0 vs 0.5 in microenvironment
    assert seen["DHFR"] == "drug_target"  # 1.0 in both: drug_target precedes gene_amplification
    assert seen["MLH1"] == "dna_repair"  # 1.0 in both: dna_repair precedes epigenetic
    assert seen["PTEN"] == "survival_signalling"  # tie with mirna_targets


def test_exclusive_assignment_does_not_depend_on_the_selection():
    full = rs.sig.load(exclusive=True)
    part = rs.sig.load(exclusive=True, ids=["gene_amplification", "epigenetic"])
    assert part.ids == ["gene_amplification", "epigenetic"]
    for s in part:
        assert s.symbols == full[s.id].symbols
    assert "DHFR" not in part["gene_amplification"]  # scored in drug_target even though it is not selected


def test_exclusive_assignment_table_and_precedence():
    sigs = rs.sig.load(
        {"b_mech": {"G1": 0.5, "G2": 1.0}, "a_mech": {"G1": 0.5, "G3": 1.0}, "a_mech.sub": {"G1": 0.5}}
    )
    a = rs.sig.exclusive_assignment(sigs, precedence=["b_mech"]).set_index("symbol")
    assert a.loc["G1", "mechanism"] == "b_mech" and a.loc["G1", "reason"] == "tie: precedence"
    assert a.loc["G1", "also_in"] == "a_mech:0.5" and a.loc["G1", "n_mechanisms"] == 2
    b = rs.sig.exclusive_assignment(sigs).set_index("symbol")  # no precedence entry matches: collection order
    assert b.loc["G1", "mechanism"] == "b_mech"
    c = rs.sig.exclusive_assignment(sigs, precedence=["a_mech", "b_mech"]).set_index("symbol")
    assert c.loc["G1", "mechanism"] == "a_mech"
    with pytest.raises(rs.SignatureError, match="not top-level gene signatures"):
        rs.sig.exclusive_assignment(sigs, precedence=["a_mech.sub"])
    with pytest.raises(rs.SignatureError, match="list of mechanism ids"):
        rs.sig.exclusive_assignment(sigs, precedence="a_mech")


def test_exclusive_view_drops_an_emptied_mechanism_with_a_warning():
    sigs = rs.sig.load({"efflux_abc": {"ABCB1": 1.0}, "mirna_targets": {"ABCB1": 0.5}})
    with pytest.warns(rs.ResistScoreWarning, match="mirna_targets"):
        view = rs.sig.exclusive(sigs)
    assert view.ids == ["efflux_abc"]


def test_exclusive_view_leaves_confounders_and_rejects_sub_level():
    view = rs.sig.load(exclusive=True, confounders=True)
    conf = rs.sig.confounders()
    for s in conf:
        assert view[s.id].symbols == s.symbols
    assert "confounder.proliferation" not in set(rs.sig.exclusive_assignment(view)["mechanism"])
    with pytest.raises(rs.SignatureError, match="top-level mechanisms only"):
        rs.sig.load(exclusive=True, level="sub")


def test_exclusive_view_does_not_mutate_its_input():
    sigs = rs.sig.load()
    before = {s.id: s.symbols for s in sigs}
    rs.sig.exclusive(sigs)
    assert {s.id: s.symbols for s in sigs} == before
