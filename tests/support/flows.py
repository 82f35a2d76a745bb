"""Loading and running the test flows of this package."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

__all__ = ["ROUNDTRIP_SCRIPT", "load_roundtrip_flow", "outcome"]

ROUNDTRIP_SCRIPT = Path(__file__).with_name("roundtrip_flow.py")


def load_roundtrip_flow(run_name: str = "roundtrip_flow") -> Any:
    """A fresh copy of the round-trip flow (its functions pickle by value)."""
    return runpy.run_path(str(ROUNDTRIP_SCRIPT), run_name=run_name)["flow"]


def outcome(state: Any) -> dict[str, Any]:
    """``{task slug-less name: result}`` of a finished run, plus the flow state's kind."""
    results = {task.name: s.result for task, s in state.result.items()}
    return {"state": type(state).__name__, "total": results["total"], "square": results["square"]}
