"""The public names of DESIGN.md import, and each package's ``__all__`` lists real names."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "headrace": ["task", "Task", "Flow", "Parameter", "unmapped", "flatten", "config", "context"],
    "headrace.engine": ["get_default_executor_class", "get_default_flow_runner_class"],
    "headrace.engine.state": [
        "State",
        "Pending",
        "Scheduled",
        "Submitted",
        "Running",
        "Retrying",
        "Success",
        "Cached",
        "Mapped",
        "Skipped",
        "Paused",
        "Failed",
        "TriggerFailed",
        "TimedOut",
        "Cancelled",
        "Queued",
        "ValidationFailed",
    ],
    "headrace.engine.signals": [
        "FAIL",
        "SKIP",
        "RETRY",
        "ENDRUN",
        "PAUSE",
        "VALIDATIONFAIL",
        "signal_from_state",
    ],
    "headrace.triggers": [
        "all_successful",
        "all_failed",
        "any_successful",
        "any_failed",
        "all_finished",
        "always_run",
        "manual_only",
    ],
    "headrace.executors": ["LocalExecutor", "LocalDaskExecutor", "DaskExecutor"],
    "headrace.client": ["Client", "Secret"],
    "headrace.schedules": [
        "Schedule",
        "IntervalSchedule",
        "CronSchedule",
        "IntervalClock",
        "CronClock",
        "DatesClock",
        "RRuleClock",
        "RRuleSchedule",
        "ClockEvent",
        "filters",
        "adjustments",
    ],
    "headrace.schedules.clocks": ["IntervalClock", "CronClock", "DatesClock", "RRuleClock"],
    "headrace.schedules.filters": [
        "on_datetime",
        "on_date",
        "at_time",
        "between_datetimes",
        "between_times",
        "between_dates",
        "is_weekday",
        "is_weekend",
        "is_month_start",
        "is_month_end",
        "is_day_of_week",
    ],
    "headrace.schedules.adjustments": ["add", "next_weekday"],
    "headrace.tasks": ["PrefectSecret", "SecretTask", "EnvVarSecret", "StartFlowRun"],
    "headrace.tasks.prefect": [
        "create_flow_run",
        "wait_for_flow_run",
        "get_task_run_result",
        "StartFlowRun",
        "RenameFlowRun",
        "CancelFlowRun",
    ],
    "headrace.engine.results": [
        "FSSpecResult",
        "S3Result",
        "GCSResult",
        "AzureResult",
        "PrefectResult",
        "ConstantResult",
        "SecretResult",
    ],
    "headrace.utilities.notifications": ["slack_notifier", "webhook_notifier", "email_notifier"],
    "headrace.backend.artifacts": [
        "create_markdown_artifact",
        "create_link_artifact",
        "create_table_artifact",
    ],
    "headrace.environments.execution": ["Environment", "LocalEnvironment", "DaskEnvironment"],
    "headrace.storage": [
        "Storage",
        "Local",
        "Module",
        "FileSystem",
        "Git",
        "Docker",
        "S3",
        "GCS",
        "Azure",
        "Webhook",
        "GitHub",
        "GitLab",
        "Bitbucket",
        "CodeCommit",
    ],
    "headrace.run_configs": ["UniversalRun", "LocalRun", "DockerRun", "KubernetesRun"],
    "headrace.serialization": ["load_environment", "load_storage", "load_run_config"],
    # Prefect 1's import paths kept for ported flows
    "headrace.utilities.edges": ["unmapped", "mapped", "flatten"],
    "headrace.utilities.tasks": [
        "task",
        "tags",
        "apply_map",
        "as_task",
        "pause_task",
        "defaults_from_attrs",
    ],
    "headrace.utilities.collections": [
        "DotDict",
        "as_nested_dict",
        "merge_dicts",
        "flatten_seq",
        "dict_to_flatdict",
        "flatdict_to_dict",
        "CompoundKey",
    ],
    "headrace.engine.serializers": [
        "Serializer",
        "PickleSerializer",
        "JSONSerializer",
        "DateTimeSerializer",
        "CompressedSerializer",
        "PandasSerializer",
    ],
    "headrace.utilities.context": ["Context"],
    "headrace.engine.executors": ["LocalExecutor", "LocalDaskExecutor", "DaskExecutor"],
    "headrace.tasks.core.collections": ["List", "Tuple", "Set", "Dict", "VarArgsTask"],
    "headrace.backend": ["create_markdown_artifact", "create_link_artifact"],
    "headrace.artifacts": ["create_link", "create_markdown"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names_are_exported(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in PUBLIC[module_name]:
        assert hasattr(module, name), f"{module_name} lacks {name}"
        assert name in module.__all__, f"{name} missing from {module_name}.__all__"


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_lists_only_existing_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []
