"""Bind values of a batch made cheaply: JSON text by ``orjson``, and timestamps from the
runner's Unix seconds without a ``datetime`` per change.

A compact report row carries its time as float seconds. The batch keeps that float as it is
(a row's start, end and state time and its history rows share the object) and the writer
turns each distinct value into the column's bind value once: on SQLite the naive UTC text
``UTCDateTime`` stores (``YYYY-MM-DD HH:MM:SS.ffffff``), built from a per-second prefix and
the microseconds rounded exactly as ``datetime.fromtimestamp`` rounds them (half to even),
so the stored text is the same as through a ``datetime``; in a PostgreSQL COPY the same
text with its zone; elsewhere a UTC ``datetime``.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["FAST_RANGE", "as_datetime", "json_text", "postgres_text", "sqlite_text"]

#: Seconds the text is built for directly (1970 to 2286); other values take the datetime path.
FAST_RANGE = (0.0, 1e10)
_SECONDS: dict[int, str] = {}  # 'YYYY-MM-DD HH:MM:SS.' by whole second


def _datetime_text(value: datetime) -> str:
    """What ``UTCDateTime`` binds on SQLite (naive UTC text), without its generic layers.
    A UTC value only drops its ``+00:00``."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def sqlite_text(value: Any) -> str:
    """``value`` (Unix seconds or a ``datetime``) as SQLite's stored text."""
    if type(value) is not float:
        if isinstance(value, datetime):
            return _datetime_text(value)
        value = float(value)
    if not FAST_RANGE[0] <= value < FAST_RANGE[1]:
        return _datetime_text(datetime.fromtimestamp(value, UTC))
    frac, whole = math.modf(value)
    micro = round(frac * 1e6)  # half to even, as datetime.fromtimestamp
    seconds = int(whole)
    if micro >= 1_000_000:
        micro -= 1_000_000
        seconds += 1
    prefix = _SECONDS.get(seconds)
    if prefix is None:
        if len(_SECONDS) > 65536:
            _SECONDS.clear()
        prefix = _SECONDS[seconds] = time.strftime("%Y-%m-%d %H:%M:%S.", time.gmtime(seconds))
    return prefix + f"{micro:06d}"


def postgres_text(value: Any) -> str:
    """``value`` (Unix seconds or a ``datetime``) as the text PostgreSQL reads a UTC
    ``timestamptz`` from in a COPY: the SQLite text with its zone (formatting a
    ``datetime`` per value in the driver's COPY cost a fifth of a big report there)."""
    return sqlite_text(value) + "+00"


def as_datetime(value: Any) -> datetime:
    """``value`` (Unix seconds or a ``datetime``) as an aware UTC ``datetime``."""
    if isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(value, UTC)


def json_text(value: Any) -> str:
    """``value`` as JSON text: ``orjson`` when it can (integers beyond 64 bits and keys
    that are not strings take the standard encoder)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)
