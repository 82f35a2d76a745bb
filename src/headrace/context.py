"""``import headrace.context``: the run context object itself.

``headrace.context`` is the one :class:`~headrace.runcontext.Context` a task reads
(``context.flow_name``, ``context.get("map_index")``, ``with context(key=value):``); see
:mod:`headrace.runcontext`, which defines it. ``from headrace import context`` and
``import headrace.context`` must give that same object, so this module puts the object in
its own place in :data:`sys.modules`: the import system then binds the object, not a
module, to ``headrace.context`` wherever it is imported.
"""

import sys
from typing import Any

from headrace.runcontext import context


def __getattr__(name: str) -> Any:
    """What type checkers see: the module answers like the object that replaces it."""
    return getattr(context, name)


sys.modules[__name__] = context  # type: ignore[assignment]
