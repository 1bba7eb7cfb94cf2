"""Fixtures of the signature tests: a small, valid collection in the resistscore format."""

from __future__ import annotations

from pathlib import Path

import pytest

from resistscore.sig import build_manifest

HEADER = "symbol\thgnc_id\tensembl_gene_id\tdirection\tweight\tevidence_source\tevidence\tconfidence\tnote\n"

# real HGNC ids (checked against rs.pp.gene_table() in test_fixture_ids_are_real)
GENES = {
    "ABCB1": ("HGNC:40", "ENSG00000085563"),
    "ABCG2": ("HGNC:74", "ENSG00000118777"),
    "ABCC1": ("HGNC:51", "ENSG00000103222"),
    "BCL2": ("HGNC:990", "ENSG00000171791"),
    "MCL1": ("HGNC:6943", "ENSG00000143384"),
    "BAX": ("HGNC:959", "ENSG00000087088"),
    "BAK1": ("HGNC:949", "ENSG00000030110"),
}

YAML = """\
schema_version: 1
collection: mini
version: 1.2.3
review: {citation: "Mansoori B et al. Adv Pharm Bull 2017", doi: 10.15171/apb.2017.041, pmid: 29071215}
signatures:
  - id: efflux
    version: 1.0.0
    name: Drug efflux
    parent: null
    mechanism: efflux
    description: ABC transporters export drugs.
    review_section: "Multi-drug resistance"
    drugs: [doxorubicin, paclitaxel]
    references: ["Mansoori 2017 ref 40", "PMID:11902585"]
    min_coverage: 0.5
    genes: genes/efflux.tsv
  - id: efflux.abcb1
    version: 1.0.0
    name: P-glycoprotein
    parent: efflux
    mechanism: efflux
    description: ABCB1 only.
    review_section: "Multi-drug resistance"
    drugs: [doxorubicin]
    references: ["PMID:11902585"]
    min_coverage: 1.0
    genes: genes/efflux.abcb1.tsv
  - id: apoptosis
    version: 2.0.1
    name: Apoptosis evasion
    parent: null
    mechanism: apoptosis
    description: Anti-apoptotic up, pro-apoptotic down.
    review_section: "Inhibition of the cell death"
    drugs: [doxorubicin]
    references: ["PMID:12209154"]
    min_coverage: 0.4
    genes: genes/apoptosis.tsv
"""


def gene_line(sym: str, direction: str = "up", weight: str = "1.0", **kw: str) -> str:
    h, e = GENES.get(sym, ("", ""))
    cells = {
        "hgnc_id": h,
        "ensembl_gene_id": e,
        "evidence_source": "review",
        "evidence": "review ref 40",
        "confidence": "high",
        "note": "",
    }
    cells.update(kw)
    return "\t".join([sym, cells["hgnc_id"], cells["ensembl_gene_id"], direction, weight, cells["evidence_source"],
                      cells["evidence"], cells["confidence"], cells["note"]]) + "\n"  # fmt: skip


def write_mini(root: Path, manifest: bool = True) -> Path:
    """Write the mini collection (3 signatures, drugs, inventory, Table 2, BCR-ABL1) under ``root``."""
    (root / "genes").mkdir(parents=True)
    (root / "drugs").mkdir()
    (root / "review").mkdir()
    (root / "bcr_abl1").mkdir()
    (root / "signatures.yaml").write_text(YAML)
    (root / "genes" / "efflux.tsv").write_text(
        HEADER + gene_line("ABCB1") + gene_line("ABCG2", weight="0.5") + gene_line("ABCC1", weight="0.25")
    )
    (root / "genes" / "efflux.abcb1.tsv").write_text(HEADER + gene_line("ABCB1"))
    (root / "genes" / "apoptosis.tsv").write_text(
        HEADER
        + "# anti-apoptotic\n"
        + gene_line("BCL2")
        + gene_line("MCL1", weight="0.75")
        + "\n# pro-apoptotic\n"
        + gene_line("BAX", "down")
        + gene_line("BAK1", "down", "0.5")
    )
    (root / "drugs" / "drugs.tsv").write_text(
        "drug\tsynonyms\tdrug_class\tmechanism_ids\treview_sections\tnote\treferences\n"
        "doxorubicin\tadriamycin|DOX\tanthracycline\tefflux|efflux.abcb1|apoptosis\tMDR\t\tPMID:11902585\n"
        "paclitaxel\ttaxol\ttaxane\tefflux\tMDR\t\tPMID:11902585\n"
        "cytarabine\tAraC|ara-C|cytosine arabinoside\tantimetabolite\tapoptosis\tInactivation\t\tPMID:24060863\n"
    )
    (root / "drugs" / "drug_genes.tsv").write_text(
        "drug\tsymbol\tdirection\tweight\tevidence\tnote\n"
        "doxorubicin\tABCB1\tup\t1.0\tPMID:11902585\t\n"
        "doxorubicin\tBAX\tdown\t0.5\tPMID:12209154\t\n"
        "paclitaxel\tABCB1\tup\t1.0\tPMID:11902585\t\n"
    )
    (root / "review" / "entities.tsv").write_text(
        "entity\tkind\treview_section\tstatus\tsignature_ids\treason\n"
        "ABCB1\tgene\tMDR\tscored\tefflux|efflux.abcb1\t\n"
        "P-glycoprotein\tprotein\tMDR\tscored\tefflux.abcb1\t\n"
        "doxorubicin\tdrug\tMDR\tscored\tdrug.doxorubicin\t\n"
        "surgery\tother\tIntroduction\tnot_scored\t\tnot a molecular entity\n"
        "Bclxl as pro-apoptotic\tprotein\tApoptosis\tcorrected\tapoptosis\tBCL-XL is anti-apoptotic (C07)\n"
    )
    (root / "review" / "table2_mirna.tsv").write_text(
        "mirna_review_name\tmirbase_id\ttarget_symbols\ttumour\tdrugs\tdirection_in_resistance\tevidence\n"
        "miR-21\thsa-miR-21-5p\tBCL2\tbreast\tdoxorubicin\tup\tPMID:1\n"
    )
    (root / "review" / "table1_disease_pathways.tsv").write_text(
        "disease\tdisease_review\tdrug_resistance_review\tpathway_review\tgenes\tsignature_ids\treview_references\tnote\n"
        "chronic myeloid leukaemia\tCML\timatinib\tBCR-ABL\tABL1,BCR\tefflux\t21\t\n"
    )
    (root / "bcr_abl1" / "kinase_domain_mutations.tsv").write_text(
        "mutation\tregion\timatinib\tnilotinib\tdasatinib\tbosutinib\tponatinib\tasciminib\tnote\treferences\n"
        "T315I\tgatekeeper\tR\tR\tR\tR\tS\tS\t\tPMID:1\n"
        "E255K/V\tP-loop\tR\tR\tI\tI\tS\tNA\t\tPMID:1\n"
        "T315I+E255V\tcompound\tR\tR\tR\tR\tR\tNA\t\tPMID:25132497\n"
    )
    if manifest:
        build_manifest(root)
    return root


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A valid mini collection folder with its manifest."""
    return write_mini(tmp_path / "mini")


@pytest.fixture
def as_shipped(mini: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the mini collection stand in for the shipped signatures (schemas still come from the package)."""
    import resistscore.sig._checks as checks
    import resistscore.sig._collection as collection

    monkeypatch.setattr(collection, "signatures_root", lambda: mini)
    monkeypatch.setattr(checks, "signatures_root", lambda: mini)
    return mini
