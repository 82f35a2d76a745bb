"""Storage: where a flow's code lives between registration and its runs."""

from headrace.storage.azure import Azure
from headrace.storage.base import Storage
from headrace.storage.codecommit import CodeCommit
from headrace.storage.docker import Docker
from headrace.storage.filesystem import FileSystem
from headrace.storage.gcs import GCS
from headrace.storage.git import Git
from headrace.storage.hosted_git import Bitbucket, GitHub, GitLab
from headrace.storage.local import Local
from headrace.storage.module import Module
from headrace.storage.s3 import S3
from headrace.storage.webhook import Webhook

__all__ = [
    "GCS",
    "S3",
    "Azure",
    "Bitbucket",
    "CodeCommit",
    "Docker",
    "FileSystem",
    "Git",
    "GitHub",
    "GitLab",
    "Local",
    "Module",
    "Storage",
    "Webhook",
]
