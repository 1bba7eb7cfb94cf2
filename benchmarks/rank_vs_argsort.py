"""Bulk rank-based scoring of all signatures vs one argsort of the matrix, in one process.

The target of issue 5: scoring every mechanism signature with a rank-based method costs at most twice
one ``numpy.argsort(X, axis=1)`` of the samples x genes matrix (the least a rank-based method must do).
Both are timed in the same process on the same in-memory matrix (the synthetic bulk data of
``run.py``), after one warm-up call (numba's compiled kernels are loaded from its cache, numpy's sort
needs no warm-up), best of ``--repeat`` runs, without p-values.

    python benchmarks/rank_vs_argsort.py                 # 20k genes x 1k samples
    python benchmarks/rank_vs_argsort.py --samples 10000

Prints a Markdown table and writes it to ``benchmarks/results/rank_vs_argsort_<n>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ensure_data, gene_universe, load_network  # noqa: E402

RANK_METHODS = ("singscore", "ucell", "aucell", "ssgsea")


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data-dir", default=os.environ.get("RESISTSCORE_BENCH_DATA", "/tmp/resistscore-bench"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    import pandas as pd

    import resistscore as rs

    network, source = load_network()
    genes = gene_universe(network)
    X = np.load(ensure_data("bulk", args.samples, Path(args.data_dir), genes))
    df = pd.DataFrame(X, columns=genes, copy=False)
    net = pd.DataFrame(
        [(s, g, w) for s, members in network.items() for g, w in members.items()],
        columns=["source", "target", "weight"],
    )
    t_sort = best(lambda: np.argsort(X, axis=1), args.repeat)
    rows = [("numpy.argsort(X, axis=1)", 1, t_sort)]
    for method in RANK_METHODS:
        for n_jobs in (1, 2):
            rs.tl.score(df.iloc[:20], net, method=method, pvalues=False, n_jobs=n_jobs)  # warm-up
            t = best(
                lambda m=method, j=n_jobs: rs.tl.score(df, net, method=m, pvalues=False, n_jobs=j),
                args.repeat,
            )
            rows.append((f"rs.tl.score(method={method!r})", n_jobs, t))
    head = (
        f"resistscore rank-based scoring vs one argsort, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{X.shape[1]} genes x {X.shape[0]} samples; {len(network)} signatures ({source}); "
        f"best of {args.repeat}; {os.cpu_count()} CPUs.\n"
        f"Command: python benchmarks/rank_vs_argsort.py --samples {args.samples}\n\n"
        "| what | threads | seconds | x one argsort |\n|---|---:|---:|---:|\n"
    )
    table = head + "".join(f"| {w} | {j} | {t:.3f} | {t / t_sort:.2f} |\n" for w, j, t in rows)
    print(table)
    if not args.no_write:
        out = HERE / "results" / f"rank_vs_argsort_{args.samples}.md"
        tmp = out.with_suffix(".tmp")
        tmp.write_text(table)
        tmp.replace(out)
        print(f"written: {out}")


if __name__ == "__main__":
    main()
