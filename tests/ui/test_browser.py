"""End to end in a real headless Chromium against a real server: register a flow, start it
from the Run form, watch it finish, read its logs, restart a failed run, cancel a running
one (flows run for real in a LocalAgent's subprocesses); user text is rendered as text; a
10,000-child mapped run's page refreshes with one small aggregate request.

Every test saves screenshots of the pages it visits to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.agent.backend_support import register_script
from tests.server.conftest import flow_document
from tests.support.headrace_server import LiveServer
from tests.ui.conftest import PageProbe
from tests.ui.reporting import mapped_run, move_run

from headrace.agent.local import LocalAgent
from headrace.client import Client

pytestmark = pytest.mark.browser

FLOW_SCRIPT = Path(__file__).with_name("flows") / "ui_demo.py"
RUN_URL = re.compile(r"/runs/[0-9a-f-]{36}$")
TIMES = " \u00d7 "  # the graph's "mapped x N"
DASH = "\u2013"  # the pager's "1-50 of N"
FINISH_TIMEOUT = 90_000  # ms: a flow-run subprocess on a busy 2-core machine


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def agent(ui_server: LiveServer, agent_env: dict[str, str]) -> Iterator[LocalAgent]:
    """A real local agent in a thread; each run is a ``headrace execute flow-run`` process."""
    local = LocalAgent(
        api_url=ui_server.url, name="ui-test-agent", poll_interval=0.3, env=agent_env
    ).start()
    try:
        yield local
    finally:
        local.stop(stop_runs=True)


@pytest.fixture
def demo_flow(ui_client: Client) -> str:
    return register_script(ui_client, FLOW_SCRIPT, project="ui")


def _start_from_form(probe: PageProbe, url: str, flow_id: str, **fields: str) -> str:
    """Open the flow's page, fill the Run form, submit; returns the new run's id."""
    page = probe.page
    page.goto(f"{url}/flows/{flow_id}")
    _expect()(page.locator("#run-form")).to_be_visible()
    for name, value in fields.items():
        page.fill(f"#param-{name}", value)
    page.click("#run-button")
    page.wait_for_url(RUN_URL)
    return page.url.rsplit("/", 1)[1]


def test_run_from_the_form_watch_it_finish_and_read_its_logs(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client, agent: LocalAgent, demo_flow: str
) -> None:
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/flows")
    link = page.locator("a.flowlink", has_text="ui-demo")
    expect(link).to_be_visible()
    probe.shot("flows")
    link.click()
    expect(page.locator("#param-n")).to_have_value("3")
    expect(page.locator("#param-pause")).to_have_attribute("type", "number")
    expect(page.locator('svg.graph g.node[data-slug="inc-1"]')).to_contain_text("mapped")
    page.fill("#param-n", "4")
    probe.shot("flow")
    page.click("#run-button")
    page.wait_for_url(RUN_URL)
    run_id = page.url.rsplit("/", 1)[1]

    expect(page.locator("#run-state")).to_have_text("Success", timeout=FINISH_TIMEOUT)
    assert ui_client.get_flow_run(run_id)["parameters"] == {"n": 4, "pause": 0, "blocker": ""}
    node = page.locator('svg.graph g.node[data-slug="inc-1"]')
    expect(node).to_contain_text(f"mapped{TIMES}4")
    expect(node).to_have_attribute("data-state", "Mapped")
    expect(page.locator('svg.graph g.node[data-slug="total-1"]')).to_have_attribute(
        "data-state", "Success"
    )
    # one bar per task: 3 parameters, numbers, inc (ONE bar for its 4 children), total
    expect(page.locator("svg.gantt g.bar")).to_have_count(6)
    expect(page.locator('svg.gantt g.bar[data-slug="inc-1"]')).to_contain_text(
        f"inc{TIMES.rstrip()}4"
    )
    logs = page.locator("#logs")
    expect(logs).to_contain_text("inc got 3")
    expect(logs).to_contain_text("total of 4 values")
    expect(page.locator("#cancel-run")).to_be_disabled()
    expect(page.locator("#restart-run")).to_be_enabled()
    probe.shot("run")

    page.select_option("#log-level", "30")
    expect(logs).to_contain_text("total of 4 values")
    expect(logs).not_to_contain_text("inc got")
    page.select_option("#log-level", "0")
    expect(logs).to_contain_text("inc got 0")
    page.fill("#log-search", "inc got 2")
    expect(page.locator("#logs .logline")).to_have_text([re.compile(r"inc got 2$")])
    probe.shot("run-logs-searched")

    page.click('a.children-link[data-slug="inc-1"]')
    expect(page.locator(".legend")).to_contain_text("Success 4")
    expect(page.locator("#page-info")).to_have_text(f"1{DASH}4 of 4")
    probe.shot("mapped-children")


def test_a_failed_run_shows_on_the_dashboard_and_restarts(
    probe: PageProbe,
    ui_server: LiveServer,
    ui_client: Client,
    agent: LocalAgent,
    demo_flow: str,
    tmp_path: Path,
) -> None:
    expect, page = _expect(), probe.page
    blocker = tmp_path / "blocker"
    blocker.write_text("fail while I exist")
    run_id = _start_from_form(probe, ui_server.url, demo_flow, blocker=str(blocker))
    expect(page.locator("#run-state")).to_have_text("Failed", timeout=FINISH_TIMEOUT)
    expect(page.locator('svg.graph g.node[data-slug="total-1"]')).to_have_attribute(
        "data-state", "Failed"
    )
    expect(page.locator("#restart-run")).to_be_enabled()
    probe.shot("failed-run")
    run_name = ui_client.get_flow_run(run_id)["name"]

    page.goto(ui_server.url + "/")
    failures = page.locator("section.card", has_text="Recent failures")
    expect(failures).to_contain_text(run_name)
    expect(failures).to_contain_text(f"RuntimeError: blocked by {blocker}")
    expect(page.locator("section.card", has_text="Agents")).to_contain_text("ui-test-agent")
    probe.shot("dashboard")

    page.goto(ui_server.url + "/runs")
    page.select_option("#filter-state", "Success")
    expect(page.locator("table.grid")).to_have_count(0)
    page.select_option("#filter-state", "Failed")
    expect(page.locator("a.runlink")).to_have_text([run_name])
    assert "state=Failed" in page.url
    # The state names and colours come from the server's GET /api/ui/states.
    answer = httpx.get(f"{ui_server.url}/api/ui/states", timeout=30).json()
    served = [st["name"] for st in answer["states"]]
    expect(page.locator("#filter-state option:not([value=''])")).to_have_text(served)
    expect(page.locator("table.grid .badge", has_text="Failed")).to_have_class(
        re.compile(r"\bst-bad\b")
    )
    probe.shot("runs-filtered")

    page.locator("a.runlink", has_text=run_name).click()
    blocker.unlink()
    page.click("#restart-run")
    expect(page.locator("#run-state")).to_have_text("Success", timeout=FINISH_TIMEOUT)
    run = ui_client.get_flow_run(run_id)
    assert run["state"] == "Success" and run["run_count"] == 2
    probe.shot("restarted-run")


def test_cancel_a_running_run(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client, agent: LocalAgent, demo_flow: str
) -> None:
    expect, page = _expect(), probe.page
    run_id = _start_from_form(probe, ui_server.url, demo_flow, pause="120")
    total = page.locator('svg.graph g.node[data-slug="total-1"]')
    expect(total).to_have_attribute("data-state", "Running", timeout=FINISH_TIMEOUT)
    expect(page.locator("#run-state")).to_have_text("Running")
    probe.shot("running")
    page.click("#cancel-run")
    expect(page.locator("#run-state")).to_have_text("Cancelled", timeout=FINISH_TIMEOUT)
    assert probe.dialogs == ["confirm: Cancel this run?"]
    assert ui_client.get_flow_run(run_id)["state"] == "Cancelled"
    expect(page.locator("#restart-run")).to_be_enabled()
    probe.shot("cancelled")


EVIL_NAME = '<img src=x onerror="window.__pwned=1">evil'
EVIL_PARAM = "<script>window.__pwned=2</script>"
EVIL_LOG = '<img src=y onerror="window.__pwned=3"> log line'
EVIL_MESSAGE = "<b onmouseover=alert(4)>oops</b>"


def test_user_text_is_rendered_as_text(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    expect, page = _expect(), probe.page
    doc = flow_document(
        EVIL_NAME,
        tasks=("a<script>", "b"),
        parameters=[{"name": "p", "slug": "p", "default": EVIL_PARAM, "required": False}],
    )
    flow = ui_client.register_document(doc, project_name=ui_client.create_project("p<i>")["name"])
    # labels are letters, digits and _ . : / @ = + - (markup in one is a 422 now)
    run = ui_client.create_flow_run(flow["id"], parameters={"p": EVIL_PARAM}, labels=["u-l"])
    move_run(ui_client, run["id"], "Running", "Failed", message=EVIL_MESSAGE)
    ui_client.write_logs([{"flow_run_id": run["id"], "message": EVIL_LOG, "level": 40}])

    pages = {
        "dashboard": ("/", [EVIL_MESSAGE]),
        "flows": ("/flows", [EVIL_NAME]),
        "flow": (f"/flows/{flow['id']}", [EVIL_NAME, "a<script>"]),
        "runs": ("/runs", [EVIL_NAME, "u-l"]),
        "run": (f"/runs/{run['id']}", [EVIL_PARAM, EVIL_LOG, EVIL_MESSAGE]),
    }
    for name, (path, texts) in pages.items():
        page.goto(ui_server.url + path)
        for text in texts:
            expect(page.locator("main")).to_contain_text(text)
        assert (
            page.locator(
                "main img, main script, main u, main [onerror], main [onmouseover]"
            ).count()
            == 0
        ), name
        assert page.evaluate("window.__pwned") is None, name
        probe.shot(f"escaped-{name}")
    assert page.input_value("#log-search") == ""
    assert probe.dialogs == []


def test_a_10000_child_run_refreshes_with_one_small_request(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    expect, page = _expect(), probe.page
    doc = flow_document("wide", tasks=("source", "fan", "sink"))
    for edge in doc["edges"]:
        edge["mapped"] = edge["downstream"] == "fan-1"
    flow = ui_client.register_document(doc, project_name=ui_client.create_project("big")["name"])
    run = ui_client.create_flow_run(flow["id"])
    mapped_run(ui_client, run["id"], "fan-1", 10_000, failed_every=97)
    failed = len(range(0, 10_000, 97))

    api_calls: list[tuple[str, int]] = []

    def on_response(response: Any) -> None:
        if "/api/" in response.url:
            api_calls.append((response.url, len(response.body())))

    page.on("response", on_response)
    page.goto(f"{ui_server.url}/runs/{run['id']}")
    node = page.locator('svg.graph g.node[data-slug="fan-1"]')
    expect(node).to_contain_text(f"mapped{TIMES}10,000")
    expect(page.locator(".legend").first).to_contain_text(f"Failed {failed}")
    deadline = time.monotonic() + 30
    while len(api_calls) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    probe.shot("run-10000-children")
    paths = {url.split("?")[0].split("/api", 1)[1] for url, _ in api_calls}
    assert paths == {f"/ui/flow_runs/{run['id']}"}, paths
    assert len(api_calls) >= 3, "the page did not keep refreshing"
    assert max(size for _, size in api_calls) < 30_000, api_calls

    page.click('a.children-link[data-slug="fan-1"]')
    expect(page.locator("#page-info")).to_have_text(f"1{DASH}50 of 10000")
    expect(page.locator(".legend")).to_contain_text(f"Success {10_000 - failed:,}")
    page.click("#next-page")
    expect(page.locator("#page-info")).to_have_text(f"51{DASH}100 of 10000")
    page.click('.chips button[data-state="Failed"]')
    expect(page.locator("#page-info")).to_have_text(f"1{DASH}50 of {failed}")
    expect(page.locator("table.grid tbody tr").first).to_contain_text("child 0 failed")
    probe.shot("children-10000")


def test_a_server_that_requires_a_key_asks_for_one(
    probe: PageProbe, tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil

    from tests.server.conftest import make_settings

    from headrace.server.domain.auth import create_api_key

    expect, page = _expect(), probe.page
    shutil.copy(sqlite_template, tmp_path / "keyed.db")
    live = LiveServer(
        make_settings(f"sqlite:///{tmp_path / 'keyed.db'}", require_api_key=True)
    ).start()
    try:
        with live.db.session() as session:
            _row, key = create_api_key(session, "ui")
        probe.errors_allowed = ("401",)  # the first, keyless request is refused by design
        page.goto(live.url + "/")
        expect(page.locator("h2", has_text="API key needed")).to_be_visible()
        probe.shot("key-form")
        page.fill('input[name="key"]', key)
        page.click('button[type="submit"]')
        expect(page.locator("h1")).to_have_text("Dashboard")
        expect(page.locator(".stat").first).to_contain_text("runs in 24 h")
        assert page.evaluate("localStorage.getItem('headrace.apiKey')") == key
        page.goto("about:blank")  # stop polling before this server goes away
    finally:
        live.stop()
