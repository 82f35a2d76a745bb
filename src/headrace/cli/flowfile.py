"""Load flows from a Python file given on the command line."""

from __future__ import annotations

import runpy
from pathlib import Path

import click

from headrace.core.flow import Flow

__all__ = ["flows_in_file", "parse_params"]


def flows_in_file(path: str) -> list[Flow]:
    """The flows a script defines at module level (running the script to find them)."""
    file = Path(path)
    if not file.is_file():
        raise click.BadParameter(f"no such file: {path}", param_hint="--path")
    namespace = runpy.run_path(str(file), run_name="__headrace_flow__")
    flows = [v for v in namespace.values() if isinstance(v, Flow)]
    if not flows:
        raise click.BadParameter(f"{path} defines no Flow at module level", param_hint="--path")
    return flows


def parse_params(pairs: tuple[str, ...]) -> dict[str, object]:
    """``k=v`` pairs; values are JSON when they parse as JSON, else strings."""
    import json

    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params
