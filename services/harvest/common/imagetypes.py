"""The image types HARVEST accepts, judged from the bytes (never from a name): storage checks uploads with
it, inference checks raw bytes sent to Predict, so both accept and refuse exactly the same files."""

from __future__ import annotations


def sniff(head: bytes) -> str | None:
    """The image format from the first bytes ("jpeg", "png", "webp", "tiff", "bmp"), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    return None
