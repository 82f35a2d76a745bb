"""Public path of the serializable base: ``headrace.serialization.schema``.

The base itself lives in :mod:`headrace._serializable.schema`, below storage, environments
and run configs, so they can derive from it without importing the flow document
(:mod:`headrace.serialization.flow`) that loads them back.
"""

from headrace._serializable.schema import (
    Serializable,
    load_object,
    registered_types,
    string_list,
    to_json_value,
    type_name,
)

__all__ = [
    "Serializable",
    "load_object",
    "registered_types",
    "string_list",
    "to_json_value",
    "type_name",
]
