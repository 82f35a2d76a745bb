"""Fixtures of the runner-side tests (see ``tests/agent/backend_support.py``)."""

from tests.agent.backend_support import (  # noqa: F401 - fixtures
    agent_env,
    any_database_url,
    api,
    backend_server,
    postgres_server,
    sqlite_template,
    sqlite_url,
)

from support.s3 import s3_server  # noqa: F401 - fixture
