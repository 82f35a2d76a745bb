"""The state hierarchy: kinds, predicates, results, and small objects."""

from __future__ import annotations

import subprocess
import sys

import pytest

from headrace.engine import state as s
from headrace.engine.results import LocalResult

ALL = [
    s.State, s.Pending, s.Scheduled, s.Submitted, s.Paused, s.Retrying, s.Resume, s.Running,
    s.Finished, s.Success, s.Cached, s.Mapped, s.Skipped, s.Failed, s.TriggerFailed,
    s.TimedOut, s.Cancelled,
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "parent"),
    [
        (s.TriggerFailed, s.Failed),
        (s.TimedOut, s.Failed),
        (s.Cached, s.Success),
        (s.Mapped, s.Success),
        (s.Skipped, s.Success),
        (s.Scheduled, s.Pending),
        (s.Submitted, s.Pending),
        (s.Paused, s.Pending),
        (s.Retrying, s.Scheduled),
        (s.Success, s.Finished),
        (s.Failed, s.Finished),
        (s.Cancelled, s.Finished),
    ],
)
def test_hierarchy(kind: type[s.State], parent: type[s.State]) -> None:
    assert issubclass(kind, parent)


def test_predicates() -> None:
    assert s.TimedOut().is_failed() and s.TimedOut().is_finished()
    assert not s.TimedOut().is_successful()
    assert s.Skipped().is_successful() and s.Skipped().is_skipped()
    assert s.Cached().is_cached() and s.Cached().is_successful()
    assert s.Retrying().is_pending() and s.Retrying().is_retrying()
    assert s.Retrying().is_scheduled() and not s.Retrying().is_finished()
    assert s.Paused().is_paused() and s.Paused().is_pending()
    assert s.Running().is_running() and not s.Running().is_finished()
    assert s.Cancelled().is_cancelled() and not s.Cancelled().is_failed()
    assert s.Submitted().is_submitted()
    assert s.Mapped().is_mapped()


@pytest.mark.parametrize("kind", ALL)
def test_states_are_small_slotted_objects(kind: type[s.State]) -> None:
    assert not hasattr(kind(), "__dict__")
    assert s.state_class(kind.__name__) is kind


def test_message_result_and_repr() -> None:
    st = s.Success("done", 42)
    assert (st.message, st.result, st.name) == ("done", 42, "Success")
    assert repr(st) == "<Success: 'done'>"
    assert repr(s.Pending()) == "<Pending>"
    assert st == s.Success("done", 42)
    assert st != s.Success("done", 43)
    assert st != s.Cached("done", 42)
    with pytest.raises(TypeError):
        hash(st)


def test_mapped_result_is_the_childrens_results() -> None:
    m = s.Mapped(map_states=[s.Success(result=1), s.Failed(result=ValueError("x")), s.Success()])
    assert m.n_map_states == 3
    assert m.result[0] == 1 and isinstance(m.result[1], ValueError) and m.result[2] is None


def test_unknown_state_name() -> None:
    with pytest.raises(ValueError, match=r"Sucess"):
        s.state_class("Sucess")


def test_persisted_result_is_read_on_first_access(tmp_path: object) -> None:
    stored = LocalResult(dir=tmp_path, location="v.pickle").write({"a": 1})
    st = s.Success(
        "from server", s.NOT_LOADED, persisted=LocalResult(dir=tmp_path, location="v.pickle")
    )
    assert st._value is s.NOT_LOADED
    assert st.result == {"a": 1}
    assert stored.location == "v.pickle"
    assert s.Success(result=s.NOT_LOADED).result is None  # nothing to read it from


def test_scheduled_and_retrying_fields() -> None:
    r = s.Retrying("again", run_count=2)
    assert r.run_count == 2 and r.start_time is None
    c = s.Cached(cached_inputs={"x": 1}, cached_parameters={"p": 2})
    assert c.cached_inputs == {"x": 1} and c.cached_parameters == {"p": 2}


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_kinds_lists_every_kind_but_the_bases() -> None:
    ours = {k for k in _subclasses(s.State) if k.__module__.startswith("headrace.engine.state")}
    assert set(s.KINDS) == ours - {s.Finished}
    assert s.state_class("Finished") is s.Finished and s.state_class("State") is s.State


@pytest.mark.parametrize("module", ["base", "waiting", "finished"])
def test_each_state_module_can_be_imported_first(module: str) -> None:
    # The base's predicates name the kinds, which subclass it: whichever module a program
    # imports first, the package must load whole and work.
    code = (
        f"import headrace.engine.state.{module}\n"
        "from headrace.engine.state import Pending, Success\n"
        "assert Success().is_successful() and Pending().is_pending()\n"
        "assert not Pending().is_finished()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
