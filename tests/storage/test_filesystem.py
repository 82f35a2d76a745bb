"""FileSystem storage on a local path and on a real S3-compatible server (moto) on
loopback."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from headrace.serialization import load_storage
from headrace.serialization.errors import BuildError, FlowLoadError
from headrace.storage import FileSystem
from support.flows import load_roundtrip_flow


def test_upload_happens_at_build(tmp_path: Path) -> None:
    storage = FileSystem(f"file://{tmp_path}/flows/")
    location = storage.add_flow(load_roundtrip_flow())
    assert location == f"file://{tmp_path}/flows/roundtrip.flow"
    with pytest.raises(FlowLoadError, match="was the storage built"):
        storage.get_flow(location)
    storage.build()
    assert (tmp_path / "flows" / "roundtrip.flow").is_file()


def test_credentials_stay_out_of_the_document(s3_server: str) -> None:
    import s3fs

    bucket = f"creds-{uuid.uuid4().hex[:8]}"
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": s3_server, "aws_session_token": "t0ken"},
    }
    s3fs.S3FileSystem(**options).mkdir(bucket)
    storage = FileSystem(f"s3://{bucket}", storage_options=options)
    storage.add_flow(load_roundtrip_flow())
    storage.build()
    doc = storage.serialize()
    assert doc["storage_options"] == {"client_kwargs": {"endpoint_url": s3_server}}
    assert "testing" not in str(doc) and "t0ken" not in str(doc)
    # Where the flow loads, the credentials come from the environment (set by s3_server).
    assert load_storage(doc).get_flow("roundtrip").run().is_successful()


def test_upload_failure_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    storage = FileSystem(f"file://{tmp_path}/a-file/flows")
    storage.add_flow(load_roundtrip_flow())
    with pytest.raises(BuildError, match="uploading flow 'roundtrip' failed"):
        storage.build()
    with pytest.raises(ValueError, match="needs a URL"):
        FileSystem("")
