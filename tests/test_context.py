"""headrace.context: mapping and attribute access, layering, per-thread isolation."""

from __future__ import annotations

import logging
import pickle
import threading

import pytest

from headrace import context
from headrace.runcontext import current


def test_empty_outside_a_run() -> None:
    assert context.get("flow_name") is None
    assert "flow_name" not in context
    with pytest.raises(KeyError):
        context["flow_name"]
    with pytest.raises(AttributeError, match=r"flow_name"):
        _ = context.flow_name


def test_layering_with_blocks_restores_the_outer_values() -> None:
    with context(a=1, b=2):
        assert context.a == 1
        assert context["b"] == 2
        with context({"b": 3}, c=4):
            assert (context.a, context.b, context.c) == (1, 3, 4)
            assert dict(context) == {"a": 1, "b": 3, "c": 4}
            assert len(context) == 3
        assert context.b == 2
        assert "c" not in context
    assert "a" not in context


def test_layer_is_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), context(a=1):
        raise RuntimeError("boom")
    assert context.get("a") is None


def test_each_thread_sees_only_its_own_values() -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, object] = {}

    def worker(name: str) -> None:
        with context(who=name):
            barrier.wait()  # both threads are inside their own block now
            seen[name] = context.who
            barrier.wait()

    with context(who="main"):
        threads = [threading.Thread(target=worker, args=(n,)) for n in ("t1", "t2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert context.who == "main"
    assert seen == {"t1": "t1", "t2": "t2"}


def test_a_new_thread_does_not_inherit_the_callers_values() -> None:
    seen: list[object] = []
    with context(secret="x"):
        t = threading.Thread(target=lambda: seen.append(context.get("secret")))
        t.start()
        t.join()
    assert seen == [None]


def test_logger_follows_task_then_flow_name() -> None:
    assert context.logger.name == "headrace"
    with context(flow_name="f"):
        assert context.logger.name == "headrace.flow.f"
        with context(task_name="t"):
            assert isinstance(context.logger, logging.Logger)
            assert context.get("logger").name == "headrace.task.t"


def test_to_dict_is_a_picklable_copy_without_loggers() -> None:
    with context(flow_name="f", parameters={"p": 1}, log=logging.getLogger("x")):
        data = context.to_dict()
        assert data == {"flow_name": "f", "parameters": {"p": 1}}
        assert data is not current()
        assert pickle.loads(pickle.dumps(data)) == data


def test_flows_running_at_once_in_two_threads_see_their_own_context() -> None:
    from headrace import Flow, Parameter, task

    @task
    def who(p: int) -> tuple[str, str, int]:
        barrier.wait(5)  # both flows are inside a task at the same time
        return context.flow_name, context.task_name, context.parameters["p"]

    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str, value: int) -> None:
        with Flow(name) as flow:
            t = who(Parameter("p"))
        results[name] = flow.run(p=value).result[t].result

    threads = [threading.Thread(target=run, args=(n, v)) for n, v in (("f1", 1), ("f2", 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"f1": ("f1", "who", 1), "f2": ("f2", "who", 2)}


def test_import_headrace_context_gives_the_run_context_itself() -> None:
    import headrace
    import headrace.context
    from headrace.runcontext import Context
    from headrace.runcontext import context as defined

    assert headrace.context is context is defined
    assert isinstance(headrace.context, Context)
    with headrace.context(flow_name="imported"):
        assert context.flow_name == "imported"


def test_task_run_ids_are_the_uuid5_of_run_slug_and_index() -> None:
    """The id a context derives for a task run is ``uuid5(namespace, "run/slug/index")``,
    the same wherever it is computed (written out by hand for speed: held to uuid's)."""
    import random
    import uuid

    from headrace.runcontext import TASK_RUN_ID_NAMESPACE, task_run_id

    namespace = uuid.UUID(bytes=TASK_RUN_ID_NAMESPACE)
    assert str(namespace) == "7c1d0a52-5b1e-4f0e-9d44-6b8f4d0a7e21"
    rng = random.Random(7)
    for _ in range(2000):
        data = {
            "flow_run_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "task_slug": rng.choice(["load-1", "ünïcode-2", "a/b", ""]),
            "map_index": rng.choice([None, -1, 0, rng.randrange(10**6)]),
        }
        key = f"{data['flow_run_id']}/{data['task_slug']}/{data['map_index']}"
        assert task_run_id(data) == str(uuid.uuid5(namespace, key))
