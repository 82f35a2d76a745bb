"""Docker storage's build and push, told as they happen: each build step (``Step 3/9 :
RUN pip install ...``) and each layer's push status goes to the ``headrace.storage.docker``
logger at INFO while the engine works, instead of minutes of silence before one result.
The other build output (pip's lines, the health check's) goes at DEBUG.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from headrace.utilities.logging import get_logger

__all__ = ["stream_build", "stream_push"]

logger = get_logger("storage.docker")
_STEP = re.compile(r"^(Step \d+/\d+ :|#\d+ \[)")
_BUILT = re.compile(r"Successfully built ([0-9a-f]+)")


def stream_build(
    chunks: Iterable[dict[str, Any]], log: list[str], name: str
) -> tuple[str | None, str | None]:
    """Consume the engine's build stream, logging progress and keeping its text in ``log``;
    returns ``(image id or None, error or None)``."""
    image_id: str | None = None
    error: str | None = None
    started = time.monotonic()
    logger.info("building image %s", name)
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if "stream" in chunk:
            text = str(chunk["stream"])
            log.append(text)
            line = text.strip()
            if not line:
                continue
            if _STEP.match(line):
                logger.info("image %s: %s", name, line)
            else:
                logger.debug("image %s: %s", name, line)
            built = _BUILT.search(line)
            if built and image_id is None:
                image_id = built.group(1)
        elif "error" in chunk:
            error = str(chunk.get("error") or chunk.get("errorDetail"))
            log.append(error + "\n")
            logger.error("image %s: %s", name, error)
        elif isinstance(chunk.get("aux"), dict) and chunk["aux"].get("ID"):
            image_id = str(chunk["aux"]["ID"])
    if error is None:
        logger.info("built image %s in %.0fs", name, time.monotonic() - started)
    return image_id, error


def stream_push(chunks: Iterable[dict[str, Any]], errors: list[str], name: str) -> None:
    """Consume the engine's push stream: one INFO line per layer and status change (not
    every progress tick); errors are appended to ``errors``."""
    last: dict[str, str] = {}
    logger.info("pushing image %s", name)
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if "error" in chunk:
            errors.append(str(chunk.get("error")))
            continue
        status = str(chunk.get("status") or "")
        layer = str(chunk.get("id") or "")
        if not status or last.get(layer) == status:
            continue
        last[layer] = status
        logger.info("push %s: %s%s", name, f"{layer}: " if layer else "", status)
