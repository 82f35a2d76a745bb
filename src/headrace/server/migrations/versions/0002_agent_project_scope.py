"""Agents remember the projects of the API key that registered them (null: an admin key or
a server without keys), so a project-scoped key sees and uses only its own agents.

Revision ID: 0002_agent_project_scope
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_agent_project_scope"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("project_ids", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("project_ids")
