"""Security: unguessable ids, no listing, auth, traversal, sniffing, XSS, CSP, CSRF, no stack traces."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from resistscore.service._security import hash_password, verify_password
from resistscore.service._store import new_job_id

from .conftest import small_cohort, submit, wait_for

XSS = {
    "sample": "<script>alert('sample')</script>",
    "gene": "<img src=x onerror=alert('gene')>",
    "group": "\"><svg onload=alert('group')>",
    "file": "<img src=x onerror=alert('file')>.csv",
    "signature": "<script>alert('sig')</script>",
}
FORMULA = '=HYPERLINK("http://example.invalid")'


def test_job_ids_are_unguessable():
    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000
    for i in list(ids)[:50]:
        raw = base64.urlsafe_b64decode(i + "=" * (-len(i) % 4))
        assert len(i) == 32 and len(raw) * 8 >= 128  # 192 bits from secrets.token_urlsafe


def test_auth_token(make_client, cohort_files):
    token = "t" * 8 + "0123456789abcdef"
    client = make_client(start_runner=False, auth="token", tokens=[token])
    assert client.get("/").status_code == 401
    assert client.get("/").headers["www-authenticate"].startswith("Basic")
    assert client.get("/", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401
    assert client.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    basic = base64.b64encode(f"anyone:{token}".encode()).decode()
    assert client.get("/api/options", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert client.get("/healthz").status_code == 200
    client.cookies.clear()  # a script, not a browser (no CSRF cookie from the page above)
    assert submit(client, {"expression": cohort_files["expression"]}).status_code == 401
    client.headers["Authorization"] = f"Bearer {token}"
    assert submit(client, {"expression": cohort_files["expression"]}).status_code == 202


def test_auth_basic(make_client):
    stored = hash_password("correct horse", iterations=1000)
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    client = make_client(start_runner=False, auth="basic", users={"alice": stored})
    good = base64.b64encode(b"alice:correct horse").decode()
    bad = base64.b64encode(b"alice:wrong").decode()
    assert client.get("/", headers={"Authorization": f"Basic {bad}"}).status_code == 401
    assert client.get("/", headers={"Authorization": f"Basic {good}"}).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "../../../../tmp/evil.csv",
        "..\\..\\evil.csv",
        "/etc/passwd",
        "jobs.sqlite3",
        "a\x00b.csv",
        "x" * 1000 + ".csv",
    ],
)
def test_file_names_never_become_paths(make_client, cohort_files, tmp_path, name):
    client = make_client(start_runner=False)
    with open(cohort_files["expression"], "rb") as fh:
        r = client.post("/api/jobs", files={"expression": (name, fh, "text/csv")})
    assert r.status_code == 202, r.text
    store = client.app.state.store
    job = store.get(r.json()["id"])
    files = sorted(p.name for p in store.job_dir(job.id).iterdir())
    assert files[0].startswith("expression") and len(files) == 1
    shown = job.params["client_names"]["expression"]
    assert "/" not in shown and "\\" not in shown and "\x00" not in shown and len(shown) <= 255
    assert not (tmp_path / "evil.csv").exists()


def test_download_paths_cannot_escape(make_client, cohort_files):
    client = make_client(start_runner=False)
    store = client.app.state.store
    job_id = submit(client, {"expression": cohort_files["expression"]}).json()["id"]
    (store.job_dir(job_id) / "result").mkdir()
    (store.job_dir(job_id) / "result" / "scores.csv").write_text("sample,x\nS1,1\n")
    store.mark_running(job_id)
    store.finish(job_id, ["scores.csv"])
    assert client.get(f"/api/jobs/{job_id}/files/scores.csv").status_code == 200
    for bad in [
        "../expression.csv",
        "..%2Fexpression.csv",
        "%2e%2e/%2e%2e/jobs.sqlite3",
        "/etc/passwd",
        "figures/../../expression.csv",
    ]:
        assert client.get(f"/api/jobs/{job_id}/files/{bad}").status_code == 404


def test_content_is_sniffed_not_trusted(make_client, tmp_path, cohort_files):
    client = make_client(start_runner=False)
    png = tmp_path / "data.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    r = submit(client, {"expression": png})
    assert r.status_code == 422 and "binary file of an unknown kind" in r.json()["detail"]
    fake_h5 = tmp_path / "data.h5ad"
    fake_h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert submit(client, {"expression": fake_h5}).status_code == 422
    # a CSV called .h5ad is stored as text (its content), not as HDF5
    disguised = tmp_path / "table.h5ad"
    disguised.write_bytes(cohort_files["expression"].read_bytes())
    r = submit(client, {"expression": disguised})
    assert r.status_code == 202
    assert client.app.state.store.get(r.json()["id"]).params["expression"] == "expression"
    # a GMT must be text
    r = submit(client, {"expression": cohort_files["expression"], "gmt": png})
    assert r.status_code == 422


def test_pages_have_strict_csp_and_no_inline_script(make_client):
    client = make_client(start_runner=False)
    for url in ("/", "/docs", "/jobs/" + "a" * 32):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        for m in re.finditer(r"<script([^>]*)>(.*?)</script>", r.text, re.S):
            assert "src=" in m.group(1) and not m.group(2).strip(), "inline script"
        assert not re.search(r"<[^>]+\son[a-z]+=", r.text), "inline event handler"


def test_csrf(make_client, cohort_files):
    client = make_client(start_runner=False)
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.cookies.get("rs_csrf") == token
    files = {"expression": cohort_files["expression"]}
    # another site's form post: refused even with a token
    r = submit(client, files, url="/submit", csrf_token=token)  # cookie held: browser
    assert r.status_code in (303, 200) and "/jobs/" in r.headers.get("location", r.url.path)
    evil = client.post(
        "/submit",
        headers={"Origin": "http://evil.example"},
        files={"expression": ("e.csv", b"g,s\nA,1\n")},
        data={"csrf_token": token},
    )
    assert evil.status_code == 403 and "another site" in evil.text
    site = client.post(
        "/submit", headers={"Sec-Fetch-Site": "cross-site"}, files={"expression": ("e.csv", b"g,s\nA,1\n")}
    )
    assert site.status_code == 403
    # a browser post without the token
    r = client.post(
        "/submit", headers={"Origin": "http://127.0.0.1"}, files={"expression": ("e.csv", b"g,s\nA,1\n")}
    )
    assert r.status_code == 403 and "security token" in r.text
    # the delete form too
    job_id = client.app.state.store.unfinished()[0].id
    assert client.post(f"/jobs/{job_id}/delete", data={"csrf_token": "wrong"}).status_code == 403
    assert (
        client.post(f"/jobs/{job_id}/delete", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.app.state.store.get(job_id) is None


def test_no_stack_trace_reaches_a_client(make_client):
    from fastapi.testclient import TestClient

    client = make_client(start_runner=False)
    quiet = TestClient(client.app, raise_server_exceptions=False)

    def boom(job_id):
        raise RuntimeError("secret internal detail /etc/shadow")

    client.app.state.store.get = boom
    for url in ("/api/jobs/" + "a" * 32, "/jobs/" + "a" * 32):
        r = quiet.get(url)
        assert r.status_code == 500
        assert (
            "reference" in r.text
            and "Traceback" not in r.text
            and "secret" not in r.text
            and "_store" not in r.text
        )


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    """A small cohort whose sample, gene, group, file and signature names are XSS and formula payloads."""
    d = tmp_path_factory.mktemp("hostile")
    adata = small_cohort(n_samples=6)
    df = adata.to_df().T
    df.columns = [XSS["sample"], FORMULA, *df.columns[2:]]
    df.loc[XSS["gene"]] = 1.0
    expr = d / "expression.csv"
    df.to_csv(expr)
    meta = pd.DataFrame(
        {"group": [XSS["group"], XSS["group"], FORMULA, FORMULA, "+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0"]},
        index=df.columns,
    )
    meta.to_csv(d / "metadata.csv")
    genes = list(adata.var_names[:40])
    (d / "sigs.gmt").write_text(
        f"{XSS['signature']}\tdesc\t"
        + "\t".join(genes)
        + "\n"
        + f"{FORMULA}\tdesc\t"
        + "\t".join(genes[::-1])
        + "\n"
    )
    return d


def test_user_strings_escaped_in_html_and_neutralised_in_spreadsheets(make_client, hostile_files):
    client = make_client()
    with (
        open(hostile_files / "expression.csv", "rb") as e,
        open(hostile_files / "metadata.csv", "rb") as m,
        open(hostile_files / "sigs.gmt", "rb") as g,
    ):
        r = client.post(
            "/api/jobs",
            files={"expression": (XSS["file"], e), "metadata": ("m.csv", m), "gmt": ("s.gmt", g)},
            data={"group": "group"},
        )
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done", job
    pages = {
        "job": client.get(f"/jobs/{job['id']}").text,
        "results": client.get(f"/jobs/{job['id']}/results").text,
        "report": client.get(f"/api/jobs/{job['id']}/files/report.html").text,
    }
    for where, html in pages.items():
        for what, payload in XSS.items():
            assert payload not in html, f"{what} payload unescaped in the {where} page"
    # the payloads are there, as text
    assert "&lt;script&gt;alert(&#39;sample&#39;)&lt;/script&gt;" in pages["results"]
    assert "&lt;img src=x onerror=alert(&#39;file&#39;)&gt;.csv" in pages["results"]
    report = client.get(f"/api/jobs/{job['id']}/files/report.html")
    assert "sandbox" in report.headers["content-security-policy"]
    assert "script-src" not in report.headers["content-security-policy"]  # default-src 'none': no script

    # the workbook never holds a formula
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get(f"/api/jobs/{job['id']}/files/resistscore-tables.xlsx").content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == FORMULA or c.value == "'" + FORMULA for c in cells)

    # the CSV tables come from the workflow's one neutraliser (issue 10): no cell starts a formula
    for name in ("scores.csv", "scores_tidy.csv", "stats_groups.csv", "coverage.csv"):
        table = pd.read_csv(
            io.StringIO(client.get(f"/api/jobs/{job['id']}/files/{name}").text), dtype=str, header=None
        )
        cells = [c for c in table.to_numpy().ravel() if isinstance(c, str)]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], name
        assert any(c.startswith("'=") or c.startswith("'+") for c in cells), (
            name
        )  # the payloads are kept, quoted
