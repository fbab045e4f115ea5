"""SDK helpers: chunking respects the 1 MiB upload limit and pagination follows page tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harvest.client import chunks, paginate

pytestmark = pytest.mark.unit


def test_chunks_split_bytes_at_the_limit() -> None:
    data = bytes(range(256)) * 9000  # 2.2 MiB
    pieces = list(chunks(data, size=1024 * 1024))
    assert [len(p) for p in pieces] == [1048576, 1048576, len(data) - 2 * 1048576]
    assert b"".join(pieces) == data


def test_chunks_rechunk_a_stream_of_odd_pieces() -> None:
    stream = iter([b"a" * 700, b"b" * 700, b"c" * 5])
    pieces = list(chunks(stream, size=512))
    assert all(len(p) <= 512 for p in pieces)
    assert b"".join(pieces) == b"a" * 700 + b"b" * 700 + b"c" * 5


def test_chunks_of_nothing_is_nothing() -> None:
    assert list(chunks(b"")) == []


@dataclass
class _Page:
    next_page_token: str = ""


@dataclass
class _Request:
    page: _Page = field(default_factory=_Page)

    def __post_init__(self) -> None:
        self.page = _Page()
        self.page.page_token = ""  # type: ignore[attr-defined]


@dataclass
class _Response:
    items: list[int]
    page: _Page


def test_paginate_follows_tokens_until_the_last_page() -> None:
    pages = {"": ([1, 2], "p2"), "p2": ([3], "p3"), "p3": ([4, 5], "")}
    seen_tokens: list[str] = []

    def call(request: _Request) -> _Response:
        token = request.page.page_token  # type: ignore[attr-defined]
        seen_tokens.append(token)
        items, next_token = pages[token]
        return _Response(items, _Page(next_token))

    assert list(paginate(call, _Request(), "items")) == [1, 2, 3, 4, 5]
    assert seen_tokens == ["", "p2", "p3"]
