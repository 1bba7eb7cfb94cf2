#!/usr/bin/env python
"""Side-by-side speed and memory benchmark of resistscore and its peers (see benchmarks/README.md).

Every tool runs in its own subprocess on the same synthetic data; the parent measures whole-process
wall time and the peak resident memory of the process tree (psutil, sampled every 50 ms), kills a tool that exceeds ``--mem-limit-gb`` or ``--timeout`` and
reports it instead of crashing the machine.

Examples
--------
::

    python benchmarks/run.py --suite bulk --quick          # 20k genes x 200 samples, minutes
    python benchmarks/run.py --suite sc --sizes 100000      # 100k cells
    python benchmarks/run.py --suite all                    # bulk 1k + 10k, sc 100k + 1M (long)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
N_GENES = 20_000
DEFAULT_SIZES = {"bulk": [1000, 10_000], "sc": [100_000, 1_000_000]}
QUICK_SIZES = {"bulk": [200], "sc": [10_000]}
# peers compared with the resistscore method computing the same quantity
SAME_METHOD = {
    "R_ssgsea": "ssgsea",
    "gseapy_ssgsea": "ssgsea",
    "R_gsva": "gsva",
    "gseapy_gsva": "gsva",
    "decoupler_aucell": "aucell",
    "decoupler_ulm": "ulm",
    "pyucell": "ucell",
    "scanpy_score_genes": "module_score",
}
QUADRATIC = {"R_gsva", "gseapy_gsva", "rs:gsva"}  # cost grows with n_samples^2: skipped above --max-quadratic


# ------------------------------------------------------------------------------------------------
# synthetic data
# ------------------------------------------------------------------------------------------------
def load_network() -> tuple[dict, str]:
    """Signed network {signature: {gene: weight}} of the shipped mechanism signatures.

    Uses ``rs.sig.load()``; when the collection does not load (e.g. during development) it reads
    ``signatures/genes/*.tsv`` directly; without either, 15 synthetic sets of 5-60 genes.
    """
    try:
        import resistscore as rs

        net = rs.sig.load().to_network()
        out: dict = {}
        for s, t, w in zip(net["source"], net["target"], net["weight"]):
            out.setdefault(s, {})[t] = float(w)
        return out, "rs.sig.load()"
    except Exception:
        pass
    files = sorted((REPO / "signatures" / "genes").glob("*.tsv"))
    if files:
        import pandas as pd

        out = {}
        for f in files:
            d = pd.read_csv(f, sep="\t", comment="#")
            sign = np.where(d["direction"].astype(str).str.lower().str.startswith("down"), -1.0, 1.0)
            w = d["weight"].astype(float).to_numpy() if "weight" in d else np.ones(len(d))
            out[f.stem] = {g: float(s * abs(x)) for g, s, x in zip(d["symbol"], sign, w)}
        return out, "signatures/genes/*.tsv"
    rng = np.random.default_rng(7)
    return {
        f"set{i:02d}": {f"G{g:05d}": 1.0 for g in rng.choice(N_GENES, rng.integers(5, 61), replace=False)}
        for i in range(15)
    }, "15 synthetic sets"


def gene_universe(network: dict) -> list[str]:
    """20,000 gene symbols: every signature gene plus HGNC symbols (synthetic names as a fallback)."""
    genes = sorted({g for s in network.values() for g in s})
    seen = set(genes)
    table = REPO / "resistscore" / "_data" / "genes" / "hgnc_genes.tsv.gz"
    extra: list[str] = []
    if table.is_file():
        import pandas as pd

        for sym in pd.read_csv(table, sep="\t", usecols=["symbol"])["symbol"].astype(str):
            if sym not in seen:
                extra.append(sym)
                seen.add(sym)
    i = 0
    while len(genes) + len(extra) < N_GENES:
        name = f"SYNTH{i:05d}"
        i += 1
        if name not in seen:
            extra.append(name)
    return (genes + extra)[:N_GENES]


def make_bulk(path: Path, n: int, genes: list[str], seed: int = 1) -> None:
    """log2(TPM + 1)-like dense matrix, samples x genes, float64 .npy (written in chunks)."""
    rng = np.random.default_rng(seed)
    g = len(genes)
    base = np.clip(rng.normal(3.0, 2.5, g), 0, None)
    sd = rng.uniform(0.3, 1.5, g)
    X = np.lib.format.open_memmap(path.with_suffix(".tmp.npy"), mode="w+", dtype=np.float64, shape=(n, g))
    for a in range(0, n, 500):
        b = min(n, a + 500)
        block = base + rng.normal(0, 1, (b - a, g)) * sd + rng.normal(0, 0.3, (b - a, 1))
        X[a:b] = np.clip(block, 0, None)
    X.flush()
    del X
    os.replace(path.with_suffix(".tmp.npy"), path)


def make_sc(path: Path, n: int, genes: list[str], seed: int = 2, nnz_per_cell: int = 2000) -> None:
    """CSR log1p(CP10k) with ~2,000 non-zeros per cell, written as .h5ad in chunks (never in memory)."""
    import anndata as ad
    import h5py
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    g = len(genes)
    p = rng.lognormal(0, 1.2, g)
    p = np.clip(p / p.sum() * nnz_per_cell, 0, 0.95).astype(np.float32)
    lam = rng.lognormal(0, 1.0, g).astype(np.float32)
    tmp = path.with_suffix(".tmp.h5ad")
    skel = ad.AnnData(
        X=sp.csr_matrix((n, g), dtype=np.float32),
        obs=pd.DataFrame(index=[f"cell{i}" for i in range(n)]),
        var=pd.DataFrame(index=genes),
    )
    skel.write_h5ad(tmp)
    del skel
    with h5py.File(tmp, "r+") as f:
        del f["X"]
        grp = f.create_group("X")
        grp.attrs["encoding-type"] = "csr_matrix"
        grp.attrs["encoding-version"] = "0.1.0"
        grp.attrs["shape"] = np.array([n, g], dtype=np.int64)
        data = grp.create_dataset("data", shape=(0,), maxshape=(None,), dtype=np.float32, chunks=(1 << 20,))
        ind = grp.create_dataset("indices", shape=(0,), maxshape=(None,), dtype=np.int32, chunks=(1 << 20,))
        indptr = np.zeros(n + 1, dtype=np.int64)
        step = 2000
        for a in range(0, n, step):
            b = min(n, a + step)
            mask = rng.random((b - a, g), dtype=np.float32) < p
            rows, cols = np.nonzero(mask)
            counts = 1.0 + rng.poisson(lam[cols]).astype(np.float32)
            tot = np.bincount(rows, weights=counts, minlength=b - a)
            vals = np.log1p(counts / tot[rows] * 1e4).astype(np.float32)
            m0 = data.shape[0]
            data.resize((m0 + vals.size,))
            ind.resize((m0 + vals.size,))
            data[m0:] = vals
            ind[m0:] = cols.astype(np.int32)
            indptr[a + 1 : b + 1] = m0 + np.cumsum(np.bincount(rows, minlength=b - a))
        grp.create_dataset("indptr", data=indptr)
    os.replace(tmp, path)


def tile_sc(path: Path, base: Path, reps: int) -> None:
    """Write ``reps`` copies of the cells of ``base`` (faster than generating 1M cells afresh)."""
    import anndata as ad
    import h5py
    import pandas as pd
    import scipy.sparse as sp

    with h5py.File(base, "r") as f:
        data, indices, indptr = f["X/data"][:], f["X/indices"][:], f["X/indptr"][:]
        n0, g = (int(v) for v in f["X"].attrs["shape"])
        genes = ad.read_h5ad(base, backed="r").var_names.tolist()
    n = n0 * reps
    tmp = path.with_suffix(".tmp.h5ad")
    skel = ad.AnnData(
        X=sp.csr_matrix((n, g), dtype=np.float32),
        obs=pd.DataFrame(index=[f"cell{i}" for i in range(n)]),
        var=pd.DataFrame(index=genes),
    )
    skel.write_h5ad(tmp)
    del skel
    nnz = int(indptr[-1])
    with h5py.File(tmp, "r+") as f:
        del f["X"]
        grp = f.create_group("X")
        grp.attrs["encoding-type"] = "csr_matrix"
        grp.attrs["encoding-version"] = "0.1.0"
        grp.attrs["shape"] = np.array([n, g], dtype=np.int64)
        d = grp.create_dataset("data", shape=(nnz * reps,), dtype=np.float32, chunks=(1 << 20,))
        ix = grp.create_dataset("indices", shape=(nnz * reps,), dtype=np.int32, chunks=(1 << 20,))
        for r in range(reps):
            d[r * nnz : (r + 1) * nnz] = data
            ix[r * nnz : (r + 1) * nnz] = indices
        full = np.concatenate([indptr[:1]] + [indptr[1:] + r * nnz for r in range(reps)]).astype(np.int64)
        grp.create_dataset("indptr", data=full)
    os.replace(tmp, path)


def ensure_data(kind: str, n: int, data_dir: Path, genes: list[str]) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / (f"bulk_{n}.npy" if kind == "bulk" else f"sc_{n}.h5ad")
    if not path.exists() and kind == "sc" and n > 100_000 and n % 100_000 == 0:
        base = ensure_data(kind, 100_000, data_dir, genes)
        t = time.perf_counter()
        print(f"[data] writing {path} (the 100k cells repeated {n // 100_000} times) ...", flush=True)
        tile_sc(path, base, n // 100_000)
        print(
            f"[data] {path.name}: {time.perf_counter() - t:.1f} s, {path.stat().st_size / 2**20:.0f} MiB",
            flush=True,
        )
    if not path.exists():
        t = time.perf_counter()
        print(f"[data] writing {path} ...", flush=True)
        (make_bulk if kind == "bulk" else make_sc)(path, n, genes)
        print(
            f"[data] {path.name}: {time.perf_counter() - t:.1f} s, {path.stat().st_size / 2**20:.0f} MiB",
            flush=True,
        )
    return path


# ------------------------------------------------------------------------------------------------
# tools (run in the child process)
# ------------------------------------------------------------------------------------------------
def _load_bulk_df(path: Path, genes: list[str]):
    import pandas as pd

    X = np.load(path)
    return pd.DataFrame(X, index=[f"s{i}" for i in range(X.shape[0])], columns=genes, copy=False)


def _load_adata(path: Path, kind: str, genes: list[str]):
    import anndata as ad

    if kind == "sc":
        return ad.read_h5ad(path)
    import pandas as pd

    X = np.load(path)
    obs = pd.DataFrame(index=[f"s{i}" for i in range(X.shape[0])])
    return ad.AnnData(X=X, obs=obs, var=pd.DataFrame(index=genes))


def _up_sets(network: dict) -> dict[str, list[str]]:
    return {
        s: [g for g, w in m.items() if w > 0] for s, m in network.items() if any(w > 0 for w in m.values())
    }


def _long_net(network: dict):
    import pandas as pd

    rows = [(s, g, w) for s, m in network.items() for g, w in m.items()]
    return pd.DataFrame(rows, columns=["source", "target", "weight"])


def run_tool(
    tool: str, kind: str, path: Path, genes: list[str], network: dict, threads: int, out_scores: Path
):
    """Run one tool; return (scores samples x sets as DataFrame or None, note)."""
    import pandas as pd

    if tool == "floor":
        # read every value once, sum it, and sort each sample / cell: the least any scorer must do
        total = 0.0
        if kind == "bulk":
            X = np.load(path)
            total = float(X.sum())
            np.argsort(X, axis=1)
        else:
            import h5py

            with h5py.File(path, "r") as f:
                indptr = f["X/indptr"][:]
                step = 1000
                for a in range(0, indptr.size - 1, step):
                    b = min(indptr.size - 1, a + step)
                    lo, hi = int(indptr[a]), int(indptr[b])
                    d = f["X/data"][lo:hi]
                    f["X/indices"][lo:hi]  # read the column indices too, as any scorer must
                    total += float(d.sum(dtype=np.float64))
                    ln = np.diff(indptr[a : b + 1])
                    pad = np.full((b - a, max(int(ln.max()), 1)), np.inf, dtype=np.float32)
                    pad[
                        np.repeat(np.arange(b - a), ln), np.arange(hi - lo) - np.repeat(indptr[a:b] - lo, ln)
                    ] = d
                    np.sort(pad, axis=1)  # one sort per cell (values only: a lower bound for ranking)
        return None, f"sum={total:.6g}"

    if tool.startswith("rs:") or tool == "resistscore":
        import resistscore as rs

        net = _long_net(network)
        if tool == "resistscore":
            method, pvalues = None, True
        else:
            method, pvalues = tool[3:], False
        data = str(path) if kind == "sc" else _load_bulk_df(path, genes)
        res = rs.tl.score(data, net, method=method, pvalues=pvalues, n_jobs=threads)
        if res is None:
            return None, "no result object"
        return res.scores, f"method={res.method}, pvalues={pvalues}"

    if tool == "scanpy_score_genes":
        import scanpy as sc

        adata = _load_adata(path, kind, genes)
        out = {}
        for s, members in _up_sets(network).items():
            present = [g for g in members if g in adata.var_names]
            if present:
                sc.tl.score_genes(adata, present, score_name=f"score_{s}", random_state=0)
                out[s] = adata.obs[f"score_{s}"].to_numpy()
        return pd.DataFrame(out, index=adata.obs_names), "sc.tl.score_genes per signature (up genes)"

    if tool == "pyucell":
        import pyucell

        adata = _load_adata(path, kind, genes)
        sigs = {s: [g if w > 0 else f"{g}-" for g, w in m.items()] for s, m in network.items()}
        pyucell.compute_ucell_scores(adata, signatures=sigs, n_jobs=threads, missing_genes="skip")
        cols = [c for c in adata.obs.columns if c.endswith("_UCell")]
        return adata.obs[cols].rename(columns=lambda c: c[: -len("_UCell")]), "compute_ucell_scores"

    if tool in ("decoupler_aucell", "decoupler_ulm"):
        import decoupler as dc

        adata = _load_adata(path, kind, genes)
        net = _long_net(network)
        fn = dc.mt.aucell if tool == "decoupler_aucell" else dc.mt.ulm
        fn(adata, net, tmin=3)
        key = "score_aucell" if tool == "decoupler_aucell" else "score_ulm"
        return adata.obsm[key], f"dc.mt.{tool.split('_')[1]}(tmin=3)"

    if tool == "gseapy_ssgsea":
        import gseapy

        df = _load_bulk_df(path, genes).T  # gseapy wants genes x samples
        res = gseapy.ssgsea(
            data=df,
            gene_sets=_up_sets(network),
            outdir=None,
            min_size=1,
            max_size=5000,
            permutation_num=0,
            threads=threads,
            no_plot=True,
            sample_norm_method="rank",
        )
        tab = res.res2d.pivot(index="Name", columns="Term", values="ES").astype(float)
        return tab, "gseapy.ssgsea (ES)"

    if tool == "gseapy_gsva":
        import gseapy

        df = _load_bulk_df(path, genes).T  # genes x samples
        res = gseapy.gsva(
            data=df,
            gene_sets=_up_sets(network),
            outdir=None,
            kcdf="Gaussian",
            min_size=1,
            max_size=5000,
            threads=threads,
            seed=0,
        )
        tab = res.res2d.pivot(index="Name", columns="Term", values="ES").astype(float)
        return tab, "gseapy.gsva (kcdf=Gaussian)"

    if tool in ("R_ssgsea", "R_gsva"):
        method = "ssgsea" if tool == "R_ssgsea" else "gsva"
        with tempfile.TemporaryDirectory() as tmp:
            gmt = Path(tmp) / "sets.gmt"
            with open(gmt, "w") as fh:
                for s, members in _up_sets(network).items():
                    fh.write("\t".join([s, "-", *members]) + "\n")
            with open(Path(tmp) / "genes.txt", "w") as fh:
                fh.write("\n".join(genes) + "\n")
            out = Path(tmp) / "scores.tsv"
            script = R_SCRIPT.format(npy=path, genes=Path(tmp) / "genes.txt", gmt=gmt, method=method, out=out)
            (Path(tmp) / "run.R").write_text(script)
            subprocess.run(["Rscript", str(Path(tmp) / "run.R")], check=True, capture_output=True)
            tab = pd.read_csv(out, sep="\t", index_col=0).T
        return tab, f"R GSVA gsva(method='{method}'" + (", ssgsea.norm=FALSE)" if method == "ssgsea" else ")")

    raise SystemExit(f"unknown tool {tool}")


R_SCRIPT = r"""
suppressPackageStartupMessages(library(GSVA))
con <- file("{npy}", "rb")
invisible(readBin(con, "raw", 8))
hlen <- readBin(con, "integer", 1, size = 2, signed = FALSE, endian = "little")
header <- rawToChar(readBin(con, "raw", hlen))
shape <- as.integer(strsplit(sub(".*'shape': \\(([0-9]+), ([0-9]+)\\).*", "\\1 \\2", header), " ")[[1]])
x <- readBin(con, "double", shape[1] * shape[2], size = 8, endian = "little")
close(con)
expr <- matrix(x, nrow = shape[2], ncol = shape[1])  # row-major samples x genes -> genes x samples
rm(x)
rownames(expr) <- readLines("{genes}")
colnames(expr) <- paste0("s", seq_len(ncol(expr)) - 1L)
lines <- readLines("{gmt}")
sets <- lapply(strsplit(lines, "\t"), function(t) t[3:length(t)])
names(sets) <- vapply(strsplit(lines, "\t"), `[`, "", 1)
es <- suppressWarnings(gsva(expr, sets, method = "{method}", kcdf = "Gaussian", ssgsea.norm = FALSE, verbose = FALSE))
write.table(es, "{out}", sep = "\t", quote = FALSE)
"""


def child_main(args) -> None:
    network = json.loads(Path(args.network).read_text())
    genes = Path(args.genes).read_text().split("\n")
    t = time.perf_counter()
    scores, note = run_tool(
        args.child, args.kind, Path(args.data), genes, network, args.threads, Path(args.out)
    )
    inner = time.perf_counter() - t
    if scores is not None:
        scores = scores.astype(float, copy=False)  # no copy of float64 scores: the harness adds no memory
        scores.to_pickle(Path(args.out).with_suffix(".pkl"))
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    Path(args.out).write_text(
        json.dumps({"inner_s": inner, "note": note, "maxrss_mib": max(self_rss, kids_rss)})
    )


# ------------------------------------------------------------------------------------------------
# parent: run tools in subprocesses, measure, compare
# ------------------------------------------------------------------------------------------------
def run_child(tool, kind, data, files, threads, limit_mib, timeout) -> dict:
    import psutil

    out = files["dir"] / f"{tool.replace(':', '_')}_{kind}_{data.stem}.json"
    for p in (out, out.with_suffix(".pkl")):
        p.unlink(missing_ok=True)
    env = dict(os.environ)
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[v] = str(threads)
    # bytecode caches, as an installed package has them (pip compiles them at install): with
    # PYTHONDONTWRITEBYTECODE set (some development environments set it) every run would compile the
    # tools' modules from source inside the measured process
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        tool,
        "--kind",
        kind,
        "--data",
        str(data),
    ]
    cmd += ["--network", str(files["network"]), "--genes", str(files["genes"]), "--threads", str(threads)]
    cmd += ["--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak, status = 0.0, "ok"
    while proc.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [ps, *ps.children(recursive=True)]) / 2**20
        except psutil.Error:
            rss = 0.0
        peak = max(peak, rss)
        if rss > limit_mib:
            status = f"out of memory (> {limit_mib / 1024:.0f} GiB limit)"
        elif time.perf_counter() - t0 > timeout:
            status = f"timeout (> {timeout:.0f} s)"
        if status != "ok":
            for p in [*ps.children(recursive=True), ps]:
                with contextlib.suppress(psutil.Error):
                    p.kill()
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    rec = {
        "tool": tool,
        "kind": kind,
        "n": data.stem.split("_")[1],
        "wall_s": wall,
        "peak_mib": peak,
        "status": status,
    }
    if status == "ok" and proc.returncode != 0:
        last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        rec["status"] = "error: " + (last[-1][:160] if last else f"exit {proc.returncode}")
    if out.exists():
        info = json.loads(out.read_text())
        # ru_maxrss of the child also counts the parent's pages at fork time: use it only when the
        # 50-ms sampling saw nothing (very short runs)
        rec["peak_mib"] = peak if peak > 0 else info["maxrss_mib"]
        rec["note"] = info["note"]
        rec["inner_s"] = info["inner_s"]
    rec["scores"] = out.with_suffix(".pkl") if out.with_suffix(".pkl").exists() else None
    return rec


def agreement(a_path, b_path, only: list[str] | None = None) -> str:
    """Agreement of two score tables on common samples and signatures: max |diff| and min Spearman.

    ``only`` restricts the comparison to signatures both tools score the same way (peers get the
    up genes of each signature; resistscore scores up - down for signatures with down genes).
    """
    import pandas as pd
    from scipy.stats import spearmanr

    if a_path is None or b_path is None:
        return ""
    a, b = pd.read_pickle(a_path), pd.read_pickle(b_path)
    a.index, b.index = a.index.astype(str), b.index.astype(str)
    rows = a.index.intersection(b.index)
    cols = a.columns.intersection(b.columns)
    if only is not None:
        cols = cols.intersection(pd.Index(only))
    if len(rows) < 3 or len(cols) == 0:
        return "n/a"
    a, b = a.loc[rows, cols].to_numpy(float), b.loc[rows, cols].to_numpy(float)
    ok = np.isfinite(a).all(0) & np.isfinite(b).all(0) & (a.std(0) > 0) & (b.std(0) > 0)
    if not ok.any():
        return "n/a"
    rho = min(spearmanr(a[:, j], b[:, j])[0] for j in np.flatnonzero(ok))
    return f"max|d|={np.abs(a[:, ok] - b[:, ok]).max():.1e}, min rho={rho:.4f} ({ok.sum()} sets)"


def tools_for(kind: str, n: int, args) -> list[tuple[str, str]]:
    """(tool, reason-to-skip or '') in run order."""
    import importlib.util

    import resistscore.tl as tl

    methods = list(tl.show_methods().index)
    have = {m: importlib.util.find_spec(m) is not None for m in ("scanpy", "pyucell", "decoupler", "gseapy")}
    r_ok = (
        shutil.which("Rscript") is not None
        and subprocess.run(
            ["Rscript", "-e", "suppressPackageStartupMessages(library(GSVA))"], capture_output=True
        ).returncode
        == 0
    )
    out = [("floor", ""), ("resistscore", "")]
    for m in methods:
        skip = ""
        if m == "gsva" and kind == "sc":
            skip = "GSVA is cohort-level and quadratic in cells"
        out.append((f"rs:{m}", skip))
    peers = ["scanpy_score_genes", "decoupler_ulm", "decoupler_aucell"]
    peers += ["pyucell"] if kind == "sc" else ["gseapy_ssgsea", "gseapy_gsva", "R_ssgsea", "R_gsva"]
    for p in peers:
        mod = {"scanpy_score_genes": "scanpy", "pyucell": "pyucell"}.get(p, p.split("_")[0])
        skip = ""
        if p.startswith("R_"):
            skip = "" if r_ok else "Rscript with GSVA not found"
        elif not have.get(mod, True):
            skip = f"{mod} not installed (pip install 'resistscore[bench]')"
        out.append((p, skip))
    if args.tools:
        wanted = set(args.tools.split(","))
        out = [(t, s) for t, s in out if t in wanted]
    for i, (t, s) in enumerate(out):
        if not s and t in QUADRATIC and n > args.max_quadratic:
            out[i] = (t, f"quadratic in samples; n > --max-quadratic {args.max_quadratic}")
    return out


def fmt_table(recs: list[dict]) -> str:
    lines = [
        "| data | tool | seconds | peak MiB | x resistscore default | x resistscore same method | agreement with resistscore | note |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    by = {}
    for r in recs:
        by.setdefault((r["kind"], r["n"]), []).append(r)
    for (kind, n), rs_ in by.items():
        ref = {r["tool"]: r for r in rs_ if r["status"] == "ok"}
        base = ref.get("resistscore")
        for r in rs_:
            if r["status"] != "ok":
                lines.append(f"| {kind} {n} | {r['tool']} | - | {r['peak_mib']:.0f} | | | | {r['status']} |")
                continue
            x1 = f"{r['wall_s'] / base['wall_s']:.2f}" if base else ""
            same = SAME_METHOD.get(r["tool"])
            other = ref.get(f"rs:{same}") if same else None
            x2 = f"{r['wall_s'] / other['wall_s']:.2f}" if other else ""
            agr = r.get("agreement", "")
            lines.append(
                f"| {kind} {n} | {r['tool']} | {r['wall_s']:.1f} | {r['peak_mib']:.0f} | {x1} | {x2} | {agr} | {r.get('note', '')} |"
            )
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suite", choices=["bulk", "sc", "all"], default="bulk")
    ap.add_argument("--sizes", default="", help="comma-separated sample / cell counts (default per suite)")
    ap.add_argument("--quick", action="store_true", help="small sizes (bulk 200 samples, sc 10k cells)")
    ap.add_argument("--tools", default="", help="comma-separated subset of tools (e.g. resistscore,R_ssgsea)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--mem-limit-gb", type=float, default=6.0, help="kill a tool whose process tree exceeds this"
    )
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per tool")
    ap.add_argument(
        "--max-quadratic", type=int, default=2000, help="largest n for GSVA (quadratic in samples)"
    )
    ap.add_argument("--data-dir", default=os.environ.get("RESISTSCORE_BENCH_DATA", "/tmp/resistscore-bench"))
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/")
    # internal: child mode
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--network", help=argparse.SUPPRESS)
    ap.add_argument("--genes", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child_main(args)
        return

    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    network, net_source = load_network()
    genes = gene_universe(network)
    files = {"dir": data_dir / "runs", "network": data_dir / "network.json", "genes": data_dir / "genes.txt"}
    files["dir"].mkdir(exist_ok=True)
    files["network"].write_text(json.dumps(network))
    files["genes"].write_text("\n".join(genes))
    n_sig_genes = len({g for m in network.values() for g in m})
    up_only = [s for s, m in network.items() if all(w > 0 for w in m.values())]
    print(
        f"[sets] {len(network)} signatures, {n_sig_genes} genes ({net_source}); {len(genes)} genes in the data"
    )

    kinds = ["bulk", "sc"] if args.suite == "all" else [args.suite]
    recs = []
    for kind in kinds:
        if args.sizes:
            sizes = [int(s) for s in args.sizes.split(",")]
        else:
            sizes = (QUICK_SIZES if args.quick else DEFAULT_SIZES)[kind]
        for n in sizes:
            data = ensure_data(kind, n, data_dir, genes)
            for tool, skip in tools_for(kind, n, args):
                if skip:
                    rec = {
                        "tool": tool,
                        "kind": kind,
                        "n": str(n),
                        "wall_s": 0,
                        "peak_mib": 0,
                        "status": f"skipped: {skip}",
                    }
                else:
                    rec = run_child(
                        tool, kind, data, files, args.threads, args.mem_limit_gb * 1024, args.timeout
                    )
                recs.append(rec)
                print(
                    f"  {kind} {n:>8} {tool:<20} {rec['wall_s']:8.1f} s {rec['peak_mib']:8.0f} MiB  {rec['status']}",
                    flush=True,
                )
            by_tool = {r["tool"]: r for r in recs if r["kind"] == kind and r["n"] == str(n)}
            for r in by_tool.values():
                same = SAME_METHOD.get(r["tool"])
                if same and f"rs:{same}" in by_tool and r.get("scores"):
                    r["agreement"] = agreement(by_tool[f"rs:{same}"].get("scores"), r.get("scores"), up_only)

    table = fmt_table(recs)
    cpu = platform.processor() or platform.machine()
    header = (
        f"resistscore benchmark, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; {N_GENES} genes; "
        f"{len(network)} signatures ({net_source}); threads={args.threads}; {os.cpu_count()} CPUs ({cpu}); "
        f"memory limit {args.mem_limit_gb:g} GiB per tool.\nCommand: python benchmarks/run.py {' '.join(sys.argv[1:])}\n"
    )
    print("\n" + header + "\n" + table)
    if not args.no_write:
        res_dir = HERE / "results"
        res_dir.mkdir(exist_ok=True)
        tag = (
            "_".join(kinds)
            + ("_quick" if args.quick else "")
            + (f"_{args.sizes.replace(',', '-')}" if args.sizes else "")
        )
        (res_dir / f"{tag}.md").write_text(header + "\n" + table + "\n")
        print(f"\nwritten: {res_dir / (tag + '.md')}")


if __name__ == "__main__":
    main()
