"""The task a Dask worker runs for one job: the analysis, progress events, atomic results.

The web process submits :func:`execute` to the cluster; it runs in a worker process, never in the web
process. It reports each stage as a Dask event on the topic :data:`TOPIC` (the web process subscribes and
writes it into the job store, the only writer of the store), runs the analysis into a private work folder
and moves the finished result folder into place in one rename, so a job's results are either complete or
absent. A problem with the input becomes ``{"ok": False, "error": message}``; anything else is raised and
logged by the web process, never shown to the user as a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import warnings
from pathlib import Path
from typing import Any

from resistscore._errors import ResistScoreError, ResistScoreWarning

__all__ = ["RESULT_DIR", "TOPIC", "execute", "method_table"]

TOPIC = "resistscore-service-progress"
RESULT_DIR = "result"


def _publish(job_id: str, attempt: str, stage: str) -> None:
    try:
        from distributed import get_worker

        get_worker().log_event(TOPIC, {"job": job_id, "attempt": attempt, "stage": stage})
    except ValueError:  # not running on a Dask worker (called directly, e.g. in a test)
        pass


def _swap_in(new: Path, target: Path) -> None:
    """Put the finished folder ``new`` at ``target`` (replacing an earlier attempt's, if any)."""
    if target.exists():
        old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(new, target)


def execute(job_id: str, params: dict[str, Any], job_dir: str) -> dict[str, Any]:
    """Run one job on a worker; return ``{"ok": True, "files": [...], "warnings": [...]}`` or an error.

    Parameters
    ----------
    job_id
        The job's id (for the progress events).
    params
        The job's parameters as stored.
    job_dir
        The job's folder (uploads in, ``result/`` out), on a file system the worker shares with the server.
    """
    from resistscore.service import _analysis
    from resistscore.service._progress import tracking

    folder = Path(job_dir)
    attempt = secrets.token_hex(4)
    if not folder.is_dir():
        return {"ok": False, "error": "the job's files are gone (the job was deleted or has expired)."}
    work = folder / f".work-{attempt}"
    work.mkdir()
    _publish(job_id, attempt, "started")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResistScoreWarning)
            with tracking(lambda stage: _publish(job_id, attempt, stage)):
                files = _analysis.run(params, folder, work / RESULT_DIR)
        _swap_in(work / RESULT_DIR, folder / RESULT_DIR)
        notes = list(
            dict.fromkeys(
                " ".join(str(w.message).split()) for w in caught if issubclass(w.category, ResistScoreWarning)
            )
        )
        return {"ok": True, "files": files, "warnings": notes}
    except ResistScoreError as err:
        return {"ok": False, "error": str(err)}
    except MemoryError:
        return {
            "ok": False,
            "error": "the analysis ran out of memory on its worker; send a smaller file (fewer samples or "
            "genes), or ask the administrator for workers with more memory.",
        }
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            return {
                "ok": False,
                "error": "the server's disk is full; try again later or tell the administrator.",
            }
        if isinstance(err, (FileNotFoundError, IsADirectoryError)) and not folder.is_dir():
            return {"ok": False, "error": "the job was deleted while it ran."}
        raise
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work, ignore_errors=True)


def method_table() -> list[tuple[str, str]]:
    """Return the scoring methods and their one-line summaries (run on a worker: the web process never imports ``rs.tl``)."""
    from resistscore import tl

    table = tl.show_methods()
    return [(str(m), str(table.loc[m, "summary"])) for m in table.index]
