"""GMT and long-table import/export: exact round trips, plain GMT, bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resistscore as rs
from resistscore import SignatureError
from resistscore.sig import Signature, SignatureSet

# awkward weights: shortest repr must read back exactly
AWKWARD = [1.0, 0.1 + 0.2, 1 / 3, 2**-30, 0.7000000000000001, 5e-324]


def _sig(sid, genes, weights, directions, **kw):
    return Signature(
        sid, genes=pd.DataFrame({"symbol": genes, "weight": weights, "direction": directions}), **kw
    )


def _as_dict(s: Signature) -> dict[str, tuple[str, float]]:
    return dict(zip(s.genes["symbol"], zip(s.genes["direction"], s.genes["weight"])))


@pytest.fixture
def awkward_set() -> SignatureSet:
    genes = ["G1", "G2", "G3", "G4", "G5", "G6"]
    dirs = ["up", "down", "up", "down", "down", "up"]
    return SignatureSet(
        [
            _sig("mech", genes, AWKWARD, dirs, version="1.2.0", min_coverage=0.3, name="Mech & co = 1; 2"),
            _sig("mech.sub", ["G1", "G2"], AWKWARD[:2], dirs[:2], parent="mech", version="0.1.0"),
            _sig("only_down", ["X1", "X2"], [0.5, 0.25], ["down", "down"]),
        ],
        collection="awkward",
    )


def test_gmt_layout(awkward_set, tmp_path):
    path = rs.sig.write_gmt(awkward_set, tmp_path / "a.gmt")
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    assert [cells[0] for cells in lines] == [
        "mech_UP",
        "mech_DN",
        "mech.sub_UP",
        "mech.sub_DN",
        "only_down_DN",
    ]
    assert lines[0][2:] == ["G1", "G3", "G6"] and lines[1][2:] == ["G2", "G4", "G5"]


@pytest.mark.parametrize("suffix", [".gmt", ".gmt.gz"])
def test_gmt_round_trip_exact(awkward_set, tmp_path, suffix):
    path = rs.sig.write_gmt(awkward_set, tmp_path / f"a{suffix}")
    if suffix.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    back = rs.sig.read_gmt(path)
    assert back.ids == awkward_set.ids
    for a, b in zip(awkward_set, back):
        assert _as_dict(a) == _as_dict(b)  # exact float equality
        assert (a.parent, a.mechanism, a.version, a.min_coverage, a.name) == (
            b.parent, b.mechanism, b.version, b.min_coverage, b.name)  # fmt: skip


def test_long_round_trip_exact(awkward_set):
    net = rs.sig.to_long(awkward_set)
    assert list(net.columns) == ["source", "target", "weight"]
    # independent expectation: signed weights
    expected = [(s.id, g, (-w if d == "down" else w)) for s in awkward_set
                for g, d, w in zip(s.genes["symbol"], s.genes["direction"], s.genes["weight"])]  # fmt: skip
    assert list(net.itertuples(index=False, name=None)) == expected
    back = rs.sig.from_long(net)
    assert back.ids == awkward_set.ids
    for a, b in zip(awkward_set, back):
        assert a.genes[["symbol", "direction", "weight"]].equals(b.genes[["symbol", "direction", "weight"]])


def test_to_long_extra_columns(tmp_path):
    s = _sig("x", ["ABCB1"], [1.0], ["up"])
    net = rs.sig.to_long(s, extra=True)
    assert list(net.columns) == ["source", "target", "weight", "hgnc_id", "ensembl_gene_id", "evidence_source",
                                 "evidence", "confidence", "note"]  # fmt: skip


_gene = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.", min_size=1, max_size=8).filter(
    lambda g: g[0].isalnum()
)


@st.composite
def signature_sets(draw):
    n = draw(st.integers(1, 4))
    sigs = []
    for i in range(n):
        genes = draw(st.lists(_gene, min_size=1, max_size=12, unique=True))
        weights = draw(st.lists(st.floats(min_value=1e-12, max_value=1.0, allow_nan=False, allow_subnormal=False),
                                min_size=len(genes), max_size=len(genes)))  # fmt: skip
        dirs = draw(st.lists(st.sampled_from(["up", "down"]), min_size=len(genes), max_size=len(genes)))
        sigs.append(_sig(f"s{i}", genes, weights, dirs, min_coverage=draw(st.sampled_from([0.1, 0.5, 1.0]))))
    return SignatureSet(sigs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sigs=signature_sets())
def test_round_trips_property(sigs, tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    via_gmt = rs.sig.read_gmt(rs.sig.write_gmt(sigs, d / "x.gmt"))
    via_long = rs.sig.from_long(rs.sig.to_long(sigs))
    via_tsv = rs.sig.load(rs.sig.export(sigs, d / "x.tsv", overwrite=True))
    for back in (via_gmt, via_long, via_tsv):
        assert back.ids == sigs.ids
        for a, b in zip(sigs, back):
            assert _as_dict(a) == _as_dict(b)
    assert via_gmt.min_coverage.equals(sigs.min_coverage)


def test_plain_gmt_is_undirected_weight_one(tmp_path):
    p = tmp_path / "msig.gmt"
    p.write_text(
        "HALLMARK_HYPOXIA\thttp://www.gsea-msigdb.org/x\tHIF1A\tVEGFA\tCA9\n"
        "\n"
        "GSE1_TREATED_VS_CTRL_UP\tna\tABCB1\tABCG2\n"
        "GSE1_TREATED_VS_CTRL_DN\tna\tBAX\n"
        "LONE_DN\tna\tBAK1\n"
    )
    sigs = rs.sig.read_gmt(p)
    assert sigs.ids == ["HALLMARK_HYPOXIA", "GSE1_TREATED_VS_CTRL", "LONE"]
    assert sigs["HALLMARK_HYPOXIA"].weights.to_dict() == {"HIF1A": 1.0, "VEGFA": 1.0, "CA9": 1.0}
    assert sigs["GSE1_TREATED_VS_CTRL"].weights.to_dict() == {"ABCB1": 1.0, "ABCG2": 1.0, "BAX": -1.0}
    assert sigs["LONE"].down == ["BAK1"]
    flat = rs.sig.read_gmt(p, directional=False)
    assert flat.ids == ["HALLMARK_HYPOXIA", "GSE1_TREATED_VS_CTRL_UP", "GSE1_TREATED_VS_CTRL_DN", "LONE_DN"]
    assert all(not s.down for s in flat)
    assert rs.sig.load(p).ids == sigs.ids  # load() dispatches on the suffix


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("A\tdesc\n", r":1: set 'A' has no genes"),
        ("A,desc,G1,G2\n", r"has no genes.*tab-separated"),
        ("A\td\tG1\nA\td\tG2\n", r":2: set name 'A' is used twice \(also on line 1\)"),
        ("A_UP\td\tG1\nA_DN\td\tG1\n", r"gene G1 is both up and down in signature 'A'"),
        ("A\td\tG1\tG1\n", r"gene G1 is listed twice"),
        ("A\tresistscore=1&weights=1,2\tG1\n", r"2 weights for 1 genes"),
        ("A\tresistscore=1&weights=0\tG1\n", r"weight 0\.0.*> 0"),
    ],
)
def test_bad_gmt(tmp_path, content, match):
    p = tmp_path / "bad.gmt"
    p.write_text(content)
    with pytest.raises(SignatureError, match=match):
        rs.sig.read_gmt(p)


def test_gmt_corrupt_gzip_and_missing(tmp_path):
    p = tmp_path / "x.gmt.gz"
    p.write_bytes(gzip.compress(b"A\td\tG1\n")[:12])
    with pytest.raises(SignatureError, match="corrupt gzip"):
        rs.sig.read_gmt(p)
    with pytest.raises(SignatureError, match="not found"):
        rs.sig.read_gmt(tmp_path / "none.gmt")


def test_from_long_options_and_errors():
    net = pd.DataFrame({"set": ["a", "a", "b"], "gene": ["G1", "G2", "G3"], "w": [2.0, -0.5, 1.0],
                        "evidence": ["e1", "e2", "e3"]})  # fmt: skip
    sigs = rs.sig.from_long(net, source="set", target="gene", weight="w", min_coverage={"a": 0.2})
    assert sigs["a"].weights.to_dict() == {"G1": 2.0, "G2": -0.5}  # users' weights may exceed 1
    assert sigs["a"].genes["evidence"].tolist() == ["e1", "e2"]
    assert sigs.min_coverage.to_dict() == {"a": 0.2, "b": 0.5}
    unweighted = rs.sig.from_long(net.rename(columns={"set": "source", "gene": "target"}).drop(columns="w"))
    assert unweighted["a"].weights.tolist() == [1.0, 1.0]
    with pytest.raises(SignatureError, match="no column.*'source'.*pass source="):
        rs.sig.from_long(net)
    bad = pd.DataFrame({"source": ["a"], "target": ["G1"], "weight": [0.0]})
    with pytest.raises(SignatureError, match="weight 0.0.*non-zero"):
        rs.sig.from_long(bad)
    bad = pd.DataFrame({"source": ["a", "a"], "target": ["G1", "G1"], "weight": [1.0, -1.0]})
    with pytest.raises(SignatureError, match="G1 appear more than once"):
        rs.sig.from_long(bad)
    bad = pd.DataFrame({"source": ["a"], "target": [np.nan]})
    with pytest.raises(SignatureError, match="empty 'source' or 'target'"):
        rs.sig.from_long(bad)


def test_from_long_does_not_modify_input():
    net = pd.DataFrame({"source": ["a", "a"], "target": [" G1", "G2"], "weight": [1, -1]})
    before = net.copy()
    rs.sig.from_long(net)
    pd.testing.assert_frame_equal(net, before)


def test_from_dict_forms():
    sigs = rs.sig.from_dict({"a": ["G1", "G2"], "b": {"G3": -0.5}, "c": _sig("zz", ["G9"], [1.0], ["up"])})
    assert sigs.ids == ["a", "b", "c"]
    assert sigs["b"].down == ["G3"] and sigs["c"].symbols == ["G9"]
    for bad, match in [({"a": "ABCB1"}, "list of genes"), ({"a": []}, "no genes"), ({"a": {"G": float("nan")}}, "finite"),
                       ({"": ["G"]}, "non-empty")]:  # fmt: skip
        with pytest.raises(SignatureError, match=match):
            rs.sig.from_dict(bad)


def test_long_table_file(tmp_path: Path):
    p = tmp_path / "net.csv"
    pd.DataFrame({"source": ["a", "a"], "target": ["G1", "G2"], "weight": [1.0, -0.25]}).to_csv(
        p, index=False
    )
    assert rs.sig.load(p)["a"].weights.to_dict() == {"G1": 1.0, "G2": -0.25}


def test_txt_is_gmt_or_long_table(tmp_path: Path):
    gmt = tmp_path / "sets.txt"
    gmt.write_text("A_UP\tna\tG1\tG2\nA_DN\tna\tG3\n")
    assert rs.sig.load(gmt)["A"].weights.to_dict() == {"G1": 1.0, "G2": 1.0, "G3": -1.0}
    net = tmp_path / "net.txt"
    net.write_text("source\ttarget\tweight\nA\tG1\t-0.5\n")
    assert rs.sig.load(net)["A"].weights.to_dict() == {"G1": -0.5}


# ---- issue 10/11: one parser for every form; decoupler's mor; ids ----------------------------------
def test_from_long_reads_decoupler_mor():
    v1 = pd.DataFrame({"source": ["a", "a"], "target": ["BCL2", "BAX"], "mor": [1, -1]})
    assert rs.sig.from_long(v1)["a"].down == ["BAX"]
    likelihood = v1.assign(weight=[0.5, 0.25])  # decoupleR: .mor x .likelihood
    assert rs.sig.from_long(likelihood)["a"].weights.to_dict() == {"BCL2": 0.5, "BAX": -0.25}
    with pytest.raises(rs.SignatureError, match="signs disagree"):
        rs.sig.from_long(v1.assign(weight=[-1.0, -1.0]))
    assert rs.sig.from_long(v1, mor=None)["a"].down == []  # the column ignored only when asked


def test_from_dict_reads_ucell_suffixes():
    sigs = rs.sig.from_dict({"a": ["ABCB1", "SLC29A1-", "ABCG2+"]})
    assert sigs["a"].up == ["ABCB1", "ABCG2"] and sigs["a"].down == ["SLC29A1"]


def test_load_ids_list_or_comma_string_and_empty_string():
    assert rs.sig.load("efflux_abc, apoptosis").ids == ["efflux_abc", "apoptosis"]
    assert rs.sig.load(["apoptosis", "efflux_abc"]).ids == ["efflux_abc", "apoptosis"]  # collection order
    assert rs.sig.load(ids="efflux_abc,apoptosis").ids == ["efflux_abc", "apoptosis"]
    with pytest.raises(rs.SignatureError, match="names no signature"):
        rs.sig.load("  ")
    with pytest.raises(rs.SignatureError, match="unknown signature id"):
        rs.sig.load(["efflux_abc", "nope"])


def test_tsv_export_neutralises_spreadsheet_formulas_and_load_restores_them(tmp_path):
    # issue 10 item 6: every text export; a signature id or gene from a user's GMT may be a formula
    sigs = rs.sig.load(
        {'=HYPERLINK("http://x")': {"BCL2": 1.0, "BAX": -0.5}, "ok": {"TP53": 1.0, "MDM2": 1.0}}
    )
    path = rs.sig.export(sigs, tmp_path / "sigs.tsv")
    cells = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    assert not cells["source"].str.startswith(("=", "+", "-", "@")).any()
    assert cells["source"].iloc[0] == '\'=HYPERLINK("http://x")'
    back = rs.sig.load(path)
    assert [s.id for s in back] == [s.id for s in sigs]
    assert back['=HYPERLINK("http://x")'].weights.to_dict() == {"BCL2": 1.0, "BAX": -0.5}
