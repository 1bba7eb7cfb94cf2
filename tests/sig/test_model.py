"""Signature and SignatureSet: construction, views, selection, rendering, immutability."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import resistscore as rs
from resistscore import SignatureError
from resistscore.sig import GENE_COLUMNS, Signature, SignatureSet


def _genes(**cols):
    return pd.DataFrame(cols)


def test_signature_normalises_and_copies():
    g = _genes(symbol=[" ABCB1", "BAX"], direction=["up", "down"], weight=[1, 0.5])
    before = g.copy()
    s = Signature("x", genes=g)
    pd.testing.assert_frame_equal(g, before)  # input untouched
    assert list(s.genes.columns) == list(GENE_COLUMNS)
    assert s.symbols == ["ABCB1", "BAX"] and s.genes["weight"].dtype == float
    assert s.mechanism == "x" and s.level == "mechanism" and len(s) == 2 and "BAX" in s
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.id = "y"  # type: ignore[misc]
    t = s.replace(min_coverage=0.9)
    assert t.min_coverage == 0.9 and s.min_coverage == 0.5 and t.genes.equals(s.genes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"genes": _genes(symbol=["A"], direction=["sideways"], weight=[1])}, "direction 'sideways'"),
        ({"genes": _genes(symbol=["A"], direction=["up"], weight=[-1])}, "weight -1.0.*direction"),
        ({"genes": _genes(symbol=["A"], direction=["up"], weight=["heavy"])}, "weights must be numbers"),
        (
            {"genes": _genes(symbol=["A", "A"], direction=["up", "up"], weight=[1, 1])},
            "A appear more than once",
        ),
        ({"genes": _genes(symbol=["A"], weight=[1])}, "no `direction` column"),
        ({"genes": _genes(symbol=[""], direction=["up"], weight=[1])}, "no gene symbol"),
        (
            {"genes": _genes(symbol=["A"], direction=["up"], weight=[1]), "min_coverage": 0},
            r"min_coverage.*\(0, 1\]",
        ),
        ({"genes": ["A"]}, "must be a DataFrame"),
    ],
)
def test_signature_rejects_bad_input(kwargs, match):
    with pytest.raises(SignatureError, match=match):
        Signature("x", **kwargs)


def test_set_indexing_and_errors():
    sigs = rs.sig.load({"efflux": ["ABCB1"], "efflux.abcb1": ["ABCB1"], "apoptosis": {"BCL2": 1, "BAX": -1}})
    assert isinstance(sigs["efflux"], Signature)
    sub = sigs[["apoptosis", "efflux"]]
    assert isinstance(sub, SignatureSet) and sub.ids == ["apoptosis", "efflux"]
    assert [s.id for s in sigs] == sigs.ids and "efflux" in sigs and len(sigs) == 3
    with pytest.raises(
        SignatureError, match="unknown signature id 'apoptosys'.*Did you mean: apoptosis.*rs.sig.list"
    ):
        sigs["apoptosys"]
    with pytest.raises(SignatureError, match="unknown signature id"):
        sigs.select(["nope"])
    with pytest.raises(SignatureError, match="appears twice"):
        SignatureSet([sigs["efflux"], sigs["efflux"]])
    assert sigs.genes == ["ABCB1", "BCL2", "BAX"]
    assert sigs.to_dict() == {"efflux": {"ABCB1": 1.0}, "efflux.abcb1": {"ABCB1": 1.0},
                              "apoptosis": {"BCL2": 1.0, "BAX": -1.0}}  # fmt: skip


def test_select_by_drug_and_feature_type():
    a = Signature("a", drugs=("doxorubicin",), genes=_genes(symbol=["G"], direction=["up"], weight=[1]))
    b = Signature(
        "b", feature_type="mirna", genes=_genes(symbol=["hsa-miR-21-5p"], direction=["up"], weight=[1])
    )
    sigs = SignatureSet([a, b])
    assert sigs.select(drug="doxorubicin").ids == ["a"]
    assert sigs.select(feature_type="mirna").ids == ["b"]
    assert rs.sig.load(sigs).ids == ["a"]  # feature_type="gene" by default
    assert rs.sig.load(sigs, feature_type=None).ids == ["a", "b"]


def test_reprs_render_tables():
    sigs = rs.sig.load({"efflux": ["ABCB1", "ABCG2"], "apoptosis": {"BCL2": 1, "BAX": -1}})
    text = repr(sigs)
    assert text.splitlines()[0] == "SignatureSet 'user' v0.0.0: 2 signature(s)"
    assert "apoptosis" in text and "n_down" in text
    html = sigs._repr_html_()
    assert "<table" in html and "apoptosis" in html
    s = sigs["apoptosis"]
    assert "1 up, 1 down" in repr(s) and "<table" in s._repr_html_()
    assert repr(SignatureSet()) == "SignatureSet 'user' v0.0.0: 0 signature(s)"
    assert SignatureSet().to_network().empty


def test_children_and_equals():
    sigs = rs.sig.load({"efflux": ["ABCB1"], "efflux.abcb1": ["ABCB1"], "x.y": ["G"]})
    # dotted ids nest under an existing prefix; "x.y" has no "x" to nest under
    assert sigs["efflux.abcb1"].parent == "efflux" and sigs["x.y"].parent is None
    assert sigs["x.y"].mechanism == "x"
    assert sigs.children("efflux") == ["efflux.abcb1"]
    assert sigs.equals(rs.sig.load({"efflux": ["ABCB1"], "efflux.abcb1": ["ABCB1"], "x.y": ["G"]}))
    flat = SignatureSet([sigs["efflux"], sigs["efflux.abcb1"].replace(parent=None)])
    assert not sigs.select(["efflux", "efflux.abcb1"]).equals(flat)


def test_a_set_s_network_is_its_signatures_networks_in_order():
    # SignatureSet.to_network builds one table (issue 12: no DataFrame per signature); it must equal the
    # signatures' own tables one after the other, signed weights and all
    sigs = rs.sig.load()
    want = pd.concat([s.to_network() for s in sigs], ignore_index=True)
    got = sigs.to_network()
    pd.testing.assert_frame_equal(got, want)
    assert (got["weight"] < 0).any() and (got["weight"] > 0).any()
