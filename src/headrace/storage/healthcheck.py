"""Build-time health checks: does every flow of a storage load and look runnable where it
will run?

:func:`run_checks` runs *where the flows will be loaded* — a fresh interpreter on this
machine for most storages, the image itself for :class:`~headrace.storage.Docker` — and
reports, for each flow: it loads (else the missing module by name), every module in its
environment's ``dependencies`` imports, its parameter defaults are JSON, the Python version
matches the registering one, and (a warning only) tasks that retry or cache whose upstream
results are not persisted. :func:`check_storage` starts that interpreter and turns failures
into a :class:`~headrace.serialization.errors.HealthCheckError`.

Run as ``python -m headrace.storage.healthcheck --storage JSON [--python-version X.Y]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import warnings
from typing import TYPE_CHECKING, Any

from headrace._serializable.errors import FlowLoadError, HealthCheckError, HealthCheckWarning

if TYPE_CHECKING:
    from headrace.core.flow import Flow
    from headrace.storage.base import Storage

__all__ = ["check_flow", "check_storage", "raise_for_report", "run_checks"]

REPORT_MARKER = "HEADRACE-HEALTHCHECK-REPORT "
Outcome = dict[str, Any]


def _outcome(check: str, flow: str, ok: bool, culprit: str | None = None, msg: str = "") -> Outcome:
    return {"check": check, "flow": flow, "ok": ok, "culprit": culprit, "message": msg}


def _persisted(task: Any, flow: Flow) -> bool:
    from headrace.configuration import config

    if task.checkpoint is False:
        return False
    return bool(
        task.result is not None
        or task.target is not None
        or flow.result is not None
        or task.checkpoint
        or config.flows.checkpointing
    )


def check_flow(flow: Flow, python_version: str | None = None) -> list[Outcome]:
    """Every check but loading, on a loaded flow."""
    name = flow.name
    report: list[Outcome] = []
    # A flow without an environment runs on ``LocalEnvironment``, which needs no modules.
    environment = flow.environment
    dependencies: list[str] = list(environment.dependencies) if environment is not None else []
    for module in dependencies:
        try:
            importlib.import_module(module)
        except Exception as exc:
            report.append(
                _outcome(
                    "dependencies",
                    name,
                    False,
                    module,
                    f"{type(environment).__name__} needs module {module!r}, which cannot be "
                    f"imported: {type(exc).__name__}: {exc}",
                )
            )
        else:
            report.append(_outcome("dependencies", name, True, module))
    for param in sorted(flow.parameters(), key=lambda p: p.name):
        try:
            json.dumps(param.default, allow_nan=False)
        except (TypeError, ValueError) as exc:
            report.append(
                _outcome(
                    "parameter_defaults",
                    name,
                    False,
                    param.name,
                    f"the default of parameter {param.name!r} is not JSON-serializable: {exc}",
                )
            )
        else:
            report.append(_outcome("parameter_defaults", name, True, param.name))
    here = "{}.{}".format(*sys.version_info[:2])
    if python_version is not None and python_version != here:
        report.append(
            _outcome(
                "python_version",
                name,
                False,
                here,
                f"the flow was registered with Python {python_version} but loads under "
                f"Python {here}",
            )
        )
    else:
        report.append(_outcome("python_version", name, True, here))
    for task in flow.sorted_tasks():
        if not (task.max_retries or task.cache_for is not None):
            continue
        unpersisted = sorted(u.name for u in flow.upstream_tasks(task) if not _persisted(u, flow))
        if unpersisted:
            why = "retries" if task.max_retries else "caches its result"
            report.append(
                _outcome(
                    "result_persistence",
                    name,
                    True,
                    task.name,
                    f"task {task.name!r} {why}, but the results of its upstream task(s) "
                    f"{unpersisted} are not persisted; a retry or a later run in another "
                    f"process cannot read them (give them a result or turn on checkpointing)",
                )
                | {"warning": True}
            )
    return report


def run_checks(storage_doc: dict[str, Any], python_version: str | None = None) -> list[Outcome]:
    """Load each flow of the serialized storage here and check it."""
    from headrace.storage.base import load_storage

    storage = load_storage(storage_doc)
    report: list[Outcome] = []
    for name in sorted(storage.flows):
        try:
            flow = storage.get_flow(name)
        except FlowLoadError as exc:
            culprit = exc.missing_module or name
            report.append(_outcome("flow_loads", name, False, culprit, str(exc)))
            continue
        except Exception as exc:
            report.append(_outcome("flow_loads", name, False, name, f"{type(exc).__name__}: {exc}"))
            continue
        report.append(_outcome("flow_loads", name, True, name))
        report.extend(check_flow(flow, python_version))
    return report


def raise_for_report(report: list[Outcome], where: str) -> None:
    """Warn about warnings; raise a :class:`HealthCheckError` naming every failed check."""
    for item in report:
        if item.get("warning"):
            warnings.warn(f"{where}: {item['message']}", HealthCheckWarning, stacklevel=3)
    failed = [item for item in report if not item["ok"]]
    if not failed:
        return
    lines = [
        f"- check {f['check']!r} failed for flow {f['flow']!r} (culprit: {f['culprit']!r}): "
        f"{f['message']}"
        for f in failed
    ]
    raise HealthCheckError(
        f"health checks of {where} failed:\n" + "\n".join(lines),
        check=failed[0]["check"],
        culprit=failed[0]["culprit"],
        report=report,
    )


def parse_report(output: str) -> list[Outcome] | None:
    """The report a checking process printed, if it printed one."""
    for line in reversed(output.splitlines()):
        if line.startswith(REPORT_MARKER):
            report: list[Outcome] = json.loads(line[len(REPORT_MARKER) :])
            return report
    return None


def check_storage(storage: Storage, timeout: float = 300.0) -> list[Outcome]:
    """Run the checks on ``storage`` in a fresh interpreter with this process's import
    path; raise :class:`HealthCheckError` if any fails."""
    doc = json.dumps(storage.serialize())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    here = "{}.{}".format(*sys.version_info[:2])
    where = repr(storage)
    cmd = [sys.executable, "-m", "headrace.storage.healthcheck", "--python-version", here]
    proc = subprocess.run(
        [*cmd, "--storage", doc], capture_output=True, text=True, env=env, timeout=timeout
    )
    report = parse_report(proc.stdout)
    if report is None:
        raise HealthCheckError(
            f"health checks of {where} could not run (exit {proc.returncode}): "
            f"{proc.stderr.strip()[-2000:]}",
            check="flow_loads",
            culprit=None,
        )
    raise_for_report(report, where)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m headrace.storage.healthcheck")
    parser.add_argument("--storage", required=True, help="the storage's JSON document")
    parser.add_argument("--python-version", default=None, help="the registering X.Y version")
    args = parser.parse_args(argv)
    report = run_checks(json.loads(args.storage), args.python_version)
    for item in report:
        status = (
            "ok"
            if item["ok"] and not item.get("warning")
            else ("WARNING" if item["ok"] else "FAILED")
        )
        print(f"[{status}] {item['check']} ({item['flow']}): {item['message'] or item['culprit']}")
    print(REPORT_MARKER + json.dumps(report), flush=True)
    print(f"python {platform.python_version()}", file=sys.stderr)
    return 0 if all(item["ok"] for item in report) else 1


if __name__ == "__main__":
    sys.exit(main())
