"""What every API body shares: request bodies reject unknown fields (``extra="forbid"``, so
a typo is a 422 naming the field, not a silently ignored setting); response bodies read ORM
rows (``from_attributes``); names and labels are checked the same way everywhere."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ERROR_RESPONSES", "ErrorItem", "ErrorOut", "In", "Name", "Out", "sorted_labels"]

Name = Field(min_length=1, max_length=200)


class In(BaseModel):
    """A request body: unknown fields are an error (integers use the checked types of
    :mod:`~headrace.wire.names`, which refuse booleans)."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body, built from an ORM row or a dict."""

    model_config = ConfigDict(from_attributes=True)


def sorted_labels(value: list[str]) -> list[str]:
    """Labels as stored: non-empty strings, each once, sorted."""
    if any(not isinstance(v, str) or not v.strip() for v in value):
        raise ValueError("labels must be non-empty strings")
    return sorted(set(value))


class ErrorItem(BaseModel):
    """One input at fault in a ``validation_error``: where (``loc``), what (``msg``, ``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    """The one body of every error answer (4xx and 5xx alike).

    ``detail`` says what went wrong in words, ``code`` which kind of error (``not_found``,
    ``validation_error``, ``body_too_large``...), ``field`` the input at fault when one is,
    ``errors`` each invalid input of a ``validation_error`` (else null).
    """

    detail: str
    code: str
    field: str | None = None
    errors: list[ErrorItem] | None = None

    @classmethod
    def body(
        cls, detail: str, code: str, field: str | None = None, errors: list[Any] | None = None
    ) -> dict[str, Any]:
        """The JSON of an error answer."""
        return {"detail": detail, "code": code, "field": field, "errors": errors}


#: The error answers every route may give, documented on each route (the OpenAPI schema is
#: the contract; a route's own extra answers are added where it is declared).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Malformed request"},
    401: {"model": ErrorOut, "description": "No API key, or an unknown one"},
    403: {"model": ErrorOut, "description": "The API key may not do this"},
    404: {"model": ErrorOut, "description": "Not found (or outside the key's projects)"},
    405: {"model": ErrorOut, "description": "Method not allowed; see the Allow header"},
    409: {"model": ErrorOut, "description": "Conflicts with what is stored"},
    413: {"model": ErrorOut, "description": "Body larger than server.max_body_bytes"},
    422: {"model": ErrorOut, "description": "Invalid input; `errors` lists each"},
    503: {"model": ErrorOut, "description": "Database busy; retry with backoff"},
}
