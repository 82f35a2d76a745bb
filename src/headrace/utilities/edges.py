"""Edge annotations at Prefect 1's import path (``prefect.utilities.edges``).

``unmapped(x)`` holds an argument of a mapped call constant, ``mapped(x)`` maps one argument
of a plain call, ``flatten(x)`` maps over the concatenation of a mapped upstream's results.
They live in :mod:`headrace.core.edge`; this module only keeps the path Prefect users import.
"""

from __future__ import annotations

from headrace.core.edge import flatten, mapped, unmapped

__all__ = ["flatten", "mapped", "unmapped"]
