"""The REST API (``/api``; OpenAPI at ``/openapi.json``): submit, follow, download and delete jobs."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from resistscore.service import _sniff
from resistscore.service._jobs import MAX_METADATA, Jobs, base_path
from resistscore.service._security import check_csrf
from resistscore.service._uploads import Rejected, receive_upload
from resistscore.service._worker import RESULT_DIR

__all__ = ["UPLOAD_PATHS", "rejected_json", "router"]

router = APIRouter()
#: paths whose bodies are uploads, limited while they stream (not by the body limit of other requests)
UPLOAD_PATHS = ("/api/jobs", "/submit", "/api/metadata/columns")
_CONTENT_TYPES = {
    ".csv": ("text/csv; charset=utf-8", "attachment"),
    ".html": ("text/html; charset=utf-8", "inline"),
    ".png": ("image/png", "inline"),
    ".pdf": ("application/pdf", "attachment"),
    ".svg": ("image/svg+xml", "attachment"),
    ".json": ("application/json", "inline"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "attachment"),
    ".zip": ("application/zip", "attachment"),
    ".h5ad": ("application/octet-stream", "attachment"),
}


def _binary(description: str) -> dict:
    return {"type": "string", "format": "binary", "description": description}


def _multipart(properties: dict, required: list[str]) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


_JOB_FORM = _multipart(
    {
        "expression": _binary("Expression table (any format rs.io.read reads)."),
        "metadata": _binary("Sample metadata table."),
        "gmt": _binary("Your own signatures (GMT)."),
        "signatures": {
            "type": "string",
            "description": "Comma-separated signature ids, or drug:NAME; empty: all.",
        },
        "method": {
            "type": "string",
            "description": "Scoring method (default: singscore bulk, UCell single cell).",
        },
        "group": {"type": "string"},
        "response": {"type": "string"},
        "time": {"type": "string"},
        "event": {"type": "string"},
        "seed": {"type": "integer"},
        "formats": {
            "type": "string",
            "description": "Figure files: png (always; embedded in the report), plus pdf and/or svg "
            "(vector, for publication; each adds to the job's time), e.g. png,pdf. Default: png.",
        },
        "gene_column": {
            "type": "string",
            "description": "Column of the gene identifiers (default: detected).",
        },
    },
    ["expression"],
)


def rejected_json(err: Rejected) -> JSONResponse:
    """Return a refused request as JSON ``{"detail": message}`` (with ``Retry-After`` on a 429)."""
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after else None
    return JSONResponse({"detail": err.message}, status_code=err.status, headers=headers)


def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs


@router.post("/api/jobs", status_code=202, openapi_extra=_JOB_FORM, tags=["jobs"])
async def submit_job(request: Request):
    """Submit a job (multipart form). Answers 202 with the job's id and URL."""
    try:
        job = await _jobs(request).accept(request)
    except Rejected as err:
        return rejected_json(err)
    root = base_path(request)
    body = {
        "id": job.id,
        "status": job.status,
        "url": f"{root}/api/jobs/{job.id}",
        "page": f"{root}/jobs/{job.id}",
    }
    return JSONResponse(body, status_code=202, headers={"Location": body["url"]})


@router.get("/api/jobs/{job_id}", tags=["jobs"])
async def get_job(job_id: str, request: Request) -> dict:
    """Return the status of a job: ``queued``, ``running``, ``done`` or ``failed``, its progress and files."""
    jobs = _jobs(request)
    job = jobs.get_or_404(job_id)
    out = jobs.describe(request, job)
    if job.status == "done":
        with contextlib.suppress(OSError, ValueError):
            record = jobs.store.job_dir(job.id) / RESULT_DIR / "reproduce.json"
            out["reproduce"] = json.loads(record.read_text("utf-8"))
    return out


@router.get("/api/jobs/{job_id}/files/{name:path}", tags=["jobs"])
async def get_file(job_id: str, name: str, request: Request):
    """Download one output file of a finished job (its name as listed in the job's ``files``)."""
    jobs = _jobs(request)
    job = jobs.get_or_404(job_id)
    if job.status != "done" or name not in job.files:  # only listed names: never a path from the client
        raise HTTPException(404, "no such file in this job's results.")
    path = jobs.store.job_dir(job.id) / RESULT_DIR / name
    ctype, disposition = _CONTENT_TYPES.get(path.suffix.lower(), ("application/octet-stream", "attachment"))
    return FileResponse(path, media_type=ctype, content_disposition_type=disposition, filename=path.name)


@router.delete("/api/jobs/{job_id}", status_code=204, tags=["jobs"])
async def delete_job(job_id: str, request: Request):
    """Delete a job and all its files at once (a running job is stopped)."""
    problem = check_csrf(request, request.headers.get("x-csrf-token"))
    if problem:
        raise HTTPException(403, problem)
    _jobs(request).delete(job_id)
    return Response(status_code=204)


@router.post(
    "/api/metadata/columns",
    tags=["helpers"],
    openapi_extra=_multipart({"metadata": _binary("Sample metadata table.")}, ["metadata"]),
)
async def metadata_columns(request: Request):
    """Return the column names of a metadata file (to offer group / response / survival columns); not stored."""
    jobs = _jobs(request)
    scratch = jobs.store.incoming_dir / f"cols-{secrets.token_urlsafe(16)}"
    scratch.mkdir(mode=0o700)
    try:
        upload = await receive_upload(request, scratch, {"metadata": MAX_METADATA, "expression": 0, "gmt": 0})
        problem = check_csrf(request, upload.fields.get("csrf_token") or request.headers.get("x-csrf-token"))
        if problem:
            raise Rejected(403, problem)
        saved = upload.files.get("metadata")
        if saved is None:
            raise Rejected(422, "send the metadata file in the field `metadata`.")

        def columns():
            limit = jobs.settings.max_decompressed_bytes
            info = _sniff.inspect_upload(saved.path, saved.client_name, "metadata", max_decompressed=limit)
            return _sniff.metadata_columns(saved.path, info)

        return {"columns": await anyio.to_thread.run_sync(columns)}
    except Rejected as err:
        return rejected_json(err)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@router.get("/api/options", tags=["helpers"])
async def options(request: Request) -> dict:
    """Return what a job may ask for: signature ids, drugs, methods, and the limits of this server."""
    jobs = _jobs(request)
    s = jobs.settings
    limits = ("max_upload_mb", "max_decompressed_mb", "max_matrix_entries", "max_dimension", "max_jobs_per_client",
              "job_timeout_s", "retention_hours")  # fmt: skip
    return {
        "mechanisms": [{"id": i, "name": n} for i, n in jobs.choices.mechanisms],
        "signatures": sorted(jobs.choices.signature_ids),
        "drugs": jobs.choices.drugs,
        "methods": [{"id": m, "summary": d} for m, d in jobs.runner.methods],
        "limits": {k: getattr(s, k) for k in limits},
    }


@router.get("/healthz", include_in_schema=False)
async def health(request: Request) -> dict:
    runner = _jobs(request).runner
    return {"status": "ok", "workers": runner.workers(), "ready": runner.ready.is_set()}
