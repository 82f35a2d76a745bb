"""``Client``: one method per endpoint of the headrace API, plus ``register(flow)``.

Answers are plain dicts/lists as the API returns them (documented in the server's OpenAPI
schema at ``/openapi.json``); errors raise :mod:`headrace.client.errors` classes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from headrace import wire as w
from headrace.client.bodies import bodies, body
from headrace.client.errors import ConflictError
from headrace.client.http import Transport, fast_json_body
from headrace.wire.base import In

__all__ = ["Client"]

Json = dict[str, Any]


class Client:
    """A client of the headrace server at ``api_url`` (default: config ``api.url``)."""

    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        retries: int | None = None,
        timeout: float | None = None,
        backoff: float = 0.1,
    ) -> None:
        from headrace.configuration import config

        api = config.get("api", {})
        self.api_url = (api_url or api.get("url") or "http://127.0.0.1:4200").rstrip("/")
        key = api_key if api_key is not None else (api.get("key") or None)
        #: Whether requests carry an API key.
        self.has_key = bool(key)
        self._transport = Transport(
            self.api_url,
            key,
            retries=api.get("retries", 5) if retries is None else retries,
            timeout=api.get("timeout", 30.0) if timeout is None else timeout,
            backoff=backoff,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any API call: ``client.request("GET", "/flow_runs", params={...})``."""
        return self._transport.request(method, path, **kwargs)

    def _get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def _post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body)

    def _send(self, schema: type[In], path: str, method: str = "POST", **fields: Any) -> Any:
        """``method`` ``path`` with a ``schema`` body of ``fields``, checked before sending."""
        return self.request(method, path, json=body(schema, method, path, **fields))

    # --- health, projects ---------------------------------------------------------------
    def health(self) -> Json:
        return dict(self._get("/health"))

    def create_project(self, name: str, description: str = "", exist_ok: bool = False) -> Json:
        """Create a project; with ``exist_ok`` an existing one of that name is returned."""
        try:
            return dict(self._send(w.ProjectIn, "/projects", name=name, description=description))
        except ConflictError:
            if not exist_ok:
                raise
        found = self.get_projects(name=name)
        if not found:
            raise LookupError(f"project {name!r} exists but is not visible to this API key")
        return found[0]

    def get_projects(self, name: str | None = None) -> list[Json]:
        return list(self._get("/projects", name=name))

    def get_project(self, project_id: str) -> Json:
        return dict(self._get(f"/projects/{project_id}"))

    def delete_project(self, project_id: str) -> None:
        self.request("DELETE", f"/projects/{project_id}")

    # --- flows --------------------------------------------------------------------------
    def register_document(
        self,
        document: Mapping[str, Any],
        *,
        project_id: str | None = None,
        project_name: str | None = None,
        labels: Iterable[str] | None = None,
        serialized_hash: str | None = None,
        schedule_active: bool | None = None,
    ) -> Json:
        """Register a serialized flow document; answers ``{id, flow_group_id, version,
        created}`` (``created`` False when the document was unchanged)."""
        return dict(
            self._send(
                w.FlowIn,
                "/flows",
                document=dict(document),
                project_id=project_id,
                project_name=project_name,
                labels=list(labels or []),
                serialized_hash=serialized_hash,
                schedule_active=schedule_active,
            )
        )

    def register(
        self,
        flow: Any,
        project_name: str | None = None,
        labels: Iterable[str] | None = None,
        build: bool = True,
        *,
        create_project: bool = True,
        schedule_active: bool | None = None,
        **kwargs: Any,
    ) -> str:
        """Build ``flow``'s storage, serialize it, register it; returns the flow id.

        ``flow`` is a :class:`headrace.Flow` (or an already serialized document). The
        project (default ``"default"``) is created when missing unless ``create_project``
        is False. Re-registering an unchanged flow returns the same id.
        """
        if kwargs:
            raise TypeError(f"register() got unexpected argument(s): {', '.join(sorted(kwargs))}")
        project = project_name or "default"
        labels = sorted(set(labels or []))
        if isinstance(flow, Mapping):
            document, digest = dict(flow), None
        else:
            document = flow.serialize(build=build)
            digest = hashlib.sha256(
                (flow.serialized_hash() + "|" + ",".join(labels)).encode()
            ).hexdigest()
        if create_project:
            self.create_project(project, exist_ok=True)
        answer = self.register_document(
            document,
            project_name=project,
            labels=labels,
            serialized_hash=digest,
            schedule_active=schedule_active,
        )
        return str(answer["id"])

    def get_flows(
        self,
        project_id: str | None = None,
        name: str | None = None,
        flow_group_id: str | None = None,
        all_versions: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Json]:
        return list(
            self._get(
                "/flows",
                project_id=project_id,
                name=name,
                flow_group_id=flow_group_id,
                all_versions=all_versions,
                limit=limit,
                offset=offset,
            )
        )

    def get_flow(self, flow_id: str) -> Json:
        """One flow version including its ``document``."""
        return dict(self._get(f"/flows/{flow_id}"))

    def get_flow_group(self, flow_group_id: str) -> Json:
        return dict(self._get(f"/flow_groups/{flow_group_id}"))

    def set_schedule_active(self, flow_group_id: str, active: bool) -> Json:
        path = f"/flow_groups/{flow_group_id}"
        patch = body(w.FlowGroupPatch, "PATCH", path, schedule_active=active)
        return dict(self.request("PATCH", path, json=patch))

    # --- flow runs ----------------------------------------------------------------------
    def create_flow_run(
        self,
        flow_id: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        scheduled_start: datetime | None = None,
        idempotency_key: str | None = None,
        run_config: Mapping[str, Any] | None = None,
        name: str | None = None,
        max_retries: int | None = None,
        parent_task_run_id: str | None = None,
    ) -> Json:
        # A key per call makes the transport's retries safe: a POST that reached the
        # server before the connection broke returns the same run when retried.
        if idempotency_key is None:
            idempotency_key = f"client-{uuid.uuid4()}"
        fields: dict[str, Any] = {}
        if parent_task_run_id is not None:
            fields["parent_task_run_id"] = parent_task_run_id
        return dict(
            self._send(
                w.FlowRunIn,
                "/flow_runs",
                flow_id=flow_id,
                parameters=dict(parameters or {}),
                labels=None if labels is None else list(labels),
                scheduled_start=scheduled_start,
                idempotency_key=idempotency_key,
                run_config=None if run_config is None else dict(run_config),
                name=name,
                max_retries=max_retries,
                **fields,
            )
        )

    def get_flow_runs(self, **filters: Any) -> list[Json]:
        """Filters: flow_id, flow_group_id, project_id, state (list), label, is_late,
        agent_id, id_prefix, order ("newest"/"oldest"), limit, offset."""
        return list(self._get("/flow_runs", **filters))

    def get_flow_run(self, flow_run_id: str) -> Json:
        """The run, with ``task_run_counts`` by state."""
        return dict(self._get(f"/flow_runs/{flow_run_id}"))

    def set_flow_run_state(
        self,
        flow_run_id: str,
        name: str,
        *,
        version: int | None = None,
        message: str | None = None,
        serialized: Mapping[str, Any] | None = None,
    ) -> Json:
        return self._set_state(
            f"/flow_runs/{flow_run_id}/state", name, version, message, serialized
        )

    def _set_state(
        self,
        path: str,
        name: str,
        version: int | None,
        message: str | None,
        serialized: Mapping[str, Any] | None,
    ) -> Json:
        """POST a state change (checked server-side against ``version``) to ``path``."""
        state = {"name": name, "message": message, "serialized": serialized}
        return dict(self._send(w.StateSetIn, path, state=state, version=version))

    def get_flow_run_states(self, flow_run_id: str, task_runs: bool = False) -> list[Json]:
        return list(self._get(f"/flow_runs/{flow_run_id}/states", task_runs=task_runs))

    def run_token(self, flow_run_id: str) -> Json:
        """A token that may only report for ``flow_run_id`` (``{token, expires}``): what a
        runner gives its worker processes instead of its own key."""
        return dict(self._post(f"/flow_runs/{flow_run_id}/token"))

    def heartbeat(self, flow_run_id: str) -> Json:
        """Answers ``{state, version, cancel_requested}``."""
        return dict(self._post(f"/flow_runs/{flow_run_id}/heartbeat"))

    def flow_run_lost(self, flow_run_id: str, reason: str, agent_id: str | None = None) -> Json:
        """Tell the server the run's runner died (``reason``: how); it retries the run while
        ``max_retries`` allows, else fails it. With ``agent_id``, only if the run is still
        that agent's. Answers the run."""
        path = f"/flow_runs/{flow_run_id}/lost"
        return dict(self._send(w.LostIn, path, reason=reason[:4000], agent_id=agent_id))

    def cancel_flow_run(self, flow_run_id: str) -> Json:
        return dict(self._post(f"/flow_runs/{flow_run_id}/cancel"))

    def rename_flow_run(self, flow_run_id: str, name: str) -> Json:
        """Give a flow run a new name; answers the run."""
        path = f"/flow_runs/{flow_run_id}"
        return dict(self._send(w.FlowRunPatch, path, method="PATCH", name=name))

    def restart_flow_run(self, flow_run_id: str) -> Json:
        return dict(self._post(f"/flow_runs/{flow_run_id}/restart"))

    def report(self, flow_run_id: str, report: Mapping[str, Any]) -> Json:
        """Send one batched report (see the server's ``ReportIn`` schema)."""
        body = fast_json_body(dict(report))  # a big map's rows: orjson, see fast_json_body
        return dict(self.request("POST", f"/flow_runs/{flow_run_id}/report", content=body))

    # --- task runs and logs -------------------------------------------------------------
    def get_task_runs(self, flow_run_id: str, **filters: Any) -> list[Json]:
        """Filters: task_slug, state (list), include_children, min_map_index and
        max_map_index (inclusive), limit, offset."""
        return list(self._get(f"/flow_runs/{flow_run_id}/task_runs", **filters))

    def get_task_run_summary(self, flow_run_id: str) -> list[Json]:
        """Per task: ``{task_slug, task_name, state, children_total, children}`` where
        ``children`` counts mapped children by state (for progress bars)."""
        return list(self._get(f"/flow_runs/{flow_run_id}/task_runs/summary"))

    def create_task_runs(
        self, flow_run_id: str, task_runs: Sequence[Mapping[str, Any]]
    ) -> list[Json]:
        path = f"/flow_runs/{flow_run_id}/task_runs"
        return list(self._post(path, bodies(w.TaskRunIn, "POST", path, task_runs)))

    def get_task_run(self, task_run_id: str) -> Json:
        return dict(self._get(f"/task_runs/{task_run_id}"))

    def set_task_run_state(
        self,
        task_run_id: str,
        name: str,
        *,
        version: int | None = None,
        message: str | None = None,
        serialized: Mapping[str, Any] | None = None,
    ) -> Json:
        return self._set_state(
            f"/task_runs/{task_run_id}/state", name, version, message, serialized
        )

    def get_task_run_states(self, task_run_id: str) -> list[Json]:
        return list(self._get(f"/task_runs/{task_run_id}/states"))

    def get_task_run_attempts(self, task_run_id: str) -> list[Json]:
        """Each attempt of a task run: ``{attempt, start, end, state, message, error}``."""
        return list(self._get(f"/task_runs/{task_run_id}/attempts"))

    def write_logs(self, records: Sequence[Mapping[str, Any]]) -> int:
        """Insert log records; each names its ``flow_run_id``."""
        return int(self._post("/logs", bodies(w.RunLogIn, "POST", "/logs", records))["inserted"])

    def get_logs(self, flow_run_id: str, **filters: Any) -> list[Json]:
        """Filters: level (minimum), search, task_run_id, after_id, limit, offset."""
        return list(self._get(f"/flow_runs/{flow_run_id}/logs", **filters))

    # --- agents -------------------------------------------------------------------------
    def register_agent(self, name: str, labels: Iterable[str] = (), type: str = "") -> Json:
        return dict(self._send(w.AgentIn, "/agents", name=name, labels=list(labels), type=type))

    def get_agents(self) -> list[Json]:
        return list(self._get("/agents"))

    def get_agent(self, agent_id: str) -> Json:
        return dict(self._get(f"/agents/{agent_id}"))

    def agent_heartbeat(self, agent_id: str, flow_run_ids: Iterable[str] | None = None) -> Json:
        """Answers ``{cancel_flow_run_ids}``: the agent's runs to stop. ``flow_run_ids``: the
        runs it holds (those not started yet count as heartbeated)."""
        path = f"/agents/{agent_id}/heartbeat"
        if flow_run_ids is None:
            return dict(self._post(path))
        return dict(self._send(w.AgentHeartbeatIn, path, flow_run_ids=list(flow_run_ids)))

    def claim_flow_runs(
        self,
        agent_id: str,
        limit: int = 1,
        projects: Iterable[str] | None = None,
        wait: float = 0.0,
    ) -> list[Json]:
        """Atomically claim up to ``limit`` due runs matching the agent's labels (only of
        ``projects``, names or ids, when given). With ``wait`` (seconds, at most 8; keep it
        under ``api.timeout``) the server waits that long for a run when none is claimable
        yet, so a new run reaches a waiting agent at once (long poll)."""
        fields: dict[str, Any] = {"limit": limit}
        if projects is not None:
            fields["projects"] = sorted(set(projects))
        if wait:
            fields["wait"] = wait
        return list(self._send(w.ClaimIn, f"/agents/{agent_id}/claim", **fields))

    # --- concurrency limits and API keys ------------------------------------------------
    def get_concurrency_limits(self) -> list[Json]:
        return list(self._get("/concurrency_limits"))

    def set_concurrency_limit(self, kind: str, name: str, limit: int) -> Json:
        """``kind`` is ``"task_tag"`` or ``"flow_label"``."""
        path = f"/concurrency_limits/{kind}/{name}"
        return dict(self._send(w.ConcurrencyLimitIn, path, method="PUT", limit=limit))

    def delete_concurrency_limit(self, kind: str, name: str) -> None:
        self.request("DELETE", f"/concurrency_limits/{kind}/{name}")

    def create_api_key(self, name: str, project_ids: Sequence[str] | None = None) -> Json:
        """Answers the key row plus ``key``, the clear key (shown only this once)."""
        ids = None if project_ids is None else list(project_ids)
        return dict(self._send(w.ApiKeyIn, "/api_keys", name=name, project_ids=ids))

    def get_api_keys(self) -> list[Json]:
        return list(self._get("/api_keys"))

    def delete_api_key(self, key_id: str) -> None:
        self.request("DELETE", f"/api_keys/{key_id}")

    # --- backfills and secrets ----------------------------------------------------------
    def backfill(
        self,
        flow_id: str,
        start: datetime,
        end: datetime,
        max_concurrent: int | None = None,
    ) -> Json:
        """Create, once each, the runs the flow's schedule has from ``start`` to ``end``;
        at most ``max_concurrent`` of them active at once."""
        return dict(
            self._send(
                w.BackfillIn,
                "/backfills",
                flow_id=flow_id,
                start=start,
                end=end,
                max_concurrent=max_concurrent,
            )
        )

    def set_secret(self, name: str, value: str) -> Json:
        """Store secret ``name`` on the server (encrypted there; admin keys only)."""
        return dict(self._send(w.SecretIn, f"/secrets/{name}", method="PUT", value=value))

    def get_secret(self, name: str) -> str:
        """The value of server-side secret ``name``."""
        return str(self._get(f"/secrets/{name}")["value"])

    def get_secrets(self) -> list[Json]:
        """Names and times of the server's secrets (never their values)."""
        return list(self._get("/secrets"))

    def delete_secret(self, name: str) -> None:
        self.request("DELETE", f"/secrets/{name}")

    # --- notification rules and artifacts ------------------------------------------------
    def create_notification_rule(
        self,
        flow_id: str,
        states: Sequence[str],
        *,
        url: str | None = None,
        url_secret: str | None = None,
        kind: str = "webhook",
    ) -> Json:
        """Post to ``url`` (or server secret ``url_secret``'s URL) when a run of the flow
        enters one of ``states`` (state names, or ``"Late"``); ``kind``: webhook|slack."""
        return dict(
            self._send(
                w.NotificationRuleIn,
                "/notification_rules",
                flow_id=flow_id,
                states=list(states),
                kind=kind,
                url=url,
                url_secret=url_secret,
            )
        )

    def get_notification_rules(self, flow_group_id: str) -> list[Json]:
        return list(self._get("/notification_rules", flow_group_id=flow_group_id))

    def delete_notification_rule(self, rule_id: str) -> None:
        self.request("DELETE", f"/notification_rules/{rule_id}")

    def create_artifact(
        self,
        flow_run_id: str,
        kind: str,
        data: Mapping[str, Any],
        task_slug: str | None = None,
        map_index: int = -1,
    ) -> Json:
        return dict(
            self._send(
                w.ArtifactIn,
                "/artifacts",
                flow_run_id=flow_run_id,
                kind=kind,
                data=dict(data),
                task_slug=task_slug,
                map_index=map_index,
            )
        )

    def get_artifacts(self, flow_run_id: str, task_run_id: str | None = None) -> list[Json]:
        filters = {} if task_run_id is None else {"task_run_id": task_run_id}
        return list(self._get(f"/flow_runs/{flow_run_id}/artifacts", **filters))
