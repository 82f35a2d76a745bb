"""The private base of the deployment layer: what storages, environments and run configs
derive from and raise.

:mod:`headrace._serializable.schema` gives the :class:`Serializable` base (one schema per
type, a registry of fully qualified type names, :func:`load_object`) and
:mod:`headrace._serializable.errors` the deployment layer's errors. They live here, below
storage, environments and run configs, so those packages never import
:mod:`headrace.serialization`, which is the flow document built on top of all of them. The
public import paths stay ``headrace.serialization.schema`` and ``headrace.serialization.errors``.
"""
