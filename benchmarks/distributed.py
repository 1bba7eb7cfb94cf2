"""In-process vs Dask LocalCluster scoring, side by side in one run, and the distributed cost model.

For each size (single-cell CSR .h5ad, 20k genes, ~2,000 non-zeros per cell, the data of ``run.py``) three kinds
of run, each run in its own subprocess, at equal cores (``--threads``, default 2), ``--repeat`` times (default 3)
interleaved (in-process, 1xN, Nx1, in-process, ...: a drift of the machine's speed, frequent on shared machines,
touches all three alike), after the file was read through once (every run starts with it in the page cache, if
it fits). The table gives the median run and the range; the ratio to in-process is the median
of the ratios of runs made side by side, each listed (on the 2-core machine two runs of the same command, one
after the other, differed by up to a third: one run of each mode decides nothing):

* ``in-process``: ``rs.tl.score(path, n_jobs=threads)``;
* ``dask 1x{threads}``: a LocalCluster of 1 worker process with ``threads`` threads;
* ``dask {threads}x1``: a LocalCluster of ``threads`` worker processes with 1 thread each.

Every run: the default method (UCell) with p-values (pooled null) and FDR, all shipped signatures. Measured: the
wall seconds of the ``rs.tl.score`` call (the cluster is started before it, its workers have imported nothing of
resistscore yet), the CPU seconds (user + system) of the client process and of every worker process during the
call (``resource.getrusage`` in each; on a shared machine compare these, not the wall times), the client process's
peak RSS (psutil, every 20 ms; the workers are other processes), the minor page faults of the client and of every
worker during the call (fresh memory touched; unlike CPU seconds, not inflated by other work on the machine), the
number of partitions (Dask tasks), the CPU seconds of the client's Dask event-loop thread (receiving the
results; in a LocalCluster also the scheduler's work). The
scores, p-values and FDR of every run are checked equal to the first in-process run's (bit for bit). The runs
use Python's bytecode caches as an installed package does (``PYTHONDONTWRITEBYTECODE`` is dropped from their
environment): otherwise each worker would compile resistscore's modules from source inside the measured call.

The cost model (printed and written with the table): compute per cell = in-process seconds / cells; bytes a
partition sends back, measured by scoring one partition with the workers' own function; scheduler tasks = the
partitions + one per worker (its imports, early) + 1 data probe + at most one
per thread for the gene statistics + 2 (reader, plan); client memory ~ the results (24 bytes per cell and
signature) + the pool. Projection to 10M and 100M cells on N machines of C cores assumes the compute scales
linearly in cells and cores (no shared-file-system bottleneck), per-task overhead as measured here, and the
client finishing the pooled null in time linear in cells; the time the client's event loop takes to receive the
results (its CPU seconds per MiB received, measured here, times the bytes: one thread, whatever the number of
machines) is projected beside the compute - at 100M cells it, not the compute, bounds the run.

Client memory (issue 12): with two sizes or more, the client's peak RSS at the largest size is checked against the
bound ``1.2 x (peak at the smallest size) + (size of the results at the largest size)``, the results being the
scores, p-values and FDR (24 bytes per cell and signature in float64, 12 with ``--float32``), for every run; the
ratios are printed and written with the table.

    python benchmarks/distributed.py --sizes 100000,1000000
    python benchmarks/distributed.py --sizes 100000,1000000 --float32   # results kept in float32
    python benchmarks/distributed.py --quick            # 20,000 cells, a smoke run
    python benchmarks/distributed.py --sizes 10000,20000 # the client-memory check at small sizes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# this file is named like the dask package: keep its folder off the import path, load run.py by its path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def _run_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_run", HERE / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _peak_rss():
    """Start sampling this process's RSS; returns a function giving the peak so far (MiB)."""
    import psutil

    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()

    def get():
        peak[0] = max(peak[0], proc.memory_info().rss)
        return peak[0] / 2**20

    return get


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _page_faults() -> int:
    """Minor page faults of this process so far (fresh memory touched: a cost that does not depend on the load)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _loop_cpu() -> float:
    """CPU seconds so far of this process's Dask event-loop thread ("IO loop": the client's comms and, in a
    LocalCluster, the scheduler); NaN without such a thread (in-process, or a Dask that names it otherwise:
    then the cost model says "not measured" rather than projecting a receive time of 0)."""
    import psutil

    loops = {t.native_id for t in threading.enumerate() if t.name == "IO loop"}
    if not loops:
        return float("nan")
    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in loops)


def child(mode: str, path: str, threads: int, out: str) -> None:
    """One run, in this (sub)process: score ``path`` in-process or on a LocalCluster; write the results."""
    import numpy as np

    import resistscore as rs

    client = cluster = None
    if mode != "in-process":
        from distributed import Client, LocalCluster

        n_workers, per = (1, threads) if mode == "1x" else (threads, 1)
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=per, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", silence_logs=40,
        )  # fmt: skip
        client = Client(cluster)
    peak = _peak_rss()
    base = peak()
    workers0 = client.run(_cpu_seconds) if client is not None else {}
    faults0 = client.run(_page_faults) if client is not None else {}
    cpu0, client_faults0, loop0 = _cpu_seconds(), _page_faults(), _loop_cpu()
    t0 = time.perf_counter()
    dtype = os.environ.get("RS_BENCH_DTYPE", "float64")
    res = rs.tl.score(path, n_jobs=threads, client=client, dtype=dtype)
    seconds = time.perf_counter() - t0
    client_cpu, client_faults = _cpu_seconds() - cpu0, _page_faults() - client_faults0
    client_loop_cpu = _loop_cpu() - loop0
    workers1 = client.run(_cpu_seconds) if client is not None else {}
    workers_cpu = sum(workers1[w] - workers0.get(w, 0.0) for w in workers1)
    faults1 = client.run(_page_faults) if client is not None else {}
    workers_faults = sum(faults1[w] - faults0.get(w, 0) for w in faults1)
    results_mib = sum(f.to_numpy().nbytes for f in (res.scores, res.pvalues, res.fdr)) / 2**20
    rec = {
        "mode": mode, "seconds": seconds, "client_peak_mib": peak(), "client_base_mib": base,
        "results_mib": results_mib, "n_sets": int(res.scores.shape[1]),
        "client_cpu": client_cpu, "workers_cpu": workers_cpu, "client_loop_cpu": client_loop_cpu,
        "client_faults": client_faults, "workers_faults": workers_faults,
    }  # fmt: skip
    if client is not None:
        client.close()
        cluster.close()
    np.savez(out + ".npz", scores=res.scores.to_numpy(), p=res.pvalues.to_numpy(), fdr=res.fdr.to_numpy())
    Path(out + ".json").write_text(json.dumps(rec))


def partition_bytes(path: Path, threads: int) -> dict:
    """Bytes one partition sends back (scored here with the workers' function) and the partition count."""
    import numpy as np

    import resistscore as rs
    from resistscore.tl import _distributed as dist
    from resistscore.tl._chunks import block_moments, from_file

    captured = {}

    def fake_run(client, source, plan, ranges, on_part):
        captured["ranges"] = ranges
        a, b = ranges[0]
        res = dist.score_part(source.reader(), a, b, plan)
        captured["bytes"] = sum(v.nbytes for v in res.values() if isinstance(v, np.ndarray)) + sum(
            sum(np.asarray(x).nbytes for x in v) for k, v in res.items() if k == "tail"
        )
        captured["pool_bytes"] = res["pool"].nbytes if "pool" in res else 0  # a share of a fixed-size pool
        captured["rows"] = b - a
        captured["n_sets"] = plan.n_sets
        raise StopIteration

    class _FakeClient:  # stands for a 2-worker cluster; only the plan is computed
        pass

    import resistscore.tl._score as sc

    names = (
        "run_partitions",
        "check_client",
        "warm_workers",
        "cluster_threads",
        "remote_kind",
        "remote_gene_stats",
        "map_blocks",
    )
    real = [getattr(sc, n) for n in names]
    src = from_file(path)
    sc.run_partitions, sc.check_client, sc.warm_workers = fake_run, (lambda c: c), (lambda c: None)
    sc.cluster_threads = lambda c: threads
    sc.remote_kind = lambda c, s: sc.block_kind(s)
    sc.remote_gene_stats = lambda c, s, r: [block_moments(s, a, b) for a, b in r]
    sc.map_blocks = lambda c, s, fn, args_list, what: [fn(s.reader(), *args) for args in args_list]
    try:
        rs.tl.score(src, n_jobs=threads, client=_FakeClient())
    except StopIteration:
        pass
    finally:
        for n, f in zip(names, real):
            setattr(sc, n, f)
    return captured


def _read_through(path: Path, block: int = 64 * 2**20) -> None:
    """Read ``path`` once: the first run found the file partly out of the page cache (left by an earlier size), and
    took 1.5x the others."""
    with open(path, "rb", buffering=0) as f:
        while f.read(block):
            pass


def client_memory_check(small, large) -> list[str]:
    """Lines on the client's peak at the largest size against ``1.2 x peak(smallest) + results(largest)``."""
    (n0, _, _, r0), (n1, _, _, r1) = small, large
    out = [
        "",
        f"## Client memory: {n1:,} cells against {n0:,} cells",
        "",
        f"Bound: 1.2 x (client peak at {n0:,}) + (scores, p-values and FDR at {n1:,}: "
        f"{r1['in-process']['results_mib']:.0f} MiB).",
        "",
        "| run | peak MiB small | peak MiB large | results MiB large | bound MiB | large / bound | within |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ("in-process", "1x", "Nx"):
        p0, p1, res = r0[mode]["client_peak_mib"], r1[mode]["client_peak_mib"], r1[mode]["results_mib"]
        bound = 1.2 * p0 + res
        out.append(
            f"| {mode} | {p0:.0f} | {p1:.0f} | {res:.0f} | {bound:.0f} | {p1 / bound:.2f} | "
            f"{'yes' if p1 <= bound else 'NO'} |"
        )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--quick", action="store_true", help="20,000 cells")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/resistscore-bench"))
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each mode, interleaved; the table gives medians (default 3)",
    )
    ap.add_argument(
        "--float32", action="store_true", help="keep the results in float32 (rs.tl.score(dtype=...))"
    )
    ap.add_argument("--child", nargs=4, metavar=("MODE", "PATH", "THREADS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error(f"--repeat must be at least 1; got {args.repeat}")
    if args.child:
        mode, path, threads, out = args.child
        child(mode, path, int(threads), out)
        return
    import numpy as np

    run = _run_module()
    ensure_data, gene_universe, load_network = run.ensure_data, run.gene_universe, run.load_network

    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    genes = gene_universe(load_network()[0])
    env = {**os.environ, **{k: str(args.threads) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}}
    env["RS_BENCH_DTYPE"] = "float32" if args.float32 else "float64"
    # bytecode caches, as an installed package has them: with PYTHONDONTWRITEBYTECODE set (some development
    # environments set it) every worker process compiled resistscore's ~80 modules from source during the
    # measured call (a few tenths of a CPU second per worker): a cost of the environment, not of the
    # distributed path
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    lines = [
        f"# In-process vs Dask LocalCluster ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{args.threads} cores, load {os.getloadavg()[0]:.1f}, {args.repeat} interleaved run(s) of each)",
        "",
        "Seconds and CPU: the median run (min-max over the runs); ratios: the median of the ratios of runs made "
        "side by side (run i of a mode against run i in-process), each ratio listed; client peak: the largest.",
        "",
        "| cells | run | seconds | ratio to in-process | CPU s (client + workers) | CPU ratio | client peak MiB "
        "| same numbers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    model = []
    labels = (
        ("in-process", "in-process"),
        ("1x", f"dask 1x{args.threads}"),
        ("Nx", f"dask {args.threads}x1"),
    )
    for n in sizes:
        path = ensure_data("sc", n, args.data_dir, genes)
        # every run then starts with the file in the page cache (if it fits), the first one too
        _read_through(path)
        runs: dict[str, list] = {mode: [] for mode, _ in labels}
        ref = None  # the arrays of the first in-process run: every run is compared with them, then dropped
        for _ in range(args.repeat):
            for mode, _label in labels:  # interleaved: a drift of the machine touches every mode alike
                out = str(args.data_dir / f"dist_{n}_{mode}")
                subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(path), str(args.threads), out],
                    check=True,
                    env=env,
                )
                rec = json.loads(Path(out + ".json").read_text())
                with np.load(out + ".npz") as z:
                    arrays = {k: z[k] for k in ("scores", "p", "fdr")}
                Path(out + ".npz").unlink()
                ref = arrays if ref is None else ref
                rec["same"] = all(np.array_equal(arrays[k], ref[k], equal_nan=True) for k in arrays)
                runs[mode].append(rec)
                del arrays
        del ref
        base = runs["in-process"]
        recs = {}
        for mode, label in labels:
            rr = runs[mode]
            secs = [r["seconds"] for r in rr]
            cpus = [r["client_cpu"] + r["workers_cpu"] for r in rr]
            ratios = [r["seconds"] / b["seconds"] for r, b in zip(rr, base)]
            cpu_ratios = [c / (b["client_cpu"] + b["workers_cpu"]) for c, b in zip(cpus, base)]
            med = dict(sorted(rr, key=lambda r: r["seconds"])[(len(rr) - 1) // 2])  # the median run
            med["client_peak_mib"] = max(r["client_peak_mib"] for r in rr)
            recs[mode] = med
            spread = f" ({min(secs):.1f}-{max(secs):.1f})" if len(rr) > 1 else ""
            each = f" ({', '.join(f'{x:.2f}' for x in ratios)})" if len(rr) > 1 else ""
            lines.append(
                f"| {n:,} | {label} | {med['seconds']:.1f}{spread} | {statistics.median(ratios):.2f}{each} | "
                f"{statistics.median(cpus):.1f} ({med['client_cpu']:.1f} + {med['workers_cpu']:.1f}) | "
                f"{statistics.median(cpu_ratios):.2f} | {med['client_peak_mib']:.0f} | "
                f"{'yes' if all(r['same'] for r in rr) else 'NO'} |"
            )
        pb = partition_bytes(path, args.threads)
        per_cell = recs["in-process"]["seconds"] / n
        model.append((n, per_cell, pb, recs))
    if len(model) >= 2:
        lines += client_memory_check(model[0], model[-1])
    lines += ["", "## Cost model", ""]
    for n, per_cell, pb, recs in model:
        cpu = {m: recs[m]["client_cpu"] + recs[m]["workers_cpu"] for m in recs}
        extra = cpu["Nx"] - cpu["in-process"]  # CPU seconds: meaningful on a shared machine, unlike wall time
        bytes_per_row = pb["bytes"] / pb["rows"]
        # bytes per cell beyond the pooled null's values, whose number is fixed (at most MAX_POOL per signature)
        per_cell_bytes, pool_total = (
            (pb["bytes"] - pb["pool_bytes"]) / pb["rows"],
            pb["pool_bytes"] * len(pb["ranges"]),
        )
        received_mib = (n * per_cell_bytes + pool_total) / 2**20
        loop_cpu = recs["Nx"].get("client_loop_cpu", float("nan"))
        loop_ms_per_mib = 1e3 * loop_cpu / max(received_mib, 1e-9)
        loop_text = (
            f"{loop_cpu:.1f} CPU s, {loop_ms_per_mib:.2f} ms per MiB received"
            if np.isfinite(loop_cpu)
            else "not measured (no Dask thread named 'IO loop')"
        )
        lines += [
            f"- {n:,} cells: compute {per_cell * 1e6:.1f} us per cell on {args.threads} cores; "
            f"{len(pb['ranges'])} partitions of {pb['rows']:,} rows ({len(pb['ranges']) + 2 * args.threads + 3} scheduler tasks at most); "
            f"a partition sends back {pb['bytes'] / 2**20:.1f} MiB ({bytes_per_row:.0f} bytes per cell, "
            f"{pb['n_sets']} signatures); distributed overhead {extra:.1f} CPU s ({args.threads}x1 minus "
            f"in-process: each worker process's imports and numba set-up, Dask's own event loops, and per "
            f"partition at most {extra / max(len(pb['ranges']), 1) * 1e3:.0f} ms); the client's event loop "
            f"(receiving the {received_mib:,.0f} MiB of results, and the scheduler, which a LocalCluster runs in the "
            f"client process) {loop_text}; client peak {recs['Nx']['client_peak_mib']:.0f} MiB; page faults (client + workers) in-process "
            + ", ".join(
                f"{label} {recs[m]['client_faults'] + recs[m]['workers_faults']:,}"
                for m, label in (("in-process", ""), ("1x", f"1x{args.threads}"), ("Nx", f"{args.threads}x1"))
            ).lstrip()
            + ".",
        ]
        for cells in (10_000_000, 100_000_000):
            recv = cells * per_cell_bytes + pool_total
            recv_min = recv / 2**20 * loop_ms_per_mib / 1e3 / 60
            recv_text = f"~{recv_min:.1f} min" if np.isfinite(recv_min) else "a time not measured here"
            for machines, cores in ((10, 32), (100, 32)):
                t = cells * per_cell * args.threads / (machines * cores)
                mem = cells * pb["n_sets"] * 24 / 2**30
                lines.append(
                    f"  - projection {cells:,} cells on {machines} machines x {cores} cores: ~{t / 60:.1f} min of "
                    f"compute; the client receives {recv / 2**30:,.1f} GiB of results in one "
                    f"thread, {recv_text} at the rate measured here whatever the number of machines; "
                    f"client results ~{mem:.1f} GiB (24 bytes per cell and signature)"
                )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "distributed.md").write_text(text)


if __name__ == "__main__":
    main()
