"""Docker storage: naming and validation, and real image builds (a user Dockerfile, files,
environment variables, a pip dependency; a health check failing inside the image)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from headrace.serialization import load_storage
from headrace.serialization.errors import BuildError, FlowLoadError, HealthCheckError
from headrace.storage import Docker
from storage.test_local import flow_from_module
from support.flows import load_roundtrip_flow


def test_name_is_the_full_image_reference() -> None:
    storage = Docker(registry_url="gcr.io/dev/", image_name="custom-env-flow", image_tag="0.1.0")
    assert storage.name == "gcr.io/dev/custom-env-flow:0.1.0"
    assert Docker(image_name="local", image_tag="1").name == "local:1"
    with pytest.raises(ValueError, match="no name and tag until it is built"):
        _ = Docker().name


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="base_image or dockerfile"):
        Docker(base_image="x", dockerfile=str(tmp_path / "Dockerfile"))
    with pytest.raises(ValueError, match="'Bad Name' is not a valid image name"):
        Docker(image_name="Bad Name")
    with pytest.raises(ValueError, match="not a valid image tag"):
        Docker(image_tag=":nope")
    with pytest.raises(ValueError, match=r"dockerfile .* does not exist"):
        Docker(dockerfile=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="'relative/path' must be absolute"):
        Docker(files={str(tmp_path): "relative/path"})
    with pytest.raises(TypeError, match="env_vars must map strings"):
        Docker(env_vars={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(BuildError, match="holds no flows"):
        Docker(image_name="empty", image_tag="1").build()


def test_flow_lives_in_the_image_not_here() -> None:
    storage = Docker(image_name="elsewhere", image_tag="1")
    location = storage.add_flow(load_roundtrip_flow())
    assert location == "/opt/headrace/flows/roundtrip.flow"
    with pytest.raises(FlowLoadError, match="inside image elsewhere:1"):
        storage.get_flow(location)
    doc = storage.serialize()
    assert load_storage(json.loads(json.dumps(doc))).serialize() == doc


def run_in(daemon: Any, image: str, code: str) -> str:
    out: bytes = daemon.client().containers.run(
        image, ["python", "-c", code], network_mode="host", remove=True
    )
    return out.decode()


@pytest.mark.docker
def test_dockerfile_files_env_and_dependencies(
    tmp_path: Path, docker_daemon: Any, docker_registry: str, docker_base_image: str
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(f"FROM {docker_base_image}\nENV FROM_USER_DOCKERFILE=yes\n")
    (tmp_path / "data.txt").write_text("payload")
    storage = Docker(
        registry_url=docker_registry,
        image_name="features",
        image_tag=uuid.uuid4().hex[:8],
        dockerfile=str(dockerfile),
        env_vars={"FLOW_SETTING": 'a b "c"'},
        files={str(tmp_path / "data.txt"): "/srv/data.txt"},
        python_dependencies=["toolz"],  # from the package index, through the host's CA bundle
    )
    storage.add_flow(load_roundtrip_flow())
    storage.build()
    code = (
        "import os, toolz, headrace; "
        "print(os.environ['FROM_USER_DOCKERFILE'], os.environ['FLOW_SETTING'], "
        "open('/srv/data.txt').read(), headrace.__version__)"
    )
    import headrace

    assert run_in(docker_daemon, storage.name, code).strip() == (
        f'yes a b "c" payload {headrace.__version__}'
    )


@pytest.mark.docker
def test_health_check_inside_the_image_names_the_missing_module(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    docker_daemon: Any,
    docker_base_image: str,
) -> None:
    flow, module = flow_from_module(tmp_path, monkeypatch)  # importable here, not in the image
    storage = Docker(
        image_name="broken", image_tag=uuid.uuid4().hex[:8], base_image=docker_base_image
    )
    storage.add_flow(flow)
    with pytest.raises(HealthCheckError, match=f"needs module '{module}'") as info:
        storage.build()
    assert (info.value.check, info.value.culprit) == ("flow_loads", module)
    ignoring = Docker(
        image_name="broken",
        image_tag=uuid.uuid4().hex[:8],
        base_image=docker_base_image,
        ignore_healthchecks=True,
    )
    ignoring.add_flow(flow)
    ignoring.build()
    assert ignoring.last_health_report == []
