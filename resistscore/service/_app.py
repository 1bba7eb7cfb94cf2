"""The FastAPI application: the REST API (``_api.py``) and the HTML pages (``_pages.py``).

The handlers validate and store; they never run an analysis. ``POST /api/jobs`` streams the uploads to
disk, sniffs them, checks every limit and the design (``_jobs.py``), writes a queued job and answers 202;
the dispatcher (``_runner.py``) runs it on Dask.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import traceback
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from resistscore._version import __version__
from resistscore.service import _api, _pages
from resistscore.service._jobs import Choices, Jobs, base_path
from resistscore.service._runner import Runner
from resistscore.service._security import SecurityMiddleware
from resistscore.service._settings import ServiceSettings
from resistscore.service._store import JobStore

__all__ = ["create_app"]

log = logging.getLogger("resistscore.service")


def create_app(
    settings: ServiceSettings, *, runner: Runner | None = None, start_runner: bool = True
) -> FastAPI:
    """Return the service application.

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
    app.state.jobs = Jobs(store, runner, settings, Choices.load())
    app.state.store, app.state.runner, app.state.settings = store, runner, settings
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"), name="static")
    app.add_middleware(SecurityMiddleware, settings=settings, upload_paths=_api.UPLOAD_PATHS)
    app.include_router(_api.router)
    app.include_router(_pages.router)
    _error_handlers(app)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith((f"{base_path(request)}/api", "/api"))


def _error_handlers(app: FastAPI) -> None:
    """Errors as JSON for the API and as a page for a browser; never a stack trace."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if _wants_html(request) and exc.status_code != 405:
            return _pages.render(request, "error.html.j2", exc.status_code, message=str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

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
        if _wants_html(request):
            return _pages.render(request, "error.html.j2", 500, message=detail)
        return JSONResponse({"detail": detail}, status_code=500)
