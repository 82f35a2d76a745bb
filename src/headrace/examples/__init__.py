"""Example flows that ``headrace up`` registers, also handy for tests and demos.

``EXAMPLES`` names each example module; each defines ``flow`` at module level.
"""

EXAMPLES = (
    "headrace.examples.etl",
    "headrace.examples.mapped",
    "headrace.examples.heartbeat",
)

__all__ = ["EXAMPLES"]
