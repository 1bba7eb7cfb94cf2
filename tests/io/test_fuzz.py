"""Property-based tests: garbage in, our clear error (or a correct result) out, never a deep crash."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resistscore._errors import ResistScoreError
from resistscore.io import read, read_metadata

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SUFFIXES = [".csv", ".tsv", ".txt", ".csv.gz", ".gct", ".xlsx", ".parquet", ".h5ad", ".h5", ".dat"]


def _fingerprint(p: Path):
    st_ = os.stat(p)
    with open(p, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest(), st_.st_mtime_ns


def _read_checked(p: Path, **kw):
    before = _fingerprint(p)
    try:
        out = read(p, **kw)
    except ResistScoreError as err:
        assert str(err)  # a message for the user
        out = None
    assert _fingerprint(p) == before  # the user's file is never modified
    if out is not None:
        assert isinstance(out, ad.AnnData)
        X = np.asarray(out.X.toarray() if hasattr(out.X, "toarray") else out.X)
        assert X.shape == (out.n_obs, out.n_vars)
        assert X.dtype.kind == "f" or X.dtype.kind in "iu"
        rep = out.uns["resistscore"]["read_report"]
        assert rep["n_samples"] == out.n_obs and rep["n_genes"] == out.n_vars
    return out


def _tmp(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    return Path(name)


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix):
    p = _tmp(suffix)
    try:
        p.write_bytes(data)
        _read_checked(p)
    finally:
        p.unlink()


cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=8),
    st.sampled_from(
        ["", "NA", "nan", "1e400", "-", "1,5", "ABCB1", "7-Sep", "\u00e9\u00e8", "\u2603", '"', "\t", "\n"]
    ),
)


@FUZZ
@given(
    rows=st.lists(st.lists(cell, min_size=1, max_size=6), min_size=0, max_size=8),
    header=st.lists(
        st.one_of(st.text(max_size=6), st.sampled_from(["ABCB1", "ABCB1", "gene", "S1"])), max_size=6
    ),
    sep=st.sampled_from([",", "\t", ";", "|", " "]),
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz"]),
    orientation=st.sampled_from(["auto", "genes_x_samples", "samples_x_genes"]),
)
def test_mixed_tables(rows, header, sep, suffix, orientation):
    text = sep.join(map(str, header)) + "\n" + "".join(sep.join(map(str, r)) + "\n" for r in rows)
    p = _tmp(suffix)
    try:
        raw = text.encode("utf-8", errors="surrogatepass")
        p.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
        _read_checked(p, orientation=orientation)
    finally:
        p.unlink()


@FUZZ
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=6, max_size=6),
    genes=st.lists(
        st.sampled_from(["ABCB1", "ABCG2", "ABCC1", "TP53", "MDR1", "1-Mar"]), min_size=3, max_size=3
    ),
)
def test_valid_tables_roundtrip(values, genes):
    """A well-formed genes x samples table (duplicates, inf, NaN, huge values) reads back exactly."""
    X = np.array(values, dtype=float).reshape(3, 2)
    df = pd.DataFrame(X, index=pd.Index(genes, name="gene"), columns=["sample_a", "sample_b"])
    p = _tmp(".tsv")
    try:
        df.to_csv(p, sep="\t")
        out = _read_checked(p, orientation="genes_x_samples")
        assert out is not None
        assert list(out.var_names) == genes
        np.testing.assert_array_equal(out.X, X.T)
    finally:
        p.unlink()


@FUZZ
@given(data=st.binary(min_size=1, max_size=400), cut=st.integers(min_value=1, max_value=60))
def test_truncated_gzip(data, cut):
    blob = gzip.compress(b"gene,S1,S2\nABCB1,1,2\n" + data)
    p = _tmp(".csv.gz")
    try:
        p.write_bytes(blob[: max(1, len(blob) - cut)])
        _read_checked(p)
    finally:
        p.unlink()


@FUZZ
@given(data=st.binary(max_size=500))
def test_metadata_garbage(data):
    p = _tmp(".csv")
    try:
        p.write_bytes(data)
        before = _fingerprint(p)
        with contextlib.suppress(ResistScoreError):
            read_metadata(p)
        assert _fingerprint(p) == before
    finally:
        p.unlink()


def _valid_blobs() -> dict[str, bytes]:
    df = pd.DataFrame(
        np.arange(12.0).reshape(3, 4),
        index=pd.Index(["ABCB1", "ABCG2", "TP53"], name="gene"),
        columns=list("abcd"),
    )
    blobs = {}
    for suffix in (".xlsx", ".parquet", ".h5ad", ".csv.gz", ".gct"):
        p = _tmp(suffix)
        try:
            if suffix == ".xlsx":
                df.to_excel(p)
            elif suffix == ".parquet":
                df.to_parquet(p)
            elif suffix == ".h5ad":
                ad.AnnData(
                    X=df.T.to_numpy(), obs=pd.DataFrame(index=list("abcd")), var=pd.DataFrame(index=df.index)
                ).write_h5ad(p)
            elif suffix == ".csv.gz":
                df.to_csv(p)
            else:
                p.write_text(
                    "#1.2\n3\t4\nName\tDescription\ta\tb\tc\td\n"
                    + "".join(f"{g}\tx\t1\t2\t3\t4\n" for g in df.index)
                )
            blobs[suffix] = p.read_bytes()
        finally:
            p.unlink()
    return blobs


BLOBS = _valid_blobs()


@FUZZ
@given(
    suffix=st.sampled_from(sorted(BLOBS)),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.999), st.integers(1, 255)), max_size=4),
)
def test_corrupted_valid_files(suffix, cut, flips):
    blob = bytearray(BLOBS[suffix])
    for where, xor in flips:
        blob[int(where * len(blob))] ^= xor
    blob = bytes(blob[: max(1, int(len(blob) * cut))]) if cut < 1 else bytes(blob)
    p = _tmp(suffix)
    try:
        p.write_bytes(blob)
        _read_checked(p)
    finally:
        p.unlink()
