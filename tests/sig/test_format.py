"""Reading, validating and exporting collections in the resistscore format (user folders)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import resistscore as rs
from resistscore import SignatureError

from .conftest import GENES, HEADER, gene_line


def test_fixture_ids_are_real():
    g = rs.pp.gene_table().set_index("symbol")
    for sym, (h, e) in GENES.items():
        assert (g.loc[sym, "hgnc_id"], g.loc[sym, "ensembl_gene_id"]) == (h, e)


def test_load_user_folder(mini: Path):
    sigs = rs.sig.load(mini)
    assert sigs.ids == ["efflux", "efflux.abcb1", "apoptosis"]
    assert sigs.collection == "mini" and sigs.version == "1.2.3"
    apo = sigs["apoptosis"]
    assert apo.up == ["BCL2", "MCL1"] and apo.down == ["BAX", "BAK1"]
    assert apo.weights.to_dict() == {"BCL2": 1.0, "MCL1": 0.75, "BAX": -1.0, "BAK1": -0.5}
    assert apo.version == "2.0.1" and apo.min_coverage == 0.4
    assert sigs["efflux.abcb1"].parent == "efflux" and sigs["efflux.abcb1"].level == "sub"
    assert sigs.min_coverage.to_dict() == {"efflux": 0.5, "efflux.abcb1": 1.0, "apoptosis": 0.4}
    # the YAML file itself works too
    assert rs.sig.load(mini / "signatures.yaml").ids == sigs.ids


def test_load_levels_and_mechanism(mini: Path):
    assert rs.sig.load(mini, level="mechanism").ids == ["efflux", "apoptosis"]
    assert rs.sig.load(mini, level="sub").ids == ["efflux.abcb1"]
    assert rs.sig.load(mini, mechanism="efflux").ids == ["efflux", "efflux.abcb1"]
    assert rs.sig.load(mini, ids=["apoptosis"]).ids == ["apoptosis"]
    with pytest.raises(SignatureError, match="unknown mechanism 'eflux'.*Did you mean: efflux"):
        rs.sig.load(mini, mechanism="eflux")


def test_network_signed_weights(mini: Path):
    net = rs.sig.load(mini).to_network()
    assert list(net.columns) == ["source", "target", "weight"]
    assert len(net) == 3 + 1 + 4
    row = net[(net.source == "apoptosis") & (net.target == "BAK1")]
    assert row["weight"].item() == -0.5


def test_table_summary(mini: Path):
    t = rs.sig.list(mini)
    assert list(t.columns) == ["id", "name", "parent", "mechanism", "level", "n_up", "n_down", "drugs", "version",
                               "min_coverage", "feature_type"]  # fmt: skip
    row = t.set_index("id").loc["apoptosis"]
    assert (row["n_up"], row["n_down"], row["version"], row["drugs"]) == (2, 2, "2.0.1", "doxorubicin")


def test_show(mini: Path):
    t = rs.sig.show("efflux", mini)
    assert t["symbol"].tolist() == ["ABCB1", "ABCG2", "ABCC1"]
    assert t["weight"].tolist() == [1.0, 0.5, 0.25]
    assert t.attrs["references"] == ["Mansoori 2017 ref 40", "PMID:11902585"]
    with pytest.raises(SignatureError, match="unknown signature id 'eflux'.*Did you mean: efflux"):
        rs.sig.show("eflux", mini)


def test_valid_mini_passes_validation(mini: Path):
    report = rs.sig.validate(mini, strict=True)
    assert report.ok, report
    assert not report.warnings, report
    assert any("HGNC" in c for c in report.checks)


# ------------------------------------------------------------------ bad inputs name file, line and fix
def _problem(path: Path, match: str) -> str:
    with pytest.raises(SignatureError) as exc:
        rs.sig.load(path)
    msg = str(exc.value)
    assert re.search(match, msg), msg
    assert "Fix:" in msg
    return msg


def _rebuild(root: Path) -> None:
    rs.sig.build_manifest(root)


def test_malformed_yaml(mini: Path):
    text = (
        (mini / "signatures.yaml").read_text().replace("    name: Drug efflux\n", "    name: [Drug efflux\n")
    )
    (mini / "signatures.yaml").write_text(text)
    _rebuild(mini)
    _problem(mini, r"signatures\.yaml:\d+: malformed YAML")


def test_yaml_schema_error_names_line_and_field(mini: Path):
    text = (mini / "signatures.yaml").read_text().replace("min_coverage: 0.4", "min_coverage: 1.4")
    (mini / "signatures.yaml").write_text(text)
    _rebuild(mini)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "1.4" in t)
    _problem(mini, rf"signatures\.yaml:{line} \[signatures\[apoptosis\]\.min_coverage\].*in \(0, 1\]")


def test_unknown_key_in_yaml(mini: Path):
    text = (mini / "signatures.yaml").read_text().replace("    min_coverage: 0.4\n", "    min_coverge: 0.4\n")
    (mini / "signatures.yaml").write_text(text)
    _rebuild(mini)
    _problem(mini, r"min_coverge")


def test_bad_direction_names_file_line(mini: Path):
    f = mini / "genes" / "apoptosis.tsv"
    f.write_text(
        f.read_text().replace(
            "BAX\tHGNC:959\tENSG00000087088\tdown", "BAX\tHGNC:959\tENSG00000087088\tsideways"
        )
    )
    _rebuild(mini)
    # header line 1, comment line 2, BCL2 3, MCL1 4, blank 5, comment 6, BAX 7
    _problem(mini, r"genes/apoptosis\.tsv:7 \[direction\]: invalid value 'sideways'.*write `up`")


def test_bad_weight(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text().replace("\tup\t0.5\t", "\tup\t-0.5\t"))
    _rebuild(mini)
    _problem(mini, r"genes/efflux\.tsv:3 \[weight\].*sign goes in `direction`")


def test_missing_column(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join("\t".join(line.rstrip("\n").split("\t")[:3] + line.rstrip("\n").split("\t")[4:]) + "\n"
                         for line in lines))  # fmt: skip
    _rebuild(mini)
    _problem(mini, r"genes/efflux\.tsv \[direction\]: missing column `direction`")


def test_misspelt_column(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text().replace("\tconfidence\t", "\tconfidance\t", 1))
    _rebuild(mini)
    _problem(mini, r"unknown column `confidance`.*rename it to `confidence`")


def test_duplicate_gene(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text() + gene_line("ABCG2", weight="0.3"))
    _rebuild(mini)
    _problem(mini, r"genes/efflux\.tsv:5 \[symbol\]: gene ABCG2 is listed twice \(also on line 3\)")


def test_child_not_subset_of_parent(mini: Path):
    f = mini / "genes" / "efflux.abcb1.tsv"
    f.write_text(HEADER + gene_line("ABCB1") + gene_line("BCL2"))
    _rebuild(mini)
    _problem(mini, r"efflux\.abcb1\.tsv:3 \[symbol\]: gene BCL2 is not in the parent signature 'efflux'")


def test_child_direction_differs(mini: Path):
    f = mini / "genes" / "efflux.abcb1.tsv"
    f.write_text(HEADER + gene_line("ABCB1", "down"))
    _rebuild(mini)
    _problem(mini, r"gene ABCB1 is down here but up in the parent")


def test_unknown_parent_and_duplicate_id(mini: Path):
    text = (mini / "signatures.yaml").read_text().replace("parent: efflux\n", "parent: eflux\n")
    (mini / "signatures.yaml").write_text(text)
    _rebuild(mini)
    _problem(mini, r"parent 'eflux' is not a signature")
    text = text.replace("parent: eflux\n", "parent: efflux\n").replace("id: apoptosis", "id: efflux")
    (mini / "signatures.yaml").write_text(text)
    _rebuild(mini)
    _problem(mini, r"signature id 'efflux' is used twice")


def test_missing_gene_file(mini: Path):
    (mini / "genes" / "apoptosis.tsv").unlink()
    _rebuild(mini)
    _problem(mini, r"genes/apoptosis\.tsv: file not found")


def test_manifest_detects_changed_file(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text().replace("\t0.25\t", "\t0.26\t"))
    msg = _problem(mini, r"genes/efflux\.tsv: the file was changed after the manifest was built")
    assert "build_manifest" in msg
    _rebuild(mini)
    assert rs.sig.load(mini)["efflux"].weights["ABCC1"] == 0.26


def test_manifest_lists_every_file_with_sha256(mini: Path):
    import hashlib

    rows = pd.read_csv(mini / "manifest.tsv", sep="\t")
    files = sorted(
        p.relative_to(mini).as_posix() for p in mini.rglob("*") if p.is_file() and p.name != "manifest.tsv"
    )
    assert rows["file"].tolist() == files
    for rel, digest in zip(rows["file"], rows["sha256"]):
        assert hashlib.sha256((mini / rel).read_bytes()).hexdigest() == digest


def test_user_folder_may_omit_provenance(tmp_path: Path):
    root = tmp_path / "own"
    (root / "genes").mkdir(parents=True)
    (root / "signatures.yaml").write_text(
        "schema_version: 1\ncollection: own\nsignatures:\n  - id: MY_SET\n    genes: genes/my.tsv\n"
    )
    (root / "genes" / "my.tsv").write_text("symbol\tdirection\tweight\nABCB1\tup\t1\nBAX\tdown\t0.5\n")
    sigs = rs.sig.load(root)  # no manifest: nothing to verify
    assert sigs["MY_SET"].weights.to_dict() == {"ABCB1": 1.0, "BAX": -0.5}
    report = rs.sig.validate(root)  # lenient for a user's folder: only a style warning
    assert report.ok and any("lower snake case" in p.problem for p in report.warnings)
    strict = rs.sig.validate(root, strict=True)
    assert not strict.ok
    assert {"evidence", "lower snake case"} <= {w for w in ("evidence", "lower snake case")
                                                 if any(w in str(p) for p in strict.errors)}  # fmt: skip


def test_validate_reports_hgnc_problems(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    text = f.read_text()
    text = text.replace("ABCG2\tHGNC:74", "ABCG2\tHGNC:40")  # wrong HGNC id (it is ABCB1's)
    text = text.replace(
        "ABCC1\tHGNC:51\tENSG00000103222", "MRP1\tHGNC:51\tENSG00000103222"
    )  # previous symbol
    f.write_text(text)
    _rebuild(mini)
    report = rs.sig.validate(mini)
    msgs = [str(p) for p in report.errors]
    assert any("ABCG2 has HGNC id HGNC:74, not HGNC:40 (HGNC:40 is ABCB1)" in m for m in msgs), msgs
    assert any("MRP1 is not a current HGNC approved symbol" in m and "write ABCC1" in m for m in msgs), msgs
    with pytest.raises(SignatureError, match="problem"):
        rs.sig.validate(mini, raise_on_error=True)
    assert rs.sig.validate(mini, gene_table=False).ok


def test_validate_withdrawn_symbol_suggests_successor(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text() + gene_line("ABCB2", hgnc_id="", ensembl_gene_id="", note="historic name"))
    _rebuild(mini)
    report = rs.sig.validate(mini)
    assert any("ABCB2" in p.problem and "TAP1" in p.fix for p in report.errors), report


def test_validate_drug_and_inventory_rules(mini: Path):
    (mini / "signatures.yaml").write_text((mini / "signatures.yaml").read_text().replace("[doxorubicin, paclitaxel]",
                                                                                       "[adriamycin, paclitaxel]"))  # fmt: skip
    ent = mini / "review" / "entities.tsv"
    ent.write_text(ent.read_text() + "BCL2\tgene\tApoptosis\tscored\tefflux\t\n" + "hypoxia\tprocess\tX\tnot_scored\t\t\n"
                   + "MYC\tgene\tX\tscored\tno_such_sig\t\n" + "Bax\tgene\tX\tcorrected\tapoptosis\t\n")  # fmt: skip
    _rebuild(mini)
    report = rs.sig.validate(mini)
    text = "\n".join(map(str, report.errors))
    assert (
        "drug 'adriamycin' is not a canonical drug" in text and "write the canonical name doxorubicin" in text
    )
    assert "gene BCL2 is in none of the signatures listed" in text
    assert "hypoxia is not scored and no reason is given" in text
    assert "'no_such_sig' is not a signature id" in text
    assert "Bax gives no correction" in text


def test_validate_synonym_clash(mini: Path):
    f = mini / "drugs" / "drugs.tsv"
    f.write_text(f.read_text().replace("taxol", "taxol|Adriamycin"))
    _rebuild(mini)
    report = rs.sig.validate(mini)
    assert any("'Adriamycin' also names doxorubicin" in p.problem for p in report.errors), report


def test_validate_report_table(mini: Path):
    f = mini / "genes" / "efflux.tsv"
    f.write_text(f.read_text().replace("\thigh\t", "\tvery high\t", 1))
    _rebuild(mini)
    t = rs.sig.validate(mini).table
    assert list(t.columns) == ["severity", "file", "line", "field", "problem", "fix"]
    row = t.iloc[0]
    assert (row["severity"], row["line"], row["field"]) == ("error", 2, "confidence")
    assert row["file"].endswith("genes/efflux.tsv")


# ----------------------------------------------------------------------------- export
@pytest.mark.parametrize("fmt", ["yaml-folder", "gmt", "tsv"])
def test_export_round_trip(mini: Path, tmp_path: Path, fmt: str):
    sigs = rs.sig.load(mini)
    out = rs.sig.export(sigs, tmp_path / f"out.{fmt}", format=fmt)
    back = rs.sig.load(out)
    assert back.ids == sigs.ids if fmt != "tsv" else set(back.ids) == set(sigs.ids)
    for s in sigs:
        assert back[s.id].weights.sort_index().equals(s.weights.sort_index())
    if fmt == "yaml-folder":
        assert back.equals(sigs)  # every field of every signature
        assert rs.sig.validate(out, strict=True).ok
    if fmt == "gmt":
        assert [(s.parent, s.version, s.min_coverage) for s in back] == [
            (s.parent, s.version, s.min_coverage) for s in sigs
        ]


def test_export_refuses_to_overwrite(mini: Path, tmp_path: Path):
    sigs = rs.sig.load(mini)
    path = rs.sig.export(sigs, tmp_path / "x.gmt")
    before = path.read_bytes()
    with pytest.raises(SignatureError, match="already exists.*overwrite=True"):
        rs.sig.export(sigs.select(ids=["efflux"]), path)
    assert path.read_bytes() == before
    rs.sig.export(sigs.select(ids=["efflux"]), path, overwrite=True)
    assert rs.sig.read_gmt(path).ids == ["efflux"]
    folder = rs.sig.export(sigs, tmp_path / "folder")
    rs.sig.export(sigs.select(ids=["apoptosis"]), folder, overwrite=True)
    assert rs.sig.load(folder).ids == ["apoptosis"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_export_bad_format(mini: Path, tmp_path: Path):
    with pytest.raises(rs.ResistScoreError, match="`format` must be one of"):
        rs.sig.export(rs.sig.load(mini), tmp_path / "x", format="xlsx")


def test_load_bad_sources(tmp_path: Path):
    with pytest.raises(SignatureError, match="not found"):
        rs.sig.load(tmp_path / "nope.gmt")
    with pytest.raises(SignatureError, match="has no signatures.yaml"):
        rs.sig.load(tmp_path)
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(SignatureError, match="unknown signature file type"):
        rs.sig.load(tmp_path / "x.docx")
    with pytest.raises(SignatureError, match="cannot read signatures from a int"):
        rs.sig.load(3)
    with pytest.raises(rs.ResistScoreError, match="`level` must be one of"):
        rs.sig.load({"a": ["X"]}, level="top")


# ----------------------------------------------------------------------------- versioning
def test_diff_rules(mini: Path, tmp_path: Path):
    old = rs.sig.load(mini)
    new_root = tmp_path / "new"
    import shutil

    shutil.copytree(mini, new_root)
    f = new_root / "genes" / "apoptosis.tsv"
    text = f.read_text()
    text = text.replace("\tup\t0.75\t", "\tup\t0.5\t")  # MCL1 weight: minor
    text = text.replace(
        "BAK1\tHGNC:949\tENSG00000030110\tdown", "BAK1\tHGNC:949\tENSG00000030110\tup"
    )  # flip: major
    f.write_text(text)
    g = new_root / "genes" / "efflux.tsv"
    g.write_text(
        g.read_text().replace("review ref 40\thigh", "review ref 40, 41\thigh", 1)
    )  # evidence text: patch
    (new_root / "manifest.tsv").unlink()  # a working copy being edited
    d = rs.sig.diff(old, rs.sig.load(new_root))
    got = {(r.signature_id, r.change, r.bump) for r in d.table.itertuples()}
    assert got == {
        ("apoptosis", "direction flipped", "major"),
        ("apoptosis", "weights changed", "minor"),
        ("efflux", "gene provenance edited", "patch"),
    }
    assert d.bump == "major" and not d.ok  # versions were not bumped
    v = d.versions.set_index("signature_id")
    assert v.loc["apoptosis", "required"] == "major" and v.loc["efflux.abcb1", "required"] == "none"
    # bump the versions as VERSIONING.md says: now ok
    y = new_root / "signatures.yaml"
    y.write_text(y.read_text().replace("version: 2.0.1", "version: 3.0.0").replace("version: 1.2.3", "version: 2.0.0")
                 .replace("    version: 1.0.0\n    name: Drug efflux", "    version: 1.0.1\n    name: Drug efflux"))  # fmt: skip
    d2 = rs.sig.diff(old, rs.sig.load(new_root))
    assert d2.ok, d2.versions
    assert rs.sig.diff(old, old).bump == "none" and rs.sig.diff(old, old).ok


def test_diff_added_removed():
    a = rs.sig.load({"x": ["G1"], "y": ["G2"]})
    b = rs.sig.load({"x": ["G1", "G3"], "z": ["G4"]})
    t = rs.sig.diff(a, b).table
    assert set(zip(t["signature_id"], t["change"], t["bump"])) == {
        ("y", "signature removed", "major"),
        ("z", "signature added", "minor"),
        ("x", "genes added", "minor"),
    }


def test_describe_text(mini: Path):
    text = rs.sig.describe("efflux", mini)
    lines = text.splitlines()
    assert lines[0] == "efflux v1.0.0: Drug efflux"
    assert "  sub-signatures  efflux.abcb1" in lines
    assert "    - PMID:11902585" in lines
    header = next(i for i, t in enumerate(lines) if t.startswith("symbol"))
    assert lines[header].split() == [
        "symbol",
        "direction",
        "weight",
        "confidence",
        "evidence_source",
        "evidence",
    ]
    assert lines[header + 2].split()[:3] == ["ABCG2", "up", "0.5"]


def test_validate_warns_on_conflicting_directions(mini: Path):
    f = mini / "drugs" / "drug_genes.tsv"
    f.write_text(f.read_text().replace("doxorubicin\tBAX\tdown", "doxorubicin\tBAX\tup"))
    g = mini / "genes" / "efflux.tsv"
    g.write_text(g.read_text() + gene_line("BAX", weight="0.1"))  # BAX up here, down in apoptosis
    _rebuild(mini)
    report = rs.sig.validate(mini)
    assert report.ok  # warnings only
    text = [str(p) for p in report.warnings]
    assert any(
        "BAX is up for doxorubicin but down in its mechanism signature 'apoptosis'" in t for t in text
    ), text
    assert any("apoptosis.tsv" in t and "BAX is down here but up in 'efflux'" in t for t in text), text


def test_export_folder_refuses_ids_the_format_cannot_hold(tmp_path: Path):
    sigs = rs.sig.load({"GO:0006281 DNA repair": ["ERCC1"]})
    with pytest.raises(SignatureError, match="cannot be used in a yaml-folder.*export as gmt or tsv"):
        rs.sig.export(sigs, tmp_path / "f", format="yaml-folder")
    assert not (tmp_path / "f").exists()
    out = rs.sig.export(sigs, tmp_path / "f.tsv.gz")
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert rs.sig.load(out).ids == ["GO:0006281 DNA repair"]
