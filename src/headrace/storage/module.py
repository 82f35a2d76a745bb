"""``Module``: flows that live in an importable Python module."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from headrace._serializable.errors import FlowLoadError
from headrace.storage.base import Storage
from headrace.storage.flowfile import pick_flow

if TYPE_CHECKING:
    from headrace.core.flow import Flow

__all__ = ["Module"]


class Module(Storage):
    """A flow found by importing ``"package.module"`` (its module-level flow of the wanted
    name) or ``"package.module:attr"`` (that attribute). Nothing is copied anywhere: the
    module must be importable wherever the flow runs."""

    serialized_fields = ("module",)

    def __init__(
        self,
        module: str,
        labels: Iterable[str] | None = None,
        secrets: Iterable[str] | None = None,
    ) -> None:
        super().__init__(labels=labels, secrets=secrets)
        if not isinstance(module, str) or not module.partition(":")[0]:
            raise ValueError(f"Module storage needs 'package.module[:attr]', not {module!r}")
        self.module = module

    def store_flow(self, flow: Flow) -> str:
        return self.module

    def get_flow(self, flow_location: str | None = None) -> Flow:
        if flow_location is None and not self.flows:
            return self.load_flow(self.module, None)
        return super().get_flow(flow_location)

    def load_flow(self, location: str, flow_name: str | None) -> Flow:
        from headrace.core.flow import Flow

        module_name, _, attr = location.partition(":")
        where = self.describe(location)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise FlowLoadError(
                f"cannot load flow {flow_name or location!r} from {where}: module "
                f"{exc.name!r} cannot be imported",
                missing_module=exc.name,
            ) from exc
        if attr:
            found = getattr(module, attr, None)
            if not isinstance(found, Flow):
                raise FlowLoadError(f"{where}: {attr!r} is not a Flow in {module_name!r}")
            return found
        flows = [v for v in vars(module).values() if isinstance(v, Flow)]
        return pick_flow(flows, flow_name, f"{where}: module {module_name!r}")
