"""The server's HTTP layer: the FastAPI app factory, its routers, dependencies and limits.

Routers parse input, call a :mod:`headrace.server.domain` function and shape the answer;
they hold no SQL. The web UI's routes live beside this layer in :mod:`headrace.server.ui`.
"""
