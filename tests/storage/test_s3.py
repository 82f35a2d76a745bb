"""S3 storage against a real S3-compatible HTTP server: moto's server mode on 127.0.0.1
(``support.s3``) stands in for Amazon S3, which these tests cannot reach. Everything goes
through s3fs and botocore over HTTP, as it would against AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import s3fs

from headrace._serializable.errors import BuildError, FlowLoadError, StorageError
from headrace.serialization import load_flow_document, load_storage
from headrace.storage import S3
from storage.kinds import make_bucket
from support.flows import ROUNDTRIP_SCRIPT, load_roundtrip_flow, outcome


def _fs(endpoint: str) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True)


def test_a_flow_builds_uploads_loads_and_runs_end_to_end(s3_server: str) -> None:
    bucket = make_bucket(s3_server)
    flow = load_roundtrip_flow()
    flow.storage = S3(
        bucket,
        client_options={"endpoint_url": s3_server},
        upload_options={"Metadata": {"team": "data"}},
    )
    doc = flow.serialize(build=True)  # adds the flow, uploads it, runs the health checks
    key = doc["storage"]["flows"]["roundtrip"]
    assert key.startswith("roundtrip/")
    head = _fs(s3_server).info(f"{bucket}/{key}")
    assert head["size"] > 0
    meta = _fs(s3_server).call_s3("head_object", Bucket=bucket, Key=key)["Metadata"]
    assert meta == {"team": "data"}

    storage = load_flow_document(json.loads(json.dumps(doc))).storage
    assert isinstance(storage, S3)
    loaded = storage.get_flow(key)
    assert outcome(loaded.run()) == {"state": "Success", "total": 18, "square": [1, 2, 5, 10]}
    assert outcome(storage.get_flow("roundtrip").run(n=2))["total"] == 1 + 2


def test_each_flow_gets_its_own_object_unless_a_key_is_given(s3_server: str) -> None:
    bucket = make_bucket(s3_server)
    storage = S3(bucket, client_options={"endpoint_url": s3_server})
    first = storage.add_flow(load_roundtrip_flow())
    from headrace import Flow

    second = storage.add_flow(Flow("second flow"))
    assert first != second and second.startswith("second-flow/")
    storage.build()
    assert sorted(_fs(s3_server).find(bucket)) == sorted(f"{bucket}/{k}" for k in (first, second))

    keyed = S3(bucket, key="fixed/flow.bin", client_options={"endpoint_url": s3_server})
    assert keyed.add_flow(load_roundtrip_flow()) == "fixed/flow.bin"
    with pytest.raises(StorageError, match=r"key='fixed/flow\.bin' holds one flow"):
        keyed.add_flow(Flow("other"))


def test_a_script_is_uploaded_from_local_script_path(s3_server: str, tmp_path: Path) -> None:
    bucket = make_bucket(s3_server)
    storage = S3(
        bucket,
        key="scripts/roundtrip.py",
        stored_as_script=True,
        local_script_path=str(ROUNDTRIP_SCRIPT),
        client_options={"endpoint_url": s3_server},
    )
    storage.add_flow(load_roundtrip_flow())
    storage.build()
    assert _fs(s3_server).cat(f"{bucket}/scripts/roundtrip.py") == ROUNDTRIP_SCRIPT.read_bytes()
    rebuilt = load_storage(storage.serialize())
    assert outcome(rebuilt.get_flow().run())["total"] == 18

    with pytest.raises(ValueError, match="needs key="):
        S3(bucket, stored_as_script=True).add_flow(load_roundtrip_flow())


def test_a_missing_bucket_is_named_at_build_and_at_load(s3_server: str) -> None:
    storage = S3("no-such-bucket", client_options={"endpoint_url": s3_server})
    storage.add_flow(load_roundtrip_flow())
    with pytest.raises(BuildError, match="bucket 'no-such-bucket' does not exist"):
        storage.build()
    with pytest.raises(FlowLoadError, match="bucket 'no-such-bucket' does not exist"):
        storage.get_flow("roundtrip")


def test_a_missing_object_says_the_storage_was_not_built(s3_server: str) -> None:
    bucket = make_bucket(s3_server)
    storage = S3(bucket, client_options={"endpoint_url": s3_server})
    key = storage.add_flow(load_roundtrip_flow())
    with pytest.raises(FlowLoadError, match=rf"s3://{bucket}/{key}.*was the storage built"):
        storage.get_flow(key)


def test_credentials_in_client_options_are_used_but_never_recorded(s3_server: str) -> None:
    bucket = make_bucket(s3_server)
    storage = S3(
        bucket,
        client_options={
            "endpoint_url": s3_server,
            "aws_access_key_id": "AKIDSTORAGETEST",
            "aws_secret_access_key": "very-secret-value",
            "aws_session_token": "session-token-value",
            "region_name": "us-east-1",
        },
    )
    storage.add_flow(load_roundtrip_flow())
    storage.build(run_health_checks=False)
    text = json.dumps(storage.serialize())
    for value in ("AKIDSTORAGETEST", "very-secret-value", "session-token-value"):
        assert value not in text
    assert storage.serialize()["client_options"] == {
        "endpoint_url": s3_server,
        "region_name": "us-east-1",
    }
    assert storage.get_flow("roundtrip").name == "roundtrip"


def test_a_pickled_storage_leaves_its_credentials_behind() -> None:
    import cloudpickle

    storage = S3("flows", client_options={"aws_secret_access_key": "pickled-secret-value"})
    assert b"pickled-secret-value" not in cloudpickle.dumps(storage)
    assert storage._client_options["aws_secret_access_key"] == "pickled-secret-value"
