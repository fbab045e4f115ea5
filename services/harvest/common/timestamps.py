"""Datetimes to protobuf Timestamps, the one conversion every servicer needs.

SQLite hands back naive datetimes (always UTC here) and PostgreSQL aware ones; both become the same
Timestamp.
"""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    return stamp
