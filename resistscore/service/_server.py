"""Start the service: uvicorn serving the app, with the request-head limit set in the HTTP parser."""

from __future__ import annotations

import logging

from resistscore.service._settings import ServiceSettings

__all__ = ["serve"]


def serve(settings: ServiceSettings, *, log_level: str = "info") -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop the server, the dispatcher and the local cluster).

    Parameters
    ----------
    settings
        Service settings (host, port, data folder, limits, authentication, compute).
    log_level
        Log level of the server and of ``resistscore.service``.
    """
    import uvicorn

    from resistscore.service._app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_kb * 1024,
        log_level=log_level,
        timeout_keep_alive=5,
        server_header=False,
        proxy_headers=True,
    )
    uvicorn.Server(config).run()
