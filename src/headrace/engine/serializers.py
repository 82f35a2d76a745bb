"""Serializers at Prefect's import path (``prefect.engine.serializers``); they live in
:mod:`headrace.engine.results.serializers`."""

from headrace.engine.results.serializers import (
    CompressedSerializer,
    DateTimeSerializer,
    JSONSerializer,
    PandasSerializer,
    PickleSerializer,
    Serializer,
)

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]
