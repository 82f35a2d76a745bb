"""Docker storage tells its build and push as they happen: every build step and each
layer's push status reach the ``headrace.storage.docker`` logger at INFO while the engine
works (a real dockerd, a real registry)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from headrace.storage import Docker
from support.flows import load_roundtrip_flow


@pytest.mark.docker
def test_build_and_push_stream_their_progress(
    caplog: pytest.LogCaptureFixture,
    docker_daemon: Any,
    docker_registry: str,
    docker_base_image: str,
) -> None:
    storage = Docker(
        registry_url=docker_registry,
        image_name="progress",
        image_tag=uuid.uuid4().hex[:8],
        base_image=docker_base_image,
    )
    storage.add_flow(load_roundtrip_flow())
    seen: list[tuple[float, str]] = []

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append((record.created, record.getMessage()))

    watch = Watch(logging.INFO)
    logger = logging.getLogger("headrace.storage.docker")
    logger.addHandler(watch)
    try:
        with caplog.at_level(logging.INFO, logger="headrace.storage.docker"):
            storage.build()
    finally:
        logger.removeHandler(watch)
    lines = [text for _, text in seen]
    assert lines[0] == f"building image {storage.name}"
    steps = [line for line in lines if ": Step " in line]
    assert steps and steps[0].startswith(f"image {storage.name}: Step 1/")
    total = int(steps[0].split("Step 1/")[1].split(" ")[0])
    assert len(steps) == total, "every step is told"
    assert any(line.startswith(f"built image {storage.name} in ") for line in lines)
    pushes = [line for line in lines if line.startswith(f"push {storage.name}: ")]
    assert lines.index(f"pushing image {storage.name}") > lines.index(steps[-1])
    assert any("Pushed" in line or "Layer already exists" in line for line in pushes)
    # the step lines arrived while the build ran, not all at its end
    step_times = [t for t, text in seen if ": Step " in text]
    assert step_times == sorted(step_times)
