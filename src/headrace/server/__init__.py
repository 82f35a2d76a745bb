"""headrace's server: the HTTP API over SQLite or PostgreSQL, plus its background services.

``create_app(...)`` builds the FastAPI application; ``serve(host, port, database_url)``
runs it with uvicorn (``headrace server start``); ``issue_api_key(database_url, name)``
creates an API key straight in the database (the first admin key of a secured server).
"""

from __future__ import annotations

from headrace.server.domain.auth import issue_api_key
from headrace.server.http.app import create_app
from headrace.server.serve import serve
from headrace.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "issue_api_key", "serve"]
