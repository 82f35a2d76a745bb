"""Agents remember the projects of the API key that registered them (null: an admin key or
a server without keys), so a project-scoped key sees and uses only its own agents; API keys
may be per-run tokens (``flow_run_id``, ``expires``) that only report for one flow run.

Revision ID: 0002_agent_scope_run_tokens
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_agent_scope_run_tokens"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("project_ids", sa.JSON(), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("flow_run_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("expires", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires")
        batch.drop_column("flow_run_id")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("project_ids")
