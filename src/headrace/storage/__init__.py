"""Storage: where a flow's code lives between registration and its runs."""

from headrace.storage.base import Storage
from headrace.storage.docker import Docker
from headrace.storage.filesystem import FileSystem
from headrace.storage.git import Git
from headrace.storage.local import Local
from headrace.storage.module import Module

__all__ = ["Docker", "FileSystem", "Git", "Local", "Module", "Storage"]
