r"""The job store: one SQLite database (``<data_dir>/jobs.sqlite3``) and one folder per job.

Schema (``jobs`` table, one row per job; ``docs/service.md`` shows it too)::

    id        TEXT PRIMARY KEY   secrets.token_urlsafe(24): 192 random bits, the only key to a job
    status    TEXT               queued | running | done | failed
    stage     TEXT               queued, reading, harmonising, scoring, testing, reporting, done, failed
    progress  REAL               0-100, by stage
    error     TEXT               the message shown to the user when status = failed
    params    TEXT               JSON: what was asked (files, signatures, method, design, seed)
    client    TEXT               who submitted it (user name or address), for the per-client limit
    attempts  INTEGER            how often a worker started it
    created, started, finished   REAL (Unix time)
    files     TEXT               JSON list of the output files (relative to the job's result folder)
    notes     TEXT               JSON list of the warnings the analysis gave
    history   TEXT               JSON list of [stage, Unix time] of the current attempt

State machine::

    queued --(a worker starts it)--> running --(outputs written)--> done
       ^                                |  \--(bad input, time limit, attempts used up)--> failed
       +--(server restarted, or worker died with attempts left)--+

A row is written only once the job's uploads are complete on disk (the 202 answer follows the commit),
so an accepted job is never lost: after a crash, every ``queued`` and ``running`` job is started again.
``DELETE`` removes the row and the folder; finished jobs expire after ``retention_hours``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["STAGES", "Job", "JobStore", "new_job_id"]

SCHEMA_VERSION = 1
#: progress stages in order, with the share of the work done when each starts
STAGES: dict[str, float] = {
    "queued": 0.0,
    "reading": 5.0,
    "harmonising": 20.0,
    "scoring": 30.0,
    "testing": 70.0,
    "reporting": 80.0,
    "done": 100.0,
}
_ID_BYTES = 24  # 192 bits

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    params TEXT NOT NULL,
    client TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    files TEXT,
    notes TEXT,
    history TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def new_job_id() -> str:
    """Return a new job id: 192 bits from the operating system's random source, URL-safe (32 characters)."""
    return secrets.token_urlsafe(_ID_BYTES)


def valid_job_id(text: str) -> bool:
    """Return True if ``text`` has the shape of a job id (so that it can never be a path)."""
    return len(text) == 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


@dataclass(frozen=True)
class Job:
    """One row of the store."""

    id: str
    status: str
    stage: str
    progress: float
    error: str | None
    params: dict[str, Any]
    client: str
    attempts: int
    created: float
    started: float | None
    finished: float | None
    files: list[str]
    notes: list[str]
    history: list[list]


class JobStore:
    """The SQLite job store and the job folders under ``data_dir``.

    Thread-safe (one connection behind a lock; every call is one short transaction). Only the web
    process writes to it: workers send their progress as Dask events (see ``_runner.py``).
    """

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.data_dir = Path(data_dir)
        self.jobs_dir = self.data_dir / "jobs"
        self.incoming_dir = self.data_dir / "incoming"
        self.trash_dir = self.data_dir / "trash"
        for d in (self.jobs_dir, self.incoming_dir, self.trash_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.data_dir / "jobs.sqlite3", check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------------------- folders
    def job_dir(self, job_id: str) -> Path:
        if not valid_job_id(job_id):
            raise ValueError("not a job id")
        return self.jobs_dir / job_id

    def new_incoming(self) -> tuple[str, Path]:
        """Return a new job id and a private folder to receive its uploads (not yet a job)."""
        job_id = new_job_id()
        folder = self.incoming_dir / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    # ------------------------------------------------------------------------------- jobs
    def create(self, job_id: str, incoming: Path, params: dict[str, Any], client: str) -> Job:
        """Make the uploads in ``incoming`` a queued job (folder renamed into ``jobs/``, then the row)."""
        target = self.job_dir(job_id)
        os.rename(incoming, target)
        _fsync_dir(self.jobs_dir)
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, status, stage, progress, params, client, created) "
                "VALUES (?, 'queued', 'queued', 0, ?, ?, ?)",
                (job_id, json.dumps(params), client, now),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        if not valid_job_id(job_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row is not None else None

    def unfinished(self) -> list[Job]:
        """Queued and running jobs, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY created"
            ).fetchall()
        return [_job(r) for r in rows]

    def count_unfinished(self, client: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')"
        args: tuple = ()
        if client is not None:
            sql += " AND client = ?"
            args = (client,)
        with self._lock:
            return int(self._db.execute(sql, args).fetchone()[0])

    def queue_position(self, job: Job) -> int:
        """How many unfinished jobs were accepted before ``job``."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running') AND created < ?",
                (job.created,),
            ).fetchone()
        return int(row[0])

    def mark_running(self, job_id: str, stage: str = "reading") -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = 'running', stage = ?, progress = ?, started = ?, history = ?, "
                "attempts = attempts + 1 WHERE id = ? AND status = 'queued'",
                (stage, STAGES.get(stage, 0.0), time.time(), json.dumps([["running", time.time()]]), job_id),
            )

    def set_progress(self, job_id: str, stage: str, progress: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET stage = ?, progress = MAX(progress, ?), "
                "history = json_insert(COALESCE(history, '[]'), '$[#]', json_array(?, ?)) "
                "WHERE id = ? AND status = 'running'",
                (stage, float(progress), stage, time.time(), job_id),
            )

    def requeue(self, job_id: str) -> None:
        """Back to ``queued`` (server restarted, or worker died with attempts left)."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = 'queued', stage = 'queued', progress = 0, started = NULL "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (job_id,),
            )

    def finish(self, job_id: str, files: list[str], notes: list[str] | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = 'done', stage = 'done', progress = 100, finished = ?, files = ?, "
                "notes = ?, error = NULL, history = json_insert(COALESCE(history, '[]'), '$[#]', json_array('done', ?)) "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (time.time(), json.dumps(files), json.dumps(notes or []), time.time(), job_id),
            )

    def fail(self, job_id: str, message: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = 'failed', stage = 'failed', finished = ?, error = ? "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (time.time(), message, job_id),
            )

    def delete(self, job_id: str) -> bool:
        """Remove a job: its folder leaves ``jobs/`` in one rename, then the row; True if it existed."""
        if not valid_job_id(job_id):
            return False
        folder = self.jobs_dir / job_id
        trash = self.trash_dir / f"{job_id}.{secrets.token_hex(4)}"
        moved = False
        with contextlib.suppress(FileNotFoundError):
            os.rename(folder, trash)
            moved = True
        with self._tx() as db:
            gone = db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount
        if moved:
            shutil.rmtree(trash, ignore_errors=True)
        return bool(gone or moved)

    def expired(self, older_than: float) -> list[str]:
        """Ids of finished jobs that finished before ``older_than`` (Unix time)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE status IN ('done', 'failed') AND finished < ?", (older_than,)
            ).fetchall()
        return [r[0] for r in rows]

    def sweep(self, now: float, retention_s: float, grace_s: float = 3600.0) -> list[str]:
        """Delete expired jobs, uploads that never became jobs, and folders without a row.

        Returns the ids of the jobs deleted. ``grace_s``: an incoming folder younger than this may be
        an upload in progress and is kept.
        """
        gone = [j for j in self.expired(now - retention_s) if self.delete(j)]
        for d in self.incoming_dir.iterdir():
            with contextlib.suppress(OSError):
                if now - d.stat().st_mtime > grace_s:
                    shutil.rmtree(d, ignore_errors=True)
        for d in self.jobs_dir.iterdir():
            if valid_job_id(d.name) and self.get(d.name) is None:
                with contextlib.suppress(OSError):
                    if now - d.stat().st_mtime > 60:
                        shutil.rmtree(d, ignore_errors=True)
        for d in self.trash_dir.iterdir():
            shutil.rmtree(d, ignore_errors=True)
        return gone


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        status=row["status"],
        stage=row["stage"],
        progress=float(row["progress"]),
        error=row["error"],
        params=json.loads(row["params"]),
        client=row["client"],
        attempts=int(row["attempts"]),
        created=float(row["created"]),
        started=row["started"],
        finished=row["finished"],
        files=json.loads(row["files"]) if row["files"] else [],
        notes=json.loads(row["notes"]) if row["notes"] else [],
        history=json.loads(row["history"]) if row["history"] else [],
    )


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
