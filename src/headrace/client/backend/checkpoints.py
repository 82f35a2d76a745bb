"""``CheckpointResult``: where the backend runner persists task results by default, cheaply
enough for maps of many small results.

A task that is not mapped gets a file of its own, as ``LocalResult`` writes it:
``<results dir>/<flow run>/<task slug>/task/<uuid>.pickle``.

A mapped child's result is appended to a pack file of its task, one per process
(``<flow run>/<task slug>/children-<process token>.pack``), and its location names the pack
and the bytes it occupies: ``...children-<token>.pack@<offset>+<length>``. Creating a file
costs ~50 µs on ext4 (inode, directory entry, journal); an append is a copy into a memory
map of the pack, so a 10,000-child map's checkpoints go from about half a second to a few
hundredths. Each
child is still read back on its own (a restart reads exactly the bytes its location names).
Safety matches the one-file-per-child layout: a child's location is reported to the server
only after its bytes were written, each process appends to its own pack (threads take a
lock), and a write that fails leaves bytes no location names.
"""

from __future__ import annotations

import errno
import mmap
import os
import re
import threading
import uuid
from typing import Any

from headrace.engine.errors import ResultError
from headrace.engine.results.base import Result
from headrace.engine.results.local import LocalResult

__all__ = ["CheckpointResult", "checkpoint_location", "close_packs"]

_SPAN = re.compile(r"^(?P<path>.+\.pack)@(?P<offset>\d+)\+(?P<length>\d+)$")
_OPEN = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_MAPPED = hasattr(os, "posix_fallocate")
_CANNOT_MAP = {errno.EOPNOTSUPP, errno.EINVAL, errno.ENODEV, errno.ENOSYS, errno.EACCES}
_STEP_MIN, _STEP_MAX = 1 << 20, 1 << 28
_CHECKPOINT_KEYS = frozenset({"flow_run_id", "task_slug", "map_index"})


def checkpoint_location(**kwargs: Any) -> str:
    """Where the backend checkpoints one result that is not a mapped child:
    ``<flow run>/<task slug>/task/<uuid>.pickle``. (Mapped children go to packs.)"""
    run = kwargs.get("flow_run_id") or "local"
    return f"{run}/{kwargs.get('task_slug') or 'task'}/task/{uuid.uuid4().hex}.pickle"


class _Pack:
    """One pack file this process appends to. Where the platform can reserve disk blocks
    (``posix_fallocate``), appends are copies into a memory map of the file: the bytes are
    in the page cache when ``append`` returns, as after a ``write`` (they outlive the
    process), without a system call per child (~10 µs each on a VM). Space is reserved in
    steps; ``close`` cuts the file back to what was written (a process that dies leaves
    zeros after its last span, which no location names)."""

    __slots__ = ("capacity", "fd", "lock", "map", "mapped", "path", "size")

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.fd = os.open(path, _OPEN, 0o666)
        self.size = self.capacity = os.fstat(self.fd).st_size
        self.map: mmap.mmap | None = None
        self.mapped = _MAPPED
        self.lock = threading.Lock()

    def append(self, blob: bytes) -> int:
        """Append ``blob``; returns its offset."""
        with self.lock:
            offset = self.size
            end = offset + len(blob)
            if self.mapped and end > self.capacity:
                self._reserve(end)
            if self.map is not None and self.mapped:
                self.map[offset:end] = blob
            else:
                self._write(blob)
            self.size = end
            return offset

    def _write(self, blob: bytes) -> None:
        os.lseek(self.fd, self.size, os.SEEK_SET)
        view = memoryview(blob)
        written = 0
        try:
            while view:
                n = os.write(self.fd, view)
                view, written = view[n:], written + n
        except OSError:
            self.size += written  # bytes a partial write left are never reused
            raise

    def _reserve(self, end: int) -> None:
        """Grow the file to hold ``end`` bytes: blocks really allocated (a full disk is an
        ``OSError`` here, never a fault when the map is written), then mapped again. A file
        system that cannot reserve or map (some network and FUSE ones) makes this pack fall
        back to plain writes."""
        capacity = max(end, min(2 * self.capacity, self.capacity + _STEP_MAX), _STEP_MIN)
        try:
            os.posix_fallocate(self.fd, self.capacity, capacity - self.capacity)
            mapped = mmap.mmap(self.fd, capacity)
        except OSError as exc:
            if exc.errno not in _CANNOT_MAP:
                raise
            self.mapped = False
            return
        if self.map is not None:
            self.map.close()
        self.map, self.capacity = mapped, capacity

    def close(self) -> None:
        with self.lock:
            if self.map is not None:
                self.map.close()
                self.map = None
            if self.capacity > self.size:
                os.ftruncate(self.fd, self.size)
            os.close(self.fd)


class _Packs:
    """The packs this process has open, by path. A forked child starts with none and a
    token of its own (it must not append through its parent's descriptors)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.lock = threading.Lock()  # a fork may have copied it held
        self.token = uuid.uuid4().hex[:16]
        self.open: dict[str, _Pack] = {}
        self.tasks: dict[tuple[Any, str, str], tuple[str, _Pack]] = {}
        self.last: tuple[Any, ...] = (None, None, None, None)

    def of_task(self, directory: Any, run: str, slug: str) -> tuple[str, _Pack]:
        """The pack of ``slug``'s children in ``run`` and its path relative to ``directory``."""
        last = self.last  # the children of a map ask one after the other: no Path hash
        if last[0] is directory and last[1] == run and last[2] == slug:
            return last[3]
        key = (directory, run, slug)
        found = self.tasks.get(key)
        if found is None:
            relative = f"{run}/{slug}/children-{self.token}.pack"
            path = os.path.join(directory, relative)
            with self.lock:
                pack = self.open.get(path)
                if pack is None:
                    pack = self.open[path] = _Pack(path)
                found = self.tasks[key] = (relative, pack)
        self.last = (directory, run, slug, found)
        return found

    def close(self, prefix: str) -> None:
        with self.lock:
            closing = [p for p in self.open if p.startswith(prefix)]
            for path in closing:
                self.open.pop(path).close()
            if closing:
                self.tasks = {k: v for k, v in self.tasks.items() if v[1].path not in closing}
                self.last = (None, None, None, None)


_PACKS = _Packs()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_PACKS.reset)


def close_packs(directory: str | os.PathLike[str], flow_run_id: str) -> None:
    """Close this process's packs of ``flow_run_id`` under ``directory`` (a later write
    reopens them)."""
    _PACKS.close(os.path.join(os.fspath(directory), flow_run_id, ""))


class CheckpointResult(LocalResult):
    """The backend's default result: under ``flows.results_dir``, a file per task and a
    pack per mapped task (see the module). Given another ``location``, it is a plain
    ``LocalResult``."""

    def __init__(self, dir: Any = None, location: Any = None, **kwargs: Any) -> None:
        super().__init__(dir=dir, location=location or checkpoint_location, **kwargs)

    def copy(self) -> CheckpointResult:
        """A shallow copy (``copy.copy``'s generic path costs more than a child's write)."""
        if type(self) is not CheckpointResult:
            return super().copy()  # type: ignore[return-value]
        new = object.__new__(CheckpointResult)
        new.__dict__.update(self.__dict__)
        return new

    def formatting_keys(self) -> frozenset[str] | None:
        """At its own location, a write reads these three keys alone (see the module)."""
        if type(self) is CheckpointResult and self.location is checkpoint_location:
            return _CHECKPOINT_KEYS
        return None

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        index = kwargs.get("map_index")
        if self.location is not checkpoint_location or not isinstance(index, int) or index < 0:
            return super().write(value, **kwargs)
        blob = self.serializer.serialize(value)
        relative, pack = _PACKS.of_task(
            self.dir, kwargs.get("flow_run_id") or "local", kwargs.get("task_slug") or "task"
        )
        try:
            offset = pack.append(blob)
        except OSError as exc:
            raise ResultError(f"cannot write the result to {pack.path}: {exc}") from exc
        new = self.copy()
        new.location = f"{relative}@{offset}+{len(blob)}"
        new.value = value
        return new

    def _span(self, location: str) -> tuple[str, int, int] | None:
        found = _SPAN.match(location)
        if found is None:
            return None
        path = str(self._path(found["path"]))
        return path, int(found["offset"]), int(found["length"])

    def read(self, location: str) -> Result:
        span = self._span(location)
        if span is None:
            return super().read(location)
        path, offset, length = span
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                blob = fh.read(length)
        except OSError as exc:
            raise ResultError(f"cannot read the result at {location}: {exc}") from exc
        if len(blob) != length:
            raise ResultError(
                f"cannot read the result at {location}: {path} ends after {offset + len(blob)} "
                f"bytes"
            )
        new = self.copy()
        new.location = location
        new.value = self.serializer.deserialize(blob)
        return new

    def exists(self, location: str, /, **kwargs: Any) -> bool:
        span = self._span(self.render_location(location, kwargs))
        if span is None:
            return super().exists(location, **kwargs)
        path, offset, length = span
        try:
            return os.stat(path).st_size >= offset + length
        except OSError:
            return False
