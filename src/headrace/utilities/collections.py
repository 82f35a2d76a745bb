"""Dictionary helpers at Prefect 1's import path (``prefect.utilities.collections``).

``DotDict`` (a dict whose keys read as attributes), ``as_nested_dict``, ``merge_dicts``
and the flat-dict conversions (``dict_to_flatdict``/``flatdict_to_dict`` with
``CompoundKey``), as Prefect 1 users call them in their flows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = [
    "CompoundKey",
    "DotDict",
    "as_nested_dict",
    "dict_to_flatdict",
    "flatdict_to_dict",
    "flatten_seq",
    "merge_dicts",
]


class DotDict(dict[str, Any]):
    """A dict whose keys are also attributes: ``d.key`` is ``d["key"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict, nested ``DotDict`` values converted too."""
        return dict(as_nested_dict(self, dict))


def as_nested_dict(obj: Any, dct_class: type[dict[str, Any]] = DotDict) -> Any:
    """``obj`` with every mapping inside it (lists and tuples included) as ``dct_class``."""
    if isinstance(obj, Mapping):
        return dct_class({k: as_nested_dict(v, dct_class) for k, v in obj.items()})
    if isinstance(obj, list | tuple | set):
        return type(obj)(as_nested_dict(v, dct_class) for v in obj)
    return obj


def merge_dicts(d1: MutableMapping[str, Any], d2: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """A copy of ``d1`` updated with ``d2``, nested mappings merged key by key."""
    merged = type(d1)(**d1) if not isinstance(d1, DotDict) else DotDict(d1)
    for key, value in d2.items():
        if isinstance(merged.get(key), MutableMapping) and isinstance(value, Mapping):
            merged[key] = merge_dicts(merged[key], value)
        else:
            merged[key] = value
    return merged


class CompoundKey(tuple[Any, ...]):
    """The key of a flat dict: the path of keys to a value in the nested dict."""


def dict_to_flatdict(dct: Mapping[str, Any], parent: CompoundKey | None = None) -> dict[Any, Any]:
    """``{"a": {"b": 1}}`` as ``{CompoundKey(("a", "b")): 1}``."""
    flat: dict[Any, Any] = {}
    for key, value in dct.items():
        path = CompoundKey((*(parent or ()), key))
        if isinstance(value, Mapping) and value:
            flat.update(dict_to_flatdict(value, path))
        else:
            flat[path] = value
    return flat


def flatdict_to_dict(dct: Mapping[Any, Any], dct_class: type[dict[str, Any]] | None = None) -> Any:
    """The nested dict of a flat one (keys ``CompoundKey``), as ``dct_class`` (default
    ``DotDict``) at every level."""
    cls = dct_class or DotDict
    result = cls()
    for path, value in dct.items():
        keys = list(path) if isinstance(path, tuple) else [path]
        level = result
        for key in keys[:-1]:
            level = level.setdefault(key, cls())
        level[keys[-1]] = value
    return result


def flatten_seq(seq: Iterable[Any]) -> Iterator[Any]:
    """The items of a possibly nested sequence, depth first (strings and bytes are items)."""
    for item in seq:
        if isinstance(item, Iterable) and not isinstance(item, str | bytes):
            yield from flatten_seq(item)
        else:
            yield item
