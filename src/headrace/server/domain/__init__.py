"""The server's domain layer: what the API means, as functions over a database session.

Runs and their state machine, claims, the batched report, history, listing and detail
queries, registry, backfills, secrets and API keys. It imports :mod:`headrace.server.db`
only; the HTTP layer, the UI and the background services call into it, never the reverse.
"""
