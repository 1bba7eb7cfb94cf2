"""The rebuild script, on a tiny hand-written HGNC/MGI extract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_gene_tables.py"

HEADER = (
    "HGNC ID\tApproved symbol\tApproved name\tStatus\tAlias symbols\tNCBI Gene ID(supplied by NCBI)\t"
    "UniProt ID(supplied by UniProt)\tMouse genome database ID(supplied by MGI)\tRat genome database ID(supplied by RGD)\t"
    "Previous symbols\tEnsembl gene ID\tLocus type\tEnzyme IDs\n"
)
ROWS = [
    "HGNC:40\tABCB1\tATP binding cassette subfamily B member 1\tApproved\tP-gp, CD243\t5243\tP08183\tMGI:97568, MGI:97570\t\tPGY1, MDR1\tENSG00000085563\tgene with protein product\t",
    "HGNC:43\tTAP1\ttransporter 1\tApproved\tPSF1\t6890\t\t\t\tABCB2\tENSG00000168394\tgene with protein product\t",
    "HGNC:11563\tABCB2\tsymbol withdrawn, see [HGNC:43](/data/gene-symbol-report/#!/hgnc_id/HGNC:43)\tSymbol Withdrawn\t\t\t\t\t\t\t\tunknown\t",
    "HGNC:5\tA1BG-AS9\tsome lncRNA\tApproved\t\t\t\t\t\t\t\tRNA, long non-coding\t",
    "HGNC:7\tPSX1\tsome pseudogene\tApproved\t\t\t\t\t\t\t\tpseudogene\t",
]
MGI = "ID\tsymbol\tsynonyms\tensembl\n97570\tAbcb1a\tMdr1a|P-gp\tENSMUSG00000040584\n97568\tAbcb1b\tMdr1|Mdr1b\tENSMUSG00000028970\n"


def _module():
    spec = importlib.util.spec_from_file_location("build_gene_tables", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_build_tables_from_extract():
    mod = _module()
    t = mod.build((HEADER + "\n".join(ROWS) + "\n").encode(), MGI.encode())
    g = t["hgnc_genes"].set_index("symbol")
    assert list(t["hgnc_genes"]["hgnc_id"]) == ["HGNC:5", "HGNC:7", "HGNC:40", "HGNC:43"]  # sorted by number
    assert g.loc["ABCB1", "alias_symbols"] == "P-gp|CD243"
    assert g.loc["ABCB1", "prev_symbols"] == "PGY1|MDR1"
    assert g.loc["ABCB1", "locus_group"] == "protein-coding gene"
    assert g.loc["A1BG-AS9", "locus_group"] == "non-coding RNA"
    assert g.loc["PSX1", "locus_group"] == "pseudogene"
    w = t["hgnc_withdrawn"].set_index("withdrawn_symbol")
    assert (w.loc["ABCB2", "successor_hgnc_ids"], w.loc["ABCB2", "successor_symbols"]) == ("HGNC:43", "TAP1")
    o = t["orthologs_mouse"]
    assert sorted(o["mouse_symbol"]) == ["Abcb1a", "Abcb1b"]
    assert set(o["human_symbol"]) == {"ABCB1"}
    assert o.set_index("mouse_symbol").loc["Abcb1a", "mouse_synonyms"] == "Mdr1a|P-gp"


def test_pinned_wheel_checksum_matches_provenance():
    mod = _module()
    prov = (
        Path(__file__).resolve().parents[2] / "resistscore" / "_data" / "genes" / "PROVENANCE.md"
    ).read_text()
    assert mod.WHEEL_SHA256 in prov
    assert f"{mod.PACKAGE}=={mod.VERSION}" in prov
