"""Names and labels have a documented character set and length: a flow name with ``../``,
a project ``../../etc``, a label with markup or a space is a 422 naming the field; the
names people use (spaces, unicode, punctuation) are accepted. Real server over HTTP."""

from __future__ import annotations

import httpx
import pytest
from tests.server.conftest import flow_document
from tests.support.headrace_server import LiveServer

from headrace.client import Client
from headrace.client.errors import ValidationError


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", "tab\there", " lead", "a\\b"])
def test_bad_flow_and_project_names_are_refused(client: Client, name: str) -> None:
    with pytest.raises(ValidationError, match="a name is 1-200 characters"):
        client.create_project(name)
    project = client.create_project("ok")
    with pytest.raises(ValidationError, match=r"document\.name"):
        client.register_document(flow_document(name=name), project_id=project["id"])


def test_usual_names_are_accepted(client: Client) -> None:
    for name in ("ETL nightly", "Ünïcödé flow", "etl-v2.1 (beta)", "<b>bold<b> is fine"):
        project = client.create_project(name)
        flow = client.register_document(flow_document(name=name), project_id=project["id"])
        assert client.get_flow(flow["id"])["name"] == name


@pytest.mark.parametrize("label", ["", " ", "<u>l", "a b", "-x", "x" * 101, "é"])
def test_bad_labels_are_refused_everywhere(server: LiveServer, client: Client, label: str) -> None:
    project = client.create_project("p")
    flow = client.register_document(flow_document(), project_id=project["id"])
    for path, body in (
        ("/api/agents", {"name": "a", "labels": [label]}),
        ("/api/flow_runs", {"flow_id": flow["id"], "labels": [label]}),
        (
            "/api/flows",
            {"project_id": project["id"], "document": flow_document(), "labels": [label]},
        ),
    ):
        answer = httpx.post(server.url + path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert "labels" in answer.json()["field"]
    document = flow_document(name="env-labels")
    document["environment"]["labels"] = [label]
    answer = httpx.post(
        server.url + "/api/flows", json={"project_id": project["id"], "document": document}
    )
    assert answer.status_code == 422 and "environment.labels" in answer.json()["field"]


def test_usual_labels_are_accepted(client: Client) -> None:
    labels = ["gpu", "host-a.example.com", "team:data", "zone=eu/1", "k8s", "_x", "a@b+c"]
    assert client.register_agent("a", labels=labels)["labels"] == sorted(labels)


def test_every_engine_state_name_is_a_state_the_api_takes(client: Client) -> None:
    """The API's state names come from the engine's state kinds (a state added to the
    engine, such as ``Looped``, is filterable at once) plus the server's ``Cancelling``."""
    from headrace.engine.state import KINDS
    from headrace.wire.names import STATE_NAME_VALUES

    assert set(STATE_NAME_VALUES) == {k.__name__ for k in KINDS} | {"Cancelling"}
    assert client.get_flow_runs(state=["Looped"]) == []
    with pytest.raises(ValidationError, match="Loopy"):
        client.get_flow_runs(state=["Loopy"])
