"""Flow files: a flow pickled with cloudpickle behind a header naming the versions that
wrote it, and flows defined by Python scripts.

The header lets a failed load say which headrace, Python and cloudpickle wrote the file;
a flow needing a module this interpreter lacks fails with that module's name.
"""

from __future__ import annotations

import json
import platform
import re
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle

from headrace._serializable.errors import FlowLoadError
from headrace.core.flow import Flow

__all__ = [
    "MAGIC",
    "dumps_flow",
    "flow_file_name",
    "load_flow_script",
    "load_flow_source",
    "loads_flow",
]

MAGIC = b"HEADRACE-FLOW\n"
FORMAT = 1


def flow_file_name(flow_name: str) -> str:
    """A file name for a flow: its name made filesystem-safe, plus ``.flow``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", flow_name).strip("-.").lower() or "flow"
    return f"{slug}.flow"


def writer_versions() -> dict[str, str]:
    from headrace._version import __version__

    return {
        "headrace": __version__,
        "python": platform.python_version(),
        "cloudpickle": cloudpickle.__version__,
    }


def dumps_flow(flow: Flow) -> bytes:
    """The flow file's bytes: magic line, JSON header line, cloudpickle payload."""
    header = {"format": FORMAT, "flow_name": flow.name, **writer_versions()}
    return MAGIC + json.dumps(header).encode() + b"\n" + cloudpickle.dumps(flow)


def _missing_module(flow_name: str, module: str | None, where: str) -> FlowLoadError:
    return FlowLoadError(
        f"cannot load flow {flow_name!r} from {where}: it needs module {module!r}, which "
        f"cannot be imported here (install it, or put it on the path of the interpreter "
        f"that loads the flow)",
        missing_module=module,
    )


def loads_flow(data: bytes, where: str) -> Flow:
    """The flow in a flow file's bytes; ``where`` (storage and location) goes in errors."""
    if not data.startswith(MAGIC):
        raise FlowLoadError(f"{where} is not a headrace flow file")
    header_line, sep, payload = data[len(MAGIC) :].partition(b"\n")
    try:
        header: dict[str, Any] = json.loads(header_line) if sep else {}
    except ValueError:
        header = {}
    if header.get("format") != FORMAT:
        raise FlowLoadError(
            f"{where} is a flow file of format {header.get('format')!r}; this headrace reads "
            f"format {FORMAT}"
        )
    name = str(header.get("flow_name"))
    try:
        flow = cloudpickle.loads(payload)
    except ModuleNotFoundError as exc:
        raise _missing_module(name, exc.name, where) from exc
    except Exception as exc:
        here = writer_versions()
        wrote = {k: header.get(k) for k in here}
        raise FlowLoadError(
            f"cannot unpickle flow {name!r} from {where}: {type(exc).__name__}: {exc} "
            f"(written by {wrote}, read by {here})"
        ) from exc
    if not isinstance(flow, Flow):
        raise FlowLoadError(f"{where} holds a {type(flow).__name__}, not a Flow")
    return flow


def load_flow_script(path: str | Path, flow_name: str | None, where: str) -> Flow:
    """Run the script at ``path`` and return its module-level flow named ``flow_name`` (or
    its only flow when no name is given)."""
    file = Path(path)
    if not file.is_file():
        raise FlowLoadError(f"{where}: the flow script {str(file)!r} does not exist")
    return _run_script(
        lambda: runpy.run_path(str(file), run_name="__headrace_flow__"),
        flow_name,
        where,
        str(file),
    )


def load_flow_source(source: bytes | str, flow_name: str | None, where: str, filename: str) -> Flow:
    """Run a flow script's text fetched from elsewhere (an object store, a web service, a
    hosted repository) and return its flow named ``flow_name`` (or its only flow);
    ``filename`` is what tracebacks and errors call the script."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FlowLoadError(
                f"{where}: the flow script {filename!r} is not UTF-8 text ({exc})"
            ) from exc
    text = source

    def run() -> dict[str, Any]:
        namespace: dict[str, Any] = {"__name__": "__headrace_flow__", "__file__": filename}
        exec(compile(text, filename, "exec"), namespace)
        return namespace

    return _run_script(run, flow_name, where, filename)


def _run_script(
    run: Callable[[], dict[str, Any]], flow_name: str | None, where: str, filename: str
) -> Flow:
    try:
        namespace = run()
    except ModuleNotFoundError as exc:
        raise _missing_module(flow_name or filename, exc.name, where) from exc
    except Exception as exc:
        raise FlowLoadError(
            f"{where}: running the flow script {filename!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    flows = [v for v in namespace.values() if isinstance(v, Flow)]
    return pick_flow(flows, flow_name, f"{where}: script {filename!r}")


def pick_flow(flows: list[Flow], flow_name: str | None, where: str) -> Flow:
    """The flow named ``flow_name`` among ``flows`` (or the only one)."""
    if flow_name is not None:
        named = [f for f in flows if f.name == flow_name]
        if named:
            return named[0]
        raise FlowLoadError(
            f"{where} defines no flow named {flow_name!r} (it defines "
            f"{sorted(f.name for f in flows) or 'none'})"
        )
    if len(flows) != 1:
        raise FlowLoadError(
            f"{where} defines {len(flows)} flows ({sorted(f.name for f in flows)}); "
            f"name the one to load"
        )
    return flows[0]
