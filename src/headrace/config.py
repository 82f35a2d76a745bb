"""``import headrace.config``: the shared configuration object itself.

``headrace.config`` is one :class:`~headrace.configuration.Config` (shipped defaults, the
user file, ``HEADRACE__SECTION__KEY`` environment overrides); see
:mod:`headrace.configuration`, which builds it. ``from headrace import config`` and
``import headrace.config`` must give that same object, so this module puts the object in
its own place in :data:`sys.modules`: the import system then binds the object, not a
module, to ``headrace.config`` wherever it is imported, and the package attribute never
turns into a module. (The data file ``config.toml`` beside it holds the defaults.)
"""

import sys
from typing import Any

from headrace.configuration import config


def __getattr__(name: str) -> Any:
    """What type checkers see: the module answers like the object that replaces it."""
    return getattr(config, name)


sys.modules[__name__] = config  # type: ignore[assignment]
