"""Run the jobs of the store on Dask distributed, from a thread of the web process.

The dispatcher thread owns the Dask client: it starts a ``LocalCluster`` of worker processes (or connects
to ``--scheduler``), submits every queued job (:func:`resistscore.service._worker.execute`), turns the
workers' progress events into store updates, records each finished job, enforces the time limit, starts
again the jobs of a crashed worker (until ``max_attempts``) and deletes expired jobs. The web request
handlers never touch Dask: they write a queued row and return, so the web process stays responsive.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass

from distributed.diagnostics.plugin import WorkerPlugin

from resistscore.service._settings import ServiceSettings
from resistscore.service._store import STAGES, JobStore
from resistscore.service._worker import TOPIC, execute, method_table

__all__ = ["Runner"]

log = logging.getLogger("resistscore.service")


@dataclass
class _Running:
    future: object
    attempt: str | None = None  # the worker's attempt token once it started


class Runner:
    """The job dispatcher: a thread with a Dask client.

    Parameters
    ----------
    store
        The job store.
    settings
        Service settings (``scheduler``, ``workers``, ``worker_memory``, ``job_timeout_s``,
        ``max_attempts``, ``retention_hours``).
    """

    def __init__(self, store: JobStore, settings: ServiceSettings) -> None:
        self.store = store
        self.settings = settings
        self.client = None
        self.cluster = None
        self._futures: dict[str, _Running] = {}
        self._deaths: Counter[str] = Counter()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0
        self.ready = threading.Event()
        #: (method, summary) pairs, asked of a worker once the cluster is up
        self.methods: list[tuple[str, str]] = []
        self.startup_error: str | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def start(self) -> None:
        for job in self.store.unfinished():  # jobs of a previous server run: start them again
            if job.status == "running":
                self.store.requeue(job.id)
        self._thread = threading.Thread(target=self._loop, name="resistscore-dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now (a job was queued or deleted) rather than at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        if self.settings.scheduler:
            self.client = Client(self.settings.scheduler, timeout="30s")
        else:
            # a worker that dies fails its task at once; the dispatcher decides whether to try again
            # and a worker holds only the task it runs (so a crash touches no other job)
            cfg = {
                "distributed.scheduler.allowed-failures": 0,
                "distributed.scheduler.worker-saturation": 1.0,
            }
            with dask.config.set(cfg):
                self.cluster = LocalCluster(
                    n_workers=self.settings.workers,
                    threads_per_worker=1,
                    processes=True,
                    memory_limit=self.settings.worker_memory,
                    dashboard_address="127.0.0.1:0",
                    host="127.0.0.1",
                    silence_logs=logging.WARNING,
                )
            self.client = Client(self.cluster)
        self.client.subscribe_topic(TOPIC, self._on_event)
        self.client.register_plugin(_WarmUp())
        self.methods = self.client.submit(method_table, pure=False).result(timeout=600)

    def _close(self) -> None:
        for closer in (self.client, self.cluster):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer.close()

    # ----------------------------------------------------------------------------- the loop
    def _loop(self) -> None:
        try:
            self._connect()
        except Exception as err:  # cannot reach the scheduler: say so on every job page
            self.startup_error = (
                f"the compute cluster could not be started or reached ({type(err).__name__})."
            )
            log.error("dispatcher: %s\n%s", self.startup_error, traceback.format_exc())
            self.ready.set()
            return
        self.ready.set()
        try:
            while not self._stop.is_set():
                try:
                    self._tick()
                except Exception:  # keep dispatching; the error is for the log, not for a user
                    log.error("dispatcher tick failed\n%s", traceback.format_exc())
                self._wake.wait(0.5)
                self._wake.clear()
        finally:
            self._close()

    def _tick(self) -> None:
        now = time.time()
        unfinished = {j.id: j for j in self.store.unfinished()}
        for job_id in list(self._futures):  # deleted while queued or running
            if job_id not in unfinished:
                self._cancel(job_id)
        free = self._threads() - len(self._futures)
        for job_id, job in unfinished.items():  # oldest first; the rest wait in the store, not on a worker
            if free <= 0:
                break
            if job_id not in self._futures:
                self._submit(job_id, job.params)
                free -= 1
        for job_id, running in list(self._futures.items()):
            fut = running.future
            if fut.done():
                del self._futures[job_id]
                self._finished(job_id, fut)
        timeout = self.settings.job_timeout_s
        for job in unfinished.values():
            if (
                job.status == "running"
                and job.started
                and now - job.started > timeout
                and job.id in self._futures
            ):
                self._cancel(job.id, restart=True)
                self.store.fail(
                    job.id,
                    f"the job ran longer than the time limit of {timeout:.0f} s and was stopped; send a smaller "
                    "file (fewer samples), or ask the administrator to raise job_timeout_s.",
                )
        if now - self._last_sweep > 60:
            self._last_sweep = now
            gone = self.store.sweep(now, self.settings.retention_hours * 3600)
            if gone:
                log.info("deleted %d expired job(s)", len(gone))

    def _submit(self, job_id: str, params: dict) -> None:
        key = f"resistscore-job-{job_id}-{secrets.token_hex(4)}"
        fut = self.client.submit(
            execute, job_id, params, str(self.store.job_dir(job_id)), key=key, pure=False
        )
        self._futures[job_id] = _Running(fut)

    def _cancel(self, job_id: str, restart: bool = False) -> None:
        running = self._futures.pop(job_id, None)
        if running is None:
            return
        fut = running.future
        if restart:  # a running task cannot be interrupted: restart the worker process that runs it
            with contextlib.suppress(Exception):
                processing = self.client.processing()
                addrs = [a for a, keys in processing.items() if fut.key in keys]
                if addrs:
                    self.client.restart_workers(addrs, timeout=60, raise_for_error=False)
        with contextlib.suppress(Exception):
            fut.cancel()

    def _finished(self, job_id: str, fut) -> None:
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        status = fut.status
        if status == "finished":
            res = fut.result()
            if res.get("ok"):
                self.store.finish(job_id, res["files"], res.get("warnings", []))
            else:
                self.store.fail(job_id, res["error"])
            return
        if status == "cancelled":
            self.store.requeue(job_id)  # lost by the cluster (e.g. scheduler restarted): run it again
            return
        err = fut.exception()
        if isinstance(err, (KilledWorker, FutureCancelledError)):
            self._deaths[job_id] += 1
            if self._deaths[job_id] < self.settings.max_attempts:
                log.warning("job %s: its worker died; starting it again", job_id[:6])
                self.store.requeue(job_id)
            else:
                self.store.fail(
                    job_id,
                    f"the worker process running this job stopped {self._deaths[job_id]} times (most often it ran "
                    "out of memory); send a smaller file (fewer samples or genes), or ask the administrator "
                    "for workers with more memory (worker_memory).",
                )
            return
        ref = secrets.token_hex(4)
        log.error(
            "job %s failed (reference %s): %s", job_id[:6], ref, "".join(traceback.format_exception(err))
        )
        self.store.fail(
            job_id,
            f"the analysis failed with an internal error (reference {ref}); the administrator finds the "
            "details in the server log under that reference.",
        )

    # ----------------------------------------------------------------------------- events
    def _on_event(self, event) -> None:
        _, msg = event
        try:
            job_id, stage = str(msg["job"]), str(msg["stage"])
        except (KeyError, TypeError):
            return
        running = self._futures.get(job_id)
        if stage == "started":
            if running is not None:
                running.attempt = msg.get("attempt")
            self.store.mark_running(job_id)
        elif stage in STAGES:
            if running is not None and running.attempt not in (None, msg.get("attempt")):
                return  # a late event of an earlier attempt
            self.store.set_progress(job_id, stage, STAGES[stage])

    # ----------------------------------------------------------------------------- status
    def _threads(self) -> int:
        """Worker threads of the cluster: how many jobs can run at once."""
        with contextlib.suppress(Exception):
            info = self.client.scheduler_info(n_workers=-1)
            return sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values())
        return 0

    def workers(self) -> int:
        """Return the number of workers connected (0 before the cluster is up)."""
        if self.client is None:
            return 0
        with contextlib.suppress(Exception):
            return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
        return 0


class _WarmUp(WorkerPlugin):
    """Worker plugin: import the analysis code when a worker starts, so the first job does not wait for it."""

    name = "resistscore-warm-up"
    idempotent = True

    def setup(self, worker) -> None:
        import resistscore._workflow
        import resistscore.pl
        import resistscore.report
        import resistscore.service._analysis
        import resistscore.tl  # noqa: F401
