"""Webhook storage against a real HTTP server on 127.0.0.1 (``support.repo_hosts.FlowDrop``,
an ``http.server`` that stores a request's body under its path and returns it on GET):
uploads, fetches, ``${NAME}`` templating from the environment and from secrets, and the
errors of a refused or missing request."""

from __future__ import annotations

import json

import pytest

from headrace import Flow, context
from headrace._serializable.errors import BuildError, FlowLoadError
from headrace.serialization import load_flow_document, load_storage
from headrace.storage import Webhook
from headrace.storage.credentials import MissingSecretError
from headrace.utilities.secrets import redact
from support.flows import load_roundtrip_flow, outcome
from support.repo_hosts import FlowDrop


def _storage(drop: FlowDrop, header: str = "Bearer ${DROP_TOKEN}", **kwargs: object) -> Webhook:
    url = f"{drop.url}/flows/${{FLOW_ID}}"
    return Webhook(
        build_request_kwargs={"url": url, "headers": {"Authorization": header}},
        build_request_http_method="POST",
        get_flow_request_kwargs={"url": url, "headers": {"Authorization": header}},
        get_flow_request_http_method="GET",
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_flow_builds_uploads_loads_and_runs_end_to_end(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DROP_TOKEN", flow_drop.token)
    monkeypatch.setenv("FLOW_ID", "abc123")
    flow = load_roundtrip_flow()
    flow.storage = _storage(flow_drop)
    doc = flow.serialize(build=True)
    assert list(flow_drop.stored) == ["/flows/abc123"]
    assert flow_drop.requests[0]["method"] == "POST"

    text = json.dumps(doc)
    assert flow_drop.token not in text and "abc123" not in text
    assert doc["storage"]["build_request_kwargs"]["url"].endswith("/flows/${FLOW_ID}")

    storage = load_flow_document(json.loads(text)).storage
    assert isinstance(storage, Webhook)
    assert outcome(storage.get_flow("roundtrip").run())["total"] == 18
    assert outcome(storage.get_flow().run(n=2))["total"] == 1 + 2


def test_a_template_falls_back_to_a_secret_and_the_value_is_masked(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("DROP_TOKEN", raising=False)
    monkeypatch.setenv("FLOW_ID", "from-secret")
    storage = _storage(flow_drop)
    storage.add_flow(load_roundtrip_flow())
    with context(secrets={"DROP_TOKEN": flow_drop.token}):
        storage.build(run_health_checks=False)
        flow = storage.get_flow()
    assert flow.name == "roundtrip"
    assert redact(f"token {flow_drop.token}") == "token ********"
    assert flow_drop.token not in json.dumps(storage.serialize())
    assert flow_drop.token not in caplog.text


def test_a_missing_template_value_names_the_secret(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOW_ID", "x")
    storage = _storage(flow_drop, header="Bearer ${NOWHERE_TOKEN}")
    with pytest.raises(MissingSecretError, match="'NOWHERE_TOKEN'") as info:
        storage.get_flow()
    assert info.value.secret == "NOWHERE_TOKEN"


def test_a_refused_request_names_the_template_never_the_value(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DROP_TOKEN", "wrong-token-value")
    monkeypatch.setenv("FLOW_ID", "refused")
    storage = _storage(flow_drop)
    storage.add_flow(load_roundtrip_flow())
    with pytest.raises(BuildError, match=r"refused \(401\).*\$\{DROP_TOKEN\}") as info:
        storage.build()
    assert "wrong-token-value" not in str(info.value)
    with pytest.raises(FlowLoadError, match=r"401") as loading:
        storage.get_flow()
    assert "wrong-token-value" not in str(loading.value)


def test_nothing_stored_is_a_404_naming_the_url_template(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DROP_TOKEN", flow_drop.token)
    monkeypatch.setenv("FLOW_ID", "never-built")
    with pytest.raises(FlowLoadError, match=r"GET .*/flows/\$\{FLOW_ID\} answered 404"):
        _storage(flow_drop).get_flow()


def test_a_script_is_sent_and_loaded_back(
    flow_drop: FlowDrop, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.flows import ROUNDTRIP_SCRIPT

    monkeypatch.setenv("DROP_TOKEN", flow_drop.token)
    monkeypatch.setenv("FLOW_ID", "script")
    storage = _storage(flow_drop, stored_as_script=True, flow_script_path=str(ROUNDTRIP_SCRIPT))
    storage.add_flow(load_roundtrip_flow())
    storage.build()
    assert flow_drop.stored["/flows/script"] == ROUNDTRIP_SCRIPT.read_bytes()
    assert outcome(load_storage(storage.serialize()).get_flow().run())["total"] == 18
    with pytest.raises(ValueError, match="needs flow_script_path"):
        _storage(flow_drop, stored_as_script=True).add_flow(Flow("f"))


def test_settings_are_checked(flow_drop: FlowDrop) -> None:
    good = {"url": f"{flow_drop.url}/x"}
    with pytest.raises(ValueError, match="build_request_http_method must be one of"):
        Webhook(good, "GET", good, "GET")
    with pytest.raises(ValueError, match=r"unknown request keywords \['body'\]"):
        Webhook({**good, "body": "x"}, "POST", good, "GET")
    with pytest.raises(ValueError, match="needs a 'url'"):
        Webhook({}, "POST", good, "GET")
    with pytest.warns(UserWarning, match="header 'Authorization'.*literal value"):
        Webhook({**good, "headers": {"Authorization": "Bearer abc"}}, "POST", good, "GET")
