"""The server's tables (SQLAlchemy 2 ORM). Migrations in ``migrations/`` create them.

Ids are UUID strings so the runner can refer to rows created by others; times are stored
as UTC (:class:`UTCDateTime` gives them back timezone-aware on SQLite too). States are kept
as a kind name (``"Running"``), a message and the runner's opaque ``serialized`` form (where
a result was persisted, for restarts); the server reads only the name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Agent",
    "ApiKey",
    "Artifact",
    "Backfill",
    "Base",
    "ConcurrencyLimit",
    "Flow",
    "FlowGroup",
    "FlowRun",
    "FlowRunLabel",
    "Log",
    "NotificationRule",
    "NotificationSent",
    "Project",
    "ReportBatch",
    "Secret",
    "StateRecord",
    "TaskRun",
    "UTCDateTime",
    "new_id",
    "utcnow",
]


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = sa.String(36)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowGroup(Base):
    """All versions of one flow (same name in one project); owns the schedule switch."""

    __tablename__ = "flow_groups"
    __table_args__ = (sa.UniqueConstraint("project_id", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    schedule_active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flow(Base):
    """One registered version of a flow: its serialized document, stored as JSON."""

    __tablename__ = "flows"
    __table_args__ = (sa.UniqueConstraint("flow_group_id", "version"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_group_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_groups.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int] = mapped_column(sa.Integer)
    serialized_hash: Mapped[str] = mapped_column(sa.String(128))
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    archived: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlowRun(Base):
    __tablename__ = "flow_runs"
    __table_args__ = (
        sa.UniqueConstraint("flow_group_id", "idempotency_key"),
        sa.Index("ix_flow_runs_due", "state", "scheduled_start"),
        sa.Index("ix_flow_runs_scheduled_start", "scheduled_start", "id"),  # list order
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("flows.id", ondelete="CASCADE"))
    flow_group_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    run_config: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    auto_scheduled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(sa.String(40))
    state_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    state_serialized: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    state_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    max_retries: Mapped[int] = mapped_column(sa.Integer, default=0)
    run_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    agent_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    is_late: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The backfill that made this run (its concurrency cap applies when claiming).
    backfill_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    # The task run of a parent flow that started this run (flows of flows).
    parent_task_run_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)


class FlowRunLabel(Base):
    """One row per label of a run, so label matching for claims is plain SQL."""

    __tablename__ = "flow_run_labels"
    flow_run_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(sa.String(200), primary_key=True)


class TaskRun(Base):
    """One task (``map_index`` -1) or one mapped child (``map_index`` >= 0) of a flow run.

    Besides its current state a row holds its life in columns: ``start_time`` (its first
    ``Running``), ``end_time`` (when it last finished; None while unfinished), ``run_count``
    (attempts: how many times it became ``Running``). ``history_in_row`` True means the row
    *is* its whole history and ``states`` holds no record of it: a mapped child whose only
    changes were ``Running`` (message ``"Starting task run."``, version 1) at ``start_time``
    and then, optionally, one success kind at ``state_timestamp`` (or a success kind as its
    only change). See :mod:`headrace.server.domain.history`."""

    __tablename__ = "task_runs"
    __table_args__ = (sa.UniqueConstraint("flow_run_id", "task_slug", "map_index"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_run_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"))
    task_slug: Mapped[str] = mapped_column(sa.String(300))
    task_name: Mapped[str] = mapped_column(sa.String(300), default="")
    map_index: Mapped[int] = mapped_column(sa.Integer, default=-1)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    state: Mapped[str] = mapped_column(sa.String(40), default="Pending")
    state_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    state_serialized: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    state_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)
    run_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default=sa.text("0"))
    history_in_row: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )


class StateRecord(Base):
    """The history: one row per accepted state change of a flow run or task run."""

    __tablename__ = "states"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), index=True
    )
    task_run_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    serialized: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer)


class Log(Base):
    __tablename__ = "logs"
    __table_args__ = (sa.Index("ix_logs_run", "flow_run_id", "id"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"))
    task_run_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    task_slug: Mapped[str | None] = mapped_column(sa.String(300), nullable=True)
    map_index: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level: Mapped[int] = mapped_column(sa.Integer, default=20)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    message: Mapped[str] = mapped_column(sa.Text, default="")


class ReportBatch(Base):
    """A batched report already applied, with its answer, so a retried batch is a no-op."""

    __tablename__ = "report_batches"
    batch_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    flow_run_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"))
    response: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(100), default="")
    labels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The projects of the key that registered it (None: an admin key, or no keys).
    project_ids: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True, default=None)


class ConcurrencyLimit(Base):
    """At most ``limit`` active runs: task runs with tag ``name`` or flow runs with label."""

    __tablename__ = "concurrency_limits"
    __table_args__ = (sa.UniqueConstraint("kind", "name"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    limit: Mapped[int] = mapped_column(sa.Integer)


class ApiKey(Base):
    """An API key, stored only as its SHA-256; ``project_ids`` None means every project."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    project_ids: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set on a per-run token: it may only report for this flow run, until ``expires``.
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, default=None)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)


class Backfill(Base):
    """A request to create the runs a flow's schedule would have made in a past window;
    at most ``max_concurrent`` of its runs are active at once (None: no cap)."""

    __tablename__ = "backfills"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_group_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_groups.id", ondelete="CASCADE"), index=True
    )
    flow_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("flows.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    max_concurrent: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Secret(Base):
    """A server-side secret: its value only ever stored encrypted (Fernet, server key)."""

    __tablename__ = "secrets"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    ciphertext: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationRule(Base):
    """Post to ``url`` (or the URL in server secret ``url_secret``) when a run of the flow
    group enters one of ``states`` (state names, or ``"Late"``); ``kind`` is ``webhook`` or
    ``slack``. ``cursor`` is the last state record already examined."""

    __tablename__ = "notification_rules"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_group_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_groups.id", ondelete="CASCADE"), index=True
    )
    states: Mapped[list[str]] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(20))
    url: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    url_secret: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    cursor: Mapped[int] = mapped_column(sa.Integer, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationSent(Base):
    """One row per notification sent (``key``: ``state:<record id>`` or ``late:<run id>``),
    so each is sent once even when two server processes step the service."""

    __tablename__ = "notifications_sent"
    rule_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("notification_rules.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Artifact(Base):
    """Something a task made for people to read: markdown, a link or a table (``data``)."""

    __tablename__ = "artifacts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    flow_run_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), index=True
    )
    task_run_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
