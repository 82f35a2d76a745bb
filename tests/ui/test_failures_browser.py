"""Why a run failed, in a real Chromium against a real server and a real local agent: the
run page shows the failing task runs, their messages and the first traceback at the top
without a click; graph nodes and Gantt bars link to task-run pages; a mapped node whose
children partly failed says so in red; the task-run page (also a mapped child's) shows the
error, attempts, history, neighbours and logs; the runs list shows the message under the
badge and searches names; the flow page's schedule toggle stops and restarts run creation.

Screenshots (for a person to look at) go to artifacts/screenshots/:
``test_a_failed_run_explains_itself_in_the_browser-failed-run.png`` (the run page) and
``...-task-run.png`` (the failing task run's page), among others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.agent.backend_support import register_script, wait_for_state
from tests.support.headrace_server import LiveServer
from tests.ui.conftest import PageProbe

from headrace.agent.local import LocalAgent
from headrace.client import Client

pytestmark = pytest.mark.browser

BILLING = Path(__file__).parents[1] / "cli" / "flows" / "billing.py"
MESSAGE = "row 2: amount 'oops' is not an integer"
FINISH_TIMEOUT = 90.0


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def agent(ui_server: LiveServer, agent_env: dict[str, str]) -> Iterator[LocalAgent]:
    local = LocalAgent(
        api_url=ui_server.url, name="ui-failures-agent", poll_interval=0.3, env=agent_env
    ).start()
    try:
        yield local
    finally:
        local.stop(stop_runs=True)


def test_a_failed_run_explains_itself_in_the_browser(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client, agent: LocalAgent
) -> None:
    expect, page = _expect(), probe.page
    flow_id = register_script(ui_client, BILLING, project="ui")
    run = ui_client.create_flow_run(flow_id)
    assert wait_for_state(ui_client, run["id"], timeout=FINISH_TIMEOUT)["state"] == "Failed"

    # The run page: why it failed, at the top, with no click.
    page.goto(f"{ui_server.url}/runs/{run['id']}")
    failures = page.locator("#failures")
    expect(failures).to_contain_text("Why it failed: 2 task runs failed")
    expect(failures).to_contain_text(f"Task 'parse_amounts' failed: ValueError: {MESSAGE}")
    expect(failures).to_contain_text("check[1]")
    first_traceback = failures.locator("details.traceback pre.tb").first
    expect(first_traceback).to_be_visible()
    expect(first_traceback).to_contain_text("Traceback (most recent call last):")
    expect(failures).to_contain_text("Not run because of them: total")
    # A mapped node whose children partly failed says how many, even though the reduce
    # (count, all_finished) succeeded.
    check = page.locator('svg.graph g.node[data-slug="check-1"]')
    expect(check.locator("text.failedcount")).to_have_text("1 failed")
    expect(page.locator('svg.graph g.node[data-slug="count-1"]')).to_have_attribute(
        "data-state", "Success"
    )
    parse_run = next(
        t for t in ui_client.get_task_runs(run["id"]) if t["task_name"] == "parse_amounts"
    )
    href = f"/task-runs/{parse_run['id']}"
    expect(page.locator(f'svg.graph a.nodelink[href="{href}"]')).to_have_count(1)
    expect(page.locator(f'svg.gantt a.barlink[href="{href}"]')).to_have_count(1)
    probe.shot("failed-run")

    # The task-run page, reached from the failure summary.
    failures.locator("a.tasklink", has_text="parse_amounts").click()
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    expect(page.locator("#task-state")).to_have_text("Failed")
    error = page.locator("#task-error")
    expect(error).to_contain_text(f"ValueError: {MESSAGE}")
    tb = error.locator("pre.tb")
    expect(tb).to_be_visible()
    expect(tb).to_contain_text("in parse_amounts")
    expect(tb).to_contain_text("in _amount")
    expect(page.locator("section.card", has_text="Attempts")).to_contain_text("ValueError")
    history = page.locator("section.card", has_text="State history")
    expect(history.locator(".badge")).to_have_text(["Running", "Failed"])
    neighbours = page.locator("section.card", has_text="Upstream and downstream")
    expect(neighbours).to_contain_text("load_rows")
    expect(neighbours).to_contain_text("total")
    expect(page.locator("#task-logs")).to_contain_text("Traceback (most recent call last):")
    expect(page.locator("#result-location")).to_have_text("not checkpointed")
    probe.shot("task-run")
    # The traceback folds away and opens again.
    error.locator("summary").click()
    expect(tb).to_be_hidden()
    error.locator("summary").click()
    expect(tb).to_be_visible()

    # A mapped child's own page, through the run's graph and the children list.
    page.goto(f"{ui_server.url}/runs/{run['id']}")
    page.locator('svg.graph a.nodelink:has(g.node[data-slug="check-1"])').click()
    page.locator("a.tasklink", has_text="1").first.click()
    expect(page.locator("h1")).to_have_text("check[1]")
    expect(page.locator("#task-error")).to_contain_text("ValueError: row 0: amount 'oops'")
    neighbours = page.locator("section.card", has_text="Upstream and downstream")
    expect(neighbours).to_contain_text("load_rows")
    probe.shot("mapped-child")

    # The runs list: the message under the badge, a link to the failing task run, search.
    page.goto(f"{ui_server.url}/runs")
    note = page.locator(".runs-state-message").first
    expect(note).to_contain_text("Some reference tasks failed.")
    expect(note.locator("a.tasklink")).to_have_count(1)
    page.fill("#filter-search", "nothing-called-this")
    expect(page.locator("a.runlink")).to_have_count(0)
    assert "q=nothing-called-this" in page.url
    page.fill("#filter-search", "BILLING")
    expect(page.locator("a.runlink")).to_have_count(1)
    assert "q=BILLING" in page.url
    page.reload()  # the filters are in the URL, so a reload keeps them
    expect(page.locator("#filter-search")).to_have_value("BILLING")
    probe.shot("runs-searched")


def test_the_schedule_toggle_stops_and_restarts_run_creation(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    from headrace import Flow, task
    from headrace.schedules import IntervalSchedule
    from headrace.server.services import schedule_flow_runs

    @task
    def tick() -> None:
        return None

    with Flow("ticking", schedule=IntervalSchedule(interval=timedelta(minutes=5))) as flow:
        tick()
    flow_id = ui_client.register(flow, project_name="ui", build=False)
    settings = ui_server.settings
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/flows/{flow_id}")
    toggle = page.locator("#schedule-toggle")
    expect(toggle).to_have_text("Turn schedule off")
    toggle.click()
    expect(toggle).to_have_text("Turn schedule on")
    expect(page.locator("#schedule")).to_contain_text("(paused)")
    probe.shot("schedule-off")
    assert schedule_flow_runs(ui_server.db, settings) == 0
    assert ui_client.get_flow_runs(flow_id=flow_id) == []
    toggle.click()
    expect(toggle).to_have_text("Turn schedule off")
    expect(page.locator("#schedule")).to_contain_text("(active)")
    assert schedule_flow_runs(ui_server.db, settings) > 0
    assert ui_client.get_flow_runs(flow_id=flow_id)


def test_a_run_whose_flow_cannot_load_shows_the_storage_error(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    from headrace import Flow, task
    from headrace.client.backend import execute_flow_run

    @task
    def one() -> int:
        return 1

    with Flow("unloadable") as flow:
        one()
    document = flow.serialize()
    document["storage"] = {
        "type": "headrace.storage:Module",
        "module": "no_such_module_xyz:flow",
        "labels": [],
        "secrets": [],
        "flows": {"unloadable": "no_such_module_xyz:flow"},
    }
    project = ui_client.create_project("broken", exist_ok=True)
    flow_id = ui_client.register_document(document, project_id=project["id"])["id"]
    run = ui_client.create_flow_run(flow_id)
    assert execute_flow_run(run["id"], client=ui_client, exit_on_cancel=False) == "Failed"
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/runs/{run['id']}")
    failures = page.locator("#failures")
    expect(failures).to_contain_text("Why it failed: the flow run itself failed")
    expect(failures).to_contain_text("no_such_module_xyz")
    expect(failures.locator("pre.tb")).to_contain_text("Traceback (most recent call last):")
    probe.shot("unloadable-run")
