"""Faults, with real servers: SIGKILL of the server mid-jobs, a crashed worker, request-head limits."""

from __future__ import annotations

import socket
import time

import psutil
import pytest

from .conftest import submit, wait_for

pytestmark = pytest.mark.slow


def _workers(pid: int) -> list[psutil.Process]:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if "python" in p.name().lower()]
    except psutil.NoSuchProcess:
        return []


def test_server_sigkill_loses_no_accepted_job(server_factory, cohort_files, tmp_path):
    data = tmp_path / "data"
    server = server_factory(data_dir=data)
    with server.client() as http:
        ids = [
            submit(http, cohort_files, group="group").json()["id"] for _ in range(2)
        ]  # one runs, one waits
        wait_for(http, ids[0], until=("running",), timeout=120)
    children = _workers(server.proc.pid)
    assert children, "the local cluster's worker processes"
    server.kill()  # SIGKILL, mid-job
    # the orphaned workers notice their parent died and exit by themselves
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"worker processes left behind: {[p.pid for p in alive]}"
    assert not list((data / "jobs" / ids[0]).glob("result"))  # no half-written results

    server.start()  # same data folder
    with server.client() as http:
        jobs = [wait_for(http, i, timeout=300) for i in ids]
    assert [j["status"] for j in jobs] == ["done"] * 2, [j.get("error") for j in jobs]
    assert all("scores.csv" in {f["name"] for f in j["files"]} for j in jobs)


def test_crashed_worker_fails_only_its_job(server_factory, cohort_files):
    server = server_factory(max_attempts=1)
    with server.client() as http:
        first = submit(http, cohort_files, group="group").json()["id"]
        second = submit(http, cohort_files, group="group").json()["id"]
        wait_for(http, first, until=("running",), timeout=120)
        time.sleep(1.0)
        workers = [
            p for p in _workers(server.proc.pid) if p.cmdline() and "spawn_main" in " ".join(p.cmdline())
        ]
        assert workers
        for w in workers:
            w.kill()
        failed = wait_for(http, first, timeout=120)
        assert failed["status"] == "failed"
        assert "worker process running this job stopped" in failed["error"] and "memory" in failed["error"]
        other = wait_for(http, second, timeout=300)
        assert other["status"] == "done", other


def test_request_head_limit(server_factory):
    server = server_factory(max_header_kb=8)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = s.recv(200)
    assert answer.startswith(b"HTTP/1.1 431"), answer  # refused, not served
    with server.client() as http:
        assert http.get("/healthz").status_code == 200


def test_readme_examples_run(server_factory, cohort_files, tmp_path):
    """The README's curl and httpx examples work as written, against a real server."""
    import re
    import shutil
    import subprocess

    from .conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Upload service", 1)[1].split("\n## ", 1)[0]
    curl = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    httpx_block = re.search(r"```py\n(.*?)```", section, re.S).group(1)
    server = server_factory()
    work = tmp_path / "readme"
    work.mkdir()
    shutil.copy(cohort_files["expression"], work / "expression.csv")
    meta = cohort_files["metadata"].read_text().replace("group", "response_group", 1)
    (work / "samples.csv").write_text(meta)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", curl.replace("http://127.0.0.1:8000", server.url)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    import pandas as pd

    assert pd.read_csv(work / "scores.csv", index_col=0).shape[0] == 8  # the cohort's samples
    namespace: dict = {}
    import os

    old = os.getcwd()
    os.chdir(work)
    try:
        exec(
            compile(httpx_block.replace("http://127.0.0.1:8000", server.url), "README.md", "exec"), namespace
        )
    finally:
        os.chdir(old)
    assert namespace["status"]["status"] == "done", namespace["status"]
    assert namespace["scores"].splitlines()[0].split(",")[1:] == ["efflux_abc", "apoptosis"]
