"""Fixtures of the service tests: small cohorts, an in-process app on a shared Dask cluster, real servers.

Every server listens on 127.0.0.1 on a free port; every fixture stops what it started (the server's whole
process group, Dask workers included) in its teardown.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the service tests need resistscore[serve]")

import resistscore as rs
from resistscore.service import ServiceSettings, create_app
from resistscore.service._process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "service"


def small_cohort(n_samples: int = 8, seed: int = 0, n_other: int = 1500):
    """A small bulk cohort cut from the toy: every signature gene plus ``n_other`` other genes."""
    adata = rs.ds.toy(seed=seed)
    sig_genes = set(rs.sig.load().to_network()["target"])
    keep = [g for g in adata.var_names if g in sig_genes]
    rng = np.random.default_rng(seed)
    others = [g for g in adata.var_names if g not in sig_genes]
    keep += list(rng.choice(others, size=min(n_other, len(others)), replace=False))
    idx = np.r_[0 : n_samples // 2, len(adata) - (n_samples - n_samples // 2) : len(adata)]
    sub = adata[idx, keep].copy()
    return sub


@pytest.fixture(scope="session")
def cohort_files(tmp_path_factory) -> dict[str, Path]:
    """``expression.csv`` (genes x samples) and ``metadata.csv`` of a small toy cohort."""
    d = tmp_path_factory.mktemp("cohort")
    adata = small_cohort()
    adata.to_df().T.to_csv(d / "expression.csv")
    adata.obs[["group", "log10_ic50", "survival_months", "event"]].to_csv(d / "metadata.csv")
    return {"expression": d / "expression.csv", "metadata": d / "metadata.csv"}


@pytest.fixture(scope="session")
def dask_scheduler():
    """One Dask LocalCluster (1 worker process, 1 thread) shared by the in-process app tests."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def make_client(tmp_path, dask_scheduler):
    """``make_client(**settings)``: a TestClient of a new app (own data folder) on the shared cluster."""
    from fastapi.testclient import TestClient

    opened = []

    def make(start_runner: bool = True, **options):
        options.setdefault("data_dir", tmp_path / f"data{len(opened)}")
        options.setdefault("scheduler", dask_scheduler)
        settings = ServiceSettings(**options)
        client = TestClient(create_app(settings, start_runner=start_runner), base_url="http://127.0.0.1")
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


def wait_for(client, job_id: str, timeout: float = 180.0, until=("done", "failed")) -> dict:
    """Poll a job until its status is in ``until``; return its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job.get("status") in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.get('status')} after {timeout} s: {job}")
        time.sleep(0.3)


def submit(client, files: dict[str, Path], url: str = "/api/jobs", **fields) -> httpx.Response:
    """POST a job with these files (field -> path) and form fields."""
    with contextlib.ExitStack() as stack:
        opened = {k: (Path(p).name, stack.enter_context(open(p, "rb"))) for k, p in files.items()}
        return client.post(url, files=opened, data={k: str(v) for k, v in fields.items()})


# ------------------------------------------------------------------------------------ real servers
@pytest.fixture
def server_factory(tmp_path):
    """``server_factory(**settings)``: start ``resistscore serve`` (settings as environment variables)."""
    started: list[ServerProcess] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def make(data_dir: Path | None = None, **options) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / "data", tmp_path / "server.log", **options)
        started.append(server)
        return server.start()

    yield make
    for s in started:
        s.stop()
