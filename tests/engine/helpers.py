"""Side-effect helpers for engine tests that must work on any executor (threads, processes,
Dask workers): calls are counted in files, never in a closure."""

from __future__ import annotations

from pathlib import Path


def bump(path: str | Path) -> int:
    """Append one mark to ``path``; returns how many marks it now holds."""
    with open(path, "a") as fh:
        fh.write("x")
    return Path(path).stat().st_size


def count(path: str | Path) -> int:
    """How many times :func:`bump` was called on ``path``."""
    p = Path(path)
    return p.stat().st_size if p.exists() else 0
