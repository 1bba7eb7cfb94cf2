"""Fixtures of the service tests: small cohorts, an in-process app on a shared Dask cluster, real servers.

Every server listens on 127.0.0.1 on a free port; every fixture stops what it started (the server's whole
process group, Dask workers included) in its teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the service tests need resistscore[serve]")

import resistscore as rs
from resistscore.service import ServiceSettings, create_app

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "service"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
class Server:
    """``resistscore serve`` in a subprocess of its own process group (killed whole in teardown)."""

    def __init__(self, data_dir: Path, log: Path, **options) -> None:
        self.data_dir = data_dir
        self.log = log
        self.options = options
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.groups: list[int] = []
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> Server:
        args = [sys.executable, "-c", "import sys; from resistscore.cli import main; main(sys.argv[1:])"]
        args += [
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
        ]
        env = dict(os.environ)
        for k, v in self.options.items():
            env[f"RESISTSCORE_SERVE_{k.upper()}"] = str(v)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.groups.append(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(self.url + "/healthz", timeout=2).json()
                if health.get("ready") and health.get("workers", 0) > 0:
                    return self
            time.sleep(0.3)
        raise AssertionError(f"server not ready after {timeout} s: {self.log.read_text()[-3000:]}")

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)

    def kill(self) -> None:
        """SIGKILL the server process only (its workers must notice and exit by themselves)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop_group(self) -> None:
        """Teardown: SIGKILL every process of the server's process group that is still alive."""
        for pgid in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)


@pytest.fixture
def server_factory(tmp_path):
    """``server_factory(**settings)``: start ``resistscore serve`` (settings as environment variables)."""
    started: list[Server] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def make(data_dir: Path | None = None, **options) -> Server:
        server = Server(data_dir or tmp_path / "data", tmp_path / "server.log", **options)
        started.append(server)
        return server.start()

    yield make
    for s in started:
        s.stop_group()
