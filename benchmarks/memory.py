#!/usr/bin/env python
"""Peak memory of one ``rs.tl.score`` run of a file (issue 12: a million cells with p-values in 1 GiB).

Each run is a fresh child process; its peak resident memory is the kernel's (``ru_maxrss``, as
``/usr/bin/time -v`` reports it; undisturbed by other load on the machine). ``--phases`` also samples
the child's RSS every 10 ms and prints its peak per step of the engine (reading the names, the plan,
the control sets, the pass over the rows, the null, the FDR, the result).

Examples
--------
::

    python benchmarks/memory.py /tmp/resistscore-bench/sc_1000000.h5ad --dtype float32
    python benchmarks/memory.py /tmp/resistscore-bench/sc_100000.h5ad --dtype float64 --phases
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time

NETWORK = "/tmp/resistscore-bench/network.json"  # the 54 signatures of the benchmarks (benchmarks/README.md)


def _child(args) -> None:
    page = os.sysconf("SC_PAGE_SIZE")
    state = {"phase": "imports", "peak": {}, "order": ["imports"]}

    def rss() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page / 2**20

    def note() -> None:
        r, ph = rss(), state["phase"]
        state["peak"][ph] = max(state["peak"].get(ph, 0.0), r)

    def sample() -> None:
        while True:
            note()
            time.sleep(0.01)

    def step(mod, name: str) -> None:
        fn = getattr(mod, name)

        def wrapped(*a, **k):
            note()
            state["phase"] = name
            state["order"].append(name)
            try:
                return fn(*a, **k)
            finally:
                note()

        setattr(mod, name, wrapped)

    if args.phases:
        threading.Thread(target=sample, daemon=True).start()
    import pandas as pd

    import resistscore as rs
    import resistscore.tl._score as engine

    if args.phases:
        for name in ("file_rows", "_plan", "_control_sets", "_score_rows", "empirical_pvalues", "_result"):
            step(engine, name)
    with open(args.network) as f:
        sigs = json.load(f)
    net = pd.DataFrame(
        [(s, g, w) for s, m in sigs.items() for g, w in m.items()], columns=["source", "target", "weight"]
    )
    t0 = time.perf_counter()
    res = rs.tl.score(args.path, net, pvalues=not args.no_pvalues, n_jobs=args.threads, dtype=args.dtype)
    seconds = time.perf_counter() - t0
    if args.phases:
        note()
        for ph in state["order"]:
            print(f"  peak during {ph:18s} {state['peak'].get(ph, 0.0):7.0f} MiB", file=sys.stderr)
    print(
        f"  {res.scores.shape[0]} cells x {res.scores.shape[1]} signatures in {seconds:.1f} s",
        file=sys.stderr,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", help="an .h5ad file or .zarr store (e.g. made by benchmarks/run.py --suite sc)")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--no-pvalues", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--network", default=NETWORK, help="signatures: JSON {name: {gene: weight}}")
    ap.add_argument("--phases", action="store_true", help="peak RSS per step of the engine")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args)
        return
    # bytecode caches, as an installed package has them (PYTHONDONTWRITEBYTECODE dropped)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, *sys.argv, "--child"], check=True, env=env)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    pv = "no p-values" if args.no_pvalues else "p-values and FDR"
    print(f"{args.path}: {pv}, dtype={args.dtype}, {args.threads} threads: peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
