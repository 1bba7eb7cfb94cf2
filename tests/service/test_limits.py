"""Limits: each answered before work is wasted, with a clear message (413 / 422 / 429 + Retry-After)."""

from __future__ import annotations

import asyncio
import gzip
import io
import zipfile

import pytest

from resistscore.service._uploads import Rejected, receive_upload

from .conftest import submit, wait_for


def _incoming_empty(client) -> bool:
    return not any(client.app.state.store.incoming_dir.iterdir())


def test_upload_size_checked_while_streaming(tmp_path):
    """The receiver stops reading the body as soon as a file crosses its limit."""
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="expression"; filename="x.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    chunk = b"G,1,2\n" * 10_000  # 60 kB
    pulled = 0

    class FakeRequest:
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}

        async def stream(self):
            nonlocal pulled
            yield head
            for _ in range(1000):  # 60 MB if read whole
                pulled += len(chunk)
                yield chunk

    folder = tmp_path / "in"
    folder.mkdir()
    with pytest.raises(Rejected) as err:
        asyncio.run(receive_upload(FakeRequest(), folder, {"expression": 200_000, "metadata": 0, "gmt": 0}))
    assert err.value.status == 413 and "larger than the limit" in err.value.message
    assert pulled <= 200_000 + len(chunk)
    assert (folder / "expression").stat().st_size <= 200_000 + len(chunk)


def test_oversized_upload_413(make_client, tmp_path):
    client = make_client(start_runner=False, max_upload_mb=0.05)
    big = tmp_path / "big.csv"
    big.write_text("gene,S1,S2\n" + "".join(f"G{i},1,2\n" for i in range(20_000)))
    r = submit(client, {"expression": big})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]
    assert _incoming_empty(client)


def test_declared_length_over_limit_413(make_client):
    client = make_client(start_runner=False, max_upload_mb=0.05)
    r = client.post(
        "/api/jobs",
        content=b"x" * 10,
        headers={"content-type": "multipart/form-data; boundary=x", "content-length": str(10**9)},
    )
    assert r.status_code == 413


def test_gzip_bomb_413(make_client, tmp_path):
    client = make_client(start_runner=False, max_decompressed_mb=1)
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        fh.write(b"gene,S1\n" + b"G,0\n" * 2_000_000)  # 8 MB of text, a few kB compressed
    assert bomb.stat().st_size < 100_000
    r = submit(client, {"expression": bomb})
    assert r.status_code == 413 and "decompresses to more than" in r.json()["detail"]
    assert _incoming_empty(client)


def test_zip_bomb_413(make_client, tmp_path):
    client = make_client(start_runner=False, max_decompressed_mb=1)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)
    r = submit(client, {"expression": bomb})
    assert r.status_code == 413 and "decompresses to more than" in r.json()["detail"]


def test_truncated_gzip_422(make_client, tmp_path, cohort_files):
    client = make_client(start_runner=False)
    data = gzip.compress(cohort_files["expression"].read_bytes())
    bad = tmp_path / "cut.csv.gz"
    bad.write_bytes(data[: len(data) // 2])
    r = submit(client, {"expression": bad})
    assert r.status_code == 422 and "truncated gzip" in r.json()["detail"]


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [("max_dimension", 100, "rows or columns"), ("max_matrix_entries", 1000, "values")],
)
def test_matrix_dimensions_422(make_client, cohort_files, option, value, words):
    client = make_client(start_runner=False, **{option: value})
    r = submit(client, {"expression": cohort_files["expression"]})
    assert r.status_code == 422 and words in r.json()["detail"] and option in r.json()["detail"]


def test_queue_length_429(make_client, cohort_files):
    client = make_client(start_runner=False, max_queue=1)
    assert submit(client, {"expression": cohort_files["expression"]}).status_code == 202
    r = submit(client, {"expression": cohort_files["expression"]})
    assert (
        r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "queue is full" in r.json()["detail"]
    )
    assert _incoming_empty(client)


def test_jobs_per_client_429(make_client, cohort_files):
    client = make_client(start_runner=False, max_jobs_per_client=1)
    assert submit(client, {"expression": cohort_files["expression"]}).status_code == 202
    r = submit(client, {"expression": cohort_files["expression"]})
    assert r.status_code == 429 and "retry-after" in r.headers and "at once" in r.json()["detail"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"group": "group"}, "upload a metadata file"),
        ({"method": "no such method!"}, "unknown method"),
        ({"signatures": "efflux_abc,not_a_signature"}, "unknown signature"),
        ({"signatures": "drug:not-a-drug"}, "unknown drug"),
        ({"seed": "-1"}, "seed"),
        ({"group": "x" * 300}, "longer than"),
    ],
)
def test_bad_fields_422(make_client, cohort_files, fields, words):
    client = make_client(start_runner=False)
    r = submit(client, {"expression": cohort_files["expression"]}, **fields)
    assert r.status_code == 422 and words in r.json()["detail"], r.text


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"group": "no_such_column"}, "not in the metadata file"),
        ({"time": "survival_months"}, "both a time and an event"),
    ],
)
def test_design_checked_against_metadata_422(make_client, cohort_files, fields, words):
    client = make_client(start_runner=False)
    r = submit(client, cohort_files, **fields)
    assert r.status_code == 422 and words in r.json()["detail"]
    if "column" in words:
        assert "group" in r.json()["detail"]  # the columns there are named


def test_missing_expression_and_wrong_content_type(make_client, cohort_files):
    client = make_client(start_runner=False)
    r = submit(client, {"metadata": cohort_files["metadata"]})
    assert r.status_code == 422 and "no expression file" in r.json()["detail"]
    r = client.post("/api/jobs", json={"expression": "x"})
    assert r.status_code == 415


def test_body_limit_of_other_requests_413(make_client):
    client = make_client(start_runner=False, max_body_kb=4)
    r = client.post(
        "/jobs/" + "a" * 32 + "/delete",
        content=b"x" * 10_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_job_time_limit(make_client, cohort_files):
    client = make_client(job_timeout_s=0.5)
    job = wait_for(client, submit(client, cohort_files, group="group").json()["id"], timeout=240)
    assert job["status"] == "failed" and "time limit of" in job["error"] and "job_timeout_s" in job["error"]


def test_metadata_columns_endpoint(make_client, cohort_files, tmp_path):
    client = make_client(start_runner=False)
    with open(cohort_files["metadata"], "rb") as fh:
        r = client.post("/api/metadata/columns", files={"metadata": ("m.csv", fh)})
    assert r.status_code == 200 and r.json()["columns"][1:] == [
        "group",
        "log10_ic50",
        "survival_months",
        "event",
    ]
    xl = tmp_path / "m.xlsx"
    import pandas as pd

    pd.read_csv(cohort_files["metadata"]).to_excel(xl, index=False)
    with open(xl, "rb") as fh:
        r = client.post("/api/metadata/columns", files={"metadata": ("m.xlsx", fh)})
    assert r.json()["columns"][1:] == ["group", "log10_ic50", "survival_months", "event"]
    with io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 100) as fh:
        r = client.post("/api/metadata/columns", files={"metadata": ("m.csv", fh)})
    assert r.status_code == 422
    assert _incoming_empty(client)


def test_request_head_limit_431(make_client):
    client = make_client(start_runner=False, max_header_kb=4)
    assert client.get("/api/options", headers={"X-Big": "a" * 5000}).status_code == 431
    assert client.get("/api/options?" + "q=" + "a" * 5000).status_code == 431
    assert client.get("/api/options").status_code == 200
