"""Orchestration features (issue 15): backfills, server-side secrets, notification rules
(and the notifications sent), artifacts, and on flow runs the backfill that made them and
the parent task run that started them.

Revision ID: 0003_orchestration
Revises: 0002_agent_scope_run_tokens
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_orchestration"
down_revision = "0002_agent_scope_run_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.add_column(sa.Column("backfill_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("parent_task_run_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_flow_runs_backfill_id", ["backfill_id"])
        batch.create_index("ix_flow_runs_parent_task_run_id", ["parent_task_run_id"])
    op.create_table(
        "backfills",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("flow_group_id", sa.String(length=36), nullable=False),
        sa.Column("flow_id", sa.String(length=36), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_concurrent", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flow_group_id"], ["flow_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_backfills_flow_group_id", "backfills", ["flow_group_id"])
    op.create_table(
        "secrets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "notification_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("flow_group_id", sa.String(length=36), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("url_secret", sa.String(length=200), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flow_group_id"], ["flow_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_rules_flow_group_id", "notification_rules", ["flow_group_id"])
    op.create_table(
        "notifications_sent",
        sa.Column("rule_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["notification_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id", "key"),
    )
    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("flow_run_id", sa.String(length=36), nullable=False),
        sa.Column("task_run_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flow_run_id"], ["flow_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_artifacts_flow_run_id", "artifacts", ["flow_run_id"])
    op.create_index("ix_artifacts_task_run_id", "artifacts", ["task_run_id"])


def downgrade() -> None:
    op.drop_index("ix_artifacts_task_run_id", table_name="artifacts")
    op.drop_index("ix_artifacts_flow_run_id", table_name="artifacts")
    op.drop_table("artifacts")
    op.drop_table("notifications_sent")
    op.drop_index("ix_notification_rules_flow_group_id", table_name="notification_rules")
    op.drop_table("notification_rules")
    op.drop_table("secrets")
    op.drop_index("ix_backfills_flow_group_id", table_name="backfills")
    op.drop_table("backfills")
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_index("ix_flow_runs_parent_task_run_id")
        batch.drop_index("ix_flow_runs_backfill_id")
        batch.drop_column("parent_task_run_id")
        batch.drop_column("backfill_id")
