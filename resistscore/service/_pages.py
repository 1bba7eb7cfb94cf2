"""The HTML pages: the form, the job page, the results page (Jinja2 templates, autoescaped)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import anyio
import jinja2
import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from resistscore._version import __version__
from resistscore.service._jobs import Jobs, base_path
from resistscore.service._security import CSRF_COOKIE, check_csrf, new_csrf_token
from resistscore.service._uploads import Rejected
from resistscore.service._worker import RESULT_DIR

__all__ = ["render", "router"]

router = APIRouter(include_in_schema=False)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TABLE_ROWS = 1000


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    """Return a page, with the CSRF token of the browser's ``rs_csrf`` cookie (set when new)."""
    token = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    settings = request.app.state.jobs.settings
    html = _TEMPLATES.get_template(name).render(
        root=base_path(request), csrf_token=token, version=__version__, settings=settings, **context
    )
    response = HTMLResponse(html, status_code=status)
    secure = request.url.scheme == "https"
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    return response


def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def _form(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
    jobs = _jobs(request)
    return render(
        request, "index.html.j2", status, choices=jobs.choices, methods=jobs.runner.methods, error=error
    )


@router.get("/", response_class=HTMLResponse)
async def index(request: Request):
    return _form(request)


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request):
    return render(request, "docs.html.j2", openapi_url=f"{base_path(request)}/openapi.json")


@router.post("/submit")
async def submit_form(request: Request):
    try:
        job = await _jobs(request).accept(request)
    except Rejected as err:
        response = _form(request, err.status, err.message)
        if err.retry_after:
            response.headers["Retry-After"] = str(err.retry_after)
        return response
    return RedirectResponse(f"{base_path(request)}/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(job_id: str, request: Request):
    jobs = _jobs(request)
    return render(request, "job.html.j2", job=jobs.describe(request, jobs.get_or_404(job_id)))


@router.get("/jobs/{job_id}/results", response_class=HTMLResponse)
async def results_page(job_id: str, request: Request):
    jobs = _jobs(request)
    job = jobs.get_or_404(job_id)
    if job.status != "done":
        return RedirectResponse(f"{base_path(request)}/jobs/{job.id}", status_code=303)
    folder = jobs.store.job_dir(job.id) / RESULT_DIR
    tables = await anyio.to_thread.run_sync(_tables, folder, job.files)
    record = folder / "reproduce.json"
    repro = json.loads(record.read_text("utf-8")) if "reproduce.json" in job.files else None
    figures = [f for f in job.files if f.startswith("figures/") and f.endswith(".png")]
    info = jobs.describe(request, job)
    return render(request, "results.html.j2", job=info, tables=tables, figures=figures, reproduce=repro)


@router.post("/jobs/{job_id}/delete")
async def delete_form(job_id: str, request: Request):
    form = await request.form()
    problem = check_csrf(request, str(form.get("csrf_token") or ""))
    if problem:
        raise HTTPException(403, problem)
    _jobs(request).delete(job_id)
    return RedirectResponse(f"{base_path(request)}/?deleted=1", status_code=303)


# ------------------------------------------------------------------------------------------ tables
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
        "confounder_correlation.csv",
        "coverage.csv",
    ]
    titles = {
        "scores.csv": "Scores",
        "scores_tidy.csv": "Scores with p-values and FDR",
        "confounder_correlation.csv": "Correlation with confounders (proliferation, stromal, immune)",
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
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)
