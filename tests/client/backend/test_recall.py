"""``ServerRecall``: what a chunk of mapped children learns from the server before it runs
them, in a process other than the runner's (where a dask worker would call it).

Real parts: a live server on SQLite, a backend run of a mapped flow whose children's
results are checkpointed to files, the recall pickled to a spawned process.
"""

from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path
from typing import Any

from headrace import Flow, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.client.backend.recall import ServerRecall
from headrace.engine.state import State


@task
def square(x: int) -> int:
    return x * x


def _recall_elsewhere(recall: ServerRecall, slug: str, start: int, count: int) -> Any:
    """``recall(slug, start, count)`` called in a spawned process, its answer pickled back."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(recall, (slug, start, count))


def _mapped_run(api: Client) -> tuple[str, str]:
    with Flow("recall") as flow:
        square.map(list(range(6)))
    run = api.create_flow_run(api.register(flow, project_name="backend", build=False))
    assert BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run().is_successful()
    return run["id"], flow.slugs[next(iter(flow.tasks))]


def test_in_another_process_it_returns_the_recorded_children_with_their_results(
    api: Client,
) -> None:
    run_id, slug = _mapped_run(api)
    recall = ServerRecall(api.api_url, run_id)
    found: list[State | None] = _recall_elsewhere(recall, slug, 2, 6)
    assert [s is not None and s.is_successful() for s in found] == [True] * 4 + [False] * 2
    # children 2-5, read back from their checkpoints; 6 and 7 do not exist
    assert [s.result for s in found[:4] if s is not None] == [4, 9, 16, 25]


def test_in_the_runners_process_it_answers_nothing(api: Client) -> None:
    run_id, slug = _mapped_run(api)
    assert ServerRecall(api.api_url, run_id)(slug, 0, 6) is None


def test_a_child_whose_result_is_gone_is_not_reused(api: Client, tmp_path: Path) -> None:
    with Flow("recall-gone") as flow:
        square.map([1, 2])
    run_id = api.create_flow_run(api.register(flow, project_name="backend", build=False))["id"]
    slug = flow.slugs[next(iter(flow.tasks))]
    api.set_flow_run_state(run_id, "Running")
    result = {
        "type": "headrace.engine.results.local:LocalResult",
        "serializer": "headrace.engine.results.serializers:PickleSerializer",
    }
    for version, name in ((0, "Running"), (1, "Success")):
        changes = [
            {
                "task_slug": slug,
                "map_index": i,
                "version": version,
                "state": {
                    "name": name,
                    "serialized": {
                        "result": {**result, "location": str(tmp_path / f"child-{i}.pickle")}
                    },
                },
            }
            for i in range(2)
        ]
        api.report(run_id, {"task_runs": changes})
    (tmp_path / "child-1.pickle").write_bytes(pickle.dumps(41))  # child 0's file is gone
    found = _recall_elsewhere(ServerRecall(api.api_url, run_id), slug, 0, 2)
    assert found[0] is None
    assert found[1] is not None and found[1].result == 41


def test_an_unreachable_server_makes_every_child_run() -> None:
    from tests.support.headrace_server import free_port

    recall = ServerRecall(f"http://127.0.0.1:{free_port()}", "no-such-run")
    assert _recall_elsewhere(recall, "square-1", 0, 3) is None


def test_with_markers_only_a_chunk_that_started_before_asks(api: Client, tmp_path: Path) -> None:
    """A chunk's first start in an attempt only marks it (nothing of it can be recorded
    yet); the same chunk started again (its worker died) asks the server."""
    run_id, slug = _mapped_run(api)
    recall = ServerRecall(api.api_url, run_id, markers=str(tmp_path))
    assert _recall_elsewhere(recall, slug, 0, 3) is None
    again = _recall_elsewhere(recall, slug, 0, 3)
    assert [s.result for s in again] == [0, 1, 4]
    assert _recall_elsewhere(recall, slug, 3, 3) is None  # another chunk: its first start
    # the next attempt has markers of its own
    assert _recall_elsewhere(ServerRecall(api.api_url, run_id, str(tmp_path)), slug, 0, 3) is None
    recall.remove_markers([slug])
    assert _recall_elsewhere(recall, slug, 0, 3) is None  # its marks are gone
