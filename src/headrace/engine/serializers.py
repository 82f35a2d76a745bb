"""Serializers at Prefect's import path (``prefect.engine.serializers``); they live in
:mod:`headrace.engine.results.serializers`."""

from headrace.engine.results.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PickleSerializer,
    Serializer,
)

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
]
