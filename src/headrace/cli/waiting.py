"""What a server run that has not started is waiting for, in words: no agent can take it
(none seen with its labels, and the command that would start one), it is late, or it was
handed to an agent whose process has not started yet. ``run --watch`` says it within
seconds and keeps saying it while nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["AGENT_SEEN_WITHIN", "LATE_AFTER", "waiting_for"]

AGENT_SEEN_WITHIN = 60.0  # an agent silent longer than this is not counted as running
LATE_AFTER = 10.0  # seconds past its scheduled start before an unclaimed run is called late
UNCLAIMED = ("Scheduled", "Pending")


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _labels(labels: list[str]) -> str:
    return "[" + ", ".join(labels) + "]"


def waiting_for(client: Any, run: dict[str, Any], now: datetime | None = None) -> str | None:
    """A sentence saying what ``run`` waits for, or None once it runs or has finished."""
    now = now or datetime.now(UTC)
    state = run.get("state")
    if state == "Submitted":
        return "an agent took the run; waiting for its process to start"
    if state not in UNCLAIMED:
        return None
    labels = sorted(run.get("labels") or [])
    due = _when(run.get("scheduled_start"))
    if due is not None and due > now:
        return f"scheduled for {due.isoformat(timespec='seconds')}"
    parts = []
    able = []
    for agent in client.get_agents():
        seen = _when(agent.get("last_seen"))
        if seen is None or (now - seen).total_seconds() > AGENT_SEEN_WITHIN:
            continue
        if set(labels) <= set(agent.get("labels") or []):
            able.append(agent)
    if not able:
        start = "headrace agent local start" + "".join(f" --label {label}" for label in labels)
        who = f"no agent with labels {_labels(labels)}" if labels else "no agent"
        parts.append(f"{who} has been seen; start one with: {start}")
    late = bool(run.get("is_late")) or (
        due is not None and (now - due).total_seconds() > LATE_AFTER
    )
    if late and due is not None:
        parts.append(
            f"the run is late: due at {due.isoformat(timespec='seconds')} and not picked up"
        )
    if not parts:
        names = ", ".join(str(a.get("name")) for a in able[:3])
        parts.append(f"waiting for an agent to pick it up ({names})")
    return "; ".join(parts)
