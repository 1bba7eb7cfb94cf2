"""Drug resolution, drug signatures, Table 2 / BCR-ABL1 / inventory queries, on the mini collection."""

from __future__ import annotations

from pathlib import Path

import pytest

import resistscore as rs
from resistscore import SignatureError


def test_shipped_loader_uses_manifest(as_shipped: Path):
    sigs = rs.sig.load()
    assert sigs.collection == "mini" and sigs.ids == ["efflux", "efflux.abcb1", "apoptosis"]
    # a fresh object each time
    sigs["efflux"].genes.loc[0, "weight"] = 0.001
    assert rs.sig.load()["efflux"].genes.loc[0, "weight"] == 1.0
    f = as_shipped / "genes" / "efflux.tsv"
    f.write_text(f.read_text().replace("\t0.25\t", "\t0.5\t"))
    with pytest.raises(
        SignatureError, match=r"signatures/genes/efflux\.tsv: the file was changed.*build_manifest"
    ):
        rs.sig.load()
    with pytest.raises(SignatureError, match="the file was changed"):
        rs.sig.drugs()


def test_shipped_loader_refuses_unlisted_gene_file(as_shipped: Path):
    lines = (as_shipped / "manifest.tsv").read_text().splitlines()
    (as_shipped / "manifest.tsv").write_text("\n".join(x for x in lines if "apoptosis.tsv" not in x) + "\n")
    with pytest.raises(SignatureError, match=r"genes/apoptosis\.tsv: the file is not listed in the manifest"):
        rs.sig.load()


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("adriamycin", "doxorubicin"), ("Adriamycin", "doxorubicin"), ("DOX", "doxorubicin"), ("taxol", "paclitaxel"),
     ("Taxol ", "paclitaxel"), ("AraC", "cytarabine"), ("ara-C", "cytarabine"), ("ARA C", "cytarabine"),
     ("Cytosine-Arabinoside", "cytarabine"), ("cytarabine", "cytarabine")],
)  # fmt: skip
def test_resolve_drug(as_shipped, name, canonical):
    assert rs.sig.resolve_drug(name) == canonical


def test_resolve_drug_unknown_lists_close_matches(as_shipped):
    with pytest.raises(SignatureError, match=r"unknown drug 'doxorubicine'\. Did you mean: doxorubicin\?"):
        rs.sig.resolve_drug("doxorubicine")
    with pytest.raises(SignatureError, match="non-empty string"):
        rs.sig.resolve_drug("  ")


def test_drug_signature(as_shipped):
    s = rs.sig.drug_signature("Adriamycin")
    assert s.id == "drug.doxorubicin" and s.drugs == ("doxorubicin",)
    assert s.weights.to_dict() == {"ABCB1": 1.0, "BAX": -0.5}
    assert (
        s.genes.set_index("symbol").loc["ABCB1", "hgnc_id"] == "HGNC:40"
    )  # ids from the mechanism signatures
    assert s.references == ("PMID:11902585",) and s.version == "1.2.3"
    with pytest.raises(SignatureError, match=r"no genes are curated for cytarabine.*ids=\['apoptosis'\]"):
        rs.sig.drug_signature("AraC")
    assert rs.sig.drug_signatures().ids == ["drug.doxorubicin", "drug.paclitaxel"]
    assert rs.sig.show("drug.doxorubicin")["symbol"].tolist() == ["ABCB1", "BAX"]


def test_drug_mechanisms(as_shipped):
    m = rs.sig.drug_mechanisms("adriamycin")
    assert m["signature_id"].tolist() == ["efflux", "efflux.abcb1", "apoptosis"]
    row = m.set_index("signature_id").loc["apoptosis"]
    assert (row["n_genes"], row["n_shared"], row["shared_genes"]) == (4, 1, "BAX")
    assert m.attrs["drug"] == "doxorubicin"
    p = rs.sig.drug_mechanisms("taxol").set_index("signature_id")
    # paclitaxel is listed by `efflux` in signatures.yaml and mapped to it in drugs.tsv
    assert p.loc["efflux", "in_drug_map"] and p.loc["efflux", "lists_drug"]


def test_mirna_table_queries(as_shipped):
    assert len(rs.sig.mirna_table()) == 1
    for q in ("miR-21", "hsa-miR-21-5p", "MIR-21", "mir21"):
        assert rs.sig.mirna_table(q)["mirbase_id"].tolist() == ["hsa-miR-21-5p"], q
    assert len(rs.sig.mirna_table(target="BCL2")) == 1 and rs.sig.mirna_table(target="BAX").empty
    assert len(rs.sig.mirna_table(drug="adriamycin")) == 1 and rs.sig.mirna_table(drug="taxol").empty
    assert len(rs.sig.mirna_table(tumour="Breast")) == 1
    with pytest.raises(SignatureError, match="miR-22' is not in Table 2"):
        rs.sig.mirna_table("miR-22")


@pytest.mark.parametrize("spelling", ["T315I", "p.T315I", "Thr315Ile", "p.(Thr315Ile)", "t315i", "BCR-ABL1 T315I",
                                      "ABL1:p.T315I"])  # fmt: skip
def test_bcr_abl1_spellings(as_shipped, spelling):
    assert rs.sig.bcr_abl1_sensitivity(spelling, "ponatinib") == "S"
    assert rs.sig.bcr_abl1_sensitivity(spelling, "Imatinib") == "R"


def test_bcr_abl1_queries(as_shipped):
    assert rs.sig.bcr_abl1_sensitivity("E255V", "dasatinib") == "I"  # from the row E255K/V
    assert rs.sig.bcr_abl1_sensitivity("Glu255Lys", "asciminib") == "NA"
    by_drug = rs.sig.bcr_abl1_sensitivity(mutation="T315I")
    assert by_drug.to_dict() == {"imatinib": "R", "nilotinib": "R", "dasatinib": "R", "bosutinib": "R",
                                 "ponatinib": "S", "asciminib": "S"}  # fmt: skip
    assert rs.sig.bcr_abl1_sensitivity(drug="ponatinib").to_dict() == {
        "T315I": "S",
        "E255K/V": "S",
        "T315I+E255V": "R",
    }
    tidy = rs.sig.bcr_abl1_sensitivity()
    assert list(tidy.columns) == ["mutation", "region", "drug", "sensitivity", "note", "references"]
    assert len(tidy) == 3 * 6
    for compound in ("E255V+T315I", "T315I/E255V", "p.Thr315Ile+p.Glu255Val"):
        assert rs.sig.bcr_abl1_sensitivity(compound, "ponatinib") == "R", compound
    with pytest.raises(SignatureError, match="Y253H is not in the BCR-ABL1 table"):
        rs.sig.bcr_abl1_sensitivity("Y253H")
    with pytest.raises(SignatureError, match="cannot read the mutation 'T315'"):
        rs.sig.bcr_abl1_sensitivity("T315")
    with pytest.raises(SignatureError, match="'cisplatin' is not in the BCR-ABL1 table"):
        rs.sig.bcr_abl1_sensitivity("T315I", "cisplatin")
    assert rs.sig.bcr_abl1_mutations()["mutation"].tolist() == ["T315I", "E255K/V", "T315I+E255V"]


def test_review_inventory(as_shipped):
    inv = rs.sig.review_inventory()
    assert list(inv.columns) == ["entity", "kind", "review_section", "status", "signature_ids", "reason"]
    assert rs.sig.review_inventory(status="not_scored")["entity"].tolist() == ["surgery"]
    assert rs.sig.review_inventory(kind="drug")["entity"].tolist() == ["doxorubicin"]
    assert rs.sig.review_inventory(status="corrected")["signature_ids"].tolist() == ["apoptosis"]


def test_disease_pathways(as_shipped):
    assert rs.sig.disease_pathways("myeloid")["disease_review"].tolist() == ["CML"]
    assert rs.sig.disease_pathways("cml")["disease"].tolist() == ["chronic myeloid leukaemia"]
    assert len(rs.sig.disease_pathways(gene="BCR")) == 1 and rs.sig.disease_pathways(gene="TP53").empty
    with pytest.raises(SignatureError, match="no disease matching 'glioma'"):
        rs.sig.disease_pathways("glioma")
    with pytest.raises(rs.ResistScoreError, match="`kind` must be one of"):
        rs.sig.review_inventory(kind="animal")


def test_validate_shipped_default(as_shipped):
    report = rs.sig.validate()
    assert report.ok, report
    (as_shipped / "notes.txt").write_text("x")
    report = rs.sig.validate()
    assert any("notes.txt" in p.file and "not listed in the manifest" in p.problem for p in report.errors)


def test_cli_signatures_validate_and_manifest(as_shipped):
    # the maintenance commands are those of the one CLI (python -m resistscore.sig is gone)
    from click.testing import CliRunner

    from resistscore.cli import cli

    runner = CliRunner()
    ok = runner.invoke(cli, ["signatures", "validate"])
    assert ok.exit_code == 0, ok.output
    (as_shipped / "genes" / "efflux.tsv").write_text("garbage")
    bad = runner.invoke(cli, ["signatures", "validate", "--no-hgnc"])
    assert bad.exit_code == 2 and "efflux.tsv" in bad.output
    made = runner.invoke(cli, ["signatures", "manifest", str(as_shipped)])
    assert made.exit_code == 0 and "manifest.tsv" in made.output
    assert (
        runner.invoke(cli, ["signatures", "validate", "--no-hgnc"]).exit_code == 2
    )  # the garbage stays an error


@pytest.mark.parametrize("fmt", ["yaml-folder", "gmt", "tsv"])
def test_drug_signatures_export_and_reload(as_shipped, tmp_path, fmt):
    sigs = rs.sig.drug_signatures()
    back = rs.sig.load(rs.sig.export(sigs, tmp_path / f"drugs.{fmt}", format=fmt))
    assert back.ids == sigs.ids
    for a in sigs:
        assert back[a.id].weights.sort_index().equals(a.weights.sort_index())
