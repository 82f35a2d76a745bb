"""``Storage``: where a flow's code lives between registration and its runs.

A storage holds one or more flows, each at a *location* (a file, a URL, a module path, a
path inside an image) under its name. ``add_flow`` records a flow, ``build`` writes or
uploads whatever the storage keeps and runs the health checks, ``get_flow`` loads a flow
back, in this process or in the run's infrastructure. The JSON form (``serialize``) holds
the storage's settings and the ``{name: location}`` map, never the flows themselves, and
secrets only by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from headrace._serializable.errors import (
    FlowNameClashError,
    FlowNotFoundError,
    SerializationError,
)
from headrace._serializable.schema import Serializable, load_object, string_list

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Storage", "load_storage"]

S = TypeVar("S", bound="Storage")


class Storage(Serializable):
    """Base of storages. Subclasses implement :meth:`store_flow` and :meth:`load_flow`, and
    :meth:`build_storage` when building has work to do."""

    serialized_kind = "storage"
    serialized_fields: ClassVar[tuple[str, ...]] = ("labels", "secrets")

    def __init__(
        self, labels: Iterable[str] | None = None, secrets: Iterable[str] | None = None
    ) -> None:
        owner = type(self).__name__
        self.labels: list[str] = sorted(set(string_list(labels, "labels", owner)))
        #: Names of secrets the flows need at run time (values never stored here).
        self.secrets: list[str] = string_list(secrets, "secrets", owner)
        #: ``{flow name: location}`` of every flow this storage holds.
        self.flows: dict[str, str] = {}
        self._flows: dict[str, Flow] = {}
        #: The outcomes of the last build's health checks (empty until a build ran them).
        self.last_health_report: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} flows={sorted(self.flows)}>"

    def __getstate__(self) -> dict[str, Any]:
        # A flow pickles its storage with it; the storage's in-memory flows stay behind.
        state = dict(self.__dict__)
        state["_flows"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __contains__(self, item: object) -> bool:
        """``location in storage`` (a flow's name works too)."""
        return isinstance(item, str) and (item in self.flows or item in self.flows.values())

    # ---- adding and loading ---------------------------------------------------------------

    def add_flow(self, flow: Flow) -> str:
        """Record ``flow`` in this storage and return its location; a second flow with the
        same name is a :class:`FlowNameClashError`."""
        from headrace.core.flow import Flow

        if not isinstance(flow, Flow):
            raise TypeError(f"{type(self).__name__}.add_flow needs a Flow, not {flow!r}")
        if flow.name in self.flows:
            raise FlowNameClashError(
                f"{self!r} already holds a flow named {flow.name!r} "
                f"(at {self.flows[flow.name]!r}); flow names are unique within a storage"
            )
        location = self.store_flow(flow)
        self.flows[flow.name] = location
        self._flows[flow.name] = flow
        return location

    def store_flow(self, flow: Flow) -> str:
        """Keep ``flow`` (or note where it will be kept) and return its location."""
        raise NotImplementedError(f"{type(self).__name__} does not implement store_flow")

    def resolve(self, flow_location: str | None) -> tuple[str | None, str]:
        """``(flow name, location)`` for a location or a flow name held here."""
        if flow_location is None:
            if len(self.flows) == 1:
                ((name, location),) = self.flows.items()
                return name, location
            raise FlowNotFoundError(
                f"{self!r}: name the flow to load; this storage holds {sorted(self.flows)}"
            )
        if flow_location in self.flows:
            return flow_location, self.flows[flow_location]
        names = [n for n, loc in self.flows.items() if loc == flow_location]
        if len(names) == 1:
            return names[0], flow_location
        if names:
            return None, flow_location
        raise FlowNotFoundError(
            f"{self!r} holds no flow at or named {flow_location!r}; it holds "
            f"{dict(sorted(self.flows.items())) or 'no flows'}"
        )

    def get_flow(self, flow_location: str | None = None) -> Flow:
        """Load the flow at ``flow_location`` (or with that name; or the only one)."""
        name, location = self.resolve(flow_location)
        return self.load_flow(location, name)

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        """Load the flow kept at ``location`` (``flow_name`` picks among several there)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement load_flow")

    def describe(self, location: str | None = None) -> str:
        """How errors name this storage (and a location in it)."""
        where = f" at {location!r}" if location is not None else ""
        return f"{type(self).__name__} storage{where}"

    # ---- building ---------------------------------------------------------------------

    def build(self: S, run_health_checks: bool = True) -> S:
        """Write/upload/package the flows, then (unless told not to) run the health checks
        in a fresh interpreter; a failed check raises
        :class:`~headrace.serialization.errors.HealthCheckError`."""
        self.build_storage()
        if run_health_checks and self.flows:
            from headrace.storage.healthcheck import check_storage

            self.last_health_report = check_storage(self)
        return self

    def build_storage(self) -> None:
        """The storage's own build step (nothing by default)."""

    # ---- the JSON form ------------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        doc = super().serialize()
        doc["flows"] = dict(sorted(self.flows.items()))
        return doc

    @classmethod
    def from_serialized(cls: type[S], doc: Mapping[str, Any]) -> S:
        storage = super().from_serialized(doc)
        flows = doc.get("flows") or {}
        if not isinstance(flows, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in flows.items()
        ):
            raise SerializationError(
                f"{cls.__name__} document: 'flows' must map flow names to locations, got {flows!r}"
            )
        storage.flows = dict(flows)
        return storage


def load_storage(doc: Any) -> Storage:
    """The storage a ``storage.serialize()`` document describes, flows map included.

    Lives beside :class:`Storage` so the storage layer (health checks, ``environments.run``)
    loads storages without importing the flow document in :mod:`headrace.serialization`,
    which re-exports this function.
    """
    return load_object(doc, Storage, "storage")
