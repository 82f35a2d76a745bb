"""One benchmark measurement, run in a fresh interpreter: ``python scenarios.py '<json>'``.

The JSON names a scenario, an engine, a size and a repeat count; the result (one JSON line
on stdout) holds every wall time and the growth of the process's peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the runs minus before them), and on a
dask.distributed cluster the same growth summed over its workers. The worker processes of
``LocalDaskExecutor("processes")`` are not measured (they are forked by a fork server, so
not even this process's children). It imports only what its engine needs,
so the same file runs in headrace's interpreter and in the prefect 0.15 virtualenv.

Every engine builds the same graph from the same plain functions:

- ``chain``: ``inc`` called ``size`` times, each on the previous result;
- ``wide``: ``size`` independent ``inc(i)`` feeding one ``total``;
- ``map``: ``numbers(size)`` mapped by ``inc``, reduced by ``total``;
- ``sleep``: ``numbers(size)`` mapped by ``nap`` (sleeps 50 ms), reduced by ``total``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

SLEEP = 0.05
BUILD: list[float] = [0.0]  # seconds the last run spent building its flow or graph


def inc(x: int) -> int:
    return x + 1


def total(xs: list[int]) -> int:
    return sum(xs)


def numbers(n: int) -> list[int]:
    return list(range(n))


def nap(x: int) -> int:
    time.sleep(SLEEP)
    return x


# ---- plain Python: the floor -----------------------------------------------------------


def plain(scenario: str, size: int, workers: int, cluster: Any) -> Callable[[], Any]:
    def run() -> Any:
        if scenario == "chain":
            x = 0
            for _ in range(size):
                x = inc(x)
            return x
        if scenario == "wide":
            return total([inc(i) for i in range(size)])
        if scenario in ("map", "sleep"):
            fn = inc if scenario == "map" else nap
            return total([fn(i) for i in numbers(size)])
        raise ValueError(scenario)

    return run


# ---- headrace and prefect 0.15 share the same API --------------------------------------


def flow_api(module: str) -> tuple[Any, Any]:
    if module == "headrace":
        from headrace import Flow, task
    else:
        from prefect import Flow, task  # type: ignore[no-redef]
    return Flow, task


def build_flow(module: str, scenario: str, size: int) -> tuple[Any, Any]:
    Flow, task = flow_api(module)
    t_inc, t_total, t_numbers, t_nap = task(inc), task(total), task(numbers), task(nap)
    with Flow(scenario) as flow:
        if scenario == "chain":
            x: Any = 0
            for _ in range(size):
                x = t_inc(x)
            out = x
        elif scenario == "wide":
            out = t_total([t_inc(i) for i in range(size)])
        else:
            fn = t_inc if scenario == "map" else t_nap
            out = t_total(fn.map(t_numbers(size)))
    return flow, out


def executor_for(module: str, kind: str, workers: int, cluster: Any) -> Any:
    if module == "headrace":
        from headrace.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor
    else:
        from prefect.executors import (  # type: ignore[no-redef]
            DaskExecutor,
            LocalDaskExecutor,
            LocalExecutor,
        )
    if kind == "local":
        return LocalExecutor()
    if kind in ("threads", "processes"):
        return LocalDaskExecutor(scheduler=kind, num_workers=workers)
    return DaskExecutor(address=cluster.scheduler_address)


def orchestrated(module: str, kind: str):  # type: ignore[no-untyped-def]
    def factory(scenario: str, size: int, workers: int, cluster: Any) -> Callable[[], Any]:
        def run() -> Any:
            start = time.perf_counter()
            flow, out = build_flow(module, scenario, size)
            BUILD[0] = time.perf_counter() - start
            state = flow.run(executor=executor_for(module, kind, workers, cluster))
            if not state.is_successful():
                raise RuntimeError(f"{module} {kind} {scenario}: {state}")
            return state.result[out].result

        return run

    return factory


# ---- raw dask: the same graph with dask.delayed ----------------------------------------


def raw_dask(distributed: bool):  # type: ignore[no-untyped-def]
    def factory(scenario: str, size: int, workers: int, cluster: Any) -> Callable[[], Any]:
        import dask

        client = None
        if distributed:
            from distributed import Client

            client = Client(cluster, set_as_default=False)

        def run() -> Any:
            start = time.perf_counter()
            d_inc = dask.delayed(inc, pure=False)
            d_total = dask.delayed(total, pure=False)
            if scenario == "chain":
                x: Any = 0
                for _ in range(size):
                    x = d_inc(x)
                out = x
            elif scenario == "wide":
                out = d_total([d_inc(i) for i in range(size)])
            else:
                fn = dask.delayed(inc if scenario == "map" else nap, pure=False)
                # the list is known only when numbers() has run, as in a flow
                items = dask.delayed(numbers, pure=False)(size).compute(
                    **({"scheduler": client} if client else {"scheduler": "threads"})
                )
                start = time.perf_counter()
                out = d_total([fn(i) for i in items])
            BUILD[0] = time.perf_counter() - start
            if client is not None:
                return client.compute(out).result()
            return out.compute(scheduler="threads", num_workers=workers)

        return run

    return factory


def raw_graph(distributed: bool):  # type: ignore[no-untyped-def]
    """The same graph as a plain dict fed to dask's scheduler (no ``dask.delayed`` objects):
    what dask itself costs per task, without the cost of building delayed objects."""

    def factory(scenario: str, size: int, workers: int, cluster: Any) -> Callable[[], Any]:
        client = None
        if distributed:
            from distributed import Client

            client = Client(cluster, set_as_default=False)

        def get(dsk: dict[str, Any], key: str) -> Any:
            if client is not None:
                return client.get(dsk, key)
            from dask.threaded import get as threaded_get

            return threaded_get(dsk, key, num_workers=workers)

        def run() -> Any:
            dsk: dict[str, Any] = {}
            if scenario == "chain":
                dsk["inc-0"] = (inc, 0)
                for i in range(1, size):
                    dsk[f"inc-{i}"] = (inc, f"inc-{i - 1}")
                return get(dsk, f"inc-{size - 1}")
            if scenario == "wide":
                for i in range(size):
                    dsk[f"inc-{i}"] = (inc, i)
                dsk["total"] = (total, [f"inc-{i}" for i in range(size)])
                return get(dsk, "total")
            fn = inc if scenario == "map" else nap
            items = get({"numbers": (numbers, size)}, "numbers")
            for i, item in enumerate(items):
                dsk[f"f-{i}"] = (fn, item)
            dsk["total"] = (total, [f"f-{i}" for i in range(len(items))])
            return get(dsk, "total")

        return run

    return factory


ENGINES: dict[str, Any] = {
    "python": plain,
    "headrace-local": orchestrated("headrace", "local"),
    "headrace-threads": orchestrated("headrace", "threads"),
    "headrace-processes": orchestrated("headrace", "processes"),
    "headrace-dask": orchestrated("headrace", "dask"),
    "prefect-local": orchestrated("prefect", "local"),
    "prefect-threads": orchestrated("prefect", "threads"),
    "dask-threads": raw_dask(distributed=False),
    "dask-distributed": raw_dask(distributed=True),
    "dask-graph-threads": raw_graph(distributed=False),
    "dask-graph-distributed": raw_graph(distributed=True),
}


def expected(scenario: str, size: int) -> int:
    if scenario == "chain":
        return size
    if scenario in ("wide", "map"):
        return size * (size + 1) // 2
    return size * (size - 1) // 2


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    import logging

    logging.disable(logging.CRITICAL)  # both orchestrators log every task run at INFO
    scenario, engine, size = spec["scenario"], spec["engine"], spec["size"]
    workers = spec.get("workers") or 2
    cluster = None
    if engine.endswith(("-dask", "-distributed")):
        from distributed import LocalCluster

        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=spec.get("threads_per_worker", 1),
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
            silence_logs=logging.CRITICAL,
        )
    try:
        if spec.get("warmup", True):  # imports and first-use costs, outside the timings
            ENGINES[engine](scenario, 4, workers, cluster)()
        run = ENGINES[engine](scenario, size, workers, cluster)
        workers_before = workers_maxrss(cluster)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        times, builds = [], []
        for _ in range(spec.get("repeat", 3)):
            BUILD[0] = 0.0
            start = time.perf_counter()
            got = run()
            times.append(time.perf_counter() - start)
            builds.append(BUILD[0])
            if got != expected(scenario, size):
                raise RuntimeError(f"{engine} {scenario}: got {got!r}")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        workers_after = workers_maxrss(cluster)
    finally:
        if cluster is not None:
            cluster.close()
    got: dict[str, Any] = {"times": times, "build_times": builds, "peak_rss_kib": after - before}
    if workers_before is not None and workers_after is not None:
        got["workers_peak_rss_kib"] = sum(
            workers_after[w] - workers_before.get(w, 0) for w in workers_after
        )
    return got


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def workers_maxrss(cluster: Any) -> dict[str, int] | None:
    """Each dask.distributed worker's peak RSS (KiB) so far, or None without a cluster."""
    if cluster is None:
        return None
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        return dict(client.run(_maxrss))


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
