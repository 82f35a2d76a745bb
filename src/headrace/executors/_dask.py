"""The one door to dask's private task-spec module (``dask._task_spec``).

The Dask executors build graphs of ``dask._task_spec`` nodes directly (no
``dask.delayed`` objects: see :mod:`~headrace.executors.graph`). That module is private to
dask, so every use of it goes through here: when dask moves or renames it, this is the one
file to change.
"""

from __future__ import annotations

from dask._task_spec import DataNode, GraphNode, Task, TaskRef, parse_input

__all__ = ["DataNode", "GraphNode", "Task", "TaskRef", "parse_input"]
