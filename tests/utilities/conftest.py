"""Fixtures of the utilities tests: real local HTTP and SMTP receivers."""

from support.receivers import http_receiver, smtp_receiver

__all__ = ["http_receiver", "smtp_receiver"]
