"""``Local``: flows kept as files on this machine's disk.

A flow in ``Local`` storage can only run where its file is, so the storage carries the
name of the host it was made on (``host``) and, unless ``add_default_labels=False``, that
host name as a label: its runs then go only to an agent with that label, which
``headrace agent local start`` on that host has by default. An agent on another machine
never claims them; and a run that reaches another host anyway fails with an error saying
where the flow lives and which storages work across machines.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from headrace._serializable.errors import FlowLoadError, StorageError
from headrace.storage.base import Storage
from headrace.storage.flowfile import dumps_flow, flow_file_name, load_flow_script, loads_flow

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Local", "write_atomically"]


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Local(Storage):
    """Flows pickled into ``directory`` (default ``<home_dir>/flows``), one file per flow —
    or, with ``stored_as_script=True``, the Python script at ``path`` that defines them.

    ``path`` without ``stored_as_script`` names the flow file to write (one flow only).
    Flow files are written when added and again at :meth:`build`.

    ``host`` (default: this machine's name) is where the files are; with
    ``add_default_labels`` (the default, as in Prefect 1) it is also a label of the storage,
    so only an agent on that host runs the flow.
    """

    serialized_fields = ("directory", "stored_as_script", "path", "host", "add_default_labels")

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        stored_as_script: bool = False,
        path: str | os.PathLike[str] | None = None,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
        add_default_labels: bool = True,
        host: str | None = None,
    ) -> None:
        super().__init__(labels=labels, secrets=secrets)
        #: The machine whose disk holds the flow files.
        self.host = str(host or socket.gethostname())
        self.add_default_labels = bool(add_default_labels)
        if self.add_default_labels:
            self.labels = sorted({*self.labels, self.host})
        if directory is None:
            from headrace.configuration import config

            directory = Path(config.home_dir).expanduser() / "flows"
        self.directory = str(Path(directory).expanduser().absolute())
        self.stored_as_script = bool(stored_as_script)
        if self.stored_as_script and path is None:
            raise ValueError("Local(stored_as_script=True) needs path= naming the flow script")
        self.path = str(Path(path).expanduser().absolute()) if path is not None else None

    def store_flow(self, flow: Flow) -> str:
        if self.stored_as_script:
            assert self.path is not None
            if not Path(self.path).is_file():
                raise StorageError(f"Local storage: the flow script {self.path!r} does not exist")
            return self.path
        if self.path is not None:
            if self.flows:
                raise StorageError(
                    f"Local storage with path={self.path!r} holds one flow; it already holds "
                    f"{sorted(self.flows)}"
                )
            location = Path(self.path)
        else:
            location = Path(self.directory) / flow_file_name(flow.name)
            taken = {Path(loc) for loc in self.flows.values()}
            n = 1
            while location in taken:
                n += 1
                location = Path(self.directory) / flow_file_name(f"{flow.name}-{n}")
        write_atomically(location, dumps_flow(flow))
        return str(location)

    def build_storage(self) -> None:
        if self.stored_as_script:
            return
        for name, flow in self._flows.items():
            write_atomically(Path(self.flows[name]), dumps_flow(flow))

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        where = self.describe(location)
        if not Path(location).is_file():
            raise FlowLoadError(self.missing(location, where))
        if self.stored_as_script:
            return load_flow_script(location, flow_name, where)
        try:
            data = Path(location).read_bytes()
        except OSError as exc:
            raise FlowLoadError(f"cannot read flow file of {where}: {exc}") from exc
        return loads_flow(data, where)

    def missing(self, location: str, where: str) -> str:
        """Why the flow file at ``location`` is not here, and what to do about it."""
        here = socket.gethostname()
        if here != self.host:
            return (
                f"cannot read flow file of {where}: it is not on this host ({here}); Local "
                f"storage lives on host {self.host!r}. Run it with an agent on {self.host} "
                f"(label {self.host!r}), or store the flow where agents on other machines "
                "can read it: FileSystem (a shared or object-store URL), Git or Docker storage"
            )
        return (
            f"cannot read flow file of {where}: it does not exist on this host ({here}); "
            "was it moved or deleted since the flow was registered?"
        )
