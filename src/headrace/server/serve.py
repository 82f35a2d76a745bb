"""Running the server with uvicorn: what ``headrace server start`` calls."""

from __future__ import annotations

from typing import Any

__all__ = ["serve"]


def serve(
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    **overrides: Any,
) -> None:
    """Serve the API (and UI) until interrupted. Unset arguments come from ``[server]``."""
    import uvicorn

    from headrace.configuration import config
    from headrace.server.http.app import create_app
    from headrace.server.settings import ServerSettings

    settings = ServerSettings.from_config(database_url=database_url, **overrides)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host or config.server.host,
        port=int(port or config.server.port),
        log_level=str(config.logging.level).lower(),
    )
