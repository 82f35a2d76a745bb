"""What a flow's storage document may ask an agent to load, checked before the run starts.

The server stores documents as given; an agent must not load whatever a document names. A
``Local`` storage document is refused (:class:`StorageRefusedError`, the run fails with
its message) when:

- it was made on another host (its ``host`` is not the agent's): the files are not here,
  and the message says which storages work across machines;
- a path it names (``directory``, ``path``, a flow's location) is relative, holds ``..``,
  or resolves (symbolic links followed) outside every allowed root: ``agent.storage_roots``,
  by default the home directory, the agent's working directory and the temporary directory.

Other storages load from where their own settings say (a URL, a repository, an image) and
are not path-checked here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from headrace.agent.errors import StorageRefusedError

__all__ = ["LOCAL_TYPE", "allowed_roots", "check_storage"]

LOCAL_TYPE = "headrace.storage.local:Local"


def allowed_roots(configured: Iterable[str] | None = None) -> list[Path]:
    """The directories Local storage may load from (resolved)."""
    from headrace.configuration import config

    roots = list(configured or config.get("agent", {}).get("storage_roots") or [])
    if not roots:
        roots = [str(config.home_dir), os.getcwd(), tempfile.gettempdir()]
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
    real = Path(text).resolve()
    if not any(real == root or root in real.parents for root in roots):
        where = ", ".join(str(r) for r in roots)
        raise StorageRefusedError(
            f"{field} {text!r} is outside the directories this agent loads flows from "
            f"({where}); refusing to load it (set agent.storage_roots to allow a directory)",
            field=field,
            value=text,
        )
