"""``with tags("a", "b"):``: tags added to every task created or called inside the block.

Prefect users group tasks this way; the tags land on the task objects themselves (a task
made inside the block, or the copy a call inside the block adds to a flow), so they
behave exactly like tags given with ``tags=``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["active_tags", "tags"]

_tags: ContextVar[frozenset[str]] = ContextVar("headrace_tags", default=frozenset())


@contextmanager
def tags(*names: str) -> Iterator[None]:
    """Add ``names`` to the tags of the tasks created or called inside the block (blocks
    nest: an inner block adds to the outer one's tags)."""
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"tags(...) takes strings, not {name!r}")
    token = _tags.set(_tags.get() | frozenset(names))
    try:
        yield
    finally:
        _tags.reset(token)


def active_tags() -> frozenset[str]:
    """The tags of the enclosing ``with tags(...)`` blocks (empty outside any)."""
    return _tags.get()
