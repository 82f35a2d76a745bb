"""Core tasks of the library: constants, collections, functions, resource managers."""
