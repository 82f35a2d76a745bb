"""Serializers at Prefect's import path (``prefect.engine.serializers``); they live in
:mod:`headrace.engine.results.serializers`."""

from headrace.engine.results.serializers import JSONSerializer, PickleSerializer, Serializer

__all__ = ["JSONSerializer", "PickleSerializer", "Serializer"]
