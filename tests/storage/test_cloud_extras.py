"""GCS and Azure storages: no Google Cloud Storage or Azure Blob server (nor an emulator)
is available to these tests, and ``gcsfs`` / ``adlfs`` are not installed in the test
environment, so what is checked is the clear ``MissingExtraError`` naming package and
extra (forced even where the packages are installed), the JSON round trip through the
flow document, and the settings' checks. Uploads and loads are not exercised here."""

from __future__ import annotations

import json
import sys

import pytest

from headrace.exceptions import MissingExtraError
from headrace.serialization import load_flow_document, load_storage
from headrace.storage import GCS, Azure
from headrace.storage.credentials import MissingSecretError
from support.flows import load_roundtrip_flow


@pytest.mark.parametrize(
    ("storage", "package", "extra"),
    [
        (GCS("flows", project="analytics"), "gcsfs", "gcs"),
        (Azure("flows", connection_string_secret="AZ_CONN"), "adlfs", "azure"),
    ],
)
def test_a_missing_package_names_package_and_extra(
    storage: GCS | Azure, package: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # import fails as if not installed
    key = storage.add_flow(load_roundtrip_flow())
    with pytest.raises(MissingExtraError, match=rf"'{package}'.*headrace\[{extra}\]") as info:
        storage.build()
    assert (info.value.module, info.value.extra) == (package, extra)
    with pytest.raises(MissingExtraError, match=package):
        storage.get_flow(key)


def test_the_json_form_round_trips_through_the_flow_document() -> None:
    for storage in (
        GCS("flows", key="team/flow.bin", project="analytics", labels=["gcp"]),
        GCS("flows", key="team/flow.py", stored_as_script=True, local_script_path="flow.py"),
        Azure("flows", connection_string_secret="AZ_CONN", blob_name="b/flow", overwrite=True),
    ):
        flow = load_roundtrip_flow()
        flow.storage = storage
        storage.add_flow(flow)
        doc = json.loads(json.dumps(flow.serialize()))
        loaded = load_flow_document(doc).storage
        assert type(loaded) is type(storage)
        assert loaded.serialize() == storage.serialize() == doc["storage"]
    azure = load_storage(doc["storage"])
    assert isinstance(azure, Azure)
    assert (azure.container, azure.blob_name, azure.overwrite) == ("flows", "b/flow", True)
    assert azure.connection_string_secret == "AZ_CONN"


def test_default_keys_are_per_flow_and_timestamped() -> None:
    storage = GCS("flows")
    key = storage.add_flow(load_roundtrip_flow())
    assert key.startswith("roundtrip/") and len(key) > len("roundtrip/2026")
    assert storage.serialize()["flows"] == {"roundtrip": key}
    assert storage.serialize()["key"] is None


def test_azure_needs_a_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(MissingSecretError, match="AZURE_STORAGE_CONNECTION_STRING"):
        Azure("flows").connection_string()
    with pytest.raises(MissingSecretError, match="'AZ_CONN'"):
        Azure("flows", connection_string_secret="AZ_CONN").connection_string()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=x;AccountKey=y")
    assert Azure("flows").connection_string() == "AccountName=x;AccountKey=y"


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="needs a bucket name"):
        GCS("flows/sub")
    with pytest.raises(ValueError, match="needs a container name"):
        Azure("")
    with pytest.raises(ValueError, match="needs blob_name="):
        Azure("flows", stored_as_script=True).add_flow(load_roundtrip_flow())
