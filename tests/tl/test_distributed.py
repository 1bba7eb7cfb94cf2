"""rs.tl.score on a Dask LocalCluster of worker processes: the same numbers as the in-process engine."""

from __future__ import annotations

import contextlib
import os
import time
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import resistscore as rs
from resistscore.tl._chunks import RowSource

distributed = pytest.importorskip("distributed")
pytest.importorskip("zarr")

N_CELLS, N_GENES = 700, 400
SIGS = {
    "up": [f"G{i}" for i in range(0, 30)],
    "signed": [f"G{i}" for i in range(30, 50)] + [f"G{i}-" for i in range(50, 60)],
    "small": [f"G{i}" for i in range(100, 110)],
}


def _cells(seed: int = 0) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.3, 0.8, size=N_GENES)
    X = rng.poisson(lam, size=(N_CELLS, N_GENES)).astype(np.float32)
    X[:60, :30] += rng.poisson(3, size=(60, 30))  # cells expressing "up"
    X[5] = 0.0  # an unscorable cell (all zero)
    X = np.log1p(X)
    a = ad.AnnData(
        sp.csr_matrix(X),
        obs=pd.DataFrame(index=[f"cell{i}" for i in range(N_CELLS)]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(N_GENES)]),
    )
    a.obs["n_genes"] = (X > 0).sum(axis=1)
    return a


def _write_zarr(a: ad.AnnData, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # anndata: zarr v2 will not be the default
        a.write_zarr(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    a = _cells()
    a.write_h5ad(d / "cells.h5ad")
    _write_zarr(a, d / "cells.zarr")
    _write_zarr(a[:250].copy(), d / "shard0.zarr")
    a[250:].copy().write_h5ad(d / "shard1.h5ad")
    return d


@contextlib.contextmanager
def _local(n_workers: int = 2, **config):
    """A LocalCluster of worker processes on loopback (the CLI's --workers); its processes are gone after."""
    import dask

    from resistscore._workflow import dask_client

    with warnings.catch_warnings(), dask.config.set(config):
        warnings.simplefilter("ignore")
        with dask_client(workers=n_workers) as client:
            pids = list(client.run(os.getpid).values())
            try:
                yield client
            finally:
                pids += list(client.run(os.getpid).values())
    _assert_gone(pids)


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on loopback; closed with all their processes at teardown."""
    with _local(2) as client:
        yield client


def _assert_gone(pids, timeout: float = 20.0) -> None:
    """The worker processes have exited (or are zombies about to be reaped)."""
    import psutil

    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [
            p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        time.sleep(0.1)
    assert not alive, f"worker processes {alive} still run after the cluster was closed"


def _same(a, b) -> None:
    """Bit-identical scores, p-values and FDR (NaN where NaN)."""
    for name in ("scores", "pvalues", "fdr"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.index.equals(y.index) and x.columns.equals(y.columns), name
        np.testing.assert_array_equal(x.to_numpy(), y.to_numpy(), err_msg=name)
    pd.testing.assert_frame_equal(a.unscored, b.unscored, check_index_type=False)  # a file's names: str dtype


def _score(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.UnscorableSampleWarning)
        kw.setdefault("harmonize", False)  # synthetic gene names (G1, ...): scored as they are
        out = rs.tl.score(data, SIGS, n_controls=30, random_state=3, chunk_size=64, **kw)
        return rs.get.result(out) if kw.get("copy") else out


@pytest.mark.parametrize("null", ["pooled", "per_sample"])
@pytest.mark.parametrize("partition_size", [64, 100, 333, 10_000])
def test_cluster_equals_in_process(files, cluster, null, partition_size):
    ref = _score(files / "cells.h5ad", null=null)
    assert ref.method == "ucell" and ref.null == null
    got = _score(files / "cells.zarr", null=null, client=cluster, partition_size=partition_size)
    _same(ref, got)


def test_float32_results_are_sent_in_float32(files, cluster, monkeypatch):
    """With dtype="float32" a partition's scores travel in float32 (half the bytes) and equal in-process float32."""
    from resistscore.tl import _score as sc

    ref = _score(files / "cells.h5ad", dtype="float32")
    seen = []
    real = sc._Arrays.put_part
    monkeypatch.setattr(
        sc._Arrays, "put_part", lambda self, res: seen.append(res["scores"].dtype) or real(self, res)
    )
    got = _score(files / "cells.zarr", dtype="float32", client=cluster, partition_size=200)
    _same(ref, got)
    assert got.scores.dtypes.eq(np.float32).all() and set(seen) == {np.dtype(np.float32)}


def test_one_worker_equals_two(files, cluster):
    """The same numbers on one worker (the other retired) as on two, and as in-process."""
    ref = _score(files / "cells.zarr")
    with _local(1) as one:
        got = _score(files / "cells.zarr", client=one, partition_size=128)
    _same(ref, got)


def test_pooled_null_uses_every_cell(files, cluster):
    """The pool is gathered from all partitions: with a stride > 1 (small max pool) the pooled rows
    straddle partition edges, and the p-values still equal the in-process ones."""
    from resistscore.tl import _null

    old = _null.MAX_POOL
    _null.MAX_POOL = 3000  # stride ceil(700 * 30 / 3000) = 7: partitions of 100 rows start mid-stride
    try:
        ref = _score(files / "cells.h5ad", null="pooled")
        got = _score(files / "cells.h5ad", null="pooled", client=cluster, partition_size=100)
    finally:
        _null.MAX_POOL = old
    _same(ref, got)
    # the distributed path cannot have used a pool of one partition only: p-values below 1/(1+30*100/7)
    assert np.nanmin(got.pvalues.to_numpy()) < 1 / (1 + 30 * 100 / 7)


def test_shards_and_dask_anndata(files, cluster):
    ref = _score(files / "cells.h5ad")
    _same(ref, _score([files / "shard0.zarr", files / "shard1.h5ad"], client=cluster, partition_size=90))
    _same(ref, _score([files / "shard0.zarr", files / "shard1.h5ad"]))
    # an AnnData whose X is a dask array read lazily from the zarr store
    import dask.array as da

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a = ad.read_zarr(files / "cells.zarr")
    lazy = ad.AnnData(X=da.from_array(a.X.toarray(), chunks=(128, N_GENES)), obs=a.obs[[]], var=a.var[[]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rs.UnscorableSampleWarning)
        dense_ref = rs.get.result(rs.tl.score(
            ad.AnnData(a.X.toarray(), obs=a.obs[[]], var=a.var[[]]),
            SIGS, n_controls=30, random_state=3, chunk_size=64, copy=True, method="ucell",
        ))  # fmt: skip
        got = rs.get.result(rs.tl.score(
            lazy, SIGS, n_controls=30, random_state=3, chunk_size=64, copy=True, method="ucell",
            client=cluster,
        ))  # fmt: skip
    _same(dense_ref, got)


def test_bulk_singscore_and_module_score(files, cluster):
    """Bulk-like data (singscore, per-sample null) and a method with a cohort step (module_score)."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(5, 1, size=(90, 300)), columns=[f"G{i}" for i in range(300)])
    df.index = df.index.astype(str)
    p = files / "bulk.h5ad"
    ad.AnnData(df).write_h5ad(p)
    for method in ("singscore", "module_score"):
        ref = rs.tl.score(p, SIGS, method=method, n_controls=50, chunk_size=16, harmonize=False)
        got = rs.tl.score(
            p,
            SIGS,
            method=method,
            n_controls=50,
            chunk_size=16,
            client=cluster,
            partition_size=40,
            harmonize=False,
        )
        _same(ref, got)


def test_cohort_method_refused(files, cluster):
    with pytest.raises(rs.ResistScoreError, match="whole cohort"):
        _score(files / "cells.zarr", method="gsva", client=cluster)


def test_the_method_is_checked_on_a_worker(files, cluster, monkeypatch):
    """With ``client=``, the method's check on made-up rows runs on a worker (which loads the compiled kernels
    anyway), not on the client, which never scores a row; a bad parameter still stops the run with the error
    the in-process engine gives.

    Before, the client ran the one-pass kernel for the check: its compiled code loaded into the client too
    (~0.3 CPU s a run, and a compilation there on a first run).
    """
    from resistscore.tl import _onepass

    calls = []
    real = _onepass._ucell_pooled
    monkeypatch.setattr(_onepass, "_ucell_pooled", lambda *a: calls.append(1) or real(*a))
    _same(_score(files / "cells.h5ad", client=cluster), _score(files / "cells.h5ad"))
    assert len(calls) > 1  # the in-process run
    calls.clear()
    _score(files / "cells.h5ad", client=cluster)
    assert calls == []  # the client's process never ran the kernel
    with pytest.raises(rs.ResistScoreError, match="`max_rank` must be >= 1"):
        _score(files / "cells.h5ad", client=cluster, max_rank=0)


def test_bad_client():
    with pytest.raises(rs.ResistScoreError, match="dask.distributed.Client"):
        rs.tl.score(np.ones((2, 3)), {"s": ["a", "b"]}, genes=["a", "b", "c"], client="tcp://127.0.0.1:1")


# ------------------------------------------------------------------------------------------ faults
def test_worker_killed_mid_run_same_numbers(tmp_path):
    """A worker process killed (SIGKILL) while it scores a partition: the scheduler reruns its tasks on
    the other worker (and the restarted one), and the numbers equal the in-process run."""
    import signal
    import threading

    rng = np.random.default_rng(7)
    X = np.log1p(rng.poisson(rng.gamma(0.3, 0.8, size=N_GENES), size=(6000, N_GENES)).astype(np.float32))
    a = ad.AnnData(
        sp.csr_matrix(X),
        obs=pd.DataFrame(index=[f"c{i}" for i in range(len(X))]),
        var=pd.DataFrame(index=[f"G{i}" for i in range(N_GENES)]),
    )
    _write_zarr(a, tmp_path / "big.zarr")
    ref = _score(tmp_path / "big.zarr")
    killed: list[int] = []

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for addr, keys in client.processing().items():
                # a scoring task (not the early import task, the probe or the gene statistics)
                if addr in pids and any(str(k).startswith("score_part") for k in keys):
                    os.kill(pids[addr], signal.SIGKILL)
                    killed.append(pids[addr])
                    return
            time.sleep(0.01)

    with _local(2) as client:
        pids = client.run(os.getpid)
        # the probe, the gene statistics and then the partitions: kill once scoring tasks run
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        got = _score(tmp_path / "big.zarr", client=client, partition_size=100)
        thread.join(timeout=5)
    assert killed, "no worker was killed: the run ended before the killer saw a task"
    _same(ref, got)


class _DiesOnWorkers(RowSource):
    """A source whose rows kill the worker process that reads them (a segfaulting reader, an OOM kill)."""

    def rows(self, a, b):
        try:
            from distributed import get_worker

            get_worker()
        except ValueError:  # in the client: read as usual
            return super().rows(a, b)
        os._exit(1)


def test_workers_dying_every_time_give_one_clear_error():
    """When a task kills every worker that runs it, the scheduler gives up (allowed-failures) and
    rs.tl.score raises one ClusterError naming the cause; nothing is returned or written."""
    import sys

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import the tests
    X = np.abs(np.random.default_rng(0).normal(size=(50, 40)))
    src = _DiesOnWorkers(X, [f"s{i}" for i in range(50)], [f"G{i}" for i in range(40)])
    assert isinstance(src, RowSource)
    try:
        with (
            _local(1, **{"distributed.scheduler.allowed-failures": 0}) as client,
            pytest.raises(rs.ClusterError, match="lost the .*nothing was written"),
        ):
            rs.tl.score(src, {"s": ["G1", "G2", "G3"]}, n_controls=5, client=client)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_anndata_lazy_readers(files, cluster):
    """An AnnData whose X comes from anndata's lazy reader (zarr and h5ad): the rows are read on the
    workers from the file, and the numbers equal scoring the path."""
    import h5py
    import zarr

    try:
        from anndata.experimental import read_elem_lazy
    except ImportError:  # anndata < 0.12
        pytest.skip("anndata.experimental.read_elem_lazy needs anndata >= 0.12")
    ref = _score(files / "cells.h5ad", method="ucell")
    with h5py.File(files / "cells.h5ad", "r") as f:
        lazy_h5 = ad.AnnData(
            X=read_elem_lazy(f["X"]),
            obs=pd.DataFrame(index=ref.scores.index),
            var=pd.DataFrame(index=[f"G{i}" for i in range(N_GENES)]),
        )
        for client in (None, cluster):
            got = _score(lazy_h5, method="ucell", copy=True, client=client)
            _same(ref, got)
    lazy_z = ad.AnnData(
        X=read_elem_lazy(zarr.open_group(str(files / "cells.zarr"), mode="r")["X"]),
        obs=pd.DataFrame(index=ref.scores.index),
        var=pd.DataFrame(index=[f"G{i}" for i in range(N_GENES)]),
    )
    _same(ref, _score(lazy_z, method="ucell", copy=True, client=cluster))


def test_the_matrix_never_passes_through_the_client(files, cluster, monkeypatch):
    """With client=, this process never reads a row of the file: reading rows here raises, and the run
    (data probe, gene statistics, scoring, pooled null) still completes with the in-process numbers.
    The workers are other processes, untouched by the patch."""
    ref = _score(files / "cells.zarr", method="module_score")  # also the cohort step (gene means)
    ref_default = _score(files / "cells.zarr")

    def no_rows(self, *args):
        raise AssertionError("the client read rows of the matrix")

    monkeypatch.setattr(RowSource, "_rows", no_rows)  # what rows() and rows_into() read through
    monkeypatch.setattr(RowSource, "take", no_rows)
    with pytest.raises(AssertionError, match="the client read rows"):
        _score(files / "cells.zarr")  # in-process: it must read rows
    _same(ref_default, _score(files / "cells.zarr", client=cluster, partition_size=200))
    _same(ref, _score(files / "cells.zarr", method="module_score", client=cluster, partition_size=200))


def test_a_task_never_closes_the_reader_it_shares(files):
    """A worker's threads share the one held reader: a task reads through its own copy and closes only that.

    Before, ``score_part`` closed the shared reader's file at its end, under a task still reading it in another
    thread of the same worker ("identifier is not of specified type"; seen with 1 worker x 2 threads).
    """
    from resistscore.tl import _distributed as dist
    from resistscore.tl._chunks import from_file

    shared = from_file(files / "cells.h5ad").reader()
    shared.rows(0, 2)  # the file is open, as while another task reads it
    handle = shared._file
    plan = dist.Plan(None, None, {}, 0, 0, None, None, shared.n_obs, 64)
    dist.score_part(shared, 0, 200, plan)
    seen = []
    dist._indexed(0, lambda r: seen.append(r) or r.rows(0, 3).shape, shared)
    assert shared._file is handle and handle.id.valid  # still open for the other tasks
    assert seen and seen[0] is not shared
    assert shared.rows(0, 2).shape == (2, N_GENES)


def test_a_partition_reads_the_next_chunk_while_it_scores(files, monkeypatch):
    """A task reads its chunks in order, into the buffers of chunks already scored, while one helper thread scores
    the chunk before, as the in-process engine does: a worker of one thread used to wait for every read with its
    core idle, and every chunk read took fresh pages."""
    import threading

    from resistscore.tl import _distributed as dist
    from resistscore.tl._chunks import from_file

    shared = from_file(files / "cells.h5ad").reader()
    cls = type(shared)
    reads, scored = [], []
    real = cls.rows_into
    real_scan = dist.unscorable_rows

    def rows_into(self, lo, hi, buffers):
        reads.append((lo, hi, threading.current_thread().name))
        return real(self, lo, hi, buffers)

    def scan(block, lo):
        scored.append((lo, threading.current_thread().name))
        return real_scan(block, lo)

    monkeypatch.setattr(cls, "rows_into", rows_into)
    monkeypatch.setattr(dist, "unscorable_rows", scan)
    plan = dist.Plan(None, None, {}, 0, 0, None, None, shared.n_obs, 64)
    out = dist.score_part(shared, 100, 400, plan)
    assert [(lo, hi) for lo, hi, _ in reads] == [(100, 164), (164, 228), (228, 292), (292, 356), (356, 400)]
    assert len({name for _, _, name in reads}) == 1  # one reading thread: the task's
    assert [lo for lo, _ in scored] == [100, 164, 228, 292, 356]
    assert all(name.startswith("resistscore-score") for _, name in scored), scored
    assert out["codes"].shape == (300,)
    np.testing.assert_array_equal(out["codes"], dist.score_part(shared, 100, 400, plan)["codes"])


# ------------------------------------------------------------------------------------------ costs
def test_the_reader_ships_no_names_nor_annotations(files):
    """What every task of a run gets (the held reader) carries neither the 700 cell names nor the file's
    ``obs``: at a million cells that was 13.8 MiB pickled into every graph ("Sending large graph")."""
    import pickle

    from resistscore.tl._stream import harmonized_rows

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = harmonized_rows(files / "cells.h5ad")
    assert src.annotations["obs"].shape[0] == N_CELLS  # the client keeps them (default method choice)
    rd = src.reader()
    assert rd.obs_names is None and rd.var_names is None and rd.inner.obs_names is None
    assert "annotations" not in rd.__dict__
    assert len(pickle.dumps(rd)) < len(pickle.dumps(src)) - 10 * N_CELLS
    assert rd.rows(0, 3).shape == src.rows(0, 3).shape  # still reads (and collapses) the rows


def test_the_reader_is_sent_once_per_run(files, cluster, monkeypatch):
    """The probe, the gene statistics and the partitions use one held reader (one task embeds it), not one
    copy per pass."""
    from resistscore.tl import _distributed as dist

    held = []
    real = dist._held

    def counting(client, value):
        held.append(type(value).__name__)
        return real(client, value)

    monkeypatch.setattr(dist, "_held", counting)
    ref = _score(files / "cells.h5ad")
    got = _score(files / "cells.h5ad", client=cluster)
    _same(ref, got)
    assert held.count("RowSource") == 1 and held.count("Plan") == 1, held


def test_the_plan_pickles_into_a_few_buffers():
    """The plan's gene sets travel as a few flat arrays, not one pickle buffer per set and field.

    Before, 54 signatures x 100 control sets pickled into ~11,000 out-of-band buffers, each a frame of its
    own on every hop (client -> scheduler -> worker -> worker): ~0.25 s of CPU per (un)pickling and as much
    again in Dask's comms. The arrays come back equal (values and dtypes); the kernels' caches stay behind.
    """
    import pickle

    from resistscore.tl import _distributed as dist
    from resistscore.tl.methods._base import GeneSetIndex

    rng = np.random.default_rng(0)
    genes = rng.integers(0, 2000, size=(500, 30))
    n = 500
    sets = GeneSetIndex(
        tuple(f"s{i}" for i in range(n)),
        tuple(genes[i, : 5 + i % 20] for i in range(n)),  # views of one matrix, as make_controls gives
        tuple(np.ones(5 + i % 20) for i in range(n)),
        tuple(np.arange(i % 3, dtype=np.int64) for i in range(n)),  # some empty
        tuple(np.full(i % 3, 0.5) for i in range(n)),
        2000,
        50,
    )
    sets.__dict__["_incidence_cache"] = {"onepass": (np.zeros(10), np.zeros(10))}
    plan = dist.Plan(None, sets, {"max_rank": 1500}, 50, 9, "pooled", "gpd", 1000, 64)
    buffers = []
    blob = pickle.dumps(plan, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) <= 8, len(buffers)  # 4 flat arrays and their lengths (was 2,002 here)
    back = pickle.loads(blob, buffers=buffers)
    got = back.sets
    assert "_incidence_cache" not in got.__dict__
    assert (got.names, got.n_genes, got.n_primary) == (sets.names, sets.n_genes, sets.n_primary)
    for field in ("up_idx", "up_w", "dn_idx", "dn_w"):
        a, b = getattr(sets, field), getattr(got, field)
        assert type(b) is tuple and len(a) == len(b)
        assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(a, b))
    assert back.call_params == plan.call_params and back.n_obs == plan.n_obs and back.dtype == plan.dtype
    # a tuple of arrays of several dtypes is sent as it is
    mixed = GeneSetIndex(("a", "b"), (np.array([1]), np.array([2], np.int32)), (np.ones(1),) * 2, (), (), 3)
    plan.sets = mixed
    got = pickle.loads(pickle.dumps(plan)).sets
    assert [x.dtype for x in got.up_idx] == [np.int64, np.int32] and got.dn_idx == ()


def test_default_partitions_follow_the_threads():
    """About four partitions per thread of the cluster, whole chunks, a cap on the results per partition."""
    from resistscore.tl._distributed import MAX_PARTITION_RESULTS, default_partition_size, partitions

    size = default_partition_size(1_000_000, 2, 490, 54)  # the benchmark: 1M cells, 2 threads
    assert size % 490 == 0 and len(partitions(1_000_000, size)) == 8
    assert default_partition_size(1_000_000, 2, 490, 54) == default_partition_size(1_000_000, 2, 490)
    assert default_partition_size(100, 64, 490, 54) == 490  # never less than one chunk
    big = default_partition_size(100_000_000, 2, 500, 50)  # 100M cells on 2 threads: capped
    assert big * 16 * 50 <= MAX_PARTITION_RESULTS + 500 * 16 * 50


def test_cluster_threads_and_partitions_on_the_cluster(files, cluster, monkeypatch):
    """With the default partition size, a 2-worker x 1-thread cluster gets about eight partitions."""
    from resistscore.tl import _distributed as dist
    from resistscore.tl import _score as sc

    assert dist.cluster_threads(cluster) == 2
    seen = []
    real = sc.run_partitions
    monkeypatch.setattr(
        sc, "run_partitions", lambda c, s, p, r, f: seen.append(len(r)) or real(c, s, p, r, f)
    )
    _same(_score(files / "cells.h5ad"), _score(files / "cells.h5ad", client=cluster))
    assert seen == [6]  # 700 rows / (4 x 2 threads) = 88 rows, rounded up to 2 chunks of 64: 6 partitions


def test_kept_allocations_only_where_dask_tuned_glibc(monkeypatch):
    """Scoring tasks keep freed memory in the allocator only when the environment fixed glibc's thresholds
    (Dask's nannies set MALLOC_TRIM_THRESHOLD_); the thresholds are set back when the last task ends."""
    import platform
    import sys
    import threading

    from resistscore.tl import _distributed as dist

    dist.release_now()  # a scoring task of an earlier test (in this process) may still keep its allocations
    monkeypatch.setattr(dist, "_kept", {"users": 0, "lock": threading.Lock()})
    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

        def malloc_trim(self, pad):
            calls.append(("trim", pad))
            return 1

    for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_"):
        monkeypatch.delenv(k, raising=False)
    assert dist._glibc() is None  # glibc's own adaptive thresholds: left alone
    monkeypatch.setattr(
        dist, "_glibc", lambda: FakeLibc() if "MALLOC_TRIM_THRESHOLD_" in os.environ else None
    )
    with dist.kept_allocations():
        pass
    assert calls == []
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.setattr(dist, "RELEASE_AFTER", 0)
    with dist.kept_allocations(), dist.kept_allocations():  # two tasks of one worker's threads
        assert calls == [(dist._M_MMAP_THRESHOLD, 32 * 2**20), (dist._M_TRIM_THRESHOLD, 512 * 2**20)]
    assert calls[2:] == [(dist._M_TRIM_THRESHOLD, 65536), (dist._M_MMAP_THRESHOLD, 128 * 1024), ("trim", 0)]
    # partitions one after the other (a worker of one thread): tuned once, released once after the last
    calls.clear()
    monkeypatch.setattr(dist, "RELEASE_AFTER", 0.2)
    for _ in range(3):
        with dist.kept_allocations():
            pass
    assert calls == [(dist._M_MMAP_THRESHOLD, 32 * 2**20), (dist._M_TRIM_THRESHOLD, 512 * 2**20)]
    deadline = time.monotonic() + 10
    while len(calls) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls[2:] == [(dist._M_TRIM_THRESHOLD, 65536), (dist._M_MMAP_THRESHOLD, 128 * 1024), ("trim", 0)]
    assert "timer" not in dist._kept and dist._kept["users"] == 0
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        monkeypatch.undo()
        monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
        assert dist._glibc() is not None


def test_workers_score_ucells_pooled_null_in_one_pass(files, monkeypatch):
    """A partition takes the in-process engine's one-pass UCell + pooled null (``_onepass``), same numbers.

    Before, ``score_part`` scored every control set into a rows x sets matrix (``call_rows``), the slower way.
    An in-thread cluster (no sockets, tasks in this process) lets the test see which path ran.
    """
    from distributed import Client

    from resistscore.tl import _onepass

    calls = []
    real = _onepass._ucell_pooled
    monkeypatch.setattr(_onepass, "_ucell_pooled", lambda *a: calls.append(1) or real(*a))
    ref = _score(files / "cells.h5ad")
    n_in_process = len(calls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
            got = _score(files / "cells.h5ad", client=client, partition_size=200)
    _same(ref, got)
    assert n_in_process and len(calls) > n_in_process


def test_blocks_read_on_the_workers_are_spread_over_them(files, cluster):
    """map_blocks(spread=True) (the gene statistics, the gene means) puts its i-th call on the cluster's i-th
    thread: with two workers of one thread, one call runs on each, not both on the worker holding the reader."""
    from resistscore.tl import _distributed as dist
    from resistscore.tl._chunks import from_file

    def where(reader):
        return distributed.get_worker().address

    source = from_file(files / "cells.h5ad")
    try:
        assert sorted(dist.map_blocks(cluster, source, where, [(), ()], "test", spread=True)) == sorted(
            cluster.nthreads()
        )
        # the results still come back in the order of the calls
        rows = dist.map_blocks(
            cluster,
            source,
            lambda r, a, b: r.rows(a, b).shape[0],
            [(0, 5), (5, 12), (12, 14)],
            "t",
            spread=True,
        )
        assert rows == [5, 7, 2]
    finally:
        source.close()


def test_warming_the_workers_sets_numba_up_on_each(files, cluster):
    """warm_workers has each worker pay numba's set-up (its first kernel) before its first partition."""
    from resistscore.tl import _distributed as dist

    def ready():
        from resistscore.tl import _jit

        thread = _jit._state["thread"]  # set by warm_jit only: the workers never score through rs.tl.score
        return thread is not None and not thread.is_alive() and bool(_jit._ready.signatures)

    dist.warm_workers(cluster)
    deadline = time.monotonic() + 60
    while not all(cluster.run(ready).values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all(cluster.run(ready).values())
