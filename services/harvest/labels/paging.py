"""Opaque page tokens for keyset pagination.

A token carries the sort key of the last row served and a fingerprint of the filters it was issued for:
the next page continues strictly after that key (no rows skipped or repeated when others are inserted
meanwhile, unlike OFFSET), and a token reused with other filters is refused instead of silently paging
through a different result.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from harvest.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """What a List call asked for: how many rows, after which key, under which filters."""

    size: int
    after: tuple[Any, ...] | None
    fingerprint: str

    def next_token(self, rows: Sequence[Any], key_of: Any) -> str:
        """Token for the page after `rows` (fetched with size + 1 rows), or "" when this was the last."""
        if len(rows) <= self.size:
            return ""
        return encode_token(key_of(rows[self.size - 1]), self.fingerprint)


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(key: Sequence[Any], print_: str) -> str:
    raw = json.dumps({"k": list(key), "f": print_}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_request(size: int, token: str, *filters: Any) -> Page:
    """Validate the page size and decode the token against the current filters."""
    if size < 0:
        raise InvalidArgument("page_size must not be negative")
    size = DEFAULT_PAGE_SIZE if size == 0 else min(size, MAX_PAGE_SIZE)
    print_ = fingerprint(*filters)
    if not token:
        return Page(size, None, print_)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key, issued_for = tuple(decoded["k"]), decoded["f"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token is malformed; start again without one") from None
    if issued_for != print_:
        raise InvalidArgument("page_token was issued for other filters; start again without one")
    return Page(size, key, print_)


def after_key(columns: Sequence[tuple[ColumnElement[Any], bool]], key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `key` in the order given by (column, descending) pairs.

    Spelled out as (a > x) OR (a = x AND b > y) …, because row-value comparison cannot mix directions.
    """
    if len(columns) != len(key):
        raise InvalidArgument("page_token does not match this listing; start again without one")
    clauses = []
    for index, (column, descending) in enumerate(columns):
        equal = [c == v for (c, _), v in zip(columns[:index], key[:index], strict=True)]
        step = column < key[index] if descending else column > key[index]
        clauses.append(and_(*equal, step))
    return or_(*clauses)
