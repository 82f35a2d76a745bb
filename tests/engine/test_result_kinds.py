"""The result kinds beyond LocalResult: fsspec URLs with templated locations, the S3, GCS
and Azure spellings of it, PrefectResult, ConstantResult and SecretResult; checkpointing a
flow through them, and what each tells the server (never credentials or values it should
not)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from headrace import Flow, task
from headrace.client.backend.states import state_from_json, state_parts
from headrace.engine.errors import ResultError
from headrace.engine.results import (
    AzureResult,
    ConstantResult,
    FSSpecResult,
    GCSResult,
    JSONSerializer,
    PrefectResult,
    S3Result,
    SecretResult,
)
from headrace.engine.state import Success
from headrace.tasks import EnvVarSecret


def test_fsspec_result_fills_its_location_template_and_round_trips() -> None:
    base = f"memory://results-{uuid.uuid4().hex}"
    result = FSSpecResult(
        base, location="{flow_name}/{task_name}-{map_index}.json", serializer=JSONSerializer()
    )
    written = result.write({"rows": 3}, flow_name="etl", task_name="load", map_index=2)
    assert written.location == "etl/load-2.json"
    assert result.exists(
        "{flow_name}/{task_name}-{map_index}.json", flow_name="etl", task_name="load", map_index=2
    )
    assert not result.exists("etl/other.json")
    assert result.read("etl/load-2.json").value == {"rows": 3}
    import fsspec

    assert json.loads(fsspec.open(f"{base}/etl/load-2.json").open().read()) == {"rows": 3}


def test_file_urls_work_and_missing_results_name_their_url(tmp_path: Path) -> None:
    result = FSSpecResult(f"file://{tmp_path}/deep/er")
    written = result.write([1, 2], task_slug="t-1")
    assert (tmp_path / "deep" / "er" / written.location).exists()
    assert result.read(written.location).value == [1, 2]
    with pytest.raises(ResultError, match=r"cannot read the result at file://.*/nope.pickle"):
        result.read("nope.pickle")


@pytest.mark.parametrize(
    ("result", "url"),
    [
        (
            S3Result("bucket/prefix", boto3_kwargs={"endpoint_url": "http://x"}),
            "s3://bucket/prefix",
        ),
        (GCSResult("bkt"), "gcs://bkt"),
        (AzureResult("box", connection_string="AccountKey=SECRETKEY"), "az://box"),
    ],
)
def test_cloud_results_are_spellings_of_an_fsspec_url_and_keep_options_local(
    result: FSSpecResult, url: str
) -> None:
    result.location = "a/b.pickle"
    doc = result.to_dict()
    assert doc["dir"] == url
    assert doc["type"] == "headrace.engine.results.remote:FSSpecResult"
    assert "SECRETKEY" not in json.dumps(doc) and "http://x" not in json.dumps(doc)
    assert result.url("a/b.pickle") == f"{url}/a/b.pickle"


def test_s3_result_passes_boto3_kwargs_to_the_client() -> None:
    result = S3Result("b", boto3_kwargs={"endpoint_url": "http://127.0.0.1:9"})
    assert result.storage_options == {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}}


@pytest.mark.parametrize("bad", ["relative/dir", None, "/abs/path"])
def test_fsspec_result_needs_a_url(bad) -> None:
    with pytest.raises(ResultError, match="needs dir= as a URL"):
        FSSpecResult(bad)


def test_prefect_result_keeps_the_json_value_as_its_location() -> None:
    written = PrefectResult().write({"a": [1, 2]})
    assert json.loads(written.location) == {"a": [1, 2]}
    name, _message, serialized = state_parts(Success("ok", {"a": [1, 2]}, persisted=written))
    restored = state_from_json(name, "ok", json.loads(json.dumps(serialized)))
    assert restored.result == {"a": [1, 2]}
    with pytest.raises(ResultError, match="at most 65536 bytes"):
        PrefectResult().write("x" * 70_000)
    with pytest.raises(ResultError, match="not JSON-serializable"):
        PrefectResult().write(object())


def test_constant_result_reads_its_constant_and_refuses_writes() -> None:
    constant = ConstantResult(value=[4, 5])
    assert constant.read(constant.location).value == [4, 5]
    with pytest.raises(ResultError, match="cannot be written"):
        constant.write(1)
    # A state holding it comes back from the server's JSON with the same value.
    name, _m, serialized = state_parts(Success("c", [4, 5], persisted=constant))
    assert state_from_json(name, "c", serialized).result == [4, 5]


def test_secret_result_stores_the_name_and_reads_the_secret_again(monkeypatch) -> None:
    monkeypatch.setenv("HR_TEST_SECRET", "v1")
    secret = EnvVarSecret("HR_TEST_SECRET")
    assert isinstance(secret.result, SecretResult)
    written = secret.result.write("v1")
    assert written.location == "HR_TEST_SECRET"
    assert "v1" not in json.dumps(written.to_dict())
    monkeypatch.setenv("HR_TEST_SECRET", "v2")
    assert secret.result.read(written.location).value == "v2"


def test_a_flow_checkpoints_through_an_fsspec_result() -> None:
    base = f"memory://flow-{uuid.uuid4().hex}"

    @task(result=FSSpecResult(base, location="{flow_name}/{task_slug}.pickle"), checkpoint=True)
    def produce() -> dict:
        return {"x": 1}

    with Flow("ckpt") as flow:
        p = produce()
    state = flow.run()
    persisted = state.result[p].persisted
    assert persisted.location.startswith("ckpt/")
    assert FSSpecResult(base).read(persisted.location).value == {"x": 1}
