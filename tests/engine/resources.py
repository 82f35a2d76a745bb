"""A resource manager for the engine tests (module-level so processes and Dask workers can
import it): its setup makes a directory, its cleanup writes a mark and removes it."""

from __future__ import annotations

import shutil
from pathlib import Path

from headrace.tasks.core.resource_manager import resource_manager


@resource_manager
class ScratchDir:
    def __init__(self, root: str, fail_setup: bool = False) -> None:
        self.root = root
        self.fail_setup = fail_setup

    def setup(self) -> str:
        if self.fail_setup:
            raise RuntimeError("cannot make the scratch directory")
        path = Path(self.root) / "scratch"
        path.mkdir()
        return str(path)

    def cleanup(self, resource: str) -> None:
        files = sorted(p.name for p in Path(resource).iterdir())
        (Path(self.root) / "cleaned").write_text(",".join(files))
        shutil.rmtree(resource)
