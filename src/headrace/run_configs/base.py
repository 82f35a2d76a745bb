"""``RunConfig``: where a flow's runs go — which agent picks them up and what it starts.

Agents read a run's config; the flow's environment then decides how the flow executes once
there. Every run config carries ``labels`` (an agent takes a run only if its own labels
include all of them) and ``env`` (environment variables for the run's process).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from headrace._serializable.schema import Serializable, string_list

__all__ = ["RunConfig", "UniversalRun"]


def check_env(env: Mapping[str, Any] | None, owner: str) -> dict[str, str]:
    if env is None:
        return {}
    if not isinstance(env, Mapping):
        raise TypeError(f"{owner}: env must be a mapping of names to strings")
    out: dict[str, str] = {}
    for key, value in env.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{owner}: env entry {key!r}={value!r} must map a string to a string")
        out[key] = value
    return out


class RunConfig(Serializable):
    """Base of run configs: ``labels`` and ``env``."""

    serialized_kind = "run config"
    serialized_fields: ClassVar[tuple[str, ...]] = ("labels", "env")

    def __init__(
        self, labels: Iterable[str] | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        owner = type(self).__name__
        self.labels: set[str] = set(string_list(labels, "labels", owner))
        self.env = check_env(env, owner)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} labels={sorted(self.labels)}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, RunConfig)
        return self.serialize() == other.serialize()

    __hash__ = None  # type: ignore[assignment]


class UniversalRun(RunConfig):
    """Runs on any agent whose labels match; the agent decides the rest."""
