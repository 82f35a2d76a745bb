"""Run a stored flow where it landed: load it from its storage and hand it to its
environment (``setup`` then ``execute``). What a container of a Docker storage's image, or
an agent's process, runs::

    python -m headrace.environments.run --storage '<storage JSON>' --flow 'Flow name'
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["execute_stored_flow", "main"]


def execute_stored_flow(storage_doc: Any, flow: str | None = None, **kwargs: Any) -> Any:
    """Load the storage described by ``storage_doc``, then ``setup`` and ``execute`` the
    flow's environment (``LocalEnvironment`` if it has none). Returns what ``execute``
    returns (the flow's state for headrace's environments)."""
    from headrace.environments.execution import LocalEnvironment
    from headrace.storage.base import load_storage

    storage = load_storage(storage_doc)
    _, location = storage.resolve(flow)
    loaded = storage.get_flow(location if flow is None else flow)
    environment = loaded.environment if loaded.environment is not None else LocalEnvironment()
    environment.setup(storage)
    return environment.execute(storage, location, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headrace.environments.run")
    parser.add_argument("--storage", required=True, help="the storage's JSON document")
    parser.add_argument("--flow", default=None, help="the flow's name or location")
    args = parser.parse_args(argv)
    state = execute_stored_flow(json.loads(args.storage), args.flow)
    failed = getattr(state, "is_failed", None)
    return 1 if callable(failed) and failed() else 0


if __name__ == "__main__":
    sys.exit(main())
