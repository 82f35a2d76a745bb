"""A log line's length cap: a line over ``server.max_log_message_chars`` is stored cut.

The cut keeps the start of the line and ends it with a marker that says how many characters
were cut and by which setting, so a reader of the stored log knows it is not the whole line
and what to raise to keep more. The report (:mod:`.report`) and ``POST /logs`` store logs
through it; the other request limits are the HTTP layer's (:mod:`headrace.server.http.limits`).
"""

from __future__ import annotations

__all__ = ["truncate_message"]


def truncate_message(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters (0: no limit), ending with a marker that
    says how many characters were cut and by which setting."""
    if limit <= 0 or len(text) <= limit:
        return text
    marker = (
        f" ... [truncated {len(text) - limit:,} characters; "
        f"server.max_log_message_chars = {limit:,}]"
    )
    return text[: max(limit - len(marker), 0)] + marker
