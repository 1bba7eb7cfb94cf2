"""The FastAPI application: the REST API (``/api``, OpenAPI at ``/docs``) and the HTML pages.

The handlers validate and store; they never run an analysis. ``POST /api/jobs`` streams the uploads to
disk, sniffs them, checks every limit and the design, writes a queued job and answers 202; the
dispatcher (``_runner.py``) runs it on Dask.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import secrets
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import jinja2
import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from resistscore._errors import ResistScoreError
from resistscore._version import __version__
from resistscore.service import _sniff
from resistscore.service._runner import Runner
from resistscore.service._security import (
    CSRF_COOKIE,
    SecurityMiddleware,
    check_csrf,
    new_csrf_token,
)
from resistscore.service._settings import ServiceSettings
from resistscore.service._store import Job, JobStore, valid_job_id
from resistscore.service._uploads import Rejected, receive_upload
from resistscore.service._worker import RESULT_DIR

__all__ = ["create_app"]

log = logging.getLogger("resistscore.service")
HERE = Path(__file__).resolve().parent
UPLOAD_PATHS = ("/api/jobs", "/submit", "/api/metadata/columns")
_MAX_GMT = 16 * 1024 * 1024
_MAX_METADATA = 64 * 1024 * 1024
_MAX_TEXT = 200
_TABLE_ROWS = 1000
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
        drugs = sig.drugs()
        return cls(
            mechanisms=[(str(r["id"]), str(r["name"])) for _, r in mech.iterrows()],
            signature_ids=set(table["id"].astype(str)),
            drugs=sorted(str(d) for d in drugs["drug"]),
        )


def create_app(
    settings: ServiceSettings, *, runner: Runner | None = None, start_runner: bool = True
) -> FastAPI:
    """The service application.

    Parameters
    ----------
    settings
        Service settings.
    runner
        A dispatcher to use (default: a new one on the same store, started with the app).
    start_runner
        Start the dispatcher (and its Dask cluster) when the app starts.
    """
    store = JobStore(settings.data_dir)
    runner = runner or Runner(store, settings)
    choices = Choices.load()
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_runner:
            runner.start()
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(runner.stop)
            store.close()

    app = FastAPI(
        title="resistscore upload service",
        version=__version__,
        description="Score uploaded expression data for the mechanisms of cancer drug resistance. "
        "Submit a job with `POST /api/jobs`, follow it with `GET /api/jobs/{id}`, download its files.",
        lifespan=lifespan,
        root_path=settings.root_path,
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.runner = runner
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityMiddleware, settings=settings, upload_paths=UPLOAD_PATHS)

    # ----------------------------------------------------------------------------- helpers
    def client_of(request: Request) -> str:
        user = request.scope.get("state", {}).get("user") or ""
        if user:
            return f"user:{user}"
        return f"addr:{request.client.host if request.client else 'unknown'}"

    def job_or_404(job_id: str) -> Job:
        job = store.get(job_id) if valid_job_id(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job (job ids are case-sensitive; finished jobs expire).")
        return job

    def base(request: Request) -> str:
        return request.scope.get("root_path", "")

    def job_json(request: Request, job: Job) -> dict[str, Any]:
        root = base(request)
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
                {"stage": st, "at": _iso(t), "elapsed_s": round(t - job.created, 3)} for st, t in job.history
            ],
            "input": dict(job.params.get("client_names", {})),
        }
        if job.status == "queued":
            out["queue_position"] = store.queue_position(job)
            if runner.startup_error:
                out["notice"] = runner.startup_error + " Jobs wait until the administrator fixes it."
        if job.status == "done":
            folder = store.job_dir(job.id) / RESULT_DIR
            out["results_url"] = f"{root}/jobs/{job.id}/results"
            out["files"] = [
                {"name": f, "url": f"{root}/api/jobs/{job.id}/files/{f}", "size": _size(folder / f)}
                for f in job.files
            ]
        if job.finished:
            out["expires"] = _iso(job.finished + settings.retention_hours * 3600)
        return out

    def page(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
        html = templates.get_template(name).render(
            root=base(request), csrf_token=token, version=__version__, settings=settings, **context
        )
        response = HTMLResponse(html, status_code=status)
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    def wants_html(request: Request) -> bool:
        return not request.url.path.startswith(f"{base(request)}/api") and not request.url.path.startswith(
            "/api"
        )

    # ----------------------------------------------------------------------------- errors
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if wants_html(request) and exc.status_code != 405:
            return page(
                request, "error.html.j2", status=exc.status_code, message=str(exc.detail), headers=None
            )
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        msgs = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()][:5]
        return JSONResponse({"detail": "; ".join(msgs) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        ref = secrets.token_hex(4)
        log.error(
            "request %s %s failed (reference %s)\n%s",
            request.method,
            request.url.path,
            ref,
            traceback.format_exc(),
        )
        detail = f"internal error (reference {ref}); the administrator finds the details in the server log."
        if wants_html(request):
            return page(request, "error.html.j2", status=500, message=detail)
        return JSONResponse({"detail": detail}, status_code=500)

    # ----------------------------------------------------------------------------- accepting a job
    def capacity(client: str) -> None:
        if store.count_unfinished() >= settings.max_queue:
            raise Rejected(
                429, f"the queue is full ({settings.max_queue} jobs); try again in a minute.", retry_after=60
            )
        if store.count_unfinished(client) >= settings.max_jobs_per_client:
            raise Rejected(
                429,
                f"you have {settings.max_jobs_per_client} jobs waiting or running, the most allowed at once; "
                "submit more when one has finished.",
                retry_after=30,
            )

    def field_text(fields: dict[str, str], name: str) -> str | None:
        value = (fields.get(name) or "").strip()
        if len(value) > _MAX_TEXT:
            raise Rejected(422, f"the field {name} is longer than {_MAX_TEXT} characters.")
        return value or None

    def signature_choice(fields: dict[str, str], has_gmt: bool) -> dict[str, Any]:
        text = (fields.get("signatures") or "").strip()
        if has_gmt:
            if text:
                raise Rejected(
                    422, "give either signature ids / a drug in `signatures`, or a GMT file, not both."
                )
            return {"kind": "gmt", "file": "signatures.gmt"}
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
        unknown = [i[:60] for i in ids if i not in choices.signature_ids]
        if unknown:
            raise Rejected(
                422, f"unknown signature id(s) {unknown[:5]}; GET /api/options lists them (e.g. efflux_abc)."
            )
        return {"kind": "ids", "ids": list(dict.fromkeys(ids))}

    async def accept(request: Request) -> Job:
        client = client_of(request)
        capacity(client)
        job_id, incoming = store.new_incoming()
        try:
            limits = {
                "expression": settings.max_upload_bytes,
                "metadata": min(settings.max_upload_bytes, _MAX_METADATA),
                "gmt": _MAX_GMT,
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
            params = await anyio.to_thread.run_sync(prepare, upload)
            return store.create(job_id, incoming, params, client)
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        finally:
            runner.wake()

    def prepare(upload) -> dict[str, Any]:
        """Sniff the files, check the limits and the design; the job's parameters (runs in a thread)."""
        fields = upload.fields
        names = {k: f.client_name for k, f in upload.files.items()}
        stored: dict[str, str] = {}
        columns: list[str] | None = None
        for role, saved in upload.files.items():
            info = _sniff.inspect_upload(
                saved.path, saved.client_name, role, max_decompressed=settings.max_decompressed_bytes
            )
            if role == "expression":
                _sniff.check_dimensions(
                    info, max_entries=settings.max_matrix_entries, max_dimension=settings.max_dimension
                )
            if role == "metadata":
                columns = _sniff.metadata_columns(saved.path, info)
            stored[role] = _sniff.stored_with_suffix(saved.path, info).name
        design = {k: field_text(fields, k) for k in ("group", "response", "time", "event")}
        gene_column = field_text(fields, "gene_column")
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
        method = field_text(fields, "method")
        known = [m for m, _ in runner.methods]  # asked of a worker when the cluster came up
        if method is not None and (method not in known if known else not method.replace("_", "").isalnum()):
            raise Rejected(422, f"unknown method {method!r}; choose one of {known or 'GET /api/options'}.")
        seed_text = field_text(fields, "seed") or "0"
        if not seed_text.isdigit() or int(seed_text) >= 2**32:
            raise Rejected(422, "seed must be a whole number between 0 and 4294967295.")
        sigs = signature_choice(fields, "gmt" in upload.files)
        if sigs["kind"] == "gmt":
            sigs["file"] = stored["gmt"]
        return {
            "expression": stored["expression"],
            "metadata": stored.get("metadata"),
            "signatures": sigs,
            "method": method,
            **design,
            "seed": int(seed_text),
            "gene_column": gene_column,
            "client_names": names,
        }

    def rejected_json(err: Rejected) -> JSONResponse:
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after else None
        return JSONResponse({"detail": err.message}, status_code=err.status, headers=headers)

    # ----------------------------------------------------------------------------- API
    job_form_schema = {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["expression"],
                        "properties": {
                            "expression": {
                                "type": "string",
                                "format": "binary",
                                "description": "Expression table (any format rs.io.read reads).",
                            },
                            "metadata": {
                                "type": "string",
                                "format": "binary",
                                "description": "Sample metadata table.",
                            },
                            "gmt": {
                                "type": "string",
                                "format": "binary",
                                "description": "Your own signatures (GMT).",
                            },
                            "signatures": {
                                "type": "string",
                                "description": "Comma-separated signature ids, or drug:NAME; empty: every mechanism.",
                            },
                            "method": {
                                "type": "string",
                                "description": "Scoring method (default: singscore for bulk, UCell for single cell).",
                            },
                            "group": {"type": "string"},
                            "response": {"type": "string"},
                            "time": {"type": "string"},
                            "event": {"type": "string"},
                            "seed": {"type": "integer"},
                            "gene_column": {
                                "type": "string",
                                "description": "Column of the gene identifiers (default: detected).",
                            },
                        },
                    }
                }
            },
        }
    }

    @app.post("/api/jobs", status_code=202, openapi_extra=job_form_schema, tags=["jobs"])
    async def submit_job(request: Request):
        """Submit a job (multipart form). Answers 202 with the job's id and URL."""
        try:
            job = await accept(request)
        except Rejected as err:
            return rejected_json(err)
        body = {
            "id": job.id,
            "status": job.status,
            "url": f"{base(request)}/api/jobs/{job.id}",
            "page": f"{base(request)}/jobs/{job.id}",
        }
        return JSONResponse(body, status_code=202, headers={"Location": body["url"]})

    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    async def get_job(job_id: str, request: Request) -> dict:
        """The status of a job: ``queued``, ``running``, ``done`` or ``failed``, its progress and files."""
        job = job_or_404(job_id)
        out = job_json(request, job)
        if job.status == "done":
            with contextlib.suppress(OSError, ValueError):
                import json

                out["reproduce"] = json.loads(
                    (store.job_dir(job.id) / RESULT_DIR / "reproduce.json").read_text("utf-8")
                )
        return out

    @app.get("/api/jobs/{job_id}/files/{name:path}", tags=["jobs"])
    async def get_file(job_id: str, name: str):
        """Download one output file of a finished job (its name as listed in the job's ``files``)."""
        job = job_or_404(job_id)
        if job.status != "done" or name not in job.files:
            raise HTTPException(404, "no such file in this job's results.")
        path = store.job_dir(job.id) / RESULT_DIR / name
        ctype, disposition = _CONTENT_TYPES.get(
            path.suffix.lower(), ("application/octet-stream", "attachment")
        )
        return FileResponse(path, media_type=ctype, content_disposition_type=disposition, filename=path.name)

    @app.delete("/api/jobs/{job_id}", status_code=204, tags=["jobs"])
    async def delete_job(job_id: str, request: Request):
        """Delete a job and all its files at once (a running job is stopped)."""
        problem = check_csrf(request, request.headers.get("x-csrf-token"))
        if problem:
            raise HTTPException(403, problem)
        job_or_404(job_id)
        store.delete(job_id)
        runner.wake()
        return Response(status_code=204)

    @app.post(
        "/api/metadata/columns",
        tags=["helpers"],
        openapi_extra={
            "requestBody": {
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"metadata": {"type": "string", "format": "binary"}},
                        }
                    }
                }
            }
        },
    )
    async def metadata_columns(request: Request):
        """The column names of a metadata file (to offer group / response / survival columns); not stored."""
        scratch = Path(store.incoming_dir) / f"cols-{secrets.token_urlsafe(16)}"
        scratch.mkdir(mode=0o700)
        try:
            upload = await receive_upload(
                request, scratch, {"metadata": _MAX_METADATA, "expression": 0, "gmt": 0}
            )
            problem = check_csrf(
                request, upload.fields.get("csrf_token") or request.headers.get("x-csrf-token")
            )
            if problem:
                raise Rejected(403, problem)
            saved = upload.files.get("metadata")
            if saved is None:
                raise Rejected(422, "send the metadata file in the field `metadata`.")

            def columns():
                info = _sniff.inspect_upload(
                    saved.path,
                    saved.client_name,
                    "metadata",
                    max_decompressed=settings.max_decompressed_bytes,
                )
                return _sniff.metadata_columns(saved.path, info)

            return {"columns": await anyio.to_thread.run_sync(columns)}
        except Rejected as err:
            return rejected_json(err)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    @app.get("/api/options", tags=["helpers"])
    async def options() -> dict:
        """What a job may ask for: signature ids, drugs, methods, and the limits of this server."""
        return {
            "mechanisms": [{"id": i, "name": n} for i, n in choices.mechanisms],
            "signatures": sorted(choices.signature_ids),
            "drugs": choices.drugs,
            "methods": [{"id": m, "summary": s} for m, s in runner.methods],
            "limits": {
                "max_upload_mb": settings.max_upload_mb,
                "max_decompressed_mb": settings.max_decompressed_mb,
                "max_matrix_entries": settings.max_matrix_entries,
                "max_dimension": settings.max_dimension,
                "max_jobs_per_client": settings.max_jobs_per_client,
                "job_timeout_s": settings.job_timeout_s,
                "retention_hours": settings.retention_hours,
            },
        }

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict:
        return {"status": "ok", "workers": runner.workers(), "ready": runner.ready.is_set()}

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        return page(request, "docs.html.j2", openapi_url=f"{base(request)}/openapi.json")

    # ----------------------------------------------------------------------------- pages
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request):
        return page(request, "index.html.j2", choices=choices, methods=runner.methods, error=None, form={})

    @app.post("/submit", include_in_schema=False)
    async def submit_form(request: Request):
        try:
            job = await accept(request)
        except Rejected as err:
            response = page(
                request,
                "index.html.j2",
                status=err.status,
                choices=choices,
                methods=runner.methods,
                error=err.message,
                form={},
            )
            if err.retry_after:
                response.headers["Retry-After"] = str(err.retry_after)
            return response
        return RedirectResponse(f"{base(request)}/jobs/{job.id}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    async def job_page(job_id: str, request: Request):
        job = job_or_404(job_id)
        return page(request, "job.html.j2", job=job_json(request, job))

    @app.get("/jobs/{job_id}/results", response_class=HTMLResponse, include_in_schema=False)
    async def results_page(job_id: str, request: Request):
        job = job_or_404(job_id)
        if job.status != "done":
            return RedirectResponse(f"{base(request)}/jobs/{job.id}", status_code=303)
        info = job_json(request, job)
        folder = store.job_dir(job.id) / RESULT_DIR
        tables = await anyio.to_thread.run_sync(_tables, folder, job.files)
        import json

        repro = (
            json.loads((folder / "reproduce.json").read_text("utf-8"))
            if "reproduce.json" in job.files
            else None
        )
        figures = [f for f in job.files if f.startswith("figures/") and f.endswith(".png")]
        return page(request, "results.html.j2", job=info, tables=tables, figures=figures, reproduce=repro)

    @app.post("/jobs/{job_id}/delete", include_in_schema=False)
    async def delete_form(job_id: str, request: Request):
        form = await request.form()
        problem = check_csrf(request, str(form.get("csrf_token") or ""))
        if problem:
            raise HTTPException(403, problem)
        job_or_404(job_id)
        store.delete(job_id)
        runner.wake()
        return RedirectResponse(f"{base(request)}/?deleted=1", status_code=303)

    return app


# ------------------------------------------------------------------------------------------ helpers
def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


@dataclass
class Table:
    """A table shown on the results page (sortable in the browser)."""

    title: str
    file: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    total: int


def _tables(folder: Path, files: list[str]) -> list[Table]:
    order = [
        "scores.csv",
        "scores_tidy.csv",
        *sorted(f for f in files if f.startswith("stats_")),
        "coverage.csv",
    ]
    titles = {
        "scores.csv": "Scores",
        "scores_tidy.csv": "Scores with p-values and FDR",
        "coverage.csv": "Coverage",
    }
    out = []
    for name in order:
        if name not in files:
            continue
        df = pd.read_csv(folder / name, keep_default_na=False, na_values=[""], nrows=_TABLE_ROWS + 1)
        numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
        rows = [[_cell(v) for v in row] for row in df.head(_TABLE_ROWS).itertuples(index=False)]
        with open(folder / name, "rb") as fh:
            total = sum(1 for _ in fh) - 1
        title = titles.get(name) or "Statistics: " + name.removeprefix("stats_").removesuffix(".csv")
        out.append(Table(title, name, [str(c) for c in df.columns], rows, numeric, total))
    return out


def _cell(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.4g}"
    return str(v)
