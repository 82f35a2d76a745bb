"""The web UI, served by the headrace server from the API's origin.

:func:`mount` (called by :func:`headrace.server.http.app.create_app`) adds the aggregate read
endpoints under ``/api/ui`` and the pages: ``/`` (dashboard), ``/flows``, ``/flows/{id}``,
``/runs``, ``/runs/{id}`` and ``/runs/{id}/tasks/{slug}`` (a mapped task's children).
The front end is plain JavaScript modules, CSS and SVG shipped as package data: no build
step, no CDN.
"""

from __future__ import annotations

from fastapi import FastAPI

from headrace.server.ui.api import router
from headrace.server.ui.pages import mount_pages

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Serve the UI's data endpoints and pages from ``app``."""
    from headrace.wire.base import ERROR_RESPONSES

    app.include_router(router, responses=ERROR_RESPONSES)
    mount_pages(app)
