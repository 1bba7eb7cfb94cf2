"""Fuzz the service's upload path (in-process ASGI app) and check its scores against the in-process API.

* Every generated upload - random bytes, truncated or bomb-like gzip, odd delimiters, hostile file names and
  form fields, malformed multipart bodies - ends in a 202 or one clear 4xx JSON answer: never a 500, never a
  file outside the job's folder, never a leftover upload.
* Property: for generated small matrices, the service's ``scores.csv`` equals ``rs.tl.score`` in-process.
"""

from __future__ import annotations

import gzip
import io
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ._fuzz import count_input, fuzz_settings

pytest.importorskip("fastapi", reason="the service fuzz tests need resistscore[serve]")

import resistscore as rs
from resistscore.service import ServiceSettings, create_app

OK_STATUSES = {202, 400, 403, 413, 415, 422}
GENES = sorted(set(rs.sig.load(ids=["efflux_abc", "apoptosis", "dna_repair"]).to_network()["target"]))

names = st.one_of(
    st.sampled_from(
        ["x.csv", "x.tsv", "x.csv.gz", "x.xlsx", "x.h5ad", "x.parquet", "x.gct", "x.txt", "", ".", ".."]
    ),
    st.sampled_from(
        ["../../etc/passwd", "..\\..\\boot.ini", "/abs/path.csv", "a/b/../../c.csv", "con", "nul.csv"]
    ),
    st.text(min_size=0, max_size=300),
)
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=2000)


@st.composite
def payloads(draw) -> bytes:
    kind = draw(st.sampled_from(["bytes", "text", "table", "gzip", "gzip-cut", "magic"]))
    if kind == "bytes":
        return draw(st.binary(max_size=4000))
    if kind == "text":
        return draw(texts).encode("utf-8")
    if kind == "magic":
        magic = draw(
            st.sampled_from([b"\x89HDF\r\n\x1a\n", b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b"])
        )
        return magic + draw(st.binary(max_size=2000))
    sep = draw(st.sampled_from([",", "\t", ";", "|", " "]))
    n_rows, n_cols = draw(st.integers(0, 30)), draw(st.integers(0, 8))
    cells = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=8), st.just("")
    )
    rows = [sep.join(["gene", *[f"S{j}" for j in range(n_cols)]])]
    rows += [
        sep.join([draw(st.sampled_from(GENES + ["", "NA", "=1+1"])), *[draw(cells) for _ in range(n_cols)]])
        for _ in range(n_rows)
    ]
    data = "\n".join(rows).encode("utf-8", "replace")
    if kind == "gzip":
        return gzip.compress(data)
    if kind == "gzip-cut":
        z = gzip.compress(data)
        return z[: draw(st.integers(0, max(len(z) - 1, 0)))]
    return data


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    from fastapi.testclient import TestClient

    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("fuzzdata"),
        scheduler="tcp://127.0.0.1:9",
        max_queue=10**6,
        max_jobs_per_client=10**6,
        max_upload_mb=1,
        max_decompressed_mb=2,
    )
    with TestClient(create_app(settings, start_runner=False), base_url="http://127.0.0.1") as client:
        yield client


def _check(client, r) -> None:
    assert r.status_code in OK_STATUSES, (r.status_code, r.text[:300])
    if r.status_code != 202:
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail and "Traceback" not in detail
    store = client.app.state.store
    assert not any(store.incoming_dir.iterdir())
    if r.status_code == 202:
        job = store.get(r.json()["id"])
        for name in (job.params["expression"], job.params.get("metadata")):
            if name:
                assert "/" not in name and (store.job_dir(job.id) / name).is_file()


@given(
    expression=payloads(),
    metadata=st.none() | payloads(),
    gmt=st.none() | payloads(),
    expr_name=names,
    fields=st.dictionaries(
        st.sampled_from(["signatures", "method", "group", "response", "time", "event", "seed", "junk"]),
        st.one_of(
            texts, st.sampled_from(["efflux_abc", "drug:doxorubicin", "singscore", "group", "-1", "1e9"])
        ),
        max_size=5,
    ),
)
@fuzz_settings(300)
def test_fuzz_upload(app_client, expression, metadata, gmt, expr_name, fields):
    count_input("service")
    files = {"expression": (expr_name, io.BytesIO(expression))}
    if metadata is not None:
        files["metadata"] = ("m.csv", io.BytesIO(metadata))
    if gmt is not None:
        files["gmt"] = ("s.gmt", io.BytesIO(gmt))
    data = {k: v.replace("\x00", "") for k, v in fields.items()}
    _check(app_client, app_client.post("/api/jobs", files=files, data=data))


@given(body=st.binary(max_size=3000), boundary=st.sampled_from(["b", "x" * 70, "--", ""]))
@fuzz_settings(150)
def test_fuzz_malformed_multipart(app_client, body, boundary):
    count_input("service")
    r = app_client.post(
        "/api/jobs", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    _check(app_client, r)


# ------------------------------------------------------------------------------------ formats
FIGURE_FORMATS = ("png", "pdf", "svg")
#: a small valid expression table: every submission below reaches the check of ``formats``
VALID_TABLE = (
    "gene,S1,S2,S3\n" + "".join(f"{g},{i % 7 + 1}.5,{i % 5 + 2},{i % 3 + 3}\n" for i, g in enumerate(GENES))
).encode()


def _expected_formats(text: str) -> list[str] | None:
    """What the service must make of a ``formats`` field: the formats, or None for a 422."""
    value = text.strip()
    if not value:
        return ["png"]  # not given: PNG only
    if len(value) > 200:
        return None
    asked = [f.strip().lower().lstrip(".") for f in value.split(",") if f.strip()]
    if not asked or any(f not in FIGURE_FORMATS for f in asked):
        return None
    return [f for f in FIGURE_FORMATS if f == "png" or f in asked]


def _post_formats(client, **kwargs):
    files = {"expression": ("x.csv", io.BytesIO(VALID_TABLE)), **kwargs.pop("files", {})}
    return client.post("/api/jobs", files=files, **kwargs)


def _refused_naming_formats(client, r) -> None:
    _check(client, r)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert "formats" in r.json()["detail"], r.json()["detail"]


token = st.one_of(
    st.sampled_from(FIGURE_FORMATS)
    .flatmap(
        lambda f: st.tuples(
            st.sampled_from(["", ".", " ", "  ."]), st.sampled_from([f, f.upper(), f.title()])
        )
    )
    .map("".join),
    st.sampled_from(["docx", "jpeg", "eps", "ps", "tiff", "png2", "p n g", '["png"]', "1", "null", "*", ""]),
    st.text(max_size=12),
)


@given(tokens=st.lists(token, max_size=60), sep=st.sampled_from([",", ", ", " ,", ",,", ";"]))
@fuzz_settings(120)
def test_fuzz_formats_field(app_client, tokens, sep):
    """Any ``formats`` value: accepted as exactly the formats it names (PNG always first, each once), or a 422
    that names the field - never a 500, never a silently dropped or invented format."""
    count_input("service")
    text = sep.join(tokens).replace("\x00", "")
    r = _post_formats(app_client, data={"formats": text})
    want = _expected_formats(text)
    if want is None:
        _refused_naming_formats(app_client, r)
        return
    _check(app_client, r)
    assert r.status_code == 202, (text, r.text[:300])
    assert app_client.app.state.store.get(r.json()["id"]).params["formats"] == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("docx", None),  # unknown
        ("png,jpeg", None),  # one unknown among known ones
        (",", None),  # an empty list
        (" , ,, ", None),
        ('["png", "pdf"]', None),  # a JSON list is not the field's type
        ("1", None),
        (",".join(["png"] * 80), None),  # a huge list (longer than a field may be)
        (",".join(["tiff"] * 30), None),
        ("", ["png"]),  # not given: the default
        ("PNG,Pdf", ["png", "pdf"]),  # mixed case
        ("pdf,pdf,PDF,.pdf", ["png", "pdf"]),  # duplicates are kept once
        ("svg , png", ["png", "svg"]),
    ],
)
def test_formats_field_examples(app_client, text, want):
    r = _post_formats(app_client, data={"formats": text})
    if want is None:
        _refused_naming_formats(app_client, r)
    else:
        _check(app_client, r)
        assert (
            r.status_code == 202 and app_client.app.state.store.get(r.json()["id"]).params["formats"] == want
        )


def test_formats_field_of_the_wrong_type(app_client):
    """``formats`` as a list (the field sent twice), as a file, or not text: a 422 naming the field."""
    # a list in a form is the field repeated: keeping only the last value would drop a format silently
    r = _post_formats(app_client, data={"formats": ["png", "pdf"]})
    _refused_naming_formats(app_client, r)
    r = _post_formats(app_client, files={"formats": ("formats.txt", io.BytesIO(b"png,pdf"))})
    _refused_naming_formats(app_client, r)
    boundary = "rsboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="expression"; filename="x.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode() + VALID_TABLE
    body += (f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="formats"\r\n\r\n').encode()
    body += b"\xff\xfepng" + f"\r\n--{boundary}--\r\n".encode()
    r = app_client.post(
        "/api/jobs", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    _refused_naming_formats(app_client, r)


# ------------------------------------------------------------------------------------ property
@pytest.fixture(scope="module")
def running_client(tmp_path_factory):
    from distributed import LocalCluster
    from fastapi.testclient import TestClient

    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1"
    )
    try:
        settings = ServiceSettings(
            data_dir=tmp_path_factory.mktemp("propdata"), scheduler=cluster.scheduler_address
        )
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            yield client
    finally:
        cluster.close()


@given(
    n_samples=st.integers(2, 5),
    n_extra=st.integers(0, 200),
    seed=st.integers(0, 2**16),
    zeros=st.floats(0, 0.3),
)
@fuzz_settings(3)
def test_service_scores_equal_the_api(running_client, tmp_path_factory, n_samples, n_extra, seed, zeros):
    count_input("service")
    rng = np.random.default_rng(seed)
    genes = GENES + [f"EXTRA{i}" for i in range(n_extra)]
    values = rng.lognormal(2, 1, size=(len(genes), n_samples)).round(3)
    values[rng.random(values.shape) < zeros] = 0.0
    table = pd.DataFrame(
        values, index=pd.Index(genes, name="gene"), columns=[f"S{j}" for j in range(n_samples)]
    )
    path = tmp_path_factory.mktemp("prop") / "expression.csv"
    table.to_csv(path)
    sigs = "efflux_abc,apoptosis,dna_repair"
    with open(path, "rb") as fh:
        r = running_client.post(
            "/api/jobs",
            files={"expression": ("expression.csv", fh)},
            data={"signatures": sigs, "seed": str(seed)},
        )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 240
    while (job := running_client.get(f"/api/jobs/{r.json()['id']}").json())["status"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert job["status"] == "done", job
    got = pd.read_csv(
        io.StringIO(running_client.get(f"/api/jobs/{job['id']}/files/scores.csv").text), index_col=0
    )
    with warnings.catch_warnings():  # the same warnings the job recorded; the numbers are compared here
        warnings.simplefilter("ignore", rs.ResistScoreWarning)
        adata, _ = rs.pp.harmonize_genes(rs.io.read(path))
        rs.tl.score(adata, rs.sig.load(ids=sigs.split(",")), random_state=seed)
        want = rs.get.scores(adata)
    np.testing.assert_allclose(
        got.to_numpy(), want.loc[got.index, got.columns].to_numpy(), rtol=1e-13, atol=1e-15
    )
    assert list(got.columns) == list(want.columns)
