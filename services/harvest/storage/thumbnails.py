"""Grid thumbnails: made once at ingest from the already-decoded image, stored as WebP."""

from __future__ import annotations

import io

from PIL import Image

CONTENT_TYPE = "image/webp"


def make_thumbnail(image: Image.Image, size: int) -> tuple[bytes, int, int]:
    """WebP bytes of the image scaled to fit `size` px (never enlarged), with the thumbnail's width and height."""
    thumb = image.copy()
    if thumb.mode not in ("RGB", "RGBA", "L", "LA"):
        thumb = thumb.convert("RGBA" if "A" in thumb.getbands() else "RGB")
    thumb.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=80, method=0)  # method 0: fastest encoder, fine for a grid
    return out.getvalue(), thumb.width, thumb.height
