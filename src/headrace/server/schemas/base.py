"""What every API body shares: request bodies reject unknown fields (``extra="forbid"``, so
a typo is a 422 naming the field, not a silently ignored setting); response bodies read ORM
rows (``from_attributes``); names and labels are checked the same way everywhere."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["In", "Name", "Out", "sorted_labels"]

Name = Field(min_length=1, max_length=200)


class In(BaseModel):
    """A request body: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body, built from an ORM row or a dict."""

    model_config = ConfigDict(from_attributes=True)


def sorted_labels(value: list[str]) -> list[str]:
    """Labels as stored: non-empty strings, each once, sorted."""
    if any(not isinstance(v, str) or not v.strip() for v in value):
        raise ValueError("labels must be non-empty strings")
    return sorted(set(value))
