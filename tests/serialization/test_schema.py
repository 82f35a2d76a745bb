"""Types in documents are fully qualified and map back to exactly their class: a user's
class named like a built-in one round-trips as itself, an unknown or unimportable type is a
clear error, a document of one kind is never loaded as another."""

from __future__ import annotations

import pytest

from headrace.environments.execution import Environment
from headrace.environments.execution import LocalEnvironment as BuiltinLocalEnvironment
from headrace.run_configs import LocalRun as BuiltinLocalRun
from headrace.run_configs import RunConfig
from headrace.serialization import (
    load_environment,
    load_run_config,
    load_storage,
    registered_types,
)
from headrace.serialization.errors import SerializationError, UnknownTypeError
from headrace.storage import Local as BuiltinLocal


class LocalEnvironment(Environment):
    """A user's environment that shares the built-in's name."""


class Local(BuiltinLocal):
    """A user's storage that shares the built-in's name."""


class LocalRun(RunConfig):
    """A user's run config that shares the built-in's name."""


def test_name_collisions_round_trip_as_their_own_class(tmp_path: object) -> None:
    env_doc = LocalEnvironment(labels=["x"]).serialize()
    assert env_doc["type"] == f"{__name__}:LocalEnvironment"
    assert type(load_environment(env_doc)) is LocalEnvironment
    builtin = BuiltinLocalEnvironment().serialize()["type"]
    assert builtin == "headrace.environments.execution.local:LocalEnvironment"
    assert type(load_environment({"type": builtin})) is BuiltinLocalEnvironment

    storage_doc = Local(directory=str(tmp_path)).serialize()
    assert storage_doc["type"] == f"{__name__}:Local"
    assert type(load_storage(storage_doc)) is Local
    run_doc = LocalRun(labels=["y"]).serialize()
    assert type(load_run_config(run_doc)) is LocalRun
    assert type(load_run_config({**run_doc, "type": "headrace.run_configs.configs:LocalRun"})) is (
        BuiltinLocalRun
    )
    assert registered_types(Environment)[env_doc["type"]] is LocalEnvironment


def test_unknown_and_unimportable_types() -> None:
    with pytest.raises(UnknownTypeError, match=r"'Local'.*fully qualified"):
        load_storage({"type": "Local", "flows": {}})
    with pytest.raises(UnknownTypeError, match="module 'nowhere_module' cannot be imported"):
        load_environment({"type": "nowhere_module:MyEnvironment", "labels": []})
    with pytest.raises(UnknownTypeError, match="has no 'Missing'"):
        load_storage({"type": "headrace.storage:Missing"})
    with pytest.raises(UnknownTypeError, match="is not a storage type"):
        load_storage(BuiltinLocalRun().serialize())
    with pytest.raises(UnknownTypeError, match="is not a run config type"):
        load_run_config({"type": "headrace.storage.local:Local"})
    with pytest.raises(SerializationError, match="needs a 'type' string"):
        load_environment({"labels": []})
    with pytest.raises(SerializationError, match="must be an object"):
        load_storage("headrace.storage.local:Local")
    with pytest.raises(SerializationError, match="'flows' must map flow names"):
        load_storage({"type": "headrace.storage.local:Local", "flows": ["a"]})


def test_unserializable_settings_are_named() -> None:
    env = Environment(metadata={"when": object()})
    with pytest.raises(SerializationError, match="Environment setting 'metadata'"):
        env.serialize()


def test_public_paths_name_the_private_base() -> None:
    """Storage, environments and run configs derive from ``headrace._serializable``; the
    public modules ``headrace.serialization.schema`` and ``.errors`` name the same objects."""
    import headrace._serializable.errors as private_errors
    import headrace._serializable.schema as private_schema
    import headrace.serialization.errors as errors
    import headrace.serialization.schema as schema
    from headrace.serialization import load_storage
    from headrace.storage import Local
    from headrace.storage.base import load_storage as storage_load

    for public, private in ((schema, private_schema), (errors, private_errors)):
        assert public.__all__ == private.__all__
        for name in public.__all__:
            assert getattr(public, name) is getattr(private, name)
    doc = Local(directory="/tmp/flows").serialize()
    assert storage_load(doc).serialize() == load_storage(doc).serialize() == doc
