"""The task library: control flow, constants and collections, shell commands.

What Prefect users import from ``prefect.tasks``; the library builds on the model and the
engine's signals, never the other way round.
"""
