"""``python -m headrace.cli.launch_template``: the warm launcher's template process.

A program of the command-line layer: it hands :func:`headrace.agent.launcher.template_main`
the CLI's ``main``, which each forked run's process calls as ``headrace execute flow-run``
would. Kept apart from :mod:`headrace.agent.launcher` (which the agent imports) so that
running it as ``__main__`` does not load a second copy of that module; see there for what
the template does."""

from __future__ import annotations

import sys

from headrace.agent.launcher import template_main
from headrace.cli.main import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(template_main(main))
