"""Resolving ``module:QualName`` strings."""

from __future__ import annotations

import pytest

from headrace.executors import LocalExecutor
from headrace.utilities.imports import import_object, qualified_name


def test_round_trip_of_a_qualified_name() -> None:
    name = qualified_name(LocalExecutor)
    assert name == "headrace.executors.local:LocalExecutor"
    assert import_object(name) is LocalExecutor
    assert import_object("headrace.executors.LocalExecutor") is LocalExecutor


def test_bad_paths_raise_import_errors_naming_them() -> None:
    with pytest.raises(ImportError, match=r"nodots"):
        import_object("nodots")
    with pytest.raises(ImportError):
        import_object("headrace.no_such_module:X")
    with pytest.raises(ImportError, match=r"NoSuchExecutor"):
        import_object("headrace.executors:NoSuchExecutor")
