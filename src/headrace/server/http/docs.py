"""The API's interactive docs at ``/docs``, served offline.

FastAPI's default page loads Swagger UI's script, stylesheet and favicon from a CDN, so on a
machine without internet ``/docs`` is blank. Here the same Swagger UI is served from the
``swagger-ui-bundle`` package's files under ``/docs/assets`` (ReDoc, CDN-only too, is off).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PREFIX", "mount_docs"]

ASSETS_PREFIX = "/docs/assets"


def mount_docs(app: FastAPI) -> None:
    """Add ``/docs`` (Swagger UI) with its assets to ``app``, which was created with
    ``docs_url=None, redoc_url=None``."""
    from swagger_ui_bundle import swagger_ui_path

    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PREFIX}/favicon-32x32.png",
        )

    app.mount(ASSETS_PREFIX, StaticFiles(directory=swagger_ui_path), name="docs-assets")
