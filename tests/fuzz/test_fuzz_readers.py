"""Generative fuzzing of the readers (``rs.io.read``, ``rs.io.read_metadata``).

Every example ends in a correct result - the values, names and orientation written are the ones read
back, exactly - or in one :class:`~resistscore.ResistScoreError` with a one-line message; never another
exception, a silent NaN, or a changed input file. The tables are written the way real programs write
them: number formats (decimal point or comma, thousands separators, exponents, NA spellings),
encodings (UTF-8 with and without BOM, UTF-16, Latin-1), delimiters, quoting, line endings,
compression (gzip, bz2, xz, zip), both orientations, annotation columns; then damaged (duplicated or
missing labels, text in data cells, short rows, truncation, random bytes).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import lzma
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import assume, given
from hypothesis import strategies as st

from resistscore._errors import ResistScoreError
from resistscore.io import read, read_metadata
from resistscore.io._numbers import NA_STRINGS
from resistscore.pp import gene_table

from ._fuzz import count_input, fuzz_settings

# approved HGNC symbols of a plain form (the orientation detector sees them as genes)
_SYMBOLS = sorted(s for s in gene_table()["symbol"] if s.isalnum() and s.isupper() and 3 <= len(s) <= 7)
GENES = _SYMBOLS[:: max(1, len(_SYMBOLS) // 300)][:300]
NA = [s for s in NA_STRINGS if s != "."]  # "." alone is an NA spelling, and also a bare decimal point
SUFFIX = {
    ",": [".csv", ".txt", ".dat"],
    "\t": [".tsv", ".txt", ".dat"],
    ";": [".csv", ".txt"],
    "|": [".txt", ".dat"],
}
COMPRESS = {
    None: lambda b: b,
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}
EXT = {None: "", "gzip": ".gz", "bz2": ".bz2", "xz": ".xz", "zip": ".zip"}


def _fingerprint(p: Path):
    st_ = os.stat(p)
    with open(p, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest(), st_.st_mtime_ns, st_.st_size


_TMP = tempfile.TemporaryDirectory(prefix="rs-fuzz-readers-")


def _tmp(suffix: str) -> Path:
    """A scratch file of this suffix (one per suffix, rewritten by each example: creating and deleting a
    file per example costs more than reading it)."""
    return Path(_TMP.name) / f"table{suffix}"


def _write(blob: bytes, suffix: str, compression: str | None) -> Path:
    p = _tmp(suffix + EXT[compression])
    if compression == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("table" + suffix, blob)
        blob = buf.getvalue()
    else:
        blob = COMPRESS[compression](blob)
    p.write_bytes(blob)
    return p


def _read_checked(p: Path, reader=read, **kw):
    """The result, or the ResistScoreError; the file is never changed and messages are one line."""
    before = _fingerprint(p)
    try:
        out = reader(p, **kw)
    except ResistScoreError as err:
        msg = str(err)
        assert msg and "\n" not in msg, msg
        out = err
    assert _fingerprint(p) == before  # the user's file is never modified
    return out


# ------------------------------------------------------------------------------------------------
# how a program writes one number


def _digits(k: int, d: int) -> tuple[str, str]:
    """Integer and fraction digits of k / 10**d (k >= 0)."""
    s = str(k).rjust(d + 1, "0")
    return (s[:-d], s[-d:]) if d else (s, "")


def _group(intpart: str, sep: str) -> str:
    if not sep:
        return intpart
    head = len(intpart) % 3 or 3
    return sep.join([intpart[:head]] + [intpart[i : i + 3] for i in range(head, len(intpart), 3)])


def _cell(k: int, d: int, decimal: str, thousands: str, exponent: bool) -> tuple[str, float]:
    """Text of the number k / 10**d in a format, and its exact value."""
    intpart, frac = _digits(abs(k), d)
    sign = "-" if k < 0 else ""
    plain = sign + intpart + ("." + frac if d else "")
    if exponent:
        text = sign + intpart + (decimal + frac if d else "") + "e0"
    else:
        text = sign + _group(intpart, thousands) + (decimal + frac if d else "")
    return text, float(plain)


@st.composite
def number_formats(draw):
    decimal = draw(st.sampled_from([".", ","]))
    other = "," if decimal == "." else "."
    thousands = draw(st.sampled_from(["", "", other, " ", "'"]))
    return decimal, thousands


sample_names = st.text(
    alphabet=st.sampled_from(list("abcdefghijkXYZ0123456789_-é ü")), min_size=1, max_size=8
).map(lambda s: "smp" + s.strip())


@st.composite
def tables(draw):
    """A genes x samples matrix with the text of each cell, written in one number format."""
    n_genes = draw(st.integers(1, 6))
    n_samples = draw(st.integers(1, 5))
    genes = draw(st.lists(st.sampled_from(GENES), min_size=n_genes, max_size=n_genes, unique=True))
    samples = draw(st.lists(sample_names, min_size=n_samples, max_size=n_samples, unique=True))
    decimal, thousands = draw(number_formats())
    d = draw(st.integers(0, 4))
    top = draw(st.sampled_from([10**3, 10**5, 10**8]))
    na_share = draw(st.sampled_from([0.0, 0.0, 0.2]))
    na_word = draw(st.sampled_from(NA))
    exponent = draw(st.sampled_from([False, False, False, True]))
    # the numbers themselves from a seed: cheaper to generate than one hypothesis draw per cell
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ks = rng.integers(-top, top, size=n_genes * n_samples, endpoint=True)
    na = rng.random(len(ks)) < na_share
    text, values = [], []
    for k, missing in zip(ks.tolist(), na):
        if missing:
            text.append(na_word)
            values.append(np.nan)
        else:
            t, v = _cell(k, d, decimal, thousands, exponent)
            text.append(t)
            values.append(v)
    shape = (n_genes, n_samples)
    return {
        "genes": genes,
        "samples": samples,
        "text": np.array(text, dtype=object).reshape(shape),
        "values": np.array(values, dtype=float).reshape(shape),
        "decimal": decimal,
        "thousands": thousands if not exponent else "",
        "exotic_thousands": thousands in (" ", "'") and not exponent,
    }


@st.composite
def layouts(draw):
    sep = draw(st.sampled_from([",", "\t", ";", "|"]))
    return {
        "sep": sep,
        "suffix": draw(st.sampled_from(SUFFIX[sep])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "newline": draw(st.sampled_from(["\n", "\r\n"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"])),
        "compression": draw(st.sampled_from([None, None, None, "gzip", "bz2", "xz", "zip"])),
        "samples_as_rows": draw(st.booleans()),
        "label": draw(st.sampled_from(["gene", "Gene", "symbol", "", "ID", None])),  # None: R-style header
        "annotation": draw(st.sampled_from([None, None, "Description", "NCBI_ID"])),
    }


def _render(t: dict, lay: dict) -> bytes:
    rows: list[list[str]] = []
    body = t["text"]
    if lay["samples_as_rows"]:
        rows.append(["sample", *t["genes"]])
        rows += [[s, *body[:, j]] for j, s in enumerate(t["samples"])]
    else:
        ann = lay["annotation"]
        if lay["label"] is None and ann:
            return b""  # an R-style header cannot carry annotation columns: skipped by the caller
        head = [] if lay["label"] is None else [lay["label"]]
        head += [ann] if ann else []
        rows.append(head + t["samples"])
        for i, g in enumerate(t["genes"]):
            extra = []
            if ann == "Description":
                extra = [f"gene {g.lower()} desc"]
            elif ann == "NCBI_ID":
                extra = [str(100000 + 7 * i)]
            rows.append([g, *extra, *body[i]])
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=lay["sep"], quoting=lay["quoting"], lineterminator=lay["newline"])
    w.writerows(rows)
    text = buf.getvalue()
    try:
        return text.encode(lay["encoding"])
    except UnicodeEncodeError:
        return b""


def _check_table(out, t: dict, lay: dict) -> None:
    assert not isinstance(out, Exception), out
    assert list(out.obs_names) == [s.strip() for s in t["samples"]]
    assert list(out.var_names) == t["genes"]
    np.testing.assert_array_equal(np.asarray(out.X, dtype=float), t["values"].T)
    rep = out.uns["resistscore"]["read_report"]
    assert rep["orientation"] == ("samples_x_genes" if lay["samples_as_rows"] else "genes_x_samples")
    assert rep["n_samples"] == len(t["samples"]) and rep["n_genes"] == len(t["genes"])
    if lay["annotation"] and not lay["samples_as_rows"]:
        assert rep["data_columns"] == [s.strip() for s in t["samples"]]


@fuzz_settings(1100)
@given(t=tables(), lay=layouts(), explicit=st.booleans())
def test_written_tables_read_back_exactly(t, lay, explicit):
    blob = _render(t, lay)
    assume(blob)
    count_input("readers")
    p = _write(blob, lay["suffix"], lay["compression"])
    kw = {"decimal": t["decimal"], "thousands": t["thousands"]} if explicit or t["exotic_thousands"] else {}
    out = _read_checked(p, **kw)
    if isinstance(out, ResistScoreError) and not kw:
        # the only error allowed on a valid file: its number format cannot be decided from the data
        assert "decimal=" in str(out) and "thousands=" in str(out), out
        out = _read_checked(p, decimal=t["decimal"], thousands=t["thousands"])
    _check_table(out, t, lay)


@fuzz_settings(200)
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=6, max_size=6),
    genes=st.lists(
        st.sampled_from(["ABCB1", "ABCG2", "ABCC1", "TP53", "MDR1", "1-Mar"]), min_size=3, max_size=3
    ),
)
def test_pandas_written_floats_read_back_exactly(values, genes):
    """Any double pandas writes (repr precision, inf, NaN, 1e300, duplicated genes) reads back bit for bit."""
    count_input("readers")
    X = np.array(values, dtype=float).reshape(3, 2)
    df = pd.DataFrame(X, index=pd.Index(genes, name="gene"), columns=["sample_a", "sample_b"])
    p = _tmp(".tsv")
    df.to_csv(p, sep="\t")
    out = _read_checked(p, orientation="genes_x_samples")
    assert not isinstance(out, Exception), out
    assert list(out.var_names) == genes
    np.testing.assert_array_equal(out.X, X.T)


# ------------------------------------------------------------------------------------------------
# damaged tables: each damage has one expected outcome

DAMAGES = [
    "dup_sample",
    "empty_sample",
    "empty_gene",
    "dup_gene",
    "text_cell",
    "short_row",
    "long_row",
    "no_gene_column",
    "cut_compressed",
    "cut_plain_line",
]


@fuzz_settings(600)
@given(
    t=tables(), damage=st.sampled_from(DAMAGES), pick=st.integers(0, 10**6), sep=st.sampled_from(["\t", ","])
)
def test_damaged_tables(t, damage, pick, sep):
    genes, samples, body = list(t["genes"]), list(t["samples"]), t["text"].copy()
    values = t["values"].copy()
    assume(not t["exotic_thousands"])
    kw = {"decimal": t["decimal"], "thousands": t["thousands"], "orientation": "genes_x_samples"}
    header = ["gene", *samples]
    if damage == "dup_sample":
        assume(len(samples) >= 2)
        header[1 + (pick % (len(samples) - 1)) + 1] = samples[0]
    elif damage == "empty_sample":
        header[1 + pick % len(samples)] = ""
    elif damage in ("empty_gene", "dup_gene", "cut_plain_line", "short_row", "long_row"):
        assume(len(genes) >= 2)  # the other rows show the delimiter
    elif damage == "text_cell":
        i, j = pick % len(genes), (pick // 7) % len(samples)
        # one text cell among numbers: a column mostly of text is annotation by design
        assume(sum(not np.isnan(values[k, j]) for k in range(len(genes)) if k != i) >= 2)
        body[i, j] = "n/a?x"
    count_input("readers")  # after the assume() calls: inputs actually tried
    rows = [header]
    for i, g in enumerate(genes):
        label = g
        if damage == "empty_gene" and i == pick % len(genes):
            label = ""
        if damage == "dup_gene" and i == 1:
            label = genes[0]
        row = [label, *body[i]]
        if damage == "short_row" and i == pick % len(genes):
            row = row[:-1]
        if damage == "long_row" and i == pick % len(genes):
            row = [*row, "1"]
        rows.append(row)
    if damage == "no_gene_column":
        rows = [r[1:] for r in rows]
        kw.pop("orientation")
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(rows)
    blob = buf.getvalue().encode("utf-8")
    compression = "gzip" if damage == "cut_compressed" else None
    if damage == "cut_plain_line":
        lines = blob.splitlines(keepends=True)
        keep = 2 + pick % (len(lines) - 2)  # header + at least one whole gene row
        blob = b"".join(lines[:keep])
        genes, values = genes[: keep - 1], values[: keep - 1]
    p = _write(blob, ".csv" if sep == "," else ".tsv", compression)
    if damage == "cut_compressed":
        full = p.read_bytes()
        p.write_bytes(full[: max(1, (len(full) - 8) * (pick % 97) // 100)])
    out = _read_checked(p, **kw)
    expected_error = {
        "dup_sample": "more than once",
        "empty_sample": "no name",
        "text_cell": "'n/a?x'",
        "short_row": "fewer fields",
        "long_row": "",
        "no_gene_column": "no column of gene identifiers",
        "cut_compressed": "",
    }
    if damage in expected_error:
        assert isinstance(out, ResistScoreError), f"{damage}: no error"
        assert expected_error[damage] in str(out), (damage, str(out))
        return
    assert not isinstance(out, Exception), (damage, out)
    X = np.asarray(out.X, dtype=float)
    if damage == "empty_gene":
        drop = pick % len(genes)
        keep = [i for i in range(len(genes)) if i != drop]
        assert list(out.var_names) == [genes[i] for i in keep]
        np.testing.assert_array_equal(X, values[keep].T)
        rep = out.uns["resistscore"]["read_report"]
        # reported as a row without a gene id, or as an empty row when its values were all missing too
        assert rep.get("dropped_rows_without_gene_id", 0) + rep.get("dropped_empty_rows", 0) == 1
    else:  # dup_gene keeps both rows under the same name; cut_plain_line reads the whole rows left
        names = [genes[0], genes[0], *genes[2:]] if damage == "dup_gene" else genes
        assert list(out.var_names) == names
        np.testing.assert_array_equal(X, values.T)


# ------------------------------------------------------------------------------------------------
# garbage: random bytes, junk tables, corrupted files of every format

SUFFIXES = [
    ".csv",
    ".tsv",
    ".txt",
    ".csv.gz",
    ".gct",
    ".xlsx",
    ".parquet",
    ".h5ad",
    ".h5",
    ".dat",
    ".csv.zip",
]


@fuzz_settings(400)
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix):
    count_input("readers")
    p = _tmp(suffix)
    p.write_bytes(data)
    out = _read_checked(p)
    if not isinstance(out, Exception):
        assert out.n_obs == out.uns["resistscore"]["read_report"]["n_samples"]


junk_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=8),
    st.sampled_from(
        ["", "NA", "nan", "1e400", "-", "1,5", "1.500", "ABCB1", "7-Sep", "\u00e9", '"', "\t", "\n"]
    ),
)


@fuzz_settings(400)
@given(
    rows=st.lists(st.lists(junk_cell, min_size=1, max_size=6), min_size=0, max_size=8),
    header=st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["ABCB1", "gene", "S1", ""])), max_size=6),
    sep=st.sampled_from([",", "\t", ";", "|", " "]),
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz"]),
    orientation=st.sampled_from(["auto", "genes_x_samples", "samples_x_genes"]),
)
def test_junk_tables(rows, header, sep, suffix, orientation):
    count_input("readers")
    text = sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in rows)
    raw = text.encode("utf-8", errors="surrogatepass")
    p = _tmp(suffix)
    p.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
    out = _read_checked(p, orientation=orientation)
    if not isinstance(out, Exception):
        X = np.asarray(out.X, dtype=float)
        assert X.shape == (out.n_obs, out.n_vars)
        rep = out.uns["resistscore"]["read_report"]
        assert len(set(out.obs_names)) == out.n_obs  # never duplicated (nor renamed) samples
        assert rep["n_samples"] == out.n_obs and rep["n_genes"] == out.n_vars


def _valid_blobs() -> dict[str, bytes]:
    import anndata as ad

    df = pd.DataFrame(
        np.arange(12.0).reshape(3, 4) + 0.5,
        index=pd.Index(["ABCB1", "ABCG2", "TP53"], name="gene"),
        columns=list("abcd"),
    )
    blobs = {}
    for suffix in (".xlsx", ".parquet", ".h5ad", ".csv.gz", ".csv.bz2", ".gct"):
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
            elif suffix.startswith(".csv"):
                df.to_csv(p)
            else:
                p.write_text(
                    "#1.2\n3\t4\nName\tDescription\ta\tb\tc\td\n"
                    + "".join(f"{g}\tx\t1.5\t2\t3\t4\n" for g in df.index)
                )
            blobs[suffix] = p.read_bytes()
        finally:
            p.unlink()
    return blobs


BLOBS = _valid_blobs()


@fuzz_settings(200)
@given(
    suffix=st.sampled_from(sorted(BLOBS)),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.999), st.integers(1, 255)), max_size=4),
)
def test_corrupted_files_of_every_format(suffix, cut, flips):
    count_input("readers")
    blob = bytearray(BLOBS[suffix])
    for where, xor in flips:
        blob[int(where * len(blob))] ^= xor
    blob = bytes(blob[: max(1, int(len(blob) * cut))]) if cut < 1 else bytes(blob)
    p = _tmp(suffix)
    p.write_bytes(blob)
    out = _read_checked(p)
    if not isinstance(out, Exception) and not flips and cut >= 1:
        assert out.shape == (4, 3)


# ------------------------------------------------------------------------------------------------
# sample metadata joined to data by id


def _respell(i: int, how: str) -> tuple[str, str]:
    """A data id and its spelling in the metadata (same id after removing case and punctuation)."""
    data_id = f"CL-{i:03d}/x"
    return data_id, {
        "exact": data_id,
        "lower": data_id.lower(),
        "punct": f"cl_{i:03d}_X",
        "space": f" CL {i:03d} x ",
    }[how]


@fuzz_settings(400)
@given(
    n=st.integers(1, 8),
    spell=st.lists(st.sampled_from(["exact", "exact", "lower", "punct", "space"]), min_size=8, max_size=8),
    missing=st.lists(st.booleans(), min_size=8, max_size=8),
    extra=st.integers(0, 3),
    ages=st.lists(st.integers(0, 120), min_size=11, max_size=11),
    doses=st.lists(st.integers(0, 10**6), min_size=11, max_size=11),
    dup=st.booleans(),
    layout=layouts(),
    decimal=st.sampled_from([".", ","]),
)
def test_metadata_joins(n, spell, missing, extra, ages, doses, dup, layout, decimal):
    ids = [_respell(i, spell[i]) for i in range(n)]
    data = pd.DataFrame({"ABCB1": np.arange(n, dtype=float)}, index=[d for d, _ in ids])
    present = [i for i in range(n) if not missing[i]]
    meta_rows = [(ids[i][1], ages[i], doses[i]) for i in present]
    meta_rows += [(f"EXTRA{k}", ages[8 + k], doses[8 + k]) for k in range(extra)]
    if dup and meta_rows:
        meta_rows.append(meta_rows[0])
    assume(meta_rows)
    count_input("readers")
    dose_text = [f"{d // 100}{decimal}{d % 100:02d}" for _, _, d in meta_rows]
    rows = [["sample id", "age", "dose", "group"]] + [
        [m, str(a), t, "resistant" if a % 2 else "sensitive"] for (m, a, _), t in zip(meta_rows, dose_text)
    ]
    buf = io.StringIO()
    csv.writer(
        buf, delimiter=layout["sep"], quoting=layout["quoting"], lineterminator=layout["newline"]
    ).writerows(rows)
    p = _write(buf.getvalue().encode(layout["encoding"]), layout["suffix"], layout["compression"])
    out = _read_checked(p, reader=read_metadata, adata=data, decimal=decimal)
    if dup:
        assert isinstance(out, ResistScoreError) and "duplicated" in str(out)
        return
    assert not isinstance(out, Exception), out
    meta, rep = out
    assert list(meta.index) == list(data.index)
    assert sorted(rep.only_in_data) == sorted(ids[i][0] for i in range(n) if missing[i])
    assert sorted(rep.only_in_metadata) == sorted(f"EXTRA{k}" for k in range(extra))
    for i in present:
        row = meta.loc[ids[i][0]]
        assert row["age"] == ages[i]
        assert row["dose"] == float(f"{doses[i] // 100}.{doses[i] % 100:02d}")
        assert row["group"] == ("resistant" if ages[i] % 2 else "sensitive")
    for i in range(n):
        if missing[i]:
            assert np.isnan(meta.loc[ids[i][0], "age"])


@fuzz_settings(200)
@given(data=st.binary(max_size=500), suffix=st.sampled_from([".csv", ".tsv", ".xlsx", ".csv.gz"]))
def test_metadata_garbage(data, suffix):
    count_input("readers")
    p = _tmp(suffix)
    p.write_bytes(data)
    out = _read_checked(p, reader=read_metadata)
    if not isinstance(out, Exception):
        meta, report = out
        assert report is None and isinstance(meta, pd.DataFrame)


# ------------------------------------------------------------------------------------------------
# a damaged .h5ad scored as a path: the streaming readers (obs by anndata's on-disk spec without
# anndata, CSR arrays by byte ranges of the file) name the problem, never score garbage silently


def _sparse_h5ad_blob() -> tuple[bytes, pd.DataFrame]:
    """An uncompressed CSR .h5ad (the layout read by byte ranges) with obs columns of several encodings."""
    import anndata as ad
    import scipy.sparse as sp

    rng = np.random.default_rng(7)
    genes = ["ABCB1", "ABCG2", "ABCC1", "TP53", "BCL2", "MCL1", "GSTP1", "CYP3A4"]
    X = sp.random(24, len(genes), density=0.6, random_state=rng, format="csr", dtype=np.float32) * 10
    obs = pd.DataFrame(
        {"group": pd.Categorical(["a", "b"] * 12), "n": np.arange(24), "tag": [f"t{i}" for i in range(24)]},
        index=[f"cell{i}" for i in range(24)],
    )
    p = _tmp(".h5ad")
    try:
        ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes)).write_h5ad(p)
        return p.read_bytes(), pd.DataFrame({"source": "s", "target": genes[:4], "weight": 1.0})
    finally:
        p.unlink()


SPARSE_H5AD, H5AD_NET = _sparse_h5ad_blob()


def _score_path(p: Path):
    from resistscore.tl import score

    return score(p, H5AD_NET, method="ucell", progress=False)


@fuzz_settings(200)
@given(seed=st.integers(0, 2**32 - 1), n_flips=st.integers(0, 3), cut=st.booleans())
def test_a_damaged_h5ad_scored_as_a_path(seed, n_flips, cut):
    # the damage is placed by a seeded generator: uniformly over the file (hypothesis's own choice of
    # positions favours its first bytes, the HDF5 signature, which h5py refuses at once)
    count_input("readers")
    rng = np.random.default_rng(seed)
    blob = bytearray(SPARSE_H5AD)
    for where in rng.integers(0, len(blob), n_flips):
        blob[where] ^= int(rng.integers(1, 256))
    intact = not n_flips and not cut
    blob = bytes(blob[: int(rng.integers(1, len(blob)))]) if cut else bytes(blob)
    p = _tmp(".h5ad")
    try:
        p.write_bytes(blob)
        out = _read_checked(p, reader=_score_path)
        if intact:  # the intact file scores
            assert not isinstance(out, Exception), out
            assert out.scores.shape == (24, 1)
    finally:
        p.unlink(missing_ok=True)
