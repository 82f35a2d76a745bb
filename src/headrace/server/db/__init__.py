"""The server's database layer: the SQLAlchemy models, the engine and sessions
(:mod:`~headrace.server.db.database`), the Alembic migrations, SQLite's WAL checkpointer and
its one-server lock. It imports nothing else of the server but its errors.
"""
