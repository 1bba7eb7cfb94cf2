"""The command line against the Python API on the same file: whole-process time and peak memory.

For each size (single-cell CSR .h5ad, 20k genes, ~2,000 non-zeros per cell: the data of ``run.py``) two runs, each
a fresh process measured by ``/usr/bin/time -v`` (wall seconds and maximum resident set size):

* ``api``: ``python -c "rs.tl.score(path, n_jobs=T)"`` and the result written as the CLI writes it
  (``resistscore._workflow.write_scores``, same suffix), so that both runs do the same work;
* ``cli``: ``resistscore score path --out scores.<suffix>`` (OMP/NUMBA threads set to T, as for the API).

Both: the default method (UCell) with p-values and FDR, all shipped signatures; the file's genes harmonised
(``rs.tl.score(path)`` harmonises a path as the CLI does). Printed: seconds, peak MiB, and the CLI / API
ratios (issue 12 target: <= 1.3 for both at 1M cells). The scores, p-values and FDR of the two runs are checked
equal (read back from the written files).

    python benchmarks/cli_vs_api.py --quick                        # 20,000 cells (a smoke run)
    python benchmarks/cli_vs_api.py --sizes 100000,1000000         # the measurement of issue 12 (a quiet machine)
    python benchmarks/cli_vs_api.py --sizes 100000 --suffix .csv.gz --float32
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

API = """
import sys
from pathlib import Path
import resistscore as rs
from resistscore._workflow import write_scores
path, out, threads, dtype = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
res = rs.tl.score(path, n_jobs=threads, dtype=dtype)
write_scores(res, out)
"""


def _run_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bench_run", HERE / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd`` run under ``/usr/bin/time -v``."""
    t = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr[-3000:]}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1))
    return seconds, kb / 1024


def _arrays(path: Path):
    """Scores, p-values and FDR of an output file (h5ad: X and layers; a table: the wide scores only)."""
    import anndata as ad
    import pandas as pd

    name = path.name.lower()
    if name.endswith(".h5ad"):
        a = ad.read_h5ad(path)
        return {"scores": a.X, "p": a.layers["pvalues"], "fdr": a.layers["fdr"]}
    table = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path, index_col=0)
    return {"scores": table.to_numpy()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--quick", action="store_true", help="20,000 cells")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--suffix", default=".h5ad", help="output format of both runs: .h5ad, .parquet, .csv.gz, .csv"
    )
    ap.add_argument(
        "--float32", action="store_true", help="results in float32 (rs.tl.score(dtype=...), --float32)"
    )
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/resistscore-bench"))
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if not Path("/usr/bin/time").exists():
        raise SystemExit("needs /usr/bin/time (GNU time: apt-get install time)")
    import numpy as np

    run = _run_module()
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    genes = run.gene_universe(run.load_network()[0])
    env = {**os.environ, **{k: str(args.threads) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")}}
    exe = shutil.which("resistscore") or str(Path(sys.executable).with_name("resistscore"))
    dtype = "float32" if args.float32 else "float64"
    lines = [
        f"# CLI vs API on the same file ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.threads} "
        f"threads, load {os.getloadavg()[0]:.1f}, output {args.suffix}, {dtype})",
        "",
        "| cells | run | seconds | peak MiB | CLI / API seconds | CLI / API memory | same numbers |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        path = run.ensure_data("sc", n, args.data_dir, genes)
        outs = {k: args.data_dir / f"cli_vs_api_{n}_{k}{args.suffix}" for k in ("api", "cli")}
        for p in outs.values():
            p.unlink(missing_ok=True)
        api = timed([sys.executable, "-c", API, str(path), str(outs["api"]), str(args.threads), dtype], env)
        cli_cmd = [exe, "score", str(path), "--out", str(outs["cli"])] + (
            ["--float32"] if args.float32 else []
        )
        cli = timed(cli_cmd, env)
        a, c = _arrays(outs["api"]), _arrays(outs["cli"])
        same = all(np.array_equal(a[k], c[k], equal_nan=True) for k in a)
        lines.append(f"| {n:,} | api | {api[0]:.1f} | {api[1]:.0f} | | | |")
        lines.append(
            f"| {n:,} | cli | {cli[0]:.1f} | {cli[1]:.0f} | {cli[0] / api[0]:.2f} | {cli[1] / api[1]:.2f} | "
            f"{'yes' if same else 'NO'} |"
        )
    lines += [
        "",
        "Whole processes (start-up, imports, reading, scoring, writing), measured with `/usr/bin/time -v`. "
        "Target (issue 12): the CLI within 1.3x of the API's time and memory at 1M cells.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        tag = "quick" if args.quick else "_".join(str(s) for s in sizes)
        (HERE / "results" / f"cli_vs_api_{tag}.md").write_text(text)


if __name__ == "__main__":
    main()
