"""One schema per type: the JSON form of storage, environments and run configs.

A class that derives from :class:`Serializable` declares the constructor settings that make
up its JSON form in ``serialized_fields``; its schema is those fields collected along the
class's bases, so there is no second, hand-kept mirror of every class. Every subclass is
registered under its fully qualified name (``module:QualName``) when it is defined, and
:func:`load_object` maps a document's ``"type"`` back to exactly that class: a user's class
named like a built-in one has another module, so it never loads back as the built-in.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from headrace._serializable.errors import SerializationError, UnknownTypeError

__all__ = [
    "Serializable",
    "load_object",
    "registered_types",
    "string_list",
    "to_json_value",
    "type_name",
]

T = TypeVar("T", bound="Serializable")

_registry: dict[str, type[Serializable]] = {}


def string_list(values: Iterable[str] | None, what: str, owner: str) -> list[str]:
    """``values`` (labels, secret names...) as a list, checked: a lone string or a
    non-string entry is a ``TypeError`` naming ``owner`` and ``what``."""
    if isinstance(values, str):
        raise TypeError(f"{owner}: {what} must be a list of strings, not one string")
    out = list(values or ())
    for value in out:
        if not isinstance(value, str):
            raise TypeError(f"{owner}: {what} entry {value!r} is not a string")
    return out


def type_name(cls: type) -> str:
    """The fully qualified ``module:QualName`` a document records for ``cls``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def registered_types(base: type | None = None) -> dict[str, type]:
    """Every registered type name and class (only subclasses of ``base`` when given)."""
    return {n: c for n, c in _registry.items() if base is None or issubclass(c, base)}


def to_json_value(value: Any, where: str) -> Any:
    """``value`` as plain JSON (sets become sorted lists, tuples lists); anything JSON cannot
    hold raises :class:`SerializationError` naming ``where``."""
    if isinstance(value, set | frozenset):
        try:
            value = sorted(value)
        except TypeError:
            value = sorted(value, key=repr)
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"{where} is not JSON-serializable ({exc}): {value!r}") from None
    return value


class Serializable:
    """A class with a JSON form built from its schema (``serialized_fields``)."""

    #: What the class is, for messages and for :func:`load_object` ("storage"...).
    serialized_kind: ClassVar[str] = "object"
    #: Constructor settings this class adds to its bases' JSON form.
    serialized_fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _registry[type_name(cls)] = cls

    @classmethod
    def schema(cls) -> tuple[str, ...]:
        """Every field of the JSON form besides ``"type"``, bases' fields first."""
        fields: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            for name in klass.__dict__.get("serialized_fields", ()):
                fields[name] = None
        return tuple(fields)

    def serialize(self) -> dict[str, Any]:
        """``{"type": "module:QualName", <field>: <value>...}`` — plain JSON, no code."""
        cls = type(self)
        doc: dict[str, Any] = {"type": type_name(cls)}
        for name in cls.schema():
            doc[name] = to_json_value(getattr(self, name, None), f"{cls.__name__} setting {name!r}")
        return doc

    @classmethod
    def from_serialized(cls: type[T], doc: Mapping[str, Any]) -> T:
        """An instance from a document of this type: fields the constructor takes are passed
        to it, the others are set on the new object afterwards."""
        fields = {n: doc[n] for n in cls.schema() if n in doc}
        params = inspect.signature(cls.__init__).parameters
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        init = {n: v for n, v in fields.items() if n in params or takes_kwargs}
        try:
            obj = cls(**init)
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"cannot rebuild {type_name(cls)} from its document: {exc}"
            ) from exc
        for name, value in fields.items():
            if name not in init:
                setattr(obj, name, value)
        return obj


def _resolve(name: str, kind: str) -> type:
    found = _registry.get(name)
    if found is not None:
        return found
    module_name, sep, qualname = name.partition(":")
    if not sep or not module_name or not qualname:
        raise UnknownTypeError(
            f"unknown {kind} type {name!r}: types are recorded fully qualified as 'module:QualName'"
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownTypeError(
            f"cannot load {kind} type {name!r}: its module {module_name!r} cannot be "
            f"imported ({exc})"
        ) from None
    try:
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise UnknownTypeError(
            f"cannot load {kind} type {name!r}: module {module_name!r} has no {qualname!r}"
        ) from None
    if not isinstance(obj, type):
        raise UnknownTypeError(f"{kind} type {name!r} names {obj!r}, which is not a class")
    return obj


def load_object(doc: Any, base: type[T], kind: str) -> T:
    """The ``base`` subclass instance a document describes; its ``"type"`` must name a
    subclass of ``base`` exactly (never a look-alike with the same short name)."""
    if not isinstance(doc, Mapping):
        raise SerializationError(f"a {kind} document must be an object, not {type(doc).__name__}")
    name = doc.get("type")
    if not isinstance(name, str) or not name:
        raise SerializationError(f"a {kind} document needs a 'type' string, got {name!r}")
    cls = _resolve(name, kind)
    if not issubclass(cls, base):
        raise UnknownTypeError(f"{name!r} is not a {kind} type (not a subclass of {base.__name__})")
    return cls.from_serialized(doc)
