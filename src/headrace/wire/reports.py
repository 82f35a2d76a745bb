"""Bodies of the runner's batched report: task-run changes (one by one or as compact
rows), a flow-run state change, logs, and the answer saying what happened to each."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    Strict,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from headrace.wire.base import In
from headrace.wire.limits import MAX_BATCH
from headrace.wire.names import BIG, Bool, MapIndex, Time, Version
from headrace.wire.runs import LogIn, StateIn, StateSetIn

MAX_TASKS = 10_000  # tasks one compact report may name

__all__ = [
    "ReportIn",
    "ReportOut",
    "TaskRef",
    "TaskStateChange",
    "TaskStateResult",
    "TaskStateRow",
    "TaskStatesIn",
]


class TaskStateChange(In):
    """One task-run state change; the task run is created if it does not exist yet."""

    task_slug: str = Field(min_length=1, max_length=300)
    map_index: MapIndex = -1
    version: Version | None = Field(
        default=None,
        description="Version the change applies to (0 for a new task run).",
    )
    state: StateIn
    task_name: str | None = None
    tags: list[str] | None = None


class TaskRef(In):
    """A task that rows of :class:`TaskStatesIn` refer to by position."""

    task_slug: str = Field(min_length=1, max_length=300)
    task_name: str | None = None
    tags: list[str] | None = None


TaskStateRow = tuple[
    Annotated[int, Field(ge=0, le=MAX_TASKS)],
    Annotated[int, Field(ge=-1, le=BIG)],
    Annotated[str, Field(min_length=1, max_length=40)],
    Time | Annotated[float, Strict()] | None,
    str | None,
    dict[str, Any] | None,
    Annotated[int, Field(ge=0, le=BIG)] | None,
]


class TaskStatesIn(In):
    """Task-run state changes in a compact, columnar form (what the runner sends for big
    maps: about a third of the JSON of ``task_runs`` and much cheaper to validate).

    Each row is ``[task, map_index, state name, timestamp, message, serialized, version]``
    where ``task`` is a position in ``tasks`` and ``timestamp`` is ISO 8601 text or Unix
    seconds (null: the server's time); trailing nulls may not be left out. A row means
    exactly what a ``TaskStateChange`` with those fields (and its task's ``task_name`` and
    ``tags``) means, and rows apply in order, after ``task_runs``. A row whose ``task`` is
    not a position in ``tasks`` makes the whole report a 422."""

    tasks: list[TaskRef] = Field(max_length=MAX_TASKS)
    rows: list[TaskStateRow] = Field(default_factory=list, max_length=100_000)

    @field_validator("rows", mode="before")
    @classmethod
    def _no_bool_positions(cls, rows: Any) -> Any:
        for i, row in enumerate(rows if isinstance(rows, list) else ()):
            if isinstance(row, list) and any(
                isinstance(row[p], bool) for p in (0, 1, 6) if p < len(row)
            ):
                raise ValueError(f"rows[{i}]: task, map_index and version are integers")
        return rows

    @field_validator("rows", mode="wrap")
    @classmethod
    def _plain_rows(cls, rows: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Rows of the plain form the runner sends are checked here in one tight loop (a
        # pydantic tuple per row costs ~10 us, a 10,000-row batch ~0.1 s); anything else,
        # and so every invalid row, goes through the full validation (same answers).
        fast = _plain_rows(rows)
        return handler(rows) if fast is None else fast

    @model_validator(mode="after")
    def _check_rows(self) -> TaskStatesIn:
        # the one rule the schema cannot state: a batch naming a task it does not list is
        # refused whole (nothing of it stored), as a 422 naming the row
        n = len(self.tasks)
        if not self.rows or max(row[0] for row in self.rows) < n:
            return self
        for i, row in enumerate(self.rows):
            if row[0] >= n:
                raise ValueError(
                    f"rows[{i}]: task {row[0]} is not a position in tasks (0..{n - 1})"
                )
        return self


def _plain_rows(rows: Any) -> list[tuple[Any, ...]] | None:
    """``rows`` as tuples when every row is of the plain form a runner sends, for which the
    checks below are exactly those of :data:`TaskStateRow` (each value of the exact type
    already, ASCII state names, finite float timestamps); None otherwise."""
    if type(rows) is not list or len(rows) > 100_000:
        return None
    out = []
    for row in rows:
        if type(row) is not list or len(row) != 7:
            return None
        task, index, name, stamp, message, serialized, version = row
        if not (
            type(task) is int
            and 0 <= task <= MAX_TASKS
            and type(index) is int
            and -1 <= index <= BIG
            and type(name) is str
            and 0 < len(name) <= 40
            and name.isascii()
            and (stamp is None or (type(stamp) is float and -_BIG_TIME < stamp < _BIG_TIME))
            and (message is None or type(message) is str)
            and (version is None or (type(version) is int and 0 <= version <= BIG))
        ):
            return None
        if serialized is not None and (
            type(serialized) is not dict or any(type(key) is not str for key in serialized)
        ):
            return None
        out.append(tuple(row))
    return out


_BIG_TIME = 1e12  # seconds: finite (no inf or nan), far beyond any real time


class ReportIn(In):
    batch_id: str | None = Field(
        default=None, max_length=64, description="Unique per batch; a retried batch is a no-op."
    )
    flow_run_state: StateSetIn | None = None
    task_runs: list[TaskStateChange] = Field(default_factory=list, max_length=MAX_BATCH)
    task_states: TaskStatesIn | None = Field(
        default=None, description="More task-run changes, compact; applied after task_runs."
    )
    logs: list[LogIn] = Field(default_factory=list, max_length=MAX_BATCH)
    heartbeat: Bool = True
    results: Literal["all", "problems"] = Field(
        default="all",
        description=(
            "'all' answers one entry per task-run change; 'problems' only the changes that "
            "were not applied (duplicate, conflict, rejected), with the applied ones counted "
            "in task_runs_applied (a big map's answer stays small)."
        ),
    )


class TaskStateResult(BaseModel):
    task_slug: str
    map_index: int
    task_run_id: str | None
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    state: str | None
    version: int | None
    detail: str | None = None


class ReportOut(BaseModel):
    flow_run_state: str
    flow_run_version: int
    flow_run_status: Literal["applied", "duplicate", "conflict", "rejected", "none"]
    flow_run_detail: str | None = None
    flow_run_code: str | None = Field(
        default=None,
        description="The error kind of a flow-run change not applied (unfinished_task_runs...)",
    )
    cancel_requested: bool
    flow_run_count: int = Field(default=0, description="Attempts of the run started so far.")
    task_runs: list[TaskStateResult]
    task_runs_applied: int = Field(default=0, description="Task-run changes applied.")
    logs_inserted: int
