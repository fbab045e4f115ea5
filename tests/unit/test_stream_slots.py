"""The places long-lived streams hold (StreamSlots), the token re-check an open stream makes, and the
protobuf timestamps every write answers with."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from harvest.common.auth import Principal, Role, check_still_valid
from harvest.common.errors import ResourceExhausted, Unauthenticated
from harvest.common.streams import StreamSlots
from harvest.common.timestamps import to_timestamp


def slots() -> StreamSlots:
    return StreamSlots("test streams", 2, 1, "TOTAL_SETTING", "PER_USER_SETTING")


def test_slots_are_capped_per_user_and_in_all_and_freed_when_the_block_ends() -> None:
    places = slots()
    with places.slot("ann"):
        with pytest.raises(ResourceExhausted, match=r"you already have 1 test streams open \(PER_USER_SETTING\)"):
            with places.slot("ann"):
                pass
        with places.slot("bob"):
            assert places.open == 2
            with pytest.raises(ResourceExhausted, match=r"already serves 2 test streams \(TOTAL_SETTING\)"):
                with places.slot("cid"):
                    pass
    assert places.open == 0
    with places.slot("cid"):
        assert places.open == 1


def test_a_failing_block_still_frees_its_place() -> None:
    places = slots()
    with pytest.raises(RuntimeError), places.slot("ann"):
        raise RuntimeError("the stream broke")
    assert places.open == 0


def principal(expires_at: float, user_id: str = "u1") -> Principal:
    return Principal(user_id, "ann", Role.ANNOTATOR, "t1", expires_at)


def test_an_expired_or_revoked_token_ends_an_open_stream() -> None:
    check_still_valid(principal(time.time() + 60), lambda token_id: False)
    with pytest.raises(Unauthenticated, match="expired"):
        check_still_valid(principal(time.time() - 1), None)
    with pytest.raises(Unauthenticated, match="revoked"):
        check_still_valid(principal(time.time() + 60), lambda token_id: token_id == "t1")
    check_still_valid(principal(time.time() + 60, "service:inference"), lambda token_id: True)  # not revocable


@pytest.mark.parametrize("value", [
    dt.datetime(2026, 12, 3, 8, 30, 15, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 3, 8, 30, 15, 123456),  # SQLite: naive, UTC
    dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),
    dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
])
def test_timestamps_match_protobufs_own_conversion(value: dt.datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    assert to_timestamp(value) == expected
    assert to_timestamp(None) is None
