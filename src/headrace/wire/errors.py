"""The answer to a body that does not fit its schema, the same whichever side finds out.

The server answers an invalid request with a 422 ``validation_error`` built here; the
client checks its own bodies against the same schema before sending them and raises the
error the server would have answered, so a bad argument is refused where it was made, with
the server's words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from headrace.wire.base import ErrorOut
from headrace.wire.names import PATTERN_RULES

__all__ = ["validation_answer"]


def validation_answer(errors: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``ErrorOut`` body of a 422 for pydantic's ``errors`` (whose ``loc`` starts with
    where the input was: ``body``, ``query``, ``path``)."""
    items = [
        {"loc": list(e.get("loc", ())), "msg": _message(e), "type": e.get("type", "")}
        for e in errors
    ]
    fields = ", ".join(".".join(str(p) for p in e["loc"][1:]) or "body" for e in items)
    return ErrorOut.body(
        f"invalid input in: {fields}; " + "; ".join(str(e["msg"]) for e in items),
        "validation_error",
        fields,
        errors=items,
    )


def _message(error: Mapping[str, Any]) -> str:
    """A validation error's message; a pattern mismatch says the documented rule."""
    if error.get("type") == "string_pattern_mismatch":
        rule = PATTERN_RULES.get((error.get("ctx") or {}).get("pattern", ""))
        if rule is not None:
            return f"{rule}; got {error.get('input')!r}"
    return str(error.get("msg", ""))
