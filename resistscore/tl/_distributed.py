"""Scoring on a Dask distributed cluster: the rows are scored on the workers, in partitions.

What moves over the network:

* client -> scheduler, once per pass (data probe, gene statistics, scoring): a *reader* of the data (the
  path of an ``.h5ad`` / ``.zarr`` store or the shards, or the lazy graph of a dask array; never the rows
  of a file), and for the scoring the *plan* (the signatures' and control sets' gene indices and the
  method's parameters), each as the argument of a task whose result the partitions use: a worker that
  dies takes nothing with it that cannot be computed again (scattered data would be lost).
* workers -> client, per partition of rows: its scores (rows x signatures, float64), unscorable-row
  codes, the method's extras and the null model's share: for ``null="per_sample"`` the counts of
  controls above each score and the few tail p-values; for ``null="pooled"`` the z-scores and the
  standardised control scores of the pooled rows (every ``stride``-th row, at most
  ``MAX_POOL`` values per signature in all).

The client adds the partitions in row order into the same arrays the in-process engine fills, and
finishes the null (sorting each signature's pool, counting, BH FDR) exactly as in-process: the
p-values depend only on the scores and the row positions (see :mod:`resistscore.tl._null`), so the
numbers equal the in-process engine's bit for bit whatever the number of workers and partitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from resistscore._errors import ClusterError, ResistScoreError
from resistscore.tl._chunks import RowSource, block_moments, column_block_sums, unscorable_rows
from resistscore.tl._null import PerSampleNull, PooledNull
from resistscore.tl._rows import block_kind, call_rows

__all__ = ["Plan", "check_client", "partitions", "run_partitions", "score_part"]

#: how often a task is retried when its worker dies (on top of the scheduler's own reassignments)
RETRIES = 2


def check_client(client):
    """``client`` if it is a running ``dask.distributed.Client`` with at least one worker, else a clear error."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the extra is not installed
        raise ResistScoreError(
            "client= needs dask.distributed; install it (pip install 'resistscore[distributed]')."
        ) from None
    if not isinstance(client, Client):
        raise ResistScoreError(
            f"`client` must be a dask.distributed.Client (or None for the in-process engine); got "
            f"{type(client).__name__}. Connect one: Client('tcp://scheduler:8786') or Client(LocalCluster())."
        )
    if client.status != "running":
        raise ClusterError(f"the Dask client is {client.status}; connect it again (Client(address)).")
    return client


def n_workers(client) -> int:
    """Workers connected to the scheduler."""
    return len(client.scheduler_info(n_workers=-1).get("workers", {}))


def partitions(n_obs: int, size: int) -> list[tuple[int, int]]:
    """Row ranges ``(a, b)`` of ``size`` rows (the last one shorter)."""
    return [(a, min(a + size, n_obs)) for a in range(0, n_obs, size)]


def default_partition_size(n_obs: int, n_workers: int, chunk: int) -> int:
    """Return the rows per partition.

    About 4 partitions per worker (load balance, cheap retries), at least one chunk and at most 100
    chunks of rows.
    """
    want = -(-n_obs // max(4 * n_workers, 1))
    return int(np.clip(want, max(chunk, 1), max(chunk, 1) * 100))


@dataclass
class Plan:
    """What every partition needs to be scored (sent to the workers once)."""

    fn: object
    sets: object  # GeneSetIndex of the signatures and their control sets
    call_params: dict
    n_sets: int
    n_controls: int
    null: str | None  # "per_sample", "pooled" or None (no p-values)
    tail: str | None
    n_obs: int
    chunk: int
    max_pool: int | None = None  # of the pooled null, as the client decided it


def score_part(reader: RowSource, a: int, b: int, plan: Plan) -> dict:
    """Score the rows ``a:b`` of ``reader`` in chunks of ``plan.chunk`` rows (runs on a worker).

    Returns the partition's results: ``a``, ``b``, ``scores`` (rows x signatures), ``codes``
    (unscorable rows), ``extras`` and the null model's share (``counts`` and ``tail`` for the
    per-sample null; ``z`` and ``pool`` for the pooled null).
    """
    # the held reader is one object shared by the tasks of a worker's threads: read through a copy of
    # our own, so that closing our file never pulls it from under another task
    reader = reader.reader()
    n = b - a
    scores = np.full((n, plan.n_sets), np.nan)
    codes = np.zeros(n, dtype=np.int8)
    extras: dict[str, np.ndarray] = {}
    model = None
    if plan.null == "pooled":
        model = PooledNull(
            plan.n_obs, plan.n_sets, plan.n_controls, plan.max_pool, tail=plan.tail, rows=(a, b)
        )
    elif plan.null == "per_sample":
        model = PerSampleNull(n, plan.n_sets, plan.n_controls, tail=plan.tail)
    for lo in range(a, b, plan.chunk):
        hi = min(lo + plan.chunk, b)
        block = reader.rows(lo, hi)
        code = unscorable_rows(block, lo)
        codes[lo - a : hi - a] = code
        if not plan.n_sets:
            continue
        sc, ex = call_rows(plan.fn, block, plan.sets, plan.call_params, code)
        scores[lo - a : hi - a] = sc[:, : plan.n_sets]
        for k, v in ex.items():
            extras.setdefault(k, np.full((n, plan.n_sets), np.nan))[lo - a : hi - a] = np.asarray(v)[
                :, : plan.n_sets
            ]
        if isinstance(model, PooledNull):
            model.add(lo, sc)
        elif model is not None:
            model.add(lo - a, sc)
    out = {"a": a, "b": b, "scores": scores, "codes": codes, "extras": extras}
    if isinstance(model, PooledNull):
        _, out["z"], out["pool"] = model.part()
    elif model is not None:
        res = model.finish()
        out["counts"] = res.counts
        out["tail"] = (res.tail.rows, res.tail.cols, res.tail.p)
    reader.close()
    return out


def _gather(client, futures, what: str):
    """Results of ``futures`` as they complete; a lost worker beyond the retries becomes a :class:`ClusterError`."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover
        KilledWorker = RuntimeError
    try:
        for fut, res in as_completed(futures, with_results=True):
            fut.release()
            if isinstance(res, BaseException):  # a cancelled future comes back as its exception
                raise res
            yield res
    except (KilledWorker, FutureCancelledError, OSError) as e:
        for f in futures:
            f.cancel()
        raise ClusterError(
            f"the Dask cluster lost the {what} ({type(e).__name__}: {e}); workers died more often than the "
            f"retries allow (a task is retried {RETRIES} times). Check the workers' memory (--memory-limit) "
            "and logs, then run again: nothing was written."
        ) from None


def run_partitions(client, source: RowSource, plan: Plan, ranges, on_part) -> None:
    """Score ``ranges`` of ``source`` on the cluster; ``on_part(result)`` on the client as each completes."""
    reader_f, plan_f = _held(client, source.reader()), _held(client, plan)
    futures = [
        client.submit(score_part, reader_f, a, b, plan_f, pure=False, retries=RETRIES) for a, b in ranges
    ]
    for res in _gather(client, futures, "scoring tasks"):
        on_part(res)


def _identity(x):
    return x


def _held(client, value):
    """Hold ``value`` on a worker as the result of a task (not scattered).

    If that worker dies, the scheduler computes it again from the task (scattered data would be lost
    for good).
    """
    return client.submit(_identity, value, pure=False, retries=RETRIES)


def _indexed(i: int, fn, reader: RowSource, *args):
    own = reader.reader()  # a copy of our own (see score_part): the tasks of a worker's threads share reader
    try:
        return i, fn(own, *args)
    finally:
        own.close()


def map_blocks(client, source: RowSource, fn, args_list, what: str) -> list:
    """``[fn(reader, *args) for args in args_list]`` computed on the workers (in that order)."""
    reader_f = _held(client, source.reader())
    futures = [
        client.submit(_indexed, i, fn, reader_f, *args, pure=False, retries=RETRIES)
        for i, args in enumerate(args_list)
    ]
    out: list = [None] * len(futures)
    for i, res in _gather(client, futures, what):
        out[i] = res
    return out


def remote_gene_stats(client, source: RowSource, ranges) -> list:
    """Per-gene ``(sum, sum of squares, rows)`` of every block of ``ranges`` (:func:`block_moments`), in order."""
    return map_blocks(client, source, block_moments, list(ranges), "gene statistics")


def remote_column_sums(client, source: RowSource, ranges, per_task: int = 20) -> list:
    """:func:`column_block_sums` of ``ranges`` in groups of ``per_task`` blocks, in order."""
    groups = [(list(ranges[i : i + per_task]),) for i in range(0, len(ranges), per_task)]
    return map_blocks(client, source, column_block_sums, groups, "gene means")


def remote_kind(client, source: RowSource):
    """Return ``(zero share, scale report, sparse)`` of the probe rows, read and judged on a worker."""
    return map_blocks(client, source, block_kind, [()], "data probe")[0]
