"""The HTTP API's routers, mounted under ``/api`` by :func:`headrace.server.http.app.create_app`.

The full schema is served at ``/openapi.json`` (and ``/docs``). Summary, for clients:

Conventions
    JSON in and out; ids are UUID strings; times ISO 8601 UTC. Auth: ``Authorization:
    Bearer <key>`` (or ``X-Api-Key``). Errors, every status: ``{"detail", "code", "field",
    "errors"}`` with 401 ``unauthorized``, 403 ``forbidden``, 404 ``not_found`` (also for
    resources in projects the key cannot see, agents included), 405 (with ``Allow``), 409
    ``conflict`` / ``version_conflict`` / ``invalid_transition`` / ``concurrency_limit``,
    413 ``body_too_large``, 422 ``invalid_input`` or ``validation_error`` (then ``errors``
    lists ``{loc, msg, type}``), 503 ``busy``. Lists take ``limit``/``offset`` (offset at
    most 10^9); flow runs, task runs and logs also page by keyset: a full page's
    ``X-Next-Cursor`` header (and ``Link: <url>; rel="next"``) is the ``cursor`` of the next.
    History: a plain mapped child's states are kept in its task-run row (``id`` 0 in state
    lists), see :mod:`headrace.server.domain.history`. Limits: :mod:`headrace.server.http.limits`;
    names and labels: :mod:`headrace.wire.names`.

Routes
    GET    /health
    POST   /projects                      {name, description}           -> 201 project
    GET    /projects[?name=]   GET/DELETE /projects/{id}
    POST   /flows        {document, project_id|project_name, labels, serialized_hash?,
                          schedule_active?} -> {id, flow_group_id, version, created}
    GET    /flows[?project_id&name&flow_group_id&all_versions]   GET /flows/{id} (+document)
    GET    /flow_groups/{id}              PATCH /flow_groups/{id} {schedule_active}
    POST   /flow_runs    {flow_id, parameters, labels?, scheduled_start?, idempotency_key?,
                          run_config?, name?, max_retries?} -> 201 run (200: same key)
    GET    /flow_runs[?flow_id&flow_group_id&project_id&state=..&label&is_late&agent_id
                       &order=newest|oldest&cursor]
    GET    /flow_runs/{id}                (+ task_run_counts by state)
    POST   /flow_runs/{id}/state          {state: {name, message?, serialized?}, version?}
                                          -> {state, version}
    GET    /flow_runs/{id}/states[?task_runs=true]
    POST   /flow_runs/{id}/heartbeat      -> {state, version, cancel_requested}
    POST   /flow_runs/{id}/cancel         POST /flow_runs/{id}/restart
    POST   /flow_runs/{id}/token          -> {token, expires}: reports for this run only
    POST   /flow_runs/{id}/report         the batched report, below
    GET    /flow_runs/{id}/task_runs[?task_slug&state&include_children
                                       &min_map_index&max_map_index&cursor]
    POST   /flow_runs/{id}/task_runs      [{task_slug, map_index, task_name?, tags?}]
    GET    /flow_runs/{id}/task_runs/summary  [{task_slug, task_name, state,
                                               children_total, children: {state: n}}]
    GET    /task_runs/{id}   POST /task_runs/{id}/state   GET /task_runs/{id}/states
    POST   /logs             [{flow_run_id, task_run_id?|task_slug+map_index?, timestamp?,
                               level, name, message}]
    GET    /flow_runs/{id}/logs[?level&search&task_run_id&after_id&cursor]
    POST   /agents           {name, type, labels}           GET /agents, /agents/{id}
    POST   /agents/{id}/heartbeat         -> {cancel_flow_run_ids}
    POST   /agents/{id}/claim             {limit, projects?, wait?} -> [flow run] (now
                                          Submitted, yours; waits up to `wait` s for one)
    GET    /concurrency_limits   PUT/DELETE /concurrency_limits/{task_tag|flow_label}/{name}
    POST   /api_keys {name, project_ids|null} -> {..., key}   GET /api_keys  DELETE /api_keys/{id}
    POST   /backfills    {flow_id, start, end, max_concurrent?} -> {id, run_ids,
                          created_runs, existing_runs, ...} (201 when it created runs)
    PUT    /secrets/{name} {value} (admin)   GET /secrets (names and times, never values)
    GET    /secrets/{name} -> {name, value, secret: true}   DELETE /secrets/{name} (admin)
    POST   /notification_rules {flow_id, states, kind: webhook|slack, url|url_secret}
    GET    /notification_rules?flow_group_id=   DELETE /notification_rules/{id}
    POST   /artifacts    {flow_run_id, task_slug?, map_index?, kind: markdown|link|table,
                          data: {markdown} | {link, text?} | {columns, rows}}
    GET    /flow_runs/{id}/artifacts[?task_run_id]

Lifecycle of a flow run
    Scheduled (v1) -> Submitted (claimed by an agent) -> Running (runner) -> a finished
    state. ``cancel``: not started -> Cancelled; Submitted/Running -> Cancelling, which only
    a finished state may follow (the agent sees it in its heartbeat answer and stops the
    process; the runner sees ``cancel_requested``). ``restart`` (finished runs only) ->
    Scheduled, task runs that succeeded kept with their ``state_serialized``, the others
    reset to Pending. Task runs start Pending at version 0; every accepted change adds 1.

Batched report: ``POST /flow_runs/{id}/report``
    {"batch_id": "unique per batch (optional; a repeated id returns the first answer)",
     "flow_run_state": {"state": {"name", "message", "serialized", "timestamp"},
                        "version": N} | null,
     "task_runs": [{"task_slug", "map_index": -1, "version": N | null,
                    "state": {...}, "task_name"?, "tags"?}, ...],
     "logs": [{"task_slug"?, "map_index"?, "timestamp"?, "level", "name", "message"}],
     "heartbeat": true}
    answers
    {"flow_run_state", "flow_run_version", "flow_run_status", "flow_run_detail",
     "cancel_requested", "logs_inserted",
     "task_runs": [{"task_slug", "map_index", "task_run_id", "status", "state", "version",
                    "detail"}]}
    Each ``status`` is ``applied``, ``duplicate`` (already applied: safe to drop),
    ``conflict`` (stale version) or ``rejected`` (forbidden transition or a task-tag
    concurrency limit: retry the Running later). Changes apply in order, so one batch may
    carry Running (version v) then Success (v + 1) for a task run; missing task runs (mapped
    children) are created on the fly at version 0.
"""

from __future__ import annotations

from headrace.server.http.routers import (
    admin,
    agents,
    backfills,
    flow_runs,
    flows,
    notifications,
    secrets,
    task_runs,
)

__all__ = ["ROUTERS"]

ROUTERS = [
    flows.router,
    flow_runs.router,
    task_runs.router,
    agents.router,
    admin.router,
    backfills.router,
    secrets.router,
    notifications.router,
]
