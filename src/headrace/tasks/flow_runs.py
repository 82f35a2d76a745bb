"""Flows of flows (Prefect 1's ``prefect.tasks.prefect``): tasks that start another
registered flow's run, wait for it, and read one of its task results.

``create_flow_run`` is idempotent per parent task run: its key is the parent flow run, the
task's slug and map index, so a retry of the task or a restart of the parent finds the
child it started before instead of starting a second one. The child records the parent's
task run, and the run page links both ways.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from headrace.artifacts import create_link_artifact
from headrace.client.backend.states import result_from_json
from headrace.client.client import Client
from headrace.client.errors import NotFoundError
from headrace.core import Task, task
from headrace.engine.signals import FAIL, SKIP
from headrace.engine.state import state_class
from headrace.runcontext import context

__all__ = [
    "StartFlowRun",
    "create_flow_run",
    "get_task_run_result",
    "start_child_run",
    "wait_for_child_run",
    "wait_for_flow_run",
]

POLL_INTERVAL = 1.0


def _flow_id(client: Client, flow_name: str, project_name: str | None) -> str:
    project_id = None
    if project_name:
        found = client.get_projects(name=project_name)
        if not found:
            raise ValueError(f"no project named {project_name!r}")
        project_id = found[0]["id"]
    flows = client.get_flows(name=flow_name, project_id=project_id)
    if not flows:
        where = f" in project {project_name!r}" if project_name else ""
        raise ValueError(f"no flow named {flow_name!r}{where} is registered")
    if len({f["flow_group_id"] for f in flows}) > 1:
        raise ValueError(f"several projects have a flow named {flow_name!r}; give project_name")
    return str(max(flows, key=lambda f: f["version"])["id"])


def _parent() -> tuple[str | None, str | None]:
    """The idempotency key and task run id of the task running this (None outside a run
    the server knows)."""
    run_id, slug = context.get("flow_run_id"), context.get("task_slug")
    if not run_id or not slug:
        return None, None
    index = context.get("map_index")
    index = -1 if index is None else int(index)
    key = f"parent:{run_id}:{slug}:{index}"
    try:
        with Client() as client:
            rows = client.get_task_runs(run_id, task_slug=slug, include_children=index >= 0)
    except Exception:
        return key, None
    ids = [r["id"] for r in rows if r["map_index"] == index]
    return key, (ids[0] if ids else None)


def start_child_run(
    flow_name: str | None = None,
    project_name: str | None = None,
    parameters: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    flow_id: str | None = None,
    scheduled_start_time: datetime | None = None,
    run_config: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Start (or find, see the module) a run of a registered flow; returns its id."""
    if not flow_id and not flow_name:
        raise ValueError("create_flow_run needs flow_name= (or flow_id=)")
    key, parent_task_run_id = _parent()
    with Client() as client:
        target = flow_id or _flow_id(client, str(flow_name), project_name)
        run = client.create_flow_run(
            target,
            parameters=parameters,
            labels=labels,
            name=run_name,
            scheduled_start=scheduled_start_time,
            run_config=run_config,
            idempotency_key=idempotency_key or key,
            parent_task_run_id=parent_task_run_id,
        )
    context.logger.info("started flow run %s (%s)", run["name"], run["id"])
    return str(run["id"])


def wait_for_child_run(
    flow_run_id: str,
    stream_logs: bool = False,
    raise_final_state: bool = False,
    poll_interval: float = POLL_INTERVAL,
) -> dict[str, Any]:
    """Wait until run ``flow_run_id`` finishes and return it (a dict as the API gives it).
    ``stream_logs`` repeats its log lines here; ``raise_final_state`` ends this task the
    way the child ended (FAIL for a failed or cancelled child, SKIP for a skipped one)."""
    after: int | None = None
    with Client() as client:
        while True:
            run = client.get_flow_run(flow_run_id)
            if stream_logs:
                filters = {} if after is None else {"after_id": after}
                for line in client.get_logs(flow_run_id, **filters):
                    after = line["id"]
                    context.logger.log(line["level"], "[%s] %s", run["name"], line["message"])
            try:
                finished = state_class(run["state"])().is_finished()
            except ValueError:
                finished = False
            if finished:
                break
            time.sleep(poll_interval)
    if raise_final_state:
        kind = state_class(run["state"])()
        message = f"child flow run {run['name']} ended {run['state']}: {run['state_message']}"
        if kind.is_skipped():
            raise SKIP(message, result=run)
        if not kind.is_successful():
            raise FAIL(message, result=run)
    return run


def _read_task_result(flow_run_id: str, task_slug: str, map_index: int) -> Any:
    with Client() as client:
        rows = client.get_task_runs(flow_run_id, include_children=map_index >= 0)
    matches = [
        r
        for r in rows
        if r["map_index"] == map_index and task_slug in (r["task_slug"], r["task_name"])
    ]
    if not matches:
        raise ValueError(
            f"flow run {flow_run_id} has no task run {task_slug!r} (map index {map_index})"
        )
    row = matches[0]
    doc = (row.get("state_serialized") or {}).get("result")
    result = result_from_json(doc) if doc else None
    if result is None:
        raise ValueError(
            f"task run {task_slug!r} of flow run {flow_run_id} is {row['state']} and did not "
            "persist a result that can be read here"
        )
    return result.read(str(result.location)).value


@task(name="create_flow_run")
def create_flow_run(
    flow_id: str | None = None,
    flow_name: str | None = None,
    project_name: str | None = None,
    parameters: dict[str, Any] | None = None,
    labels: list[str] | None = None,
    run_name: str | None = None,
    run_config: dict[str, Any] | None = None,
    scheduled_start_time: datetime | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Task: start a run of a registered flow (once per parent task run); its id. The
    arguments are Prefect 1's, in its order (its ``context`` argument is not supported)."""
    return start_child_run(
        flow_name,
        project_name,
        parameters,
        labels,
        run_name,
        flow_id,
        scheduled_start_time,
        run_config,
        idempotency_key,
    )


@task(name="wait_for_flow_run")
def wait_for_flow_run(
    flow_run_id: str, stream_logs: bool = False, raise_final_state: bool = False
) -> dict[str, Any]:
    """Task: wait for a flow run to finish (see :func:`wait_for_child_run`)."""
    return wait_for_child_run(flow_run_id, stream_logs, raise_final_state)


@task(name="get_task_run_result")
def get_task_run_result(flow_run_id: str, task_slug: str, map_index: int = -1) -> Any:
    """Task: the persisted result of task ``task_slug`` (its slug or name) of a flow run."""
    try:
        return _read_task_result(flow_run_id, task_slug, map_index)
    except NotFoundError as exc:
        raise ValueError(f"flow run {flow_run_id} not found: {exc}") from None


class StartFlowRun(Task):
    """Prefect 1's ``StartFlowRun``: start a run of ``flow_name`` (the newest version of it);
    with ``wait=True`` wait for it and end as it ended. Returns the child run's id either
    way. ``create_link_artifact`` records a link to the child run on this task run.
    ``new_flow_context`` (Prefect's extra context for the child) is not supported: giving
    one is an error rather than a setting silently dropped."""

    def __init__(
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        wait: bool = False,
        new_flow_context: dict[str, Any] | None = None,
        run_name: str | None = None,
        scheduled_start_time: datetime | None = None,
        poll_interval: timedelta | float = POLL_INTERVAL,
        create_link_artifact: bool = True,
        labels: list[str] | None = None,
        stream_logs: bool = False,
        **kwargs: Any,
    ) -> None:
        if new_flow_context:
            raise ValueError(
                "StartFlowRun(new_flow_context=...) is not supported by headrace: pass "
                "what the child needs as parameters="
            )
        self.flow_name = flow_name
        self.project_name = project_name
        self.parameters = parameters
        self.run_config = run_config
        self.run_name = run_name
        self.scheduled_start_time = scheduled_start_time
        self.labels = labels
        self.wait = wait
        self.stream_logs = stream_logs
        self.create_link_artifact = create_link_artifact
        if isinstance(poll_interval, timedelta):
            poll_interval = poll_interval.total_seconds()
        self.poll_interval = float(poll_interval)
        kwargs.setdefault("name", f"StartFlowRun[{flow_name}]" if flow_name else None)
        super().__init__(**kwargs)

    def run(
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        run_name: str | None = None,
        scheduled_start_time: datetime | None = None,
    ) -> str:
        merged = {**(self.parameters or {}), **(parameters or {})}
        config = run_config if run_config is not None else self.run_config
        run_id = start_child_run(
            flow_name or self.flow_name,
            project_name or self.project_name,
            merged,
            self.labels,
            run_name or self.run_name,
            scheduled_start_time=scheduled_start_time or self.scheduled_start_time,
            run_config=_run_config_json(config),
        )
        if self.create_link_artifact:
            create_link_artifact(f"/runs/{run_id}", text="child flow run")
        if self.wait:
            wait_for_child_run(run_id, self.stream_logs, True, self.poll_interval)
        return run_id


def _run_config_json(run_config: Any) -> dict[str, Any] | None:
    """A run config object (``LocalRun(...)``) or its JSON form, as the API takes it."""
    if run_config is None or isinstance(run_config, dict):
        return run_config
    serialize = getattr(run_config, "serialize", None)
    if serialize is None:
        raise TypeError(f"run_config must be a RunConfig or a dict, not {run_config!r}")
    return dict(serialize())
