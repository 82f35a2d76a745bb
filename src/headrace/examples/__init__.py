"""Example flows that ``headrace up`` registers, also handy for tests and demos."""
