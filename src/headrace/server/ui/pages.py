"""The UI's pages and static files, served from the API's origin.

Every page path answers the same small HTML shell; ``/ui/static/app.js`` reads the path and
renders the page with the DOM API. The shell carries the state vocabulary (names, colour
groups, finished and failed, from :mod:`headrace.server.ui.states`) as a JSON data block,
so the UI keeps no list of states and a page refresh is still one request.

The shell is sent with a restrictive Content-Security-Policy: scripts, styles and requests
only from this origin, no inline script or style, no plugins, no framing, so even a string
that slipped through unescaped could not run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from headrace.server.ui.states import ui_states

__all__ = ["CSP", "PAGE_PATHS", "STATIC_DIR", "STATIC_PREFIX", "mount_pages"]

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/ui/static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
PAGE_PATHS = (
    "/",
    "/flows",
    "/flows/{flow_id}",
    "/runs",
    "/runs/{flow_run_id}",
    "/runs/{flow_run_id}/tasks/{task_slug:path}",
    "/task-runs/{task_run_id}",
)


class _Static(StaticFiles):
    """Static files revalidated on each load (a reinstalled package serves new code)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


STATES_PLACEHOLDER = "{{states}}"


def _states_json() -> str:
    """The state vocabulary as JSON safe inside ``<script type="application/json">`` (a data
    block: never executed, so the Content-Security-Policy stays as strict)."""
    return json.dumps({"states": ui_states()}).replace("<", "\\u003c")


def _shell() -> HTMLResponse:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    html = html.replace(STATES_PLACEHOLDER, _states_json())
    return HTMLResponse(html, headers=SECURITY_HEADERS)


def mount_pages(app: FastAPI) -> None:
    """Add the page routes and the static files to ``app``."""
    router = APIRouter(include_in_schema=False)
    for path in PAGE_PATHS:
        router.add_api_route(path, _shell, methods=["GET"], response_class=HTMLResponse)
    app.include_router(router)
    app.mount(STATIC_PREFIX, _Static(directory=STATIC_DIR), name="ui-static")
