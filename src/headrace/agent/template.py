"""``python -m headrace.agent.template``: the warm launcher's template process.

Kept apart from :mod:`headrace.agent.launcher` (which the agent imports) so that running it
as ``__main__`` does not load a second copy of that module; see there for what it does."""

from __future__ import annotations

import sys

from headrace.agent.launcher import template_main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(template_main())
