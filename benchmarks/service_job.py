"""CPU seconds of one upload-service job, without the server: the whole job and its reporting stage.

Runs ``resistscore.service._analysis.run`` - what a service worker runs for a job - on the 20k genes x 100
samples matrix of ``service_load.py`` (same generator), with no metadata (as ``service_load.py`` uploads it)
or with toy-like metadata (``--metadata``: group, response, survival). "reporting" is counted as the
service's progress counts it: from ``rs.pl.save_all`` to the end of the job (figures, report, xlsx, h5ad,
zip). CPU time of the process is printed with the wall time: on a shared machine CPU time is the steadier.

    python benchmarks/service_job.py                 # as service_load.py's idle job
    python benchmarks/service_job.py --metadata      # with a design: 21 figures
    python benchmarks/service_job.py --formats png,pdf --repeat 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import make_matrix


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--metadata", action="store_true", help="upload toy-like metadata with a full design")
    ap.add_argument("--formats", default=None, help="the job's `formats` field (default: the service's)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    from resistscore import pl
    from resistscore.service import _analysis

    with tempfile.TemporaryDirectory() as tmp:
        job_dir = Path(tmp)
        make_matrix(job_dir / "expression.csv", args.genes, args.samples)
        params = {"expression": "expression.csv", "seed": 0}
        if args.formats:
            params["formats"] = args.formats.split(",")
        if args.metadata:
            rng = np.random.default_rng(1)
            n = args.samples
            pd.DataFrame(
                {
                    "group": ["resistant"] * (n // 2) + ["sensitive"] * (n - n // 2),
                    "log10_ic50": rng.normal(size=n),
                    "survival_months": rng.exponential(30, n).round(1),
                    "event": rng.integers(0, 2, n),
                },
                index=pd.Index([f"S{i:03d}" for i in range(n)], name="sample"),
            ).to_csv(job_dir / "metadata.csv")
            params.update(
                metadata="metadata.csv",
                group="group",
                response="log10_ic50",
                time="survival_months",
                event="event",
            )
        mark: dict[str, float] = {}
        save_all = pl.save_all

        def timed_save_all(*a, **k):
            mark.setdefault("reporting", time.process_time())
            return save_all(*a, **k)

        pl.save_all = timed_save_all
        for _ in range(args.repeat):
            out = job_dir / "work" / "result"
            out.parent.mkdir()
            mark.clear()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c0, t0 = time.process_time(), time.perf_counter()
                files = _analysis.run(params, job_dir, out)
                c1, t1 = time.process_time(), time.perf_counter()
            row = {
                "job_cpu_s": round(c1 - c0, 2),
                "reporting_cpu_s": round(c1 - mark["reporting"], 2),
                "job_wall_s": round(t1 - t0, 2),
                "files": len(files),
                "figures": sum(f.startswith("figures/") for f in files),
                "report_kB": (out / "report.html").stat().st_size // 1024,
            }
            print(json.dumps(row), flush=True)
            shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
