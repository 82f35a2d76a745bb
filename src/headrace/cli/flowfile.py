"""Load flows from a Python file given on the command line, and check ``--param`` values.

A file that does not load (a syntax error, a failed import, any exception at module level)
is one clear line naming the file and line; ``headrace --debug`` shows the traceback.
"""

from __future__ import annotations

import os
import runpy
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from headrace.core.flow import Flow

__all__ = ["FlowFileError", "check_params", "debug_enabled", "flows_in_file", "parse_params"]


class FlowFileError(click.ClickException):
    """A flow file that could not be loaded (exit code 1)."""


def debug_enabled() -> bool:
    """Whether ``headrace --debug`` was given (tracebacks instead of one-line errors)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def _where(exc: BaseException, file: Path) -> str:
    """``FILE:LINE`` of the last frame of ``exc`` inside ``file`` (the file if none)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    target = os.path.abspath(file)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return f"{file}:{line}" if line is not None else str(file)


def _run_file(file: Path) -> dict[str, Any]:
    try:
        return runpy.run_path(str(file), run_name="__headrace_flow__")
    except SyntaxError as exc:
        if debug_enabled():
            raise
        raise FlowFileError(
            f"{_where(exc, file)}: syntax error in the flow file: {exc.msg} "
            "(run with headrace --debug for the traceback)"
        ) from exc
    except Exception as exc:
        if debug_enabled():
            raise
        kind = "import error" if isinstance(exc, ImportError) else "error"
        raise FlowFileError(
            f"{_where(exc, file)}: {kind} while loading the flow file: "
            f"{type(exc).__name__}: {exc} (run with headrace --debug for the traceback)"
        ) from exc


def flows_in_file(path: str) -> list[Flow]:
    """The flows a script defines at module level (running the script to find them)."""
    file = Path(path)
    if not file.is_file():
        raise click.BadParameter(f"no such file: {path}", param_hint="--path")
    namespace = _run_file(file)
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


def _type_ok(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, type(default))


def check_params(
    params: Mapping[str, Any], specs: Sequence[Mapping[str, Any]], flow_name: str
) -> None:
    """Refuse (exit 2) a ``--param`` the flow does not have, or whose value is not of its
    default's type (``--param n=abc`` for ``Parameter("n", default=1)``)."""
    known = {str(spec["name"]): spec for spec in specs}
    for key, value in params.items():
        spec = known.get(key)
        if spec is None:
            names = ", ".join(sorted(known)) or "none"
            raise click.BadParameter(
                f"flow {flow_name!r} has no parameter {key!r} (its parameters: {names})",
                param_hint="--param",
            )
        default = spec.get("default")
        if default is None or value is None or _type_ok(value, default):
            continue
        raise click.BadParameter(
            f"{key}={value!r}: parameter {key!r} of flow {flow_name!r} takes "
            f"{type(default).__name__} values (its default is {default!r}), "
            f"not {type(value).__name__}",
            param_hint="--param",
        )
