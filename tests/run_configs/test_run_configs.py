"""Run configs: each kind keeps its settings and labels, round-trips through JSON, and
refuses bad settings with an error naming them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from headrace.run_configs import DockerRun, KubernetesRun, LocalRun, RunConfig, UniversalRun
from headrace.serialization import load_run_config

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "spec": {"template": {"spec": {"containers": [{"name": "flow"}]}}},
}

CASES: list[tuple[RunConfig, dict[str, Any]]] = [
    (
        UniversalRun(labels=["b", "a"], env={"A": "1"}),
        {"type": "headrace.run_configs.base:UniversalRun", "labels": ["a", "b"], "env": {"A": "1"}},
    ),
    (
        LocalRun(env={"X": "y"}, working_dir=Path("/srv/work"), labels=["local"]),
        {
            "type": "headrace.run_configs.configs:LocalRun",
            "labels": ["local"],
            "env": {"X": "y"},
            "working_dir": "/srv/work",
        },
    ),
    (
        DockerRun(image="localhost:5000/flow:1", labels=["docker"]),
        {
            "type": "headrace.run_configs.configs:DockerRun",
            "labels": ["docker"],
            "env": {},
            "image": "localhost:5000/flow:1",
        },
    ),
    (
        KubernetesRun(
            image="repo/flow:2", job_template=JOB, cpu_request="500m", memory_request="1Gi"
        ),
        {
            "type": "headrace.run_configs.configs:KubernetesRun",
            "labels": [],
            "env": {},
            "image": "repo/flow:2",
            "job_template": JOB,
            "cpu_request": "500m",
            "memory_request": "1Gi",
            "service_account_name": None,
            "timeout": None,
        },
    ),
]


@pytest.mark.parametrize(("config", "expected"), CASES, ids=lambda c: type(c).__name__)
def test_round_trip(config: RunConfig, expected: Any) -> None:
    doc = config.serialize()
    assert doc == expected
    back = load_run_config(json.loads(json.dumps(doc)))
    assert type(back) is type(config)
    assert back == config
    assert back.labels == config.labels


def test_kubernetes_template_path_and_numbers() -> None:
    run = KubernetesRun(job_template="s3://bucket/job.yaml", cpu_request=2)
    assert (run.job_template, run.cpu_request) == ("s3://bucket/job.yaml", "2")
    assert load_run_config(run.serialize()) == run


def test_bad_settings() -> None:
    with pytest.raises(TypeError, match="labels must be a list"):
        UniversalRun(labels="gpu")
    with pytest.raises(TypeError, match="env entry 'A'=1"):
        LocalRun(env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="DockerRun: image"):
        DockerRun(image="")
    with pytest.raises(ValueError, match="must describe a Job, not 'Pod'"):
        KubernetesRun(job_template={"kind": "Pod"})
    with pytest.raises(TypeError, match="cpu_request must be a quantity"):
        KubernetesRun(cpu_request=True)
    assert UniversalRun() != LocalRun()
    assert LocalRun(labels=["a"]) != LocalRun(labels=["b"])
