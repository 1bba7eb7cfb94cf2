"""The upload service: score uploaded expression data in the browser or over a REST API.

``resistscore serve`` starts it (FastAPI on uvicorn, jobs on Dask distributed, a SQLite job store);
``docs/service.md`` describes deployment, limits, security and the API. Needs the ``serve`` extra
(``pip install "resistscore[serve]"``).

Modules: ``_settings`` (configuration), ``_store`` (job store), ``_uploads`` and ``_sniff`` (receiving and
checking uploads), ``_security`` (headers, auth, CSRF), ``_app`` (routes and pages), ``_runner`` (Dask
dispatcher), ``_worker`` (the task a worker runs), ``_analysis`` (the one call into the analysis),
``_progress`` (stage probes), ``_server`` (uvicorn).
"""

from resistscore.service._security import hash_password
from resistscore.service._server import serve
from resistscore.service._settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app", "hash_password", "serve"]


def create_app(settings: ServiceSettings, **kwargs):
    """Return the FastAPI application of the service (see :func:`resistscore.service._app.create_app`)."""
    from resistscore.service._app import create_app as _create

    return _create(settings, **kwargs)
