"""Prefect 1's import path for artifacts (``prefect.backend.artifacts``); see
:mod:`headrace.artifacts`."""

from headrace.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

__all__ = ["create_link_artifact", "create_markdown_artifact", "create_table_artifact"]
