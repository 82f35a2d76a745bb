"""Prefect 1's ``prefect.backend`` import paths that headrace keeps: the artifact
functions (also at ``headrace.backend.artifacts``)."""

from headrace.backend.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

__all__ = ["create_link_artifact", "create_markdown_artifact", "create_table_artifact"]
