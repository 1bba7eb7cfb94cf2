"""Scoring on a Dask distributed cluster: the rows are scored on the workers, in partitions.

What moves over the network:

* client -> scheduler, once per run: a *reader* of the data (the path of an ``.h5ad`` / ``.zarr``
  store or the shards and, for a path scored with harmonised genes, the gene collapse; or the lazy
  graph of a dask array; never the rows of a file, nor the row and column names or the cells'
  annotations), then for the scoring the *plan* (the signatures' and control sets' gene indices and
  the method's parameters). Each is the argument of one task whose result every task of the run
  uses (the probe, the gene statistics, the partitions): the graphs of the passes hold only
  references to it. A worker that dies takes nothing with it that cannot be computed again
  (scattered data would be lost).
* workers -> client, per partition of rows: its scores (rows x signatures, in the type the client keeps
  them in: float64, or float32 on request), unscorable-row codes, the method's extras and the null
  model's share: for ``null="per_sample"`` the counts of controls above each score and the few tail
  p-values; for ``null="pooled"`` the z-scores (float32) and the standardised control scores of the
  pooled rows (every ``stride``-th row, at most ``MAX_POOL`` values per signature in all). Every array
  is contiguous, so that it goes into the message without a copy.

The client adds the partitions in row order into the same arrays the in-process engine fills, and
finishes the null (sorting each signature's pool, counting, BH FDR) exactly as in-process: the
p-values depend only on the scores and the row positions (see :mod:`resistscore.tl._null`), so the
numbers equal the in-process engine's bit for bit whatever the number of workers and partitions.

Costs kept off the distributed path (each measured with ``benchmarks/distributed.py``): the workers
import resistscore and set numba up while the client harmonises the gene names (:func:`warm_workers`); the partitions
are few and large, about :data:`PARTS_PER_THREAD` per thread of the cluster
(:func:`default_partition_size`); the kernels write into arrays reused chunk after chunk
(:func:`~resistscore.tl.methods._kernels.workspace`, as in-process); and a scoring task keeps
glibc's allocator from returning freed memory to the system after every array (Dask's nannies set
``MALLOC_TRIM_THRESHOLD_``, which turns every large array into fresh pages to fault in: the workers
spent as much time in the kernel as in the scoring; :func:`kept_allocations`), until the worker has
been idle for :data:`RELEASE_AFTER` seconds, not after every partition.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from resistscore._errors import ClusterError, ResistScoreError
from resistscore.tl._chunks import (
    ReadBuffers,
    RowSource,
    block_moments,
    column_block_sums,
    read_ahead,
    unscorable_rows,
)
from resistscore.tl._jit import warm_jit
from resistscore.tl._null import PerSampleNull, PooledNull
from resistscore.tl._onepass import score_block
from resistscore.tl._rows import block_kind
from resistscore.tl.methods._kernels import workspace

__all__ = [
    "Plan", "check_client", "cluster_threads", "default_partition_size", "partitions", "run_partitions",
    "release_now", "score_part", "warm_workers",
]  # fmt: skip

#: how often a task is retried when its worker dies (on top of the scheduler's own reassignments)
RETRIES = 2

#: partitions per thread of the cluster by default: enough to balance the load and make a retry cheap,
#: few enough that the per-task costs (dispatch, opening the file, sending the results) stay negligible
PARTS_PER_THREAD = 4

#: at most this many bytes of results (scores and z-scores, float64) per partition by default
MAX_PARTITION_RESULTS = 256 * 2**20


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


def cluster_threads(client) -> int:
    """Threads of all the workers connected to the scheduler (at least 1)."""
    return max(1, sum(int(n) for n in client.nthreads().values()))


def _warm() -> None:
    """Import what a task needs (unpickling this function imported resistscore.tl already); set numba up."""
    import h5py  # noqa: F401

    warm_jit(wait=True)  # its first kernel costs this process ~0.4 s of CPU: now, not in its first partition


def warm_workers(client) -> None:
    """Have every worker import resistscore (and h5py) and set numba up now, while the client prepares the run.

    A fresh worker process imports the package on its first task, seconds of work that would
    otherwise wait for the client's gene harmonisation and data probe; then numba's set-up on its first
    compiled kernel (:func:`~resistscore.tl._jit.warm_jit`), which would otherwise be paid in the
    worker's first partition. One small task per worker, run at least once
    (:func:`distributed.fire_and_forget`); nothing waits for it.
    """
    from distributed import fire_and_forget

    workers = list(client.scheduler_info(n_workers=-1).get("workers", {}))
    fire_and_forget(
        [client.submit(_warm, workers=[w], allow_other_workers=True, pure=False) for w in workers]
    )


def partitions(n_obs: int, size: int) -> list[tuple[int, int]]:
    """Row ranges ``(a, b)`` of ``size`` rows (the last one shorter)."""
    return [(a, min(a + size, n_obs)) for a in range(0, n_obs, size)]


def default_partition_size(n_obs: int, n_threads: int, chunk: int, n_sets: int = 1) -> int:
    """Return the rows per partition: about :data:`PARTS_PER_THREAD` partitions per thread of the cluster.

    A whole number of chunks (``chunk`` rows, the engine's unit of work), at least one; at most
    :data:`MAX_PARTITION_RESULTS` bytes of results (scores and z-scores of ``n_sets`` signatures) per
    partition, so that a worker never holds more than that per task however many cells there are.
    """
    chunk = max(int(chunk), 1)
    want = -(-n_obs // max(PARTS_PER_THREAD * n_threads, 1))
    cap = max(MAX_PARTITION_RESULTS // (16 * max(n_sets, 1)), chunk)
    return int(-(-min(max(want, 1), cap) // chunk) * chunk)


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
    #: the type the client keeps the scores in (float32 on request): a partition's scores are sent in it
    dtype: np.dtype = np.dtype(np.float64)

    def __getstate__(self) -> dict:
        # the sets' thousands of small arrays (a signature's and each control set's genes and weights)
        # as a few flat arrays: pickled one by one, each was a frame of its own on every hop (client ->
        # scheduler -> worker -> worker, ~11,000 frames for 54 signatures x 100 controls: ~0.25 s of CPU
        # per (un)pickling and as much in Dask's comms); the kernels' caches on the sets stay behind
        state = dict(self.__dict__)
        state["sets"] = _packed_sets(self.sets)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        state["sets"] = _unpacked_sets(state["sets"])
        self.__dict__.update(state)


_SET_ARRAYS = ("up_idx", "up_w", "dn_idx", "dn_w")


def _packed_sets(sets) -> tuple:
    """Return the fields of ``sets`` (a GeneSetIndex), each tuple of arrays as one flat array and the arrays' lengths.

    A tuple whose arrays are not all one-dimensional of one dtype is kept as it is.
    """
    from dataclasses import fields

    packed = {}
    for f in fields(sets):
        value = getattr(sets, f.name)
        if f.name in _SET_ARRAYS and value and all(a.ndim == 1 and a.dtype == value[0].dtype for a in value):
            value = ("packed", np.concatenate(value), np.array([len(a) for a in value], dtype=np.int64))
        packed[f.name] = value
    return (type(sets), packed)


def _unpacked_sets(packed: tuple):
    """Return the GeneSetIndex of :func:`_packed_sets` (its arrays: views of the flat arrays, same values and dtypes)."""
    cls, fields = packed
    out = {}
    for name, value in fields.items():
        if name in _SET_ARRAYS and isinstance(value, tuple) and value and isinstance(value[0], str):
            _, flat, lengths = value
            value = tuple(np.split(flat, np.cumsum(lengths)[:-1]))
        out[name] = value
    return cls(**out)


def score_part(reader: RowSource, a: int, b: int, plan: Plan) -> dict:
    """Score the rows ``a:b`` of ``reader`` in chunks of ``plan.chunk`` rows (runs on a worker).

    Returns the partition's results: ``a``, ``b``, ``scores`` (rows x signatures), ``codes``
    (unscorable rows), ``extras`` and the null model's share (``counts`` and ``tail`` for the
    per-sample null; ``z`` and ``pool`` for the pooled null).
    """
    # the held reader is one object shared by the tasks of a worker's threads: read through a copy of
    # our own, so that closing our file never pulls it from under another task
    reader = reader.reader()
    with kept_allocations():
        out = _score_rows_of(reader, a, b, plan)
    reader.close()
    return out


def _score_rows_of(reader: RowSource, a: int, b: int, plan: Plan) -> dict:
    n = b - a
    # in the client's type: the same rounding as writing them into the client's array, half the bytes in float32
    scores = np.full((n, plan.n_sets), np.nan, dtype=plan.dtype)
    codes = np.zeros(n, dtype=np.int8)
    extras: dict[str, np.ndarray] = {}
    scratch: dict = {}  # this task's (this thread's) kernel outputs; sc below is overwritten by the next chunk
    model = None
    if plan.null == "pooled":
        model = PooledNull(
            plan.n_obs, plan.n_sets, plan.n_controls, plan.max_pool, tail=plan.tail, rows=(a, b)
        )
    elif plan.null == "per_sample":
        model = PerSampleNull(n, plan.n_sets, plan.n_controls, tail=plan.tail)

    def work(block, lo):
        hi = lo + block.shape[0]
        code = unscorable_rows(block, lo)
        codes[lo - a : hi - a] = code
        if not plan.n_sets:
            return
        with workspace(scratch):  # the kernels' outputs reused chunk after chunk (no page faults)
            # the same call as in-process: UCell's pooled null in one pass, the other methods through
            # call_rows; the pooled null counts rows from the file's start, the per-sample one from a
            sc, ex = score_block(
                plan.fn, block, plan.sets, plan.call_params, code, plan.n_sets, model,
                lo if isinstance(model, PooledNull) else lo - a,
            )  # fmt: skip
            scores[lo - a : hi - a] = sc
            for k, v in ex.items():
                extras.setdefault(k, np.full((n, plan.n_sets), np.nan))[lo - a : hi - a] = v

    # as the in-process engine: this thread reads the next chunk (into the buffers of a chunk already
    # scored) while one helper thread scores this one, in order; at most one chunk read ahead
    ranges = [(a + lo, a + hi) for lo, hi in partitions(b - a, max(int(plan.chunk), 1))]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="resistscore-score") as pool:
        for _ in read_ahead(pool, ranges, reader.rows_into, work, 1, ReadBuffers()):
            pass
    out = {"a": a, "b": b, "scores": scores, "codes": codes, "extras": extras}
    if isinstance(model, PooledNull):
        _, z, out["pool"] = model.part()
        # z (rows x signatures) is a strided view: one contiguous copy here, sent as it is (the transposed
        # copy pickle made was sent in-band, then written into the client's signatures x rows array by a
        # transposed copy; now the client copies whole rows)
        out["z"] = np.ascontiguousarray(z.T).T
    elif model is not None:
        res = model.finish()
        out["counts"] = res.counts
        out["tail"] = (res.tail.rows, res.tail.cols, res.tail.p)
    return out


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_DEFAULTS = {"MALLOC_TRIM_THRESHOLD_": 128 * 1024, "MALLOC_MMAP_THRESHOLD_": 128 * 1024}
_kept = {"users": 0, "lock": threading.Lock()}


def _glibc():
    """Return the C library if it is glibc and its allocator was tuned through the environment, else None."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    if not any(k in os.environ for k in (*_GLIBC_DEFAULTS, "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")):
        return None  # glibc adapts its thresholds to the program by itself: leave them alone
    import ctypes

    try:
        return ctypes.CDLL(None)
    except OSError:  # pragma: no cover
        return None


def _env_int(name: str) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return _GLIBC_DEFAULTS[name]


#: seconds a worker keeps the allocator tuned after its last scoring task ended (the next partition of
#: the run reuses the memory the last one freed instead of faulting fresh pages in)
RELEASE_AFTER = 2.0


@contextmanager
def kept_allocations():
    """While scoring tasks run in this process, freed memory stays with the allocator for the next chunk.

    Dask's nannies start their workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (so that an idle
    worker's memory goes back to the system). That also fixes glibc's mmap threshold at 128 KiB: every
    array of a chunk (tens of MB) is then mapped, faulted in page by page and unmapped, chunk after
    chunk - at 100,000 cells 0.85 million page faults and as much system time in the workers as
    scoring, against 36,000 in-process. Within this block the thresholds are those glibc would have
    grown to by itself (arrays up to 32 MiB from the heap, 512 MiB kept at its top). They are set back
    to the environment's values, and the free memory returned (``malloc_trim``), when no scoring task
    has run in this process for :data:`RELEASE_AFTER` seconds: not between two partitions of a run
    (a worker of one thread would otherwise return its heap after every partition and fault it in
    again for the next). Elsewhere than glibc, or with glibc's own adaptive thresholds (no
    ``MALLOC_*_`` variable set), nothing changes. The numbers do not depend on it.
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    with _kept["lock"]:
        _kept["users"] += 1
        timer = _kept.pop("timer", None)
        if timer is not None:
            timer.cancel()  # still tuned: the last task ended moments ago
        elif _kept["users"] == 1:
            libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)
            libc.mallopt(_M_TRIM_THRESHOLD, 512 * 2**20)
    try:
        yield
    finally:
        with _kept["lock"]:
            _kept["users"] -= 1
            if _kept["users"] == 0:
                if RELEASE_AFTER > 0:
                    timer = _kept["timer"] = threading.Timer(RELEASE_AFTER, _release, (libc,))
                    timer.daemon = True
                    timer.start()
                else:
                    _release(libc, locked=True)


def release_now() -> None:
    """Release at once what :func:`kept_allocations` keeps for a next task (if no task runs; tests, shutdown)."""
    with _kept["lock"]:
        timer = _kept.pop("timer", None)
        if timer is not None:
            timer.cancel()
            _release(timer.args[0], locked=True)


def _release(libc, locked: bool = False) -> None:
    """Set glibc's thresholds back to the environment's and return the free memory (no scoring task runs)."""
    if not locked:
        with _kept["lock"]:
            if _kept["users"] or _kept.get("timer") is not threading.current_thread():
                return  # a task started meanwhile (it cancelled this timer)
            del _kept["timer"]
            _release(libc, locked=True)
        return
    libc.mallopt(_M_TRIM_THRESHOLD, _env_int("MALLOC_TRIM_THRESHOLD_"))
    libc.mallopt(_M_MMAP_THRESHOLD, _env_int("MALLOC_MMAP_THRESHOLD_"))
    libc.malloc_trim(0)


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
    reader_f, plan_f = held_reader(client, source), _held(client, plan)
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


#: the reader held on the cluster for each source of a run: sent once, used by every pass
_READERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def held_reader(client, source: RowSource):
    """Return the :meth:`RowSource.reader` of ``source`` held on the cluster (:func:`_held`), sent once.

    The probe, the gene statistics, the gene means and the partitions of a run all take this one
    future: the reader (a few MB with a gene collapse) is pickled into one graph only. It is released
    when ``source`` is (at the end of :func:`resistscore.tl.score`).
    """
    fut = _READERS.get(source)
    if fut is None or fut.client is not client or fut.status in ("error", "cancelled", "lost"):
        fut = _READERS[source] = _held(client, source.reader())
    return fut


def _indexed(i: int, fn, reader: RowSource, *args):
    own = reader.reader()  # a copy of our own (see score_part): the tasks of a worker's threads share reader
    try:
        with kept_allocations():
            return i, fn(own, *args)
    finally:
        own.close()


def map_blocks(client, source: RowSource, fn, args_list, what: str, spread: bool = False) -> list:
    """``[fn(reader, *args) for args in args_list]`` computed on the workers (in that order).

    With ``spread``, the ``i``-th call is placed on the ``i``-th thread of the cluster (round robin; another
    worker takes it if that one is gone): the scheduler would otherwise run them all on the worker that
    holds the reader, one after the other, while the others wait.
    """
    reader_f = held_reader(client, source)
    slots = [w for w, n in sorted(client.nthreads().items()) for _ in range(int(n))] if spread else []
    futures = [
        client.submit(
            _indexed,
            i,
            fn,
            reader_f,
            *args,
            pure=False,
            retries=RETRIES,
            **({"workers": [slots[i % len(slots)]], "allow_other_workers": True} if slots else {}),
        )
        for i, args in enumerate(args_list)
    ]
    out: list = [None] * len(futures)
    for i, res in _gather(client, futures, what):
        out[i] = res
    return out


def _blocks_moments(source: RowSource, ranges) -> list:
    return [block_moments(source, a, b) for a, b in ranges]


def remote_gene_stats(client, source: RowSource, ranges) -> list:
    """Per-gene ``(sum, sum of squares, rows)`` of every block of ``ranges`` (:func:`block_moments`), in order.

    One task per thread of the cluster (at most), each taking consecutive blocks.
    """
    ranges = list(ranges)
    per_task = -(-len(ranges) // cluster_threads(client)) if ranges else 1
    groups = [(ranges[i : i + per_task],) for i in range(0, len(ranges), per_task)]
    return [
        m
        for part in map_blocks(client, source, _blocks_moments, groups, "gene statistics", spread=True)
        for m in part
    ]


def remote_column_sums(client, source: RowSource, ranges, per_task: int = 20) -> list:
    """:func:`column_block_sums` of ``ranges`` in groups of ``per_task`` blocks, in order."""
    groups = [(list(ranges[i : i + per_task]),) for i in range(0, len(ranges), per_task)]
    return map_blocks(client, source, column_block_sums, groups, "gene means", spread=True)


def remote_kind(client, source: RowSource):
    """Return ``(zero share, scale report, sparse)`` of the probe rows, read and judged on a worker."""
    return map_blocks(client, source, block_kind, [()], "data probe")[0]
