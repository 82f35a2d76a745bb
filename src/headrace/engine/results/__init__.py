"""Where task results are persisted, and how they are turned into bytes."""

from headrace.engine.results.base import Result
from headrace.engine.results.inline import ConstantResult, PrefectResult, SecretResult
from headrace.engine.results.local import LocalResult
from headrace.engine.results.remote import AzureResult, FSSpecResult, GCSResult, S3Result
from headrace.engine.results.serializers import JSONSerializer, PickleSerializer, Serializer

__all__ = [
    "AzureResult",
    "ConstantResult",
    "FSSpecResult",
    "GCSResult",
    "JSONSerializer",
    "LocalResult",
    "PickleSerializer",
    "PrefectResult",
    "Result",
    "S3Result",
    "SecretResult",
    "Serializer",
]
