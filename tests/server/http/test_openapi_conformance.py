"""The OpenAPI schema is the truth: schemathesis generates requests from ``/openapi.json``
(valid and invalid ones, every phase: examples, coverage, fuzzing, stateful) against a real
server on SQLite, once with API keys off and once with a key required (and sent), and the
build fails on any server error (5xx), any answer the schema does not describe (status,
body, content type, headers), any schema-valid request refused and any schema-invalid one
accepted.

Real parts: a live server (uvicorn) over HTTP on a SQLite file; the schemathesis command
line in a subprocess. Bounded (``--max-examples``, a fixed seed) so both runs take well
under three minutes; ``HEADRACE_SCHEMATHESIS_EXAMPLES`` raises the bound for a deeper run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import require
from tests.server.conftest import flow_document, make_settings
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.server.domain.auth import create_api_key

EXAMPLES = os.environ.get("HEADRACE_SCHEMATHESIS_EXAMPLES", "8")

#: What the schema cannot say and the server checks against what is stored, so a
#: schema-valid body may still be a 422 naming the culprit: a flow run's ``parameters``
#: must be the flow's own, a document's task slugs unique and its edges among them, a
#: report's compact rows must name tasks its ``tasks`` list has, a page ``cursor`` must be
#: one the route gave.
SEMANTIC_422 = [
    ("/api/flow_runs", "POST"),
    ("/api/flows", "POST"),
    ("/api/flow_runs/{flow_run_id}/report", "POST"),
    # a page cursor is opaque: only one the route gave (its X-Next-Cursor) is accepted
    ("/api/flow_runs", "GET"),
    ("/api/flow_runs/{flow_run_id}/task_runs", "GET"),
    ("/api/flow_runs/{flow_run_id}/logs", "GET"),
]


def _config(path: Path, client: Client) -> Path:
    """A schemathesis config: path ids of real records (so requests reach past the 404s)
    and the documented semantic 422s."""
    project = client.create_project("seeded")
    flow = client.get_flow(
        client.register_document(flow_document(), project_id=project["id"])["id"]
    )
    run = client.create_flow_run(flow["id"])
    (task_run,) = client.create_task_runs(run["id"], [{"task_slug": "extract-1"}])
    agent = client.register_agent("seeded-agent", [])
    ids = {  # not the project's: DELETE /projects/{id} would remove them all mid-run
        "flow_id": flow["id"],
        "flow_group_id": flow["flow_group_id"],
        "flow_run_id": run["id"],
        "task_run_id": task_run["id"],
        "agent_id": agent["id"],
    }
    lines = ["[parameters]", *(f'"path.{k}" = "{v}"' for k, v in ids.items()), ""]
    for route, method in SEMANTIC_422:
        lines += [
            "[[operations]]",
            f'include-path = "{route}"',
            f'include-method = "{method}"',
            'checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404",'
            ' "409", "422"]',
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis") or shutil.which("st")
    require("schemathesis", found is not None, "pip install schemathesis (the test extra)")
    assert found is not None
    return [found]


@pytest.fixture(params=["open", "key required"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    secured = request.param == "key required"
    settings = make_settings(f"sqlite:///{tmp_path / 'st.db'}", require_api_key=secured)
    live = LiveServer(settings).start()
    key = ""
    if secured:
        with live.db.session() as session:
            _row, key = create_api_key(session, "schemathesis")
    try:
        yield live, key
    finally:
        live.stop()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_server_keeps_to_its_openapi_schema(
    target: tuple[LiveServer, str], tmp_path: Path
) -> None:
    live, key = target
    with Client(live.url, api_key=key or None) as client:
        config = _config(tmp_path / "schemathesis.toml", client)
    command = [
        *_schemathesis(),
        "--config-file",
        str(config),
        "run",
        f"{live.url}/openapi.json",
        "--checks",
        "all",
        # the schema declares no security scheme (keys are a deployment setting), so the
        # check that a request without credentials is refused does not apply
        "--exclude-checks",
        "ignored_auth",
        "--max-examples",
        EXAMPLES,
        "--seed",
        "20261203",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    if key:
        command += ["--header", f"Authorization: Bearer {key}"]
    done = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=220,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output = done.stdout + done.stderr
    summary = re.search(r"(\d+) generated", output)
    sys.stdout.write(output[-3000:])
    assert summary is not None, output[-3000:]
    assert done.returncode == 0, output[-8000:]
    assert "Server error" not in output and "failures" not in output.splitlines()[-1]
