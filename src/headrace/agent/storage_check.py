"""What a flow's storage document may ask an agent to load, checked before the run starts.

The server stores documents as given; an agent must not load whatever a document names. A
``Local`` storage document is refused (:class:`StorageRefusedError`, the run fails with
its message) when:

- it was made on another host (its ``host`` is not the agent's): the files are not here,
  and the message says which storages work across machines;
- a path it names (``directory``, ``path``, a flow's location) is relative or holds ``..``;
- a flow's file is neither a headrace flow file (it starts with the flow-file marker) nor,
  for ``stored_as_script``, a ``.py`` script: ``/etc/passwd`` is never loaded;
- ``agent.storage_roots`` is set and a path resolves (symbolic links followed) outside
  every one of those directories.

Other storages load from where their own settings say (a URL, a repository, an image) and
are not path-checked here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from headrace.agent.errors import StorageRefusedError
from headrace.storage.flowfile import MAGIC

__all__ = ["LOCAL_TYPE", "allowed_roots", "check_storage"]

LOCAL_TYPE = "headrace.storage.local:Local"


def allowed_roots(configured: Iterable[str] | None = None) -> list[Path]:
    """The directories Local storage may load from (resolved; empty: anywhere, subject to
    the other checks)."""
    from headrace.configuration import config

    roots = list(configured or config.get("agent", {}).get("storage_roots") or [])
    return [Path(r).expanduser().resolve() for r in roots]


def check_storage(document: Mapping[str, Any], hostname: str, roots: list[Path]) -> None:
    """Raise :class:`StorageRefusedError` unless the flow document's storage may be loaded
    by an agent on ``hostname`` that allows ``roots``."""
    storage = document.get("storage")
    if not isinstance(storage, Mapping) or not _is_local(storage.get("type")):
        return
    host = storage.get("host")
    if host and host != hostname:
        raise StorageRefusedError(
            f"flow {document.get('name')!r} is in Local storage on host {host!r}, not on this "
            f"agent's host {hostname!r}: run it with an agent on {host} (label {host!r}), or "
            "use FileSystem, Git or Docker storage for agents on other machines",
            field="storage.host",
            value=str(host),
        )
    flows = storage.get("flows")
    flows = flows if isinstance(flows, Mapping) else {}
    named = [("storage.directory", storage.get("directory")), ("storage.path", storage.get("path"))]
    named += [(f"storage.flows.{name}", location) for name, location in flows.items()]
    for field, value in named:
        if value is not None:
            _check_path(field, value, roots)
    script = bool(storage.get("stored_as_script"))
    for name, location in flows.items():
        _check_flow_file(f"storage.flows.{name}", str(location), script)


def _check_flow_file(field: str, location: str, script: bool) -> None:
    """A flow's file must be what Local storage writes (or a script); a missing one is
    left to the run, which fails saying where the file lives."""
    path = Path(location)
    if not path.exists():
        return
    if script:
        if path.is_file() and path.suffix == ".py":
            return
        problem = "is not a Python script (.py)"
    else:
        try:
            with path.open("rb") as handle:
                if path.is_file() and handle.read(len(MAGIC)) == MAGIC:
                    return
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror})"
        else:
            problem = "is not a headrace flow file"
    raise StorageRefusedError(
        f"{field} {location!r} {problem}; refusing to load it", field=field, value=location
    )


def _is_local(type_name: Any) -> bool:
    """Whether a document's type names ``Local`` however it is spelt (the agent never
    imports a type a document names just to find out)."""
    if not isinstance(type_name, str):
        return False
    return type_name.replace(":", ".").rsplit(".", 1)[-1] == "Local"


def _check_path(field: str, value: Any, roots: list[Path]) -> None:
    text = str(value)
    if not os.path.isabs(text) or ".." in PurePosixPath(text).parts:
        raise StorageRefusedError(
            f"{field} {text!r} is not an absolute path without '..'; refusing to load it",
            field=field,
            value=text,
        )
    if not roots:
        return
    real = Path(text).resolve()
    if not any(real == root or root in real.parents for root in roots):
        where = ", ".join(str(r) for r in roots)
        raise StorageRefusedError(
            f"{field} {text!r} is outside the directories this agent loads flows from "
            f"({where}); refusing to load it (set agent.storage_roots to allow a directory)",
            field=field,
            value=text,
        )
