"""Garbage in signature files gets a SignatureError (file, problem, fix), never a crash from deep inside a library."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import resistscore as rs
from resistscore import SignatureError

from .conftest import HEADER

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "\t",
                "\n",
                "up",
                "down",
                "1.0",
                "-1",
                "ABCB1",
                "#",
                ":",
                "- ",
                "[",
                "{",
                "'",
                '"',
                "é",
                "HGNC:40",
                "review",
                "high",
                "nan",
                "",
                " ",
            ]
        ),
        max_size=60,
    ).map("".join),  # fmt: skip
)


def _folder(tmp: Path, yaml_text: str | None = None, tsv_text: str | None = None) -> Path:
    (tmp / "genes").mkdir(parents=True, exist_ok=True)
    (tmp / "signatures.yaml").write_text(
        yaml_text
        if yaml_text is not None
        else "schema_version: 1\ncollection: g\nversion: 0.1.0\nsignatures:\n  - id: x\n    genes: genes/x.tsv\n",
        encoding="utf-8",
    )
    (tmp / "genes" / "x.tsv").write_text(tsv_text if tsv_text is not None else HEADER, encoding="utf-8")
    return tmp


def _load_or_signature_error(path: Path) -> None:
    try:
        rs.sig.load(path)
    except SignatureError as exc:
        assert "Fix:" in str(exc) or "." in str(exc)


@_SETTINGS
@given(text=_text)
def test_garbage_gene_tsv(tmp_path_factory, text):
    d = _folder(tmp_path_factory.mktemp("g"), tsv_text=HEADER + text)
    _load_or_signature_error(d)
    rs.sig.validate(d, gene_table=False)  # never raises


@_SETTINGS
@given(text=_text)
def test_garbage_yaml(tmp_path_factory, text):
    d = _folder(tmp_path_factory.mktemp("y"), yaml_text=text)
    _load_or_signature_error(d)
    rs.sig.validate(d, gene_table=False)


@_SETTINGS
@given(data=st.binary(max_size=200))
def test_garbage_bytes(tmp_path_factory, data):
    d = _folder(tmp_path_factory.mktemp("b"))
    (d / "genes" / "x.tsv").write_bytes(data)
    _load_or_signature_error(d)
    p = d / "x.gmt"
    p.write_bytes(data)
    with contextlib.suppress(SignatureError):
        rs.sig.read_gmt(p)
