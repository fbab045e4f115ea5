"""Datetimes to protobuf Timestamps, the one conversion every servicer needs.

SQLite hands back naive datetimes (always UTC here) and PostgreSQL aware ones; both become the same
Timestamp.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_timestamp(value: dt.datetime | None) -> Timestamp | None:
    """Seconds and nanoseconds since the epoch, by datetime arithmetic: every label write answers with two
    timestamps, and `Timestamp.FromDatetime` costs several times as much (it goes through calendar.timegm)."""
    if value is None:
        return None
    since = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)) - _EPOCH
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)
