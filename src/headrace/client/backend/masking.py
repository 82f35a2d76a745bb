"""Masking secret values in text that leaves a run's process (log records, the errors
kept with failed states): every occurrence of a secret becomes ``********``."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MASK", "mask_secrets"]

MASK = "********"


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` (longest first, as :func:`secret_values` sorts them)
    replaced by :data:`MASK`."""
    for value in secrets:
        if value and value in text:
            text = text.replace(value, MASK)
    return text
