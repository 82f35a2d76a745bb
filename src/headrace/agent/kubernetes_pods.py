"""Why a flow run's pod is not running: the pod states that never end by themselves.

A Job whose pod cannot pull its image or cannot be scheduled stays "active" forever: the
run would sit ``Submitted`` until the server's submitted timeout. :func:`stuck_reason`
reads the pods of the run's Job (the official client's ``V1Pod`` models) and names the
problem once it is certain (an image that cannot be pulled, a container that cannot be
created) or has lasted ``pending_grace`` seconds (unschedulable, still pending), so the
agent fails the run with that reason at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["FATAL_WAITING", "stuck_reason"]

#: Container waiting reasons that do not go away without a change to the Job.
FATAL_WAITING = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
    }
)


def stuck_reason(
    pods: list[Any], now: datetime | None = None, pending_grace: float = 120.0
) -> str | None:
    """The reason the run's pod cannot start (None while it may still start or runs)."""
    now = now or datetime.now(UTC)
    for pod in pods:
        status = pod.status
        if status is None or status.phase not in (None, "Pending"):
            continue
        name = pod.metadata.name if pod.metadata is not None else "?"
        for container in (status.container_statuses or []) + (status.init_container_statuses or []):
            waiting = container.state.waiting if container.state is not None else None
            if waiting is not None and waiting.reason in FATAL_WAITING:
                detail = f": {waiting.message}" if waiting.message else ""
                return (
                    f"pod {name} cannot start its container {container.name!r}: "
                    f"{waiting.reason}{detail}"
                )
        started = status.start_time or (
            pod.metadata.creation_timestamp if pod.metadata is not None else None
        )
        waited = (now - started).total_seconds() if started is not None else 0.0
        if waited < pending_grace:
            continue
        for condition in status.conditions or []:
            if condition.type == "PodScheduled" and condition.status == "False":
                why = condition.reason or "not scheduled"
                detail = f": {condition.message}" if condition.message else ""
                return f"pod {name} was not scheduled after {waited:.0f}s ({why}){detail}"
        return f"pod {name} is still Pending after {waited:.0f}s"
    return None
