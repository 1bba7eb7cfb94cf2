"""Accepting and describing jobs: the checks a submission passes and the JSON a job is shown as.

:class:`Jobs` holds the store, the dispatcher and the settings of one app (``app.state.jobs``); the API and
the pages both call it. Every check ends in :class:`~resistscore.service._uploads.Rejected` (413 / 422 /
429 ...) with a message the user can act on, before anything is queued.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import HTTPException, Request

from resistscore._errors import ResistScoreError
from resistscore.service import _sniff
from resistscore.service._runner import Runner
from resistscore.service._security import check_csrf
from resistscore.service._settings import ServiceSettings
from resistscore.service._store import Job, JobStore, valid_job_id
from resistscore.service._uploads import Rejected, Upload, receive_upload
from resistscore.service._worker import RESULT_DIR

__all__ = ["MAX_METADATA", "Choices", "Jobs", "base_path"]

MAX_GMT = 16 * 1024 * 1024
MAX_METADATA = 64 * 1024 * 1024
_MAX_TEXT = 200


def base_path(request: Request) -> str:
    """Return the path prefix of the service (``root_path`` behind a reverse proxy)."""
    return request.scope.get("root_path", "")


@dataclass
class Choices:
    """What the form offers: signatures and drugs (read once from ``rs.sig``; the methods come from a worker)."""

    mechanisms: list[tuple[str, str]] = field(default_factory=list)
    signature_ids: set[str] = field(default_factory=set)
    drugs: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> Choices:
        from resistscore import sig

        table = sig.list(level="all")
        mech = table[table["level"] == "mechanism"] if "level" in table else table
        return cls(
            mechanisms=[(str(r["id"]), str(r["name"])) for _, r in mech.iterrows()],
            signature_ids=set(table["id"].astype(str)),
            drugs=sorted(str(d) for d in sig.drugs()["drug"]),
        )


@dataclass
class Jobs:
    """The job desk of one app: accepts submissions, finds jobs, describes them."""

    store: JobStore
    runner: Runner
    settings: ServiceSettings
    choices: Choices

    # ------------------------------------------------------------------------------- finding
    def get_or_404(self, job_id: str) -> Job:
        job = self.store.get(job_id) if valid_job_id(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job (job ids are case-sensitive; finished jobs expire).")
        return job

    def delete(self, job_id: str) -> None:
        self.get_or_404(job_id)
        self.store.delete(job_id)
        self.runner.wake()

    def describe(self, request: Request, job: Job) -> dict[str, Any]:
        """Return the JSON of a job (``GET /api/jobs/{id}``, and the job page)."""
        root = base_path(request)
        out: dict[str, Any] = {
            "id": job.id,
            "status": job.status,
            "stage": job.stage,
            "progress": round(job.progress, 1),
            "error": job.error,
            "url": f"{root}/jobs/{job.id}",
            "api_url": f"{root}/api/jobs/{job.id}",
            "created": _iso(job.created),
            "started": _iso(job.started),
            "finished": _iso(job.finished),
            "files": [],
            "warnings": job.notes,
            "history": [
                {"stage": s, "at": _iso(t), "elapsed_s": round(t - job.created, 3)} for s, t in job.history
            ],
            "input": dict(job.params.get("client_names", {})),
        }
        if job.status == "queued":
            out["queue_position"] = self.store.queue_position(job)
            if self.runner.startup_error:
                out["notice"] = self.runner.startup_error + " Jobs wait until the administrator fixes it."
        if job.status == "done":
            folder = self.store.job_dir(job.id) / RESULT_DIR
            out["results_url"] = f"{root}/jobs/{job.id}/results"
            out["files"] = [
                {"name": f, "url": f"{root}/api/jobs/{job.id}/files/{f}", "size": _size(folder / f)}
                for f in job.files
            ]
        if job.finished:
            out["expires"] = _iso(job.finished + self.settings.retention_hours * 3600)
        return out

    # ------------------------------------------------------------------------------- accepting
    async def accept(self, request: Request) -> Job:
        """Receive, check and queue a submission; raise :class:`Rejected` when it cannot be a job."""
        client = client_of(request)
        self._capacity(client)
        job_id, incoming = self.store.new_incoming()
        try:
            limits = {
                "expression": self.settings.max_upload_bytes,
                "metadata": min(self.settings.max_upload_bytes, MAX_METADATA),
                "gmt": MAX_GMT,
            }
            upload = await receive_upload(request, incoming, limits)
            problem = check_csrf(
                request, upload.fields.get("csrf_token") or request.headers.get("x-csrf-token")
            )
            if problem:
                raise Rejected(403, problem)
            if "expression" not in upload.files:
                raise Rejected(
                    422, "no expression file: send the expression table in the field `expression`."
                )
            params = await anyio.to_thread.run_sync(self._prepare, upload)
            return self.store.create(job_id, incoming, params, client)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        finally:
            self.runner.wake()

    def _capacity(self, client: str) -> None:
        s = self.settings
        if self.store.count_unfinished() >= s.max_queue:
            raise Rejected(
                429, f"the queue is full ({s.max_queue} jobs); try again in a minute.", retry_after=60
            )
        if self.store.count_unfinished(client) >= s.max_jobs_per_client:
            raise Rejected(
                429,
                f"you have {s.max_jobs_per_client} jobs waiting or running, the most allowed at once; "
                "submit more when one has finished.",
                retry_after=30,
            )

    def _prepare(self, upload: Upload) -> dict[str, Any]:
        """Sniff the files, check the limits and the design; the job's parameters (runs in a thread)."""
        fields = upload.fields
        stored, columns = self._inspect(upload)
        design = {k: _field(fields, k) for k in ("group", "response", "time", "event")}
        given = [k for k, v in design.items() if v]
        if given and columns is None:
            raise Rejected(422, f"{', '.join(given)} name metadata columns: upload a metadata file too.")
        if bool(design["time"]) != bool(design["event"]):
            raise Rejected(422, "survival needs both a time and an event column; give both or neither.")
        for k in given:
            if columns is not None and design[k] not in columns:
                raise Rejected(
                    422,
                    f"the {k} column {design[k]!r} is not in the metadata file; its columns are {columns[:20]}.",
                )
        method = _field(fields, "method")
        known = [m for m, _ in self.runner.methods]  # asked of a worker when the cluster came up
        if method is not None and (method not in known if known else not method.replace("_", "").isalnum()):
            raise Rejected(422, f"unknown method {method!r}; choose one of {known or 'GET /api/options'}.")
        seed_text = _field(fields, "seed") or "0"
        if not seed_text.isdigit() or int(seed_text) >= 2**32:
            raise Rejected(422, "seed must be a whole number between 0 and 4294967295.")
        sigs = self._signature_choice(fields, stored.get("gmt"))
        formats = figure_formats(_field(fields, "formats"))
        return {
            "expression": stored["expression"],
            "metadata": stored.get("metadata"),
            "signatures": sigs,
            "method": method,
            **design,
            "seed": int(seed_text),
            "gene_column": _field(fields, "gene_column"),
            "formats": formats,
            "client_names": {k: f.client_name for k, f in upload.files.items()},
        }

    def _inspect(self, upload: Upload) -> tuple[dict[str, str], list[str] | None]:
        """Sniff every file (limits included); their stored names and the metadata's columns."""
        s = self.settings
        stored: dict[str, str] = {}
        columns: list[str] | None = None
        for role, saved in upload.files.items():
            info = _sniff.inspect_upload(
                saved.path, saved.client_name, role, max_decompressed=s.max_decompressed_bytes
            )
            if role == "expression":
                _sniff.check_dimensions(info, max_entries=s.max_matrix_entries, max_dimension=s.max_dimension)
            if role == "metadata":
                columns = _sniff.metadata_columns(saved.path, info)
            stored[role] = _sniff.stored_with_suffix(saved.path, info).name
        return stored, columns

    def _signature_choice(self, fields: dict[str, str], gmt: str | None) -> dict[str, Any]:
        text = (fields.get("signatures") or "").strip()
        if gmt is not None:
            if text:
                raise Rejected(
                    422, "give either signature ids / a drug in `signatures`, or a GMT file, not both."
                )
            return {"kind": "gmt", "file": gmt}
        if not text or text == "all":
            return {"kind": "all"}
        if text.lower().startswith("drug:"):
            from resistscore import sig

            try:
                drug = sig.resolve_drug(text[5:].strip())  # synonyms resolve (adriamycin -> doxorubicin)
            except ResistScoreError as err:
                raise Rejected(422, f"{err} (GET /api/options lists them)") from err
            return {"kind": "drug", "drug": drug}
        ids = [i.strip() for i in text.split(",") if i.strip()]
        unknown = [i[:60] for i in ids if i not in self.choices.signature_ids]
        if unknown:
            raise Rejected(
                422, f"unknown signature id(s) {unknown[:5]}; GET /api/options lists them (e.g. efflux_abc)."
            )
        return {"kind": "ids", "ids": list(dict.fromkeys(ids))}


def client_of(request: Request) -> str:
    """Who submits: the authenticated user, else the client's address (for the per-client limit)."""
    user = request.scope.get("state", {}).get("user") or ""
    if user:
        return f"user:{user}"
    return f"addr:{request.client.host if request.client else 'unknown'}"


#: figure files a job can ask for; PNG is always written (the report embeds it)
FIGURE_FORMATS = ("png", "pdf", "svg")


def figure_formats(text: str | None) -> list[str]:
    """Return the figure formats of a job's ``formats`` field: PNG, plus the vector formats asked for (``"pdf"`` ...).

    ``text`` is the field as :func:`_field` returns it: ``None`` when not sent or blank (PNG only), else
    comma-separated formats, case and a leading dot ignored, each kept once. A list without any format
    (``","``) or with an unknown one is refused (422) naming the field and the choices.
    """
    if text is None:
        return ["png"]
    asked = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    if not asked:
        raise Rejected(
            422,
            f"the field `formats` lists no figure format; send comma-separated formats among "
            f"{', '.join(FIGURE_FORMATS)} (e.g. png,pdf), or leave it out for PNG only.",
        )
    unknown = list(dict.fromkeys(f[:20] for f in asked if f not in FIGURE_FORMATS))
    if unknown:
        raise Rejected(
            422,
            f"the field `formats` holds unknown figure format(s) {unknown[:3]}; choose among "
            f"{', '.join(FIGURE_FORMATS)}, separated by commas (e.g. png,pdf).",
        )
    return [f for f in FIGURE_FORMATS if f == "png" or f in asked]


def _field(fields: dict[str, str], name: str) -> str | None:
    value = (fields.get(name) or "").strip()
    if len(value) > _MAX_TEXT:
        raise Rejected(422, f"the field {name} is longer than {_MAX_TEXT} characters.")
    return value or None


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
