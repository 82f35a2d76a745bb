"""The HTTP API's routers, mounted under ``/api`` by :func:`headrace.server.app.create_app`."""

from __future__ import annotations

from headrace.server.api import admin, agents, flow_runs, flows, task_runs

__all__ = ["ROUTERS"]

ROUTERS = [flows.router, flow_runs.router, task_runs.router, agents.router, admin.router]
