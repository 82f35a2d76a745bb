"""Masking secret values in text that leaves a run's process (log records, the errors
kept with failed states, what an agent prints): every occurrence becomes ``********``.

One masking path: this is :func:`headrace.utilities.secrets.redact` under the name the
backend modules use, so log lines, state messages and tracebacks hide the same values.
"""

from __future__ import annotations

from collections.abc import Iterable

from headrace.utilities.secrets import MASK, redact

__all__ = ["MASK", "mask_secrets"]


def mask_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every secret this process knows, and each of ``extra``, masked."""
    return redact(text, extra)
