"""Chunks of a mapped task's children: the compact pickled form of a chunk's states.
(How chunks run every child through its task runner is tested through flows in
``test_mapping.py`` and on every executor in ``tests/executors``.)"""

from __future__ import annotations

from headrace.engine import state as s


def test_a_chunk_of_states_pickles_compactly_and_keeps_every_kind() -> None:
    import pickle

    from headrace.engine.chunk_runner import StateChunk

    cached = s.replace(s.Success(result=3), cache_entry=s.Cached(result=3))
    states = [s.Success("ok", result=[1]), s.Failed("bad", ValueError("v")), cached, s.Skipped()]
    back = pickle.loads(pickle.dumps(StateChunk(states)))
    assert [type(x) for x in back] == [s.Success, s.Failed, s.Success, s.Skipped]
    assert [x.message for x in back] == ["ok", "bad", None, None]
    assert back[0:1][0].result == [1] and back[0:1][0].timestamp == states[0].timestamp
    assert back.states[2].cache_entry.result == 3
    plain = [s.Success(result=i) for i in range(1000)]
    assert len(pickle.dumps(StateChunk(plain))) < len(pickle.dumps(plain)) / 2
