"""The REST API end to end (in-process app, jobs on a Dask worker process): a job's life and its outputs."""

from __future__ import annotations

import io
import time
import warnings
import zipfile

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from resistscore.cli import cli

from .conftest import submit, wait_for


@pytest.fixture(scope="module")
def cli_scores(cohort_files, tmp_path_factory):
    """``resistscore score`` on the same file: the numbers the service must give."""
    out = tmp_path_factory.mktemp("cli") / "scores.csv"
    with warnings.catch_warnings():  # as a user runs it: warnings are printed, not errors
        warnings.simplefilter("default")
        res = CliRunner().invoke(
            cli, ["score", str(cohort_files["expression"]), "--out", str(out)], catch_exceptions=False
        )
    assert res.exit_code == 0, res.output
    return pd.read_csv(out, index_col=0)


def test_job_lifecycle_scores_equal_cli(make_client, cohort_files, cli_scores):
    client = make_client()
    r = submit(client, cohort_files, group="group")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued" and body["url"] == f"/api/jobs/{body['id']}"
    assert r.headers["location"] == body["url"]
    job_id = body["id"]

    # the web process answers quickly while the job runs on the worker process
    wait_for(client, job_id, until=("running", "done", "failed"))
    worst, polls = 0.0, 0
    while client.get(f"/api/jobs/{job_id}").json()["status"] == "running":
        t = time.perf_counter()
        assert client.get("/api/options").status_code == 200
        assert client.get("/").status_code == 200
        worst, polls = max(worst, time.perf_counter() - t), polls + 1
        time.sleep(0.2)
    assert polls > 0 and worst < 1.0, f"slowest answer while a job ran: {worst:.2f} s ({polls} polls)"

    job = wait_for(client, job_id)
    assert job["status"] == "done", job
    assert job["progress"] == 100 and job["error"] is None
    # progress came from the worker, stage by stage, in order
    stages = [h["stage"] for h in job["history"]]
    assert stages == ["running", "reading", "harmonising", "scoring", "testing", "reporting", "done"], stages
    names = {f["name"] for f in job["files"]}
    for expected in (
        "scores.csv",
        "scores_tidy.csv",
        "coverage.csv",
        "stats_groups.csv",
        "report.html",
        "resistscore-tables.xlsx",
        "scores.h5ad",
        "resistscore-results.zip",
        "reproduce.json",
    ):
        assert expected in names

    # the scores equal the CLI's on the same file, exactly
    got = pd.read_csv(io.StringIO(client.get(f"/api/jobs/{job_id}/files/scores.csv").text), index_col=0)
    pd.testing.assert_frame_equal(got, cli_scores, check_exact=True)

    # the h5ad holds the same scores under the library's keys; the workbook and zip hold everything
    h5 = client.get(f"/api/jobs/{job_id}/files/scores.h5ad")
    assert h5.headers["content-disposition"].startswith("attachment")
    path = client.app.state.settings.data_dir / "download.h5ad"
    path.write_bytes(h5.content)
    adata = ad.read_h5ad(path)
    # (the CSV tables hold 15 significant digits; the h5ad the full float64)
    np.testing.assert_allclose(adata.X, cli_scores.to_numpy(), rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(adata.obsm["resistscore_scores"].to_numpy(), adata.X)
    assert adata.obs["group"].tolist() == pd.read_csv(cohort_files["metadata"], index_col=0)["group"].tolist()
    xlsx = pd.read_excel(
        io.BytesIO(client.get(f"/api/jobs/{job_id}/files/resistscore-tables.xlsx").content), sheet_name=None
    )
    assert {"scores", "scores_tidy", "coverage", "stats_groups"} <= set(xlsx)
    np.testing.assert_array_equal(xlsx["scores"].iloc[:, 1:].to_numpy(dtype=float), cli_scores.to_numpy())
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/jobs/{job_id}/files/resistscore-results.zip").content))
    assert "resistscore-results/report.html" in z.namelist()
    assert any(n.startswith("resistscore-results/figures/") for n in z.namelist())

    # reproduce offline: the exact command, versions and seed
    rep = client.get(f"/api/jobs/{job_id}").json()["reproduce"]
    assert rep["cli"].startswith(
        "resistscore report expression.csv --metadata metadata.csv --group group --seed 0"
    )
    assert rep["seed"] == 0 and rep["versions"]["resistscore"] and rep["method"] == "singscore"
    assert rep["python"].count("rs.analyze(") == 1 and "_workflow" not in rep["python"]
    # figures: PNG only unless a vector format is asked for (the report embeds the PNG files)
    assert any(n.startswith("figures/") and n.endswith(".png") for n in names)
    assert not any(n.endswith((".pdf", ".svg")) for n in names)

    # results page; then DELETE removes the job and its files at once
    page = client.get(f"/jobs/{job_id}/results")
    assert page.status_code == 200 and "Reproduce offline" in page.text
    folder = client.app.state.store.job_dir(job_id)
    assert folder.is_dir()
    # a client holding the page's CSRF cookie is a browser: it must send the token
    assert client.delete(f"/api/jobs/{job_id}").status_code == 403
    token = client.cookies.get("rs_csrf")
    assert client.delete(f"/api/jobs/{job_id}", headers={"X-CSRF-Token": token}).status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/files/scores.csv").status_code == 404


def test_no_listing_and_unknown_ids(make_client):
    client = make_client(start_runner=False)
    assert client.get("/api/jobs").status_code == 405  # no listing of jobs
    for bad in ("x" * 32, "../../etc/passwd", "%2e%2e%2fjobs.sqlite3", "A" * 500):
        assert client.get(f"/api/jobs/{bad}").status_code == 404
    assert client.get("/openapi.json").json()["paths"]["/api/jobs"]["post"]


def test_progress_probes(cohort_files):
    """The probes report the stage a public function starts, only inside a tracked block."""
    from resistscore import io as rsio
    from resistscore.service._progress import tracking

    original = rsio.read
    seen = []
    with tracking(seen.append):
        assert rsio.read is not original
        rsio.read(cohort_files["expression"])
        rsio.read(cohort_files["expression"])  # each stage once
    assert rsio.read is original  # the library is untouched outside a tracked job
    rsio.read(cohort_files["expression"])
    assert seen == ["reading"]


def test_bad_input_fails_the_job_with_the_library_message(make_client, cohort_files, tmp_path):
    """A file that is readable but not an expression table: the job fails with resistscore's message."""
    bad = tmp_path / "words.csv"
    bad.write_text("a,b,c\nfoo,bar,baz\nqux,quux,corge\n")
    client = make_client()
    job = wait_for(client, submit(client, {"expression": bad}).json()["id"])
    assert job["status"] == "failed"
    assert job["error"] and "Traceback" not in job["error"] and "internal error" not in job["error"]


def test_methods_come_from_a_worker(make_client, cohort_files):
    """The web process never imports the scoring engine; the method list is asked of a worker."""
    client = make_client()
    assert client.app.state.runner.ready.wait(120)
    methods = [m["id"] for m in client.get("/api/options").json()["methods"]]
    assert "singscore" in methods and "ucell" in methods
    assert 'value="singscore"' in client.get("/").text
    client.cookies.clear()  # a script again
    r = submit(client, {"expression": cohort_files["expression"]}, method="nope")
    assert r.status_code == 422 and "singscore" in r.json()["detail"]


def test_web_process_does_not_import_the_engine(tmp_path):
    """The app (web process) imports neither the scoring engine nor numba: it stays small."""
    import subprocess
    import sys

    code = (
        "import sys; from resistscore.service import ServiceSettings, create_app; "
        f"create_app(ServiceSettings(data_dir={str(tmp_path)!r}), start_runner=False); "
        "print(sorted(m for m in ('resistscore.tl', 'numba', 'scanpy', 'resistscore._workflow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_reproduce_offline_gives_the_same_scores(make_client, cohort_files, tmp_path):
    """The "reproduce offline" commands, run as written, give the service's scores (a drug's signature)."""
    import shlex
    import shutil

    client = make_client()
    job_id = submit(client, {"expression": cohort_files["expression"]}, signatures="drug:adriamycin").json()[
        "id"
    ]
    job = wait_for(client, job_id)
    assert job["status"] == "done", job
    rep = client.get(f"/api/jobs/{job_id}").json()["reproduce"]
    lines = rep["cli"].splitlines()
    assert (
        lines[0]
        == "resistscore signatures export --drug doxorubicin --format yaml-folder --out drug-signature"
    )
    shutil.copy(cohort_files["expression"], tmp_path / "expression.csv")
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path) as here, warnings.catch_warnings():
        warnings.simplefilter("default")
        shutil.copy(cohort_files["expression"], "expression.csv")
        for line in lines:
            args = shlex.split(line)
            assert args[0] == "resistscore"
            res = runner.invoke(cli, args[1:], catch_exceptions=False)
            assert res.exit_code == 0, res.output
        offline = pd.read_csv(f"{here}/resistscore-results/scores.csv", index_col=0)
    served = pd.read_csv(io.StringIO(client.get(f"/api/jobs/{job_id}/files/scores.csv").text), index_col=0)
    assert list(served.columns) == ["drug.doxorubicin"]
    pd.testing.assert_frame_equal(served, offline, check_exact=True)


def _public_names_only(code: str) -> None:
    """The snippet imports only ``resistscore as rs`` and uses no name that starts with an underscore."""
    import ast

    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            raise AssertionError(f"the snippet imports from a module: {ast.unparse(node)}")
        if isinstance(node, ast.Import):
            assert [(a.name, a.asname) for a in node.names] == [("resistscore", "rs")], ast.unparse(node)
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), f"private name in the snippet: {ast.unparse(node)}"
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_"), f"private name in the snippet: {node.id}"


def test_reproduce_offline_python_is_public_and_gives_the_same_scores(make_client, cohort_files, tmp_path):
    """The Python snippet uses public names only (rs.analyze ...) and, run as written, gives the job's scores
    and outputs; the job's figure formats are those asked for (``formats``) and are in the snippet."""
    import os
    import shutil

    client = make_client()
    r = submit(client, {"expression": cohort_files["expression"]}, formats="docx")
    assert r.status_code == 422 and "png, pdf, svg" in r.json()["detail"]
    files = {"expression": cohort_files["expression"], "metadata": cohort_files["metadata"]}
    r = submit(client, files, group="group", signatures="efflux_abc,apoptosis", formats="pdf", seed="3")
    job_id = r.json()["id"]
    job = wait_for(client, job_id)
    assert job["status"] == "done", job
    names = {f["name"] for f in job["files"]}
    pngs = {n[:-4] for n in names if n.startswith("figures/") and n.endswith(".png")}
    assert pngs and pngs == {n[:-4] for n in names if n.startswith("figures/") and n.endswith(".pdf")}
    rep = client.get(f"/api/jobs/{job_id}").json()["reproduce"]
    assert "--formats png,pdf" in rep["cli"] and "formats=('png', 'pdf')" in rep["python"]
    _public_names_only(rep["python"])
    here = tmp_path / "offline"
    here.mkdir()
    shutil.copy(cohort_files["expression"], here / "expression.csv")
    shutil.copy(cohort_files["metadata"], here / "metadata.csv")
    cwd = os.getcwd()
    os.chdir(here)
    try:
        with warnings.catch_warnings():  # as a user runs it: warnings are shown, not errors
            warnings.simplefilter("default")
            namespace: dict = {}
            exec(compile(rep["python"], "reproduce.py", "exec"), namespace)
    finally:
        os.chdir(cwd)
    served = pd.read_csv(io.StringIO(client.get(f"/api/jobs/{job_id}/files/scores.csv").text), index_col=0)
    offline = pd.read_csv(here / "resistscore-results" / "scores.csv", index_col=0)
    assert list(served.columns) == ["efflux_abc", "apoptosis"]
    pd.testing.assert_frame_equal(served, offline, check_exact=True)
    np.testing.assert_allclose(namespace["outputs"].result.scores.to_numpy(), served.to_numpy(), rtol=1e-13)
    stats = pd.read_csv(io.StringIO(client.get(f"/api/jobs/{job_id}/files/stats_groups.csv").text))
    pd.testing.assert_frame_equal(stats, pd.read_csv(here / "resistscore-results" / "stats_groups.csv"))
    offline_figures = {
        p.relative_to(here / "resistscore-results").as_posix()
        for p in (here / "resistscore-results" / "figures").iterdir()
    }
    assert offline_figures == {n for n in names if n.startswith("figures/")}
