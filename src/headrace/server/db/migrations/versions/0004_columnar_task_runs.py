"""Task runs hold their life in columns (issue 16): ``start_time`` (first ``Running``),
``end_time`` (when it finished), ``run_count`` (attempts) and ``history_in_row`` (its whole
history is the row: a plain mapped child has no ``states`` rows, see
``headrace.server.domain.history``).

Existing data moves: the three columns are computed from each task run's history, and the
mapped children whose history is exactly a ``Running`` (version 1, the engine's message
``Starting task run.``, no serialized form) then their current success kind (version 2), or
that success kind alone (version 1), are marked ``history_in_row`` and their now redundant
history rows deleted. The downgrade writes those rows back first. Flow runs get an index in
the order ``GET /flow_runs`` lists them (``scheduled_start``, ``id``) for keyset pages.

Revision ID: 0004_columnar_task_runs
Revises: 0003_orchestration
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_columnar_task_runs"
down_revision = "0003_orchestration"
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later code): the state kinds of this release.
_SUCCESS = "('Success', 'Cached', 'Mapped', 'Skipped')"
_FINISHED = (
    "('Success', 'Cached', 'Mapped', 'Skipped', 'Failed', 'TimedOut', 'TriggerFailed', "
    "'Cancelled', 'Finished')"
)
_RUNNING_MESSAGE = "'Starting task run.'"


def upgrade() -> None:
    # the order of GET /flow_runs (newest or oldest scheduled first), for keyset pages
    op.create_index("ix_flow_runs_scheduled_start", "flow_runs", ["scheduled_start", "id"])
    with op.batch_alter_table("task_runs") as batch:
        batch.add_column(sa.Column("start_time", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("end_time", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("run_count", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("history_in_row", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE task_runs SET "
        "run_count = (SELECT count(*) FROM states s "
        "  WHERE s.task_run_id = task_runs.id AND s.name = 'Running'), "
        "start_time = (SELECT min(s.timestamp) FROM states s "
        "  WHERE s.task_run_id = task_runs.id AND s.name = 'Running'), "
        f"end_time = CASE WHEN state IN {_FINISHED} THEN state_timestamp END "
        "WHERE EXISTS (SELECT 1 FROM states s WHERE s.task_run_id = task_runs.id) "
        f"OR state IN {_FINISHED}"
    )
    op.execute(
        "UPDATE task_runs SET history_in_row = TRUE "
        f"WHERE map_index >= 0 AND state IN {_SUCCESS} AND version IN (1, 2) "
        "AND (SELECT count(*) FROM states s WHERE s.task_run_id = task_runs.id) = version "
        "AND EXISTS (SELECT 1 FROM states s WHERE s.task_run_id = task_runs.id "
        "  AND s.version = task_runs.version AND s.name = task_runs.state) "
        "AND (version = 1 OR EXISTS (SELECT 1 FROM states s "
        "  WHERE s.task_run_id = task_runs.id AND s.version = 1 AND s.name = 'Running' "
        f"  AND s.message = {_RUNNING_MESSAGE} "
        "  AND (s.serialized IS NULL OR CAST(s.serialized AS TEXT) = 'null')))"
    )
    op.execute(
        "DELETE FROM states WHERE task_run_id IN "
        "(SELECT id FROM task_runs WHERE history_in_row = TRUE)"
    )


def downgrade() -> None:
    op.drop_index("ix_flow_runs_scheduled_start", table_name="flow_runs")
    kept = "FROM task_runs WHERE history_in_row = TRUE"
    op.execute(
        "INSERT INTO states (flow_run_id, task_run_id, name, message, serialized, timestamp, "
        f"version) SELECT flow_run_id, id, 'Running', {_RUNNING_MESSAGE}, NULL, start_time, 1 "
        f"{kept} AND start_time IS NOT NULL"
    )
    op.execute(
        "INSERT INTO states (flow_run_id, task_run_id, name, message, serialized, timestamp, "
        "version) SELECT flow_run_id, id, state, state_message, state_serialized, "
        f"state_timestamp, version {kept} AND version >= 1 "
        "AND NOT (version = 1 AND start_time IS NOT NULL)"
    )
    with op.batch_alter_table("task_runs") as batch:
        batch.drop_column("history_in_row")
        batch.drop_column("run_count")
        batch.drop_column("end_time")
        batch.drop_column("start_time")
