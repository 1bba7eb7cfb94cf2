"""Confounder signatures: published lists (reconstructed byte for byte), loading rules, validation."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import resistscore as rs

ROOT = Path(__file__).resolve().parents[2] / "signatures"


def _published(sig) -> list[str]:
    """The symbols as published: the note of a renamed gene says 'published as OLD'."""
    out = []
    for sym, note in zip(sig.genes["symbol"], sig.genes["note"]):
        m = re.search(r"published as (\S+)", note)
        out.append(m.group(1) if m else sym)
    return out


def test_confounders_are_the_published_lists_byte_for_byte():
    conf = rs.sig.confounders()
    assert conf.ids == ["confounder.proliferation", "confounder.stromal", "confounder.immune"]
    # scanpy_usage regev_lab_cell_cycle_genes.txt (sha256 recorded in signatures/confounders/README.md)
    cc = "\n".join(_published(conf["confounder.proliferation"])) + "\n"
    assert (
        hashlib.sha256(cc.encode()).hexdigest()
        == "eb666ba4f7b7a8b2845e1586d42687feaf813e9fa1fdadba89dacd4093411ac0"
    )
    # estimate 1.0.13 SI_geneset.gmt: two GMT rows with CRLF line ends
    gmt = "".join(
        f"{name}\testimate\t" + "\t".join(_published(conf[sid])) + "\r\n"
        for name, sid in (
            ("StromalSignature", "confounder.stromal"),
            ("ImmuneSignature", "confounder.immune"),
        )
    )
    assert (
        hashlib.sha256(gmt.encode()).hexdigest()
        == "bfd34f3f811656a5781521d9e59b513bc34c45692ad35afdd81c3879d7a187ca"
    )
    readme = (ROOT / "confounders" / "README.md").read_text(encoding="utf-8")
    for sha in ("eb666ba4f7b7", "bfd34f3f8116", "38030605c74c755167302caa431cf3ff62de646f",
                "ab68ceb3a297d32cf9b443dfb9b3f7df4638497e"):  # fmt: skip
        assert sha in readme


def test_confounder_signatures_follow_their_conventions():
    conf = rs.sig.confounders()
    for s in conf:
        assert s.mechanism == "confounder" and s.parent is None and s.drugs == ()
        assert (s.genes["direction"] == "up").all() and (s.genes["weight"] == 1.0).all()
        assert (s.genes["hgnc_id"] != "").all() and (s.genes["evidence"] != "").all()
    sizes = {s.id: len(s) for s in conf}
    assert sizes == {"confounder.proliferation": 97, "confounder.stromal": 141, "confounder.immune": 141}
    prolif = conf["confounder.proliferation"].genes
    assert (prolif["note"].iloc[:43].str.startswith("S phase")).all()
    assert (prolif["note"].iloc[43:].str.startswith("G2/M")).all()
    assert conf.collection == "resistscore-confounders"


def test_confounders_are_not_loaded_by_default_but_on_request():
    assert not any(s.mechanism == "confounder" for s in rs.sig.load(feature_type=None))
    both = rs.sig.load(confounders=True)
    default = rs.sig.load()
    assert both.ids == default.ids + ["confounder.proliferation", "confounder.stromal", "confounder.immune"]
    assert both.version == default.version and both.metadata["confounders"]["version"] == "1.0.0"
    assert rs.sig.load(ids=["confounder.immune", "efflux_abc"]).ids == ["efflux_abc", "confounder.immune"]
    assert rs.sig.load(mechanism="confounder").ids == rs.sig.confounders().ids
    assert rs.sig.confounders("confounder.stromal").ids == ["confounder.stromal"]
    with pytest.raises(rs.SignatureError, match="confounders=True adds the shipped"):
        rs.sig.load({"mine": ["ABCB1"]}, confounders=True)


def test_confounders_score_beside_the_mechanisms():
    sigs = rs.sig.load(ids=["confounder.proliferation", "efflux_abc"])
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(rng.normal(5, 1, (40, len(sigs.genes))), columns=sigs.genes,
                        index=[f"S{i}" for i in range(40)])  # fmt: skip
    cycling = expr.index[:20]
    # a proliferation programme in half the samples
    expr.loc[cycling, sigs["confounder.proliferation"].symbols] += 2.0
    res = rs.tl.score(expr, sigs, pvalues=False)
    assert res.scores.columns.tolist() == ["efflux_abc", "confounder.proliferation"]
    prolif = res.scores["confounder.proliferation"]
    assert prolif[cycling].min() > prolif.drop(cycling).max()


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "sigs"
    shutil.copytree(ROOT, dst)
    return dst


def test_validate_checks_the_confounder_rules(tmp_path):
    root = _copy(tmp_path)
    yml = root / "confounders" / "confounders.yaml"
    yml.write_text(yml.read_text(encoding="utf-8").replace("mechanism: confounder", "mechanism: stroma", 1),
                   encoding="utf-8")  # fmt: skip
    genes = root / "confounders" / "genes" / "confounder.immune.tsv"
    lines = genes.read_text(encoding="utf-8").split("\n")
    cells = lines[1].split("\t")
    cells[6] = ""  # evidence of the first gene
    lines[1] = "\t".join(cells)
    genes.write_text("\n".join(lines), encoding="utf-8")
    rs.sig.build_manifest(root)
    report = rs.sig.validate(root)
    problems = {(p.field, p.problem.split(" ")[0]) for p in report.errors}
    assert ("signatures[confounder.proliferation].mechanism", "mechanism") in problems
    assert any(p.field == "evidence" and "LCP2" in p.problem for p in report.errors)


def test_the_shipped_confounders_validate_clean():
    report = rs.sig.validate()
    assert report.ok
    assert any("confounder" in c for c in report.checks)


def test_confounders_can_be_shown_by_id():
    table = rs.sig.show("confounder.immune")
    assert len(table) == 141 and table.attrs["mechanism"] == "confounder"
    assert rs.sig.describe("confounder.proliferation").startswith("confounder.proliferation v1.0.0")
