"""headrace's server: the HTTP API over SQLite or PostgreSQL, plus its background services.

``create_app(...)`` builds the FastAPI application; ``serve(host, port, database_url)``
runs it with uvicorn (``headrace server start``).
"""

from __future__ import annotations

from headrace.server.app import create_app
from headrace.server.serve import serve
from headrace.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "serve"]
