"""The value types request bodies share, each checked exactly as the OpenAPI schema says.

The schema is the contract: a value it allows is accepted, a value it forbids is refused
with 422. So the checks live in the types (patterns, ranges, enums) rather than in route
code, and pydantic's lax conversions that the schema does not describe are turned off
(``Int`` refuses ``true`` and ``1.5``, ``Bool`` refuses ``1``, ``Time`` refuses Unix
seconds where the schema says an ISO 8601 string).

Names (documented in the README, "Names and labels"):

- a **label** is 1-100 characters of letters, digits and ``_ . : / @ = + -``, not starting
  with a punctuation mark other than ``_`` (``gpu``, ``host:worker-1.example.com``);
- a **flow or project name** is 1-200 characters without ``/``, ``\\`` or control
  characters, not starting with ``.`` or whitespace (so it can never be read as a path:
  no ``..``, no ``../../etc``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

from headrace.engine.state import KINDS, Failed, Finished, Looped, Success

__all__ = [
    "BIG",
    "FAILED_STATE_NAMES",
    "FINISHED_STATE_NAMES",
    "LABEL_PATTERN",
    "NAME_PATTERN",
    "PATTERN_RULES",
    "SECRET_NAME_PATTERN",
    "STATE_NAME_VALUES",
    "SUCCESS_STATE_NAMES",
    "Bool",
    "ClaimLimit",
    "ClaimWait",
    "FlowName",
    "Int",
    "Label",
    "Level",
    "LimitValue",
    "MapIndex",
    "ProjectName",
    "Retries",
    "StateName",
    "Time",
    "Version",
]

LABEL_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.:/@=+\-]*$"
NAME_PATTERN = r"^[^/\\\s.\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*$"
#: A server-side secret's name: 1-200 ASCII letters, digits, ``_``, ``.`` or ``-``.
SECRET_NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
#: What each pattern means, in the words a 422 uses instead of the regular expression.
PATTERN_RULES = {
    LABEL_PATTERN: "a label is 1-100 letters, digits and _ . : / @ = + - (not starting with "
    "a punctuation mark other than _)",
    NAME_PATTERN: "a name is 1-200 characters without / \\ or control characters, not "
    "starting with . or a space",
    SECRET_NAME_PATTERN: "a secret name is 1-200 ASCII letters, digits, '_', '.' or '-'",
}


def _names_of(base: type, but: type | None = None) -> frozenset[str]:
    return frozenset(
        k.__name__ for k in KINDS if issubclass(k, base) and not (but and issubclass(k, but))
    )


#: State names of a finished run (``Looped`` ends one iteration only: not final).
FINISHED_STATE_NAMES: frozenset[str] = _names_of(Finished, but=Looped)
#: State names that count as success (``Cached``, ``Mapped``, ``Skipped`` too).
SUCCESS_STATE_NAMES: frozenset[str] = _names_of(Success)
#: State names of a failure (``TriggerFailed``, ``TimedOut``, ``ValidationFailed`` too).
FAILED_STATE_NAMES: frozenset[str] = _names_of(Failed)

#: Every state name the server knows (the engine's state kinds and ``Cancelling``).
STATE_NAME_VALUES: tuple[str, ...] = tuple(
    sorted({kind.__name__ for kind in KINDS} | {"Cancelling"})  # Cancelling: the server's own
)

Label = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=LABEL_PATTERN),
    Field(description="A label: letters, digits and _ . : / @ = + - (1-100 characters)"),
]
FlowName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN),
    Field(description="A flow name: no / \\ or control characters, not starting with . "),
]
ProjectName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN),
    Field(description="A project name: no / \\ or control characters, not starting with ."),
]


def _known_state(value: str) -> str:
    if value not in STATE_NAME_VALUES:
        allowed = ", ".join(STATE_NAME_VALUES)
        raise ValueError(f"unknown state {value!r}; expected one of {allowed}")
    return value


StateName = Annotated[
    str,
    AfterValidator(_known_state),
    Field(
        min_length=1,
        max_length=40,
        json_schema_extra={"enum": list(STATE_NAME_VALUES)},
        description="A state kind",
    ),
]


BIG = 2**31 - 1
"""Largest version or map index a body may carry (the database's 32-bit integer columns)."""


def _not_bool(value: Any) -> Any:
    """JSON's ``true`` is not an integer (``2.0`` is, as JSON Schema says)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer, not a boolean")
    return value


def _seconds_not_bool(value: Any) -> Any:
    """JSON's ``true`` is not a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a number of seconds, not a boolean")
    return value


# Integers of request bodies: ranged, and a boolean is refused. The range sits inside the
# type (before the check) so the schema states it.
Int = Annotated[int, BeforeValidator(_not_bool)]
MapIndex = Annotated[int, Field(ge=-1, le=BIG), BeforeValidator(_not_bool)]
Version = Annotated[int, Field(ge=0, le=BIG), BeforeValidator(_not_bool)]
Level = Annotated[int, Field(ge=0, le=100), BeforeValidator(_not_bool)]
Retries = Annotated[int, Field(ge=0, le=100), BeforeValidator(_not_bool)]
ClaimLimit = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_not_bool)]
#: Seconds a claim may long-poll (``headrace.server.domain.claim_wait.MAX_CLAIM_WAIT``).
ClaimWait = Annotated[
    float, Field(ge=0.0, le=8.0, allow_inf_nan=False), BeforeValidator(_seconds_not_bool)
]
LimitValue = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(_not_bool)]
Bool = Annotated[bool, Strict()]


def _iso_text(value: Any) -> Any:
    """Times are ISO 8601 strings, as the schema says (not numbers, not numeric text)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string")
    if "T" in value or value.count("-") >= 2:  # the common case, without a float() attempt
        return value
    try:
        float(value)
    except ValueError:
        return value
    raise ValueError("expected an ISO 8601 date-time string, not a number")


def _exists_in_utc(value: datetime) -> datetime:
    """A time is stored in UTC: one near the ends of the calendar whose offset carries it
    past them (``9999-12-31T23:59:59-14:00``) has no UTC form."""
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("a date-time outside the years 1-9999 in UTC") from None
    return value


Time = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_exists_in_utc)]
