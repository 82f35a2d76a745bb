"""Artifacts a real task made (run by a real agent) shown in Chromium on the run page and
the task-run page, as text; parent and child runs linked both ways on the run page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agent.backend_support import register_script, wait_for_state
from tests.server.conftest import flow_document
from tests.support.headrace_server import LiveServer
from tests.ui.conftest import PageProbe

from headrace.agent.local import LocalAgent
from headrace.client import Client

pytestmark = pytest.mark.browser

FLOW = Path(__file__).with_name("flows") / "artifacts_demo.py"


@pytest.fixture
def agent(ui_server: LiveServer, agent_env: dict[str, str]) -> Iterator[LocalAgent]:
    local = LocalAgent(api_url=ui_server.url, name="art", poll_interval=0.3, env=agent_env)
    local.start()
    try:
        yield local
    finally:
        local.stop(stop_runs=True)


def _expect():
    from playwright.sync_api import expect

    return expect


def test_artifacts_render_as_text_on_the_run_and_task_pages(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client, agent: LocalAgent
) -> None:
    run = ui_client.create_flow_run(register_script(ui_client, FLOW, project="ui"))
    assert wait_for_state(ui_client, run["id"])["state"] == "Success"
    made = ui_client.get_artifacts(run["id"])
    assert [a["kind"] for a in made] == ["markdown", "link", "table"]
    assert all(a["task_run_id"] for a in made)
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/runs/{run['id']}")
    box = page.locator("#run-artifacts")
    expect(box.locator("h3")).to_have_text("Nightly report")
    expect(box.locator(".markdown strong")).to_have_text("rows")
    expect(box.locator(".markdown code")).to_have_text("1200")
    expect(box.locator(".markdown a")).to_have_attribute("href", "https://example.com/docs")
    expect(box.locator("[data-kind=link] a")).to_have_attribute(
        "href", "https://example.com/report.html"
    )
    expect(box.locator("table td").nth(2)).to_contain_text("<b>us</b><img")
    expect(box).to_contain_text('<img src=x onerror="window.__pwned=1">')
    expect(box.locator(".unsafe-link")).to_contain_text("javascript:window.__pwned=2")
    assert page.locator("main img, main b, main [onerror]").count() == 0
    assert page.locator('main a[href^="javascript"]').count() == 0
    assert page.evaluate("window.__pwned") is None
    probe.shot("artifacts-run")
    box.locator("a.artifact-task").first.click()
    expect(page.locator("#task-artifacts h3")).to_have_text("Nightly report")
    expect(page.locator("#task-artifacts table")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    probe.shot("artifacts-task")
    assert probe.dialogs == []


def test_parent_and_child_runs_link_both_ways(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    project = ui_client.create_project("links")
    parent_flow = ui_client.register_document(flow_document("parent"), project_id=project["id"])
    child_flow = ui_client.register_document(flow_document("child"), project_id=project["id"])
    parent = ui_client.create_flow_run(parent_flow["id"])
    starter = ui_client.get_task_runs(parent["id"])[0]
    child = ui_client.create_flow_run(child_flow["id"], parent_task_run_id=starter["id"])
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/runs/{child['id']}")
    expect(page.locator("#parent-run")).to_contain_text(starter["task_name"])
    page.locator("a.parent-link").click()
    expect(page.locator("a.child-link")).to_have_text(child["name"])
    page.locator("a.child-link").click()
    expect(page.locator("#parent-run")).to_be_visible()
    probe.shot("parent-child")


def test_the_flow_page_shows_next_runs_with_their_clocks_parameters(
    probe: PageProbe, ui_server: LiveServer, ui_client: Client
) -> None:
    from datetime import UTC, datetime, timedelta

    from headrace.schedules import IntervalClock, Schedule
    from headrace.server.services import schedule_flow_runs

    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    schedule = Schedule(
        [
            IntervalClock(
                timedelta(minutes=20),
                start_date=start,
                parameter_defaults={"region": "<eu>"},
                labels=["gpu"],
            )
        ]
    )
    params = [{"name": "region", "default": "us", "required": False}]
    doc = flow_document("scheduled", parameters=params, schedule=schedule.serialize())
    flow = ui_client.register_document(doc, project_name=ui_client.create_project("s")["name"])
    assert schedule_flow_runs(ui_server.db, ui_server.settings) >= 1
    expect, page = _expect(), probe.page
    page.goto(f"{ui_server.url}/flows/{flow['id']}")
    expect(page.locator("main")).to_contain_text('with region="<eu>" labels gpu')
    expect(page.locator("main .params").first).to_have_text('region="<eu>"')
    assert page.locator("main eu").count() == 0
    probe.shot("flow-upcoming-parameters")
