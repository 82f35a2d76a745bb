"""headrace's version, in a module of its own so any layer can read it without importing
the package root (which imports the model and names the task library)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
