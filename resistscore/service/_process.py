"""``resistscore serve`` as a child process: for the tests, the benchmark and scripts that need a server.

The server runs in a process group of its own, so that everything it starts (the local cluster's worker
processes) can be stopped at once, by that group's id, and nothing else.
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

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``resistscore serve`` on 127.0.0.1 and a free port, with settings given as environment variables.

    Parameters
    ----------
    data_dir
        The server's data folder (kept across :meth:`kill` and :meth:`start`).
    log
        File that receives the server's output.
    **settings
        Service settings (``max_upload_mb=15`` becomes ``RESISTSCORE_SERVE_MAX_UPLOAD_MB=15``).
    """

    def __init__(self, data_dir: Path, log: Path, **settings) -> None:
        self.data_dir = Path(data_dir)
        self.log = Path(log)
        self.env = {f"RESISTSCORE_SERVE_{k.upper()}": str(v) for k, v in settings.items()}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.groups: list[int] = []

    def start(self, timeout: float = 180.0) -> ServerProcess:
        """Start the server and wait until it answers with a ready cluster."""
        import httpx

        args = [
            sys.executable,
            "-c",
            "import sys; from resistscore.cli import main; main(sys.argv[1:])",
            "serve",
        ]
        args += ["--port", str(self.port), "--data-dir", str(self.data_dir), "--log-level", "warning"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                start_new_session=True,
            )
        self.groups.append(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                health = httpx.get(self.url + "/healthz", timeout=2).json()
                if health.get("ready") and health.get("workers", 0) > 0:
                    return self
            time.sleep(0.3)
        raise RuntimeError(
            f"the server was not ready after {timeout} s: {self.log.read_text(errors='replace')[-3000:]}"
        )

    def client(self, **kwargs):
        """Return an ``httpx.Client`` for this server."""
        import httpx

        return httpx.Client(base_url=self.url, timeout=60, **kwargs)

    def workers(self) -> list:
        """Return the local cluster's worker processes (``psutil.Process``)."""
        import psutil

        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.proc.pid).children(recursive=True)
            return [p for p in children if "spawn_main" in " ".join(p.cmdline())]
        return []

    def kill(self) -> None:
        """SIGKILL the server process only (its workers notice and exit by themselves)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(30)

    def stop(self) -> None:
        """SIGKILL every process still alive in the groups of the servers this object started."""
        for pgid in self.groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)
