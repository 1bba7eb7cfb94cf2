#!/usr/bin/env python
"""First run after an install vs warm runs of ``rs.tl.score(path)``, in CPU seconds (issue 12 item 5).

Each run is a fresh Python process scoring ``path`` with the default method, p-values and FDR
(``rs.tl.score(path, pvalues=True, n_jobs=2)``, the shipped signatures). Two installs are compared, each
with its own empty ``NUMBA_CACHE_DIR``:

* **cold**: a bare ``pip install`` without ``resistscore compile``: the first run compiles every kernel it
  needs; the warm runs that follow load them from that cache;
* **installed**: the install-time step first (``resistscore compile``, what ``bash run.sh`` does after
  ``pip install``; its wall and CPU seconds are the install's cost), then the first scoring run.

Printed (JSON): both first runs, the warm runs, the compile step, and the ratios of each first run to the best
warm run (CPU and wall). CPU time (user + sys of the child process) is reported beside wall time because it is
far less disturbed by other work on a shared machine, with the CPU seconds of every function numba compiled in
that run (its ``numba:compile`` events; none in a warm run, nor in the first run after the compile step).

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


COMPILE = "from resistscore.cli._main import main\nmain(['compile', '--quiet'])"


def compile_step(cache_dir: str) -> dict:
    """Run ``resistscore compile --quiet`` in a child process with ``cache_dir``; its CPU and wall seconds."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", COMPILE], env=env, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2)}


def _ratio(run: dict, warm: list[dict], key: str):
    return round(run[key] / min(w[key] for w in warm), 2) if warm else None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", help="an .h5ad file (e.g. the benchmark's sc_100000.h5ad)")
    ap.add_argument("--warm", type=int, default=2, help="warm runs after the cold first run (default 2)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--network",
        default="",
        help="JSON {signature: {gene: weight}} (run.py writes one to its data dir); default: the shipped signatures",
    )
    args = ap.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="numba-cache-") as cache,
        tempfile.TemporaryDirectory(prefix="numba-cache-installed-") as installed,
    ):
        first = run_once(args.path, cache, args.threads, args.network)
        warm = [run_once(args.path, cache, args.threads, args.network) for _ in range(args.warm)]
        install = compile_step(installed)
        after_install = run_once(args.path, installed, args.threads, args.network)
    print(
        json.dumps(
            {
                "first": first,
                "warm": warm,
                "install_compile": install,
                "first_after_install": after_install,
                "first_over_best_warm_cpu": _ratio(first, warm, "cpu_s"),
                "first_over_best_warm_wall": _ratio(first, warm, "wall_s"),
                "first_after_install_over_best_warm_cpu": _ratio(after_install, warm, "cpu_s"),
                "first_after_install_over_best_warm_wall": _ratio(after_install, warm, "wall_s"),
                "load_avg": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
