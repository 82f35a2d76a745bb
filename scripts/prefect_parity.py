"""Which public names of Prefect 0.15 a ported flow would miss in headrace.

Two steps, two interpreters (Prefect 0.15 and headrace cannot share one):

    .bench/prefect015/bin/python scripts/prefect_parity.py dump > prefect-names.json
    python scripts/prefect_parity.py check prefect-names.json

``dump`` lists the public names of Prefect's user-facing modules (their ``__all__``, else
the classes and functions they define); ``check`` imports the same path under ``headrace``
and prints what is missing, one module per line. The virtualenv is the one
``bench/run.py`` builds from ``bench/prefect015-requirements.txt``.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
import warnings

MODULES = [
    "prefect",
    "prefect.core",
    "prefect.core.flow",
    "prefect.core.task",
    "prefect.core.parameter",
    "prefect.core.edge",
    "prefect.engine",
    "prefect.engine.state",
    "prefect.engine.signals",
    "prefect.engine.results",
    "prefect.engine.serializers",
    "prefect.engine.cache_validators",
    "prefect.engine.flow_runner",
    "prefect.engine.task_runner",
    "prefect.engine.executors",
    "prefect.executors",
    "prefect.schedules",
    "prefect.schedules.clocks",
    "prefect.schedules.filters",
    "prefect.schedules.adjustments",
    "prefect.storage",
    "prefect.run_configs",
    "prefect.environments",
    "prefect.environments.execution",
    "prefect.tasks.control_flow",
    "prefect.tasks.core.constants",
    "prefect.tasks.core.collections",
    "prefect.tasks.core.function",
    "prefect.tasks.core.resource_manager",
    "prefect.tasks.shell",
    "prefect.tasks.secrets",
    "prefect.tasks.prefect",
    "prefect.triggers",
    "prefect.utilities.tasks",
    "prefect.utilities.edges",
    "prefect.utilities.notifications",
    "prefect.utilities.debug",
    "prefect.utilities.logging",
    "prefect.utilities.collections",
    "prefect.utilities.context",
    "prefect.client",
    "prefect.client.secrets",
    "prefect.backend",
    "prefect.backend.artifacts",
    "prefect.artifacts",
]


def dump() -> dict[str, list[str]]:
    """``{module: [public names]}`` of the installed Prefect."""
    found: dict[str, list[str]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                n
                for n, v in vars(module).items()
                if not n.startswith("_")
                and not isinstance(v, types.ModuleType)
                and (getattr(v, "__module__", "") or "").startswith(name)
            ]
        found[name] = sorted(set(names))
    return found


def check(prefect_names: dict[str, list[str]]) -> dict[str, list[str] | str]:
    """What each Prefect module lists that the same ``headrace`` path lacks."""
    warnings.simplefilter("ignore")
    missing: dict[str, list[str] | str] = {}
    for name, names in prefect_names.items():
        ours = "headrace" + name[len("prefect") :]
        try:
            module = importlib.import_module(ours)
        except ImportError as exc:
            missing[name] = f"module missing ({exc})"
            continue
        gone = [n for n in names if not hasattr(module, n)]
        if gone:
            missing[name] = gone
    return missing


def main(argv: list[str]) -> int:
    if argv[:1] == ["dump"]:
        json.dump(dump(), sys.stdout, indent=1)
        return 0
    if len(argv) == 2 and argv[0] == "check":
        with open(argv[1]) as f:
            missing = check(json.load(f))
        for name, what in missing.items():
            print(name, ":", what if isinstance(what, str) else ", ".join(what))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
