"""Request bodies built from the wire schema (:mod:`headrace.wire`), the one the server
validates against: a body the server would refuse is refused here, before it is sent, with
the :class:`~headrace.client.errors.ValidationError` the server would have answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic
from pydantic_core import PydanticSerializationError

from headrace.client.errors import ValidationError
from headrace.wire.base import In
from headrace.wire.errors import validation_answer

__all__ = ["bodies", "body"]


def body(schema: type[In], method: str, path: str, **fields: Any) -> dict[str, Any]:
    """The JSON of a ``schema`` body holding ``fields`` (those left out keep the server's
    defaults); raises ``ValidationError`` (422) naming what does not fit."""
    try:
        model = schema(**fields)
    except pydantic.ValidationError as exc:
        raise _refused(exc, method, path, ()) from None
    return _dump(model, method, path)


def bodies(
    schema: type[In], method: str, path: str, items: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The JSON of a list body of ``schema`` items; an invalid item is a ``ValidationError``
    whose location names its position, as the server's would."""
    out = []
    for i, item in enumerate(items):
        try:
            model = schema(**item)
        except pydantic.ValidationError as exc:
            raise _refused(exc, method, path, (i,)) from None
        except TypeError as exc:  # an item that is not a mapping of field names
            raise ValidationError(
                method, path, 422, f"invalid input in: {i}; {exc}", code="validation_error"
            ) from None
        out.append(_dump(model, method, path))
    return out


def _dump(model: In, method: str, path: str) -> dict[str, Any]:
    try:
        return model.model_dump(mode="json", exclude_unset=True)
    except PydanticSerializationError as exc:
        raise ValidationError(
            method, path, 422, f"a value cannot be sent as JSON: {exc}", code="validation_error"
        ) from None


def _refused(
    exc: pydantic.ValidationError, method: str, path: str, where: tuple[int, ...]
) -> ValidationError:
    errors = [{**e, "loc": ("body", *where, *e.get("loc", ()))} for e in exc.errors()]
    answer = validation_answer(errors)
    return ValidationError(
        method,
        path,
        422,
        answer["detail"],
        code=answer["code"],
        field=answer["field"],
    )
