"""Where task results are persisted, and how they are turned into bytes."""

from headrace.engine.results.base import Result
from headrace.engine.results.local import LocalResult
from headrace.engine.results.serializers import JSONSerializer, PickleSerializer, Serializer

__all__ = ["JSONSerializer", "LocalResult", "PickleSerializer", "Result", "Serializer"]
