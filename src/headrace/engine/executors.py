"""Executors at Prefect 0.15's older import path (``prefect.engine.executors``), kept
because flows written before 0.15 still import them from there; they live in
:mod:`headrace.executors`."""

from headrace.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor

__all__ = ["DaskExecutor", "LocalDaskExecutor", "LocalExecutor"]
