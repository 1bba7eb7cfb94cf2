#!/usr/bin/env python
"""CPU of the work around the scoring kernel in the pass over a file's rows (issue 12, 100k <= 4 s).

What the engine does per block besides scoring it, in this process, one thread: read the block (into the pass's
recycled buffers where the installed resistscore has them: ``RowSource.rows_into``), find its unscorable rows
(the compiled scan of the values) and make it canonical for the kernels (``as_csr_block``), with as many blocks
held as the engine holds (``n_jobs + 1``). Printed: the CPU seconds (user + sys) of the best and the median of
``--repeat`` passes over the whole file and the page faults of the best. Run it with two installs (e.g. main's
checkout on ``PYTHONPATH``) to compare them; whole runs of ``rs.tl.score`` on a shared 2-core machine vary by
more than this part of their CPU.

Example
-------
::

    python benchmarks/read_pass.py /tmp/resistscore-bench/sc_100000.h5ad
    PYTHONPATH=/path/to/main python benchmarks/read_pass.py /tmp/resistscore-bench/sc_100000.h5ad
"""

from __future__ import annotations

import argparse
import resource
import statistics


def _usage() -> tuple[float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="an uncompressed CSR .h5ad (e.g. made by benchmarks/run.py --suite sc)")
    ap.add_argument("--chunk", type=int, default=570, help="rows per block (the engine's at 100k: 570)")
    ap.add_argument("--held", type=int, default=3, help="blocks in memory at once (n_jobs + 1)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import resistscore
    from resistscore.tl import _chunks
    from resistscore.tl.methods._kernels import as_csr_block

    src = _chunks.from_h5ad(args.path)
    recycled = hasattr(_chunks, "ReadBuffers")
    runs = []
    for k in range(args.repeat + 1):  # the first pass loads the kernels and warms the page cache
        buffers = _chunks.ReadBuffers() if recycled else None
        held = []
        t0, f0 = _usage()
        for a, b in src.chunks(args.chunk):
            block = src.rows_into(a, b, buffers) if recycled else src.rows(a, b)
            _chunks.unscorable_rows(block, a)
            as_csr_block(block)
            held.append(buffers.lent() if recycled else block)
            if len(held) > args.held:
                done = held.pop(0)
                if recycled:
                    buffers.give_back(done)
        t1, f1 = _usage()
        if k:
            runs.append((t1 - t0, f1 - f0))
    best = min(runs)
    print(
        f"{resistscore.__file__}: {src.n_obs} rows in blocks of {args.chunk}, read buffers "
        f"{'recycled' if recycled else 'new per block'}: CPU best {best[0]:.3f} s, median "
        f"{statistics.median(r[0] for r in runs):.3f} s; page faults {best[1]}"
    )


if __name__ == "__main__":
    main()
