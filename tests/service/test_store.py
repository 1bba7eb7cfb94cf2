"""The job store: schema, state machine, deletion, expiry; and the settings' sources."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from resistscore._errors import ResistScoreError
from resistscore.service._settings import ServiceSettings
from resistscore.service._store import JobStore, valid_job_id


def _job(store: JobStore, params=None) -> str:
    job_id, incoming = store.new_incoming()
    (incoming / "expression.csv").write_text("g,s\nA,1\n")
    store.create(job_id, incoming, params or {"expression": "expression.csv"}, "addr:127.0.0.1")
    return job_id


def test_state_machine(tmp_path):
    store = JobStore(tmp_path)
    a, b = _job(store), _job(store)
    assert valid_job_id(a) and (store.jobs_dir / a / "expression.csv").is_file()
    assert [j.id for j in store.unfinished()] == [a, b]
    assert store.queue_position(store.get(b)) == 1
    store.mark_running(a)
    store.set_progress(a, "scoring", 30)
    store.set_progress(a, "reading", 5)  # progress never goes back
    job = store.get(a)
    assert (job.status, job.stage, job.progress, job.attempts) == ("running", "reading", 30, 1)
    assert [h[0] for h in job.history] == ["running", "scoring", "reading"]
    store.requeue(a)  # server restarted
    assert store.get(a).status == "queued" and store.get(a).progress == 0
    store.mark_running(a)
    store.finish(a, ["scores.csv"], ["a warning"])
    done = store.get(a)
    assert (done.status, done.files, done.notes, done.attempts) == ("done", ["scores.csv"], ["a warning"], 2)
    store.fail(a, "too late")  # a finished job stays finished
    assert store.get(a).status == "done"
    store.fail(b, "bad input")
    assert store.get(b).error == "bad input" and store.count_unfinished() == 0
    with pytest.raises(sqlite3.IntegrityError):  # the schema refuses unknown states
        store._db.execute("UPDATE jobs SET status = 'lost' WHERE id = ?", (a,))


def test_store_survives_reopening(tmp_path):
    store = JobStore(tmp_path)
    a = _job(store)
    store.mark_running(a)
    store.close()
    again = JobStore(tmp_path)  # as after a crash: the row is there, still running
    assert again.get(a).status == "running"


def test_delete_and_expiry(tmp_path):
    store = JobStore(tmp_path)
    a, b, c = _job(store), _job(store), _job(store)
    assert store.delete(a) and store.get(a) is None and not (store.jobs_dir / a).exists()
    assert not store.delete(a)
    for j in (b, c):
        store.mark_running(j)
        store.finish(j, [])
    _, stale = store.new_incoming()  # an upload that never became a job
    orphan = store.jobs_dir / ("o" * 32)  # a folder without a row
    orphan.mkdir()
    old = time.time() - 7200
    os.utime(stale, (old, old))
    os.utime(orphan, (old, old))
    store._db.execute("UPDATE jobs SET finished = ? WHERE id = ?", (time.time() - 100 * 3600, b))
    gone = store.sweep(time.time(), retention_s=72 * 3600)
    assert gone == [b] and store.get(b) is None and not (store.jobs_dir / b).exists()
    assert store.get(c) is not None and (store.jobs_dir / c).exists()
    assert not stale.exists() and not orphan.exists()
    assert not any(store.trash_dir.iterdir())


def test_settings_sources(tmp_path):
    cfg = tmp_path / "serve.toml"
    cfg.write_text(
        'max_upload_mb = 10\nport = 9000\nauth = "token"\ntokens = ["0123456789abcdef0123"]\n[users]\n'
    )
    env = {"RESISTSCORE_SERVE_PORT": "9100", "RESISTSCORE_SERVE_MAX_QUEUE": "7"}
    s = ServiceSettings.load(cfg, env=env, port=9200, workers=None)
    assert (s.max_upload_mb, s.port, s.max_queue, s.workers, s.auth) == (10, 9200, 7, 1, "token")
    assert s.max_upload_bytes == 10 * 2**20
    with pytest.raises(ResistScoreError, match="positive"):
        ServiceSettings(max_queue=0)
    with pytest.raises(ResistScoreError, match="at least one token"):
        ServiceSettings(auth="token")
    with pytest.raises(ResistScoreError, match="16 characters"):
        ServiceSettings(auth="token", tokens=["short"])
    with pytest.raises(ResistScoreError, match="unknown service setting"):
        ServiceSettings.load(None, env={}, bogus=1)
    with pytest.raises(ResistScoreError, match="not a valid int"):
        ServiceSettings.load(None, env={"RESISTSCORE_SERVE_PORT": "eighty"})
    bad = tmp_path / "bad.toml"
    bad.write_text("port = \n")
    with pytest.raises(ResistScoreError, match="not valid TOML"):
        ServiceSettings.load(bad, env={})
