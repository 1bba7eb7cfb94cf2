#!/usr/bin/env python
"""First run after an install vs warm runs of ``rs.tl.score(path)``, in CPU seconds (issue 12 item 5).

Each run is a fresh Python process scoring ``path`` with the default method, p-values and FDR
(``rs.tl.score(path, pvalues=True, n_jobs=2)``, the shipped signatures). The first run gets an empty
``NUMBA_CACHE_DIR``, so numba compiles every kernel the run needs, as after a fresh install; the
following runs load them from that cache. CPU time (user + sys of the child process) is reported
beside wall time because it is far less disturbed by other work on a shared machine, with the CPU seconds
of every function numba compiled in that run (its ``numba:compile`` events; none in a warm run).

Example
-------
::

    python benchmarks/first_run.py /tmp/resistscore-bench/sc_100000.h5ad --warm 2 \
        --network /tmp/resistscore-bench/network.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CHILD = """
import json, sys, threading, time
from numba.core import event

# the CPU seconds of every compile (numba's numba:compile events, in the compiling thread): inclusive, and
# exclusive of the compiled functions it calls (numba compiles those first, nested in the caller's compile)
compiled, local = [], threading.local()
class Compiles(event.Listener):
    def on_start(self, ev):
        local.__dict__.setdefault("stack", []).append([time.thread_time(), 0.0])
    def on_end(self, ev):
        t0, nested = local.stack.pop()
        cpu = time.thread_time() - t0
        if local.stack:
            local.stack[-1][1] += cpu
        d = ev.data["dispatcher"]
        compiled.append([d.py_func.__module__ + "." + d.py_func.__qualname__, round(cpu, 3), round(cpu - nested, 3)])
event.register("numba:compile", Compiles())
import pandas as pd
import resistscore as rs
net = None
if sys.argv[3]:
    with open(sys.argv[3]) as f:
        sigs = json.load(f)
    rows = [(s, g, w) for s, m in sigs.items() for g, w in m.items()]
    net = pd.DataFrame(rows, columns=["source", "target", "weight"])
rs.tl.score(sys.argv[1], net, pvalues=True, n_jobs=int(sys.argv[2]))
with open(sys.argv[4], "w") as f:
    json.dump(compiled, f)
"""


def run_once(path: str, cache_dir: str, threads: int, network: str = "") -> dict:
    """Score ``path`` in a child process; return its CPU and wall seconds, and what it compiled.

    ``max_rss_mib`` is the largest peak resident memory of the child processes run so far. ``compile_cpu_s``
    is the CPU time of numba's compiles in the child, ``compiled`` each compiled function (most costly first):
    ``[name, CPU s, CPU s exclusive of the compiled functions it calls]``.
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    # Python's bytecode caches, as a fresh install has them (pip compiles them at install); only numba's cache
    # starts empty
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        log = os.path.join(tmp, "compiled.json")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CHILD, path, str(threads), network, log], env=env, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(log) as f:
            compiled = sorted(json.load(f), key=lambda c: -c[2])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "max_rss_mib": round(after.ru_maxrss / 1024),
        "compile_cpu_s": round(sum(c[2] for c in compiled), 2),
        "compiled": compiled,
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="an .h5ad file (e.g. the benchmark's sc_100000.h5ad)")
    ap.add_argument("--warm", type=int, default=2, help="warm runs after the first (default 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--network",
        default="",
        help="JSON {signature: {gene: weight}} (run.py writes one to its data dir); default: the shipped signatures",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        first = run_once(args.path, cache, args.threads, args.network)
        warm = [run_once(args.path, cache, args.threads, args.network) for _ in range(args.warm)]
    best = min(w["cpu_s"] for w in warm) if warm else float("nan")
    print(
        json.dumps(
            {
                "first": first,
                "warm": warm,
                "first_over_best_warm_cpu": round(first["cpu_s"] / best, 2) if warm else None,
                "load_avg": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
