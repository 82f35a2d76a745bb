"""The backend's default result: a file per task, mapped children appended to a pack per
process, each child read back alone (also by a restarted run)."""

from __future__ import annotations

import concurrent.futures
import errno
import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from headrace import Flow, task
from headrace.client import Client
from headrace.client.backend import BackendFlowRunner
from headrace.client.backend.checkpoints import CheckpointResult, close_packs
from headrace.configuration import config
from headrace.engine.errors import ResultError


def _write_children(directory: str, first: int, n: int) -> list[str]:
    result = CheckpointResult(dir=directory)
    return [
        str(result.write({"child": i}, flow_run_id="run", task_slug="m-1", map_index=i).location)
        for i in range(first, first + n)
    ]


def test_children_share_a_pack_and_read_back_one_by_one(tmp_path: Path) -> None:
    result = CheckpointResult(dir=tmp_path)
    locations: dict[int, str] = {}

    def write(first: int) -> None:
        for i in range(first, first + 200):
            written = result.write([i] * (i % 7), flow_run_id="run", task_slug="m-1", map_index=i)
            locations[i] = str(written.location)

    threads = [threading.Thread(target=write, args=(k * 200,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_packs(tmp_path, "run")
    packs = list((tmp_path / "run" / "m-1").iterdir())
    assert len(packs) == 1 and packs[0].name.endswith(".pack")
    for i, location in locations.items():
        assert result.exists(location)
        assert result.read(location).value == [i] * (i % 7)
    single = result.write("whole", flow_run_id="run", task_slug="t-1")
    assert str(single.location).startswith("run/t-1/task/")
    assert (tmp_path / str(single.location)).read_bytes()  # a file of its own
    assert CheckpointResult(dir=tmp_path).read(str(single.location)).value == "whole"


def test_each_process_appends_to_its_own_pack(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        parts = list(pool.map(_write_children, [str(tmp_path)] * 2, [0, 100], [100, 100]))
    assert len({loc.split("@")[0] for loc in parts[0] + parts[1]}) == 2
    reader = CheckpointResult(dir=tmp_path)
    for i, location in enumerate(parts[0] + parts[1]):
        assert reader.read(location).value == {"child": i}


def test_a_forked_child_does_not_write_through_the_parents_pack(tmp_path: Path) -> None:
    (parent,) = _write_children(str(tmp_path), 0, 1)
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        (child,) = pool.submit(_write_children, str(tmp_path), 1, 1).result()
    assert parent.split("@")[0] != child.split("@")[0]
    reader = CheckpointResult(dir=tmp_path)
    assert [reader.read(loc).value for loc in (parent, child)] == [{"child": 0}, {"child": 1}]


def _write_children_then_die(directory: str, n: int, conn: Connection) -> None:
    conn.send(_write_children(directory, 0, n))
    conn.close()
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush, no exit handlers


def test_children_written_by_a_killed_process_read_back(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_write_children_then_die, args=(str(tmp_path), 300, send))
    process.start()
    locations = receive.recv()
    process.join(30)
    assert process.exitcode == -signal.SIGKILL
    reader = CheckpointResult(dir=tmp_path)
    assert [reader.read(loc).value for loc in locations] == [{"child": i} for i in range(300)]


def test_a_closed_pack_holds_exactly_the_children_written(tmp_path: Path) -> None:
    locations = _write_children(str(tmp_path), 0, 50)
    close_packs(tmp_path, "run")
    (pack,) = (tmp_path / "run" / "m-1").iterdir()
    spans = [int(loc.rsplit("+", 1)[1]) for loc in locations]
    assert pack.stat().st_size == sum(spans)
    more = _write_children(str(tmp_path), 50, 1)  # a later write reopens it and appends
    close_packs(tmp_path, "run")
    assert more[0].split("@")[0] == locations[0].split("@")[0]
    assert pack.stat().st_size == sum(spans) + int(more[0].rsplit("+", 1)[1])
    reader = CheckpointResult(dir=tmp_path)
    assert reader.read(more[0]).value == {"child": 50}


def test_a_file_system_that_cannot_map_gets_plain_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mocked: no file system on this machine refuses posix_fallocate (some NFS/FUSE ones do)
    def refuse(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "posix_fallocate", refuse)
    locations = _write_children(str(tmp_path), 0, 20)
    close_packs(tmp_path, "run")
    reader = CheckpointResult(dir=tmp_path)
    assert [reader.read(loc).value for loc in locations] == [{"child": i} for i in range(20)]


def test_a_cut_short_pack_is_an_error_naming_the_child(tmp_path: Path) -> None:
    (location,) = _write_children(str(tmp_path), 0, 1)
    close_packs(tmp_path, "run")
    pack = tmp_path / location.split("@")[0]
    pack.write_bytes(pack.read_bytes()[:-1])
    reader = CheckpointResult(dir=tmp_path)
    assert not reader.exists(location)
    with pytest.raises(ResultError, match=location.replace("+", r"\+")):
        reader.read(location)


def test_a_restart_reads_successful_children_back_from_packs(api: Client, tmp_path: Path) -> None:
    fixed = tmp_path / "fixed"
    runs = tmp_path / "runs"
    runs.mkdir()

    @task
    def numbers() -> list[int]:
        return list(range(30))

    @task
    def square(x: int) -> int:
        (runs / str(x)).write_text("ran")
        if x == 5 and not fixed.exists():
            raise ValueError("child 5 fails once")
        return x * x

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    with Flow("packs-on-restart") as flow:
        result = total(square.map(numbers()))

    run = api.create_flow_run(api.register(flow, project_name="backend", build=False))
    assert BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run().is_failed()
    fixed.touch()
    for path in runs.iterdir():
        path.unlink()
    api.restart_flow_run(run["id"])
    second = BackendFlowRunner(flow, flow_run_id=run["id"], client=api).run()
    assert second.is_successful(), second
    assert second.result[result].result == sum(x * x for x in range(30))
    assert sorted(p.name for p in runs.iterdir()) == ["5"]  # the others were read back
    assert list(Path(config.flows.results_dir).rglob(f"{run['id']}/*/children-*.pack"))


def test_a_checkpointed_child_is_written_with_only_the_keys_its_location_reads(
    tmp_path: Path,
) -> None:
    from headrace.engine.results.local import LocalResult
    from headrace.engine.settings import RunSettings
    from headrace.engine.task_spec import TaskSpec

    @task
    def inc(x: int) -> int:
        return x + 1

    keys = {"flow_run_id", "task_slug", "map_index"}
    assert CheckpointResult(dir=str(tmp_path)).formatting_keys() == keys
    # another location (a template may name any key) or a user's Result: every key
    assert CheckpointResult(dir=str(tmp_path), location="{task_run_id}").formatting_keys() is None
    assert LocalResult(dir=str(tmp_path)).formatting_keys() is None
    settings = RunSettings(checkpointing=True, flow_result=CheckpointResult(dir=str(tmp_path)))
    assert TaskSpec.build(inc, settings).write_keys == keys
    targeted = task(lambda: 1, name="t", target="{task_run_id}.out")
    assert TaskSpec.build(targeted, settings).write_keys is None  # the target needs them all


def test_a_result_that_reads_every_key_still_gets_them(tmp_path: Path) -> None:
    from headrace.engine.results.local import LocalResult

    seen: list[dict[str, object]] = []

    class Watching(LocalResult):
        def write(self, value: object, /, **kwargs: object) -> LocalResult:
            seen.append(kwargs)
            return super().write(value, **kwargs)

    @task(checkpoint=True, result=Watching(dir=str(tmp_path)))
    def inc(x: int) -> int:
        return x + 1

    with Flow("f") as flow:
        inc.map([1, 2])
    assert flow.run().is_successful()
    assert len(seen) == 2
    for kwargs in seen:
        assert {"task_run_id", "task_full_name", "flow_name", "x", "map_index"} <= set(kwargs)
