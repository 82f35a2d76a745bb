"""The web UI's read models: everything one page shows, read in one transaction.

Each function takes a read session and the caller and answers one page's JSON (the
dashboard, the flows list and a flow, the runs list, a run and a mapped task's children),
computed with SQL aggregates so a page is one request however large the run. The UI's routes
(:mod:`headrace.server.ui.api`) call them; the flow graph's layout (:mod:`.graph`) is the
pure part they share.
"""
