"""The backlog between the engine and a reporter: ordered, bounded, never drops an item."""

from __future__ import annotations

import threading
import time

from headrace.client.backend.backlog import Backlog


def test_items_come_out_in_order() -> None:
    backlog = Backlog(100)
    for i in range(10):
        backlog.put(i)
    assert backlog.qsize() == 10
    assert backlog.take_all() == list(range(10))
    assert backlog.empty() and backlog.take_all() == []


def test_a_full_backlog_makes_producers_wait_instead_of_dropping() -> None:
    backlog = Backlog(5)
    for i in range(5):
        backlog.put(i)
    done = threading.Event()

    def produce() -> None:
        backlog.put(5)  # full: waits for the consumer
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert not done.wait(0.2)  # still waiting: nothing was dropped or overwritten
    taken = backlog.take_all()
    assert done.wait(10)
    producer.join()
    assert taken + backlog.take_all() == list(range(6))


def test_many_producers_lose_nothing() -> None:
    backlog = Backlog(50)
    received: list[tuple[int, int]] = []
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set() or not backlog.empty():
            received.extend(backlog.take_all())
            time.sleep(0.001)

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [
        threading.Thread(target=lambda k=k: [backlog.put((k, i)) for i in range(2000)])
        for k in range(4)
    ]
    for p in producers:
        p.start()
    for p in producers:
        p.join()
    stop.set()
    consumer.join()
    assert len(received) == 8000
    for k in range(4):  # each producer's items stay in its order
        assert [i for kk, i in received if kk == k] == list(range(2000))


def test_a_bounded_take_leaves_the_rest_in_order_and_frees_room() -> None:
    backlog = Backlog(4)
    for i in range(4):
        backlog.put(i)
    assert backlog.take(3) == [0, 1, 2]
    backlog.put(4)  # room again: does not wait
    assert backlog.take(10) == [3, 4] and backlog.take(1) == []


def test_the_reporter_drains_one_batch_at_a_time_and_everything_at_the_stop() -> None:
    from headrace.client.backend import reporter as module
    from headrace.wire.limits import MAX_BATCH

    rep = module.Reporter(client=None, flow_run_id="r", interval=60)  # never started
    for i in range(MAX_BATCH + 3):
        rep.queue.put(("l", {"message": str(i)}))
    items, stop = rep._drain()
    assert len(items) == MAX_BATCH and not stop
    rep.queue.put(module._STOP)
    rep.queue.put(("l", {"message": "after the stop"}))
    items, stop = rep._drain()
    assert stop and [i[1]["message"] for i in items][-1] == "after the stop"
    assert len(items) == 4 and rep.queue.empty()
