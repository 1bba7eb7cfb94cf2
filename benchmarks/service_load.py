"""Load and fault benchmark of the upload service (``resistscore serve``), on the loopback interface only.

Phases (each bounded in count and time; the script stops by itself and kills every process it started):

1. ``idle``: one job alone, upload to report (target for 20k genes x 100 samples: <= 15 s).
2. ``burst``: ``--clients`` clients upload the matrix at once; all must finish ``done``.
3. ``series``: ``--jobs`` jobs submitted one after the other (a 429 is honoured with its ``Retry-After``).
4. ``server-kill``: jobs submitted, the server SIGKILLed while one runs and started again on the same data folder.
5. ``worker-kill``: jobs submitted, the worker process SIGKILLed while it runs a job.
6. ``big-upload``: one ``--big-mb`` MiB upload; the web process's memory is sampled while it streams in
   (target at 1 GB: flat, < 300 MB).

For each: jobs done / lost / failed, p50 / p95 time to result (submission to ``done``), throughput, and the
peak resident memory of the web process (and of the whole server with its workers). Results are printed and
written to ``benchmarks/results/service_load_<genes>x<samples>.md``.

Full run (a quiet machine; ~1 h on 2 cores)::

    python benchmarks/service_load.py --genes 20000 --samples 100 --clients 20 --jobs 200 --big-mb 1024

Small run (checks that everything works; a few minutes)::

    python benchmarks/service_load.py --genes 2000 --samples 20 --clients 3 --jobs 6 --fault-jobs 3 --big-mb 50
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import psutil

from resistscore.service._process import ServerProcess

RESULTS = Path(__file__).resolve().parent / "results"
HARD_LIMIT_S = 4 * 3600  # the whole script never runs longer


class Server(ServerProcess):
    """The server under test, with its memory sampled every 0.1 s."""

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str]) -> None:
        super().__init__(data_dir, log)
        self.env = env
        self.peak_web = 0
        self.peak_total = 0
        self._sampling = False

    def sample_memory(self) -> None:
        self._sampling = True

        def loop():
            while self._sampling:
                with contextlib.suppress(psutil.Error, AttributeError):
                    web = psutil.Process(self.proc.pid)
                    rss = web.memory_info().rss
                    total = rss + sum(c.memory_info().rss for c in web.children(recursive=True))
                    self.peak_web = max(self.peak_web, rss)
                    self.peak_total = max(self.peak_total, total)
                time.sleep(0.1)

        threading.Thread(target=loop, daemon=True).start()

    def reset_peaks(self) -> None:
        self.peak_web = self.peak_total = 0

    def stop(self) -> None:
        self._sampling = False
        super().stop()


def make_matrix(path: Path, n_genes: int, n_samples: int, seed: int = 0) -> None:
    """A genes x samples CSV with real HGNC symbols and log-normal values."""
    import resistscore as rs

    symbols = rs.pp.gene_table()["symbol"].drop_duplicates().head(n_genes).tolist()
    rng = np.random.default_rng(seed)
    values = rng.lognormal(2, 1.2, size=(len(symbols), n_samples)).round(3)
    pd.DataFrame(
        values, index=pd.Index(symbols, name="gene"), columns=[f"S{i:03d}" for i in range(n_samples)]
    ).to_csv(path)


def submit(url: str, path: Path, deadline: float) -> tuple[str, float]:
    """Upload a job; honour 429 Retry-After; retry while the server restarts. Returns (id, submit time)."""
    t0 = time.monotonic()
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=url, timeout=600) as http, open(path, "rb") as fh:
                r = http.post("/api/jobs", files={"expression": (path.name, fh)}, data={"seed": "0"})
        except httpx.HTTPError:
            time.sleep(1)
            continue
        if r.status_code == 202:
            return r.json()["id"], t0
        if r.status_code == 429:
            time.sleep(float(r.headers.get("retry-after", "5")))
            continue
        raise RuntimeError(f"submission answered {r.status_code}: {r.text[:200]}")
    raise TimeoutError("submission did not succeed before the deadline")


def wait_all(server: Server, ids: dict[str, float], deadline: float, on_tick=None) -> dict[str, dict]:
    """Poll every job until done/failed (or the deadline); returns id -> {status, seconds, error}."""
    out: dict[str, dict] = {}
    while len(out) < len(ids) and time.monotonic() < deadline:
        if on_tick is not None:
            on_tick()
        for job_id, t0 in ids.items():
            if job_id in out:
                continue
            try:
                r = httpx.get(f"{server.url}/api/jobs/{job_id}", timeout=10)
            except httpx.HTTPError:
                continue
            if r.status_code == 404:
                out[job_id] = {"status": "lost", "seconds": None, "error": "404"}
                continue
            job = r.json()
            if job["status"] in ("done", "failed"):
                out[job_id] = {
                    "status": job["status"],
                    "seconds": time.monotonic() - t0,
                    "error": job.get("error"),
                    "history": job.get("history", []),
                }
        time.sleep(0.5)
    for job_id in ids:
        out.setdefault(job_id, {"status": "unfinished", "seconds": None, "error": "deadline"})
    return out


def summarise(name: str, results: dict[str, dict], wall: float, server: Server) -> dict:
    secs = sorted(r["seconds"] for r in results.values() if r["status"] == "done")
    row = {
        "phase": name,
        "jobs": len(results),
        "done": sum(r["status"] == "done" for r in results.values()),
        "failed": sum(r["status"] == "failed" for r in results.values()),
        "lost": sum(r["status"] in ("lost", "unfinished") for r in results.values()),
        "p50_s": round(statistics.median(secs), 2) if secs else None,
        "p95_s": round(float(np.percentile(secs, 95)), 2) if secs else None,
        "jobs_per_min": round(60 * len(secs) / wall, 2) if wall > 0 else None,
        "web_peak_mb": round(server.peak_web / 2**20),
        "server_peak_mb": round(server.peak_total / 2**20),
        "errors": sorted({str(r["error"])[:120] for r in results.values() if r["status"] != "done"}),
        "stages_s": _stage_seconds(results),
    }
    print(json.dumps(row), flush=True)
    return row


def _stage_seconds(results: dict[str, dict]) -> dict[str, float]:
    """Seconds spent in each stage by the first finished job (from its ``history``); "queued": until it ran."""
    done = [r for r in results.values() if r["status"] == "done" and r.get("history")]
    if not done:
        return {}
    hist = done[0]["history"]
    out = {"queued": hist[0]["elapsed_s"]}
    for a, b in zip(hist, hist[1:]):
        out[a["stage"]] = round(out.get(a["stage"], 0) + b["elapsed_s"] - a["elapsed_s"], 2)
    return out


def run_phase(name, server, path, n_jobs, deadline, *, parallel: bool, fault=None) -> dict:
    server.reset_peaks()
    t0 = time.monotonic()
    if parallel:
        with ThreadPoolExecutor(n_jobs) as pool:
            subs = list(pool.map(lambda _: submit(server.url, path, deadline), range(n_jobs)))
    else:
        subs = [submit(server.url, path, deadline) for _ in range(n_jobs)]
    ids = dict(subs)
    fired = []

    def tick():
        if fault is not None and not fired:
            with contextlib.suppress(httpx.HTTPError):
                running = [
                    i
                    for i in ids
                    if httpx.get(f"{server.url}/api/jobs/{i}", timeout=5).json()["status"] == "running"
                ]
                if running:
                    fired.append(fault())

    results = wait_all(server, ids, deadline, on_tick=tick)
    if fault is not None and not fired:
        print(f"warning: phase {name}: the fault never fired (no job seen running)", flush=True)
    return summarise(name, results, time.monotonic() - t0, server)


def big_upload(server: Server, size_mb: int, work: Path, deadline: float) -> dict:
    """Stream a ``size_mb`` MiB CSV upload; sample the web process's memory meanwhile."""
    big = work / "big.csv"
    line = ("GENE" + ",1.000" * 100 + "\n").encode()
    with open(big, "wb") as fh:
        fh.write(("gene" + "".join(f",S{i}" for i in range(100)) + "\n").encode())
        for _ in range(size_mb * 2**20 // len(line)):
            fh.write(line)
    server.reset_peaks()
    before = psutil.Process(server.proc.pid).memory_info().rss
    t0 = time.monotonic()
    with (
        httpx.Client(base_url=server.url, timeout=max(60, deadline - time.monotonic())) as http,
        open(big, "rb") as fh,
    ):
        r = http.post("/api/jobs", files={"expression": ("big.csv", fh)})
    seconds = time.monotonic() - t0
    if r.status_code == 202:  # not analysed: the upload path is what is measured
        httpx.delete(f"{server.url}/api/jobs/{r.json()['id']}", timeout=30)
    big.unlink()
    row = {
        "phase": f"big-upload {size_mb} MiB",
        "status": r.status_code,
        "seconds": round(seconds, 1),
        "web_rss_before_mb": round(before / 2**20),
        "web_peak_mb": round(server.peak_web / 2**20),
        "mb_per_s": round(size_mb / seconds, 1),
    }
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--fault-jobs", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--phases", default="idle,burst,series,server-kill,worker-kill,big-upload")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    # a SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C, so the server's process group is still stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    phases = set(args.phases.split(","))
    deadline = time.monotonic() + HARD_LIMIT_S
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="rs-service-bench-") as tmp:
        work = Path(tmp)
        matrix = work / "expression.csv"
        make_matrix(matrix, args.genes, args.samples)
        env = {
            "RESISTSCORE_SERVE_WORKERS": str(args.workers),
            "RESISTSCORE_SERVE_MAX_QUEUE": str(max(1000, args.jobs + args.clients)),
            "RESISTSCORE_SERVE_MAX_JOBS_PER_CLIENT": str(max(1000, args.jobs + args.clients)),
            "RESISTSCORE_SERVE_MAX_UPLOAD_MB": str(args.big_mb + 64),
            "RESISTSCORE_SERVE_MAX_DECOMPRESSED_MB": str(args.big_mb + 64),
        }
        server = Server(work / "data", work / "server.log", env)
        try:
            server.start()
            server.sample_memory()
            if "idle" in phases:
                rows.append(run_phase("idle (1 job)", server, matrix, 1, deadline, parallel=False))
            if "burst" in phases:
                rows.append(
                    run_phase(
                        f"burst ({args.clients} clients at once)",
                        server,
                        matrix,
                        args.clients,
                        deadline,
                        parallel=True,
                    )
                )
            if "series" in phases:
                rows.append(
                    run_phase(
                        f"series ({args.jobs} jobs in a row)",
                        server,
                        matrix,
                        args.jobs,
                        deadline,
                        parallel=False,
                    )
                )
            if "server-kill" in phases:

                def kill_server():
                    server.kill()
                    server.start()
                    return "server killed and restarted"

                rows.append(
                    run_phase(
                        "server SIGKILL mid-run",
                        server,
                        matrix,
                        args.fault_jobs,
                        deadline,
                        parallel=False,
                        fault=kill_server,
                    )
                )
            if "worker-kill" in phases:

                def kill_worker():
                    for w in server.workers()[:1]:
                        w.kill()
                    return "worker killed"

                rows.append(
                    run_phase(
                        "worker SIGKILL mid-run",
                        server,
                        matrix,
                        args.fault_jobs,
                        deadline,
                        parallel=False,
                        fault=kill_worker,
                    )
                )
            if "big-upload" in phases:
                rows.append(big_upload(server, args.big_mb, work, deadline))
        finally:
            server.stop()
    out = args.out or RESULTS / f"service_load_{args.genes}x{args.samples}.md"
    lines = [
        f"# Service load benchmark: {args.genes} genes x {args.samples} samples",
        "",
        f"Command: `python benchmarks/service_load.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
        f"Machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"workers: {args.workers}",
        "",
        "```json",
        *[json.dumps(r) for r in rows],
        "```",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"written: {out}")
    bad = [r for r in rows if r.get("lost") or r.get("failed") or r.get("status", 202) != 202]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
