"""Grid thumbnails: made once at ingest from the already-decoded image, and stored in packs.

A pack is one object holding the thumbnails of many images of one upload back to back; the index keeps
each thumbnail's offset and length. One PUT per pack instead of one per image makes ingest cheaper, and
a grid page of thumbnails from the same upload is one ranged GET instead of a hundred.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass

from PIL import Image

from harvest.common.objectstore import ObjectStore

CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}
#: A pack is written once it holds this much (and at the end of the upload).
PACK_BYTES = 8 * 1024 * 1024


def make_thumbnail(image: Image.Image, size: int, fmt: str = "jpeg") -> tuple[bytes, int, int]:
    """Encoded bytes of the image scaled to fit `size` px (never enlarged), with the thumbnail's width and height."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if fmt == "jpeg" and thumb.mode != "RGB":
        thumb = _flatten(thumb)
    elif thumb.mode not in ("RGB", "RGBA", "L", "LA"):
        thumb = thumb.convert("RGBA" if "A" in thumb.getbands() else "RGB")
    out = io.BytesIO()
    if fmt == "webp":
        thumb.save(out, format="WEBP", quality=80, method=0)  # method 0: the fastest encoder
    else:
        thumb.save(out, format="JPEG", quality=82, optimize=False)
    return out.getvalue(), thumb.width, thumb.height


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: transparent areas on white, 16-bit and palette images converted."""
    if "A" in image.getbands() or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda value: value / 256).convert("L").convert("RGB")
    return image.convert("RGB")


@dataclass(frozen=True, slots=True)
class PackedThumbnail:
    key: str
    offset: int
    length: int


class ThumbnailPacker:
    """Collects one upload's thumbnails and writes them as pack objects (thread-safe)."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self._store = store
        self._prefix = prefix
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._pending: list[tuple[str, int, int]] = []  # (image id, offset, length) in the open pack
        self.placed: dict[str, PackedThumbnail] = {}
        self.written: list[str] = []

    def add(self, image_id: str, data: bytes) -> None:
        with self._lock:
            self._pending.append((image_id, len(self._buffer), len(data)))
            self._buffer.extend(data)
            if len(self._buffer) >= PACK_BYTES:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        key = f"{self._prefix}{uuid.uuid4().hex}.pack"
        self.written.append(key)  # recorded first: an abort must delete it even if the PUT half-failed
        self._store.put(key, bytes(self._buffer), content_type="application/octet-stream")
        for image_id, offset, length in self._pending:
            self.placed[image_id] = PackedThumbnail(key, offset, length)
        self._buffer.clear()
        self._pending.clear()
