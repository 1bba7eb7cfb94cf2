"""The shipped signature data: schema, HGNC symbols, hierarchy, references, drugs, inventory, manifest.

These checks re-read the files with pandas, independently of the library's own validator, and
also run the validator (``rs.sig.validate()``) so that both must agree the data is sound.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import yaml

import resistscore as rs
from resistscore.sig._queries import _expand
from resistscore.sig._tables import split_ids

ROOT = Path(__file__).resolve().parents[2] / "signatures"
GENE_COLS = ["symbol", "hgnc_id", "ensembl_gene_id", "direction", "weight", "evidence_source", "evidence", "confidence",
             "note"]  # fmt: skip


def _tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False, quoting=3,
                       skip_blank_lines=True)  # fmt: skip


@pytest.fixture(scope="module")
def index() -> dict:
    return yaml.safe_load((ROOT / "signatures.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gene_files(index) -> dict[str, pd.DataFrame]:
    return {e["id"]: _tsv(ROOT / e["genes"]) for e in index["signatures"]}


@pytest.fixture(scope="module")
def hgnc() -> pd.DataFrame:
    return rs.pp.gene_table().set_index("symbol")


def test_manifest_matches_every_file():
    manifest = pd.read_csv(ROOT / "manifest.tsv", sep="\t", dtype=str)
    files = sorted(
        p.relative_to(ROOT).as_posix()
        for p in ROOT.rglob("*")
        if p.is_file() and p.name != "manifest.tsv" and not any(part.startswith(".") for part in p.parts)
        and "__pycache__" not in p.parts
    )  # fmt: skip
    assert sorted(manifest["file"]) == files, "rerun: resistscore signatures manifest"
    stale = [f for f, d in zip(manifest["file"], manifest["sha256"])
             if hashlib.sha256((ROOT / f).read_bytes()).hexdigest() != d]  # fmt: skip
    assert not stale, (
        f"files changed after the manifest was built: {stale}; rerun resistscore signatures manifest"
    )


def test_validator_finds_no_error():
    report = rs.sig.validate()
    assert report.ok, repr(report)
    # no gene is up in one signature and down in another, or against its drug's mechanism signatures
    conflicts = [str(w) for w in report.warnings if w.field == "direction"]
    assert not conflicts, conflicts


def test_loads(index):
    sigs = rs.sig.load(feature_type=None)
    assert sigs.ids == [e["id"] for e in index["signatures"]]
    assert sigs.version == index["version"]


def test_gene_tables_have_the_contract_columns_and_valid_values(gene_files):
    for sid, df in gene_files.items():
        assert list(df.columns) == GENE_COLS, sid
        assert len(df) > 0, sid
        assert not df["symbol"].duplicated().any(), (
            sid,
            df.loc[df["symbol"].duplicated(), "symbol"].tolist(),
        )
        assert df["direction"].isin(["up", "down"]).all(), sid
        w = df["weight"].astype(float)
        assert ((w > 0) & (w <= 1)).all(), sid
        assert (
            df["evidence_source"].isin(["review", "msigdb", "reactome", "go", "kegg", "literature"]).all()
        ), sid
        assert df["confidence"].isin(["high", "medium", "low"]).all(), sid
        assert (df["evidence"].str.strip() != "").all(), (
            sid,
            df.loc[df["evidence"].str.strip() == "", "symbol"].tolist(),
        )


def test_every_symbol_is_a_current_hgnc_symbol_with_matching_ids(index, gene_files, hgnc):
    bad = []
    for e in index["signatures"]:
        if e.get("feature_type", "gene") != "gene":
            continue
        for sym, h, ens in gene_files[e["id"]][["symbol", "hgnc_id", "ensembl_gene_id"]].itertuples(
            index=False
        ):
            if sym not in hgnc.index:
                bad.append((e["id"], sym, "not approved"))
                continue
            if h != hgnc.at[sym, "hgnc_id"]:
                bad.append((e["id"], sym, f"hgnc_id {h} != {hgnc.at[sym, 'hgnc_id']}"))
            want = hgnc.at[sym, "ensembl_gene_id"]
            if ens and want and ens != want:
                bad.append((e["id"], sym, f"ensembl {ens} != {want}"))
    assert not bad, bad


def test_children_are_subsets_of_parents_with_same_direction(index, gene_files):
    parents = {e["id"]: e["parent"] for e in index["signatures"]}
    for sid, parent in parents.items():
        if parent is None:
            continue
        assert parent in parents, sid
        assert sid.startswith(parent + "."), sid
        p = dict(zip(gene_files[parent]["symbol"], gene_files[parent]["direction"]))
        c = dict(zip(gene_files[sid]["symbol"], gene_files[sid]["direction"]))
        assert {g: p.get(g) for g in c} == c, sid


def test_every_reference_field_is_filled(index):
    for e in index["signatures"]:
        assert e["references"] and all(str(r).strip() for r in e["references"]), e["id"]
        for key in ("name", "description", "version"):
            assert str(e[key]).strip(), (e["id"], key)
        assert 0 < e["min_coverage"] <= 1, e["id"]


def test_the_review_mechanisms_are_all_there():
    sigs = rs.sig.load(feature_type=None)
    mechanisms = {s.mechanism for s in sigs}
    for m in ["heterogeneity_extrinsic", "microenvironment", "cancer_stem_cells", "drug_inactivation", "efflux_abc",
              "reduced_uptake", "apoptosis", "drug_metabolism", "drug_target", "dna_repair", "gene_amplification",
              "epigenetic", "mirna"]:  # fmt: skip
        assert m in mechanisms, m
    repair = {s.id.split(".")[1] for s in sigs.select(mechanism="dna_repair", level="sub")}
    assert {"ner", "hr", "mmr", "direct_reversal", "ber"} <= repair
    assert len(sigs.select(mechanism="efflux_abc", level="sub")) >= 3
    assert len(sigs.select(mechanism="apoptosis", level="sub")) >= 2


def test_every_signature_drug_is_in_the_drug_map(index):
    drugs = _tsv(ROOT / "drugs" / "drugs.tsv")
    assert not drugs["drug"].duplicated().any()
    known = set(drugs["drug"])
    missing = {(e["id"], d) for e in index["signatures"] for d in e["drugs"] if d not in known}
    assert not missing, missing
    ids = {e["id"] for e in index["signatures"]}
    for drug, mids in zip(drugs["drug"], drugs["mechanism_ids"]):
        assert split_ids(mids), drug
        assert set(split_ids(mids)) <= ids, (drug, set(split_ids(mids)) - ids)


@pytest.mark.parametrize(("name", "canonical"), [("adriamycin", "doxorubicin"), ("taxol", "paclitaxel"),
                                                 ("AraC", "cytarabine"), ("Ara-C", "cytarabine")])  # fmt: skip
def test_synonyms_resolve(name, canonical):
    assert rs.sig.resolve_drug(name) == canonical


def test_review_inventory_is_complete_and_consistent():
    inv = _tsv(ROOT / "review" / "entities.tsv")
    assert list(inv.columns) == ["entity", "kind", "review_section", "status", "signature_ids", "reason"]
    assert inv["status"].isin(["scored", "not_scored", "corrected"]).all()
    sigs = rs.sig.load(feature_type=None)
    drug_ids = {f"drug.{d}" for d in _tsv(ROOT / "drugs" / "drugs.tsv")["drug"]}
    for row in inv.itertuples(index=False):
        if row.status == "scored":
            ids = split_ids(row.signature_ids)
            assert ids, row.entity
            assert all(i in sigs or i in drug_ids for i in ids), (row.entity, ids)
        else:
            assert row.reason.strip(), row.entity
    # every kind the issue names is inventoried
    assert {"gene", "protein", "pathway", "mirna", "drug"} <= set(inv["kind"])
    # every drug the review names is in the drug map (as a name or a synonym)
    for d in inv.loc[inv["kind"] == "drug", "entity"]:
        rs.sig.resolve_drug(d)


def test_inventoried_genes_are_in_their_signatures(hgnc):
    inv = _tsv(ROOT / "review" / "entities.tsv")
    sigs = rs.sig.load(feature_type=None)
    for row in inv.loc[(inv["kind"] == "gene") & (inv["status"] == "scored")].itertuples(index=False):
        if row.entity in hgnc.index:
            assert any(i in sigs and row.entity in sigs[i] for i in split_ids(row.signature_ids)), row.entity


def test_known_biology_is_encoded_not_the_review_errors():
    sigs = rs.sig.load()
    assert "ABCB1" in sigs["efflux_abc"].up
    apo = sigs["apoptosis"]
    assert {"BCL2", "BCL2L1", "MCL1"} <= set(
        apo.up
    )  # BCL-XL is anti-apoptotic (the review lists it as pro-apoptotic)
    assert {"BAX", "BAK1"} <= set(apo.down)
    dox = rs.sig.drug_signature("doxorubicin")
    assert "ABCB1" in dox.up
    # cisplatin is not a P-glycoprotein substrate
    cis = rs.sig.drug_signature("cisplatin")
    assert "ABCB1" not in cis.symbols


def test_mirna_level_signature_and_table2():
    sig = rs.sig.mirna_signature()
    assert sig.feature_type == "mirna" and len(sig) > 0
    assert all(m.startswith(("hsa-miR-", "hsa-let-")) for m in sig.symbols)
    t2 = rs.sig.mirna_table()
    assert t2["direction_in_resistance"].isin(["up", "down", "unclear"]).all()
    assert len(rs.sig.mirna_table("miR-21")) >= 1
    assert len(rs.sig.disease_pathways()) > 0


def test_bcr_abl1_established_calls():
    assert rs.sig.bcr_abl1_sensitivity("T315I", "imatinib") == "R"
    for drug in ("nilotinib", "dasatinib", "bosutinib"):
        assert rs.sig.bcr_abl1_sensitivity("T315I", drug) == "R"
    assert rs.sig.bcr_abl1_sensitivity("T315I", "ponatinib") != "R"
    known = {("F317L", "dasatinib"): "R", ("V299L", "dasatinib"): "R", ("Y253H", "nilotinib"): "R",
             ("E255K", "nilotinib"): "R", ("F359V", "nilotinib"): "R"}  # fmt: skip
    present = {k for entry in rs.sig.bcr_abl1_mutations()["mutation"] for k in _expand(entry)}
    checked = [(m, d) for (m, d) in known if m in present]
    for mut, drug in checked:
        assert rs.sig.bcr_abl1_sensitivity(mut, drug) == known[mut, drug], (mut, drug)
    assert len(checked) >= 3
    # compound mutations with T315I resist ponatinib at clinical doses (Zabriskie 2014, PMID 25132497)
    compounds = [k for k in present if "+" in k and "T315I" in k.split("+")]
    for c in compounds:
        assert rs.sig.bcr_abl1_sensitivity(c, "ponatinib") == "R", c


@pytest.mark.parametrize("fmt", ["gmt", "tsv", "yaml-folder", "long"])
def test_shipped_collection_round_trips_exactly(tmp_path, fmt):
    sigs = rs.sig.load(feature_type=None)
    if fmt == "long":
        back = rs.sig.from_long(rs.sig.to_long(sigs))
    else:
        back = rs.sig.load(rs.sig.export(sigs, tmp_path / f"x.{fmt}", format=fmt), feature_type=None)
    assert back.ids == sigs.ids
    for a in sigs:
        b = back[a.id]
        assert dict(zip(a.genes["symbol"], zip(a.genes["direction"], a.genes["weight"]))) == dict(
            zip(b.genes["symbol"], zip(b.genes["direction"], b.genes["weight"]))
        ), a.id
        assert b.parent == a.parent, a.id  # dotted ids nest again in formats without a parent field
    if fmt == "yaml-folder":
        assert back.equals(sigs)
    if fmt == "gmt":
        assert back.min_coverage.equals(sigs.min_coverage)
        assert [s.feature_type for s in back] == [s.feature_type for s in sigs]


def test_changelog_documents_the_current_versions(index):
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {index['version']} " in changelog, "add a CHANGELOG.md entry for the collection version"
    versioning = (ROOT / "VERSIONING.md").read_text(encoding="utf-8")
    assert "resistscore signatures manifest" in versioning


def test_the_trusted_parse_of_the_shipped_files_equals_the_checked_one():
    """``rs.sig.load`` skips the schema checks of the checksum-pinned shipped files; same result."""
    from resistscore.sig._collection import parse_collection, shipped_root
    from resistscore.sig._problems import ValidationReport

    sets = {}
    for trusted in (False, True):
        report = ValidationReport("signatures/")
        sets[trusted] = parse_collection(
            shipped_root(), report, display_root="signatures", trusted=trusted
        ).to_set()
        assert report.ok, repr(report)
    assert sets[True].ids == sets[False].ids == rs.sig.load(feature_type=None).ids
    for a, b in zip(sets[True], sets[False], strict=True):
        pd.testing.assert_frame_equal(a.genes, b.genes)
        assert a.metadata() == b.metadata()
