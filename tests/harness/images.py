"""Real image files for tests: generated with Pillow (any format HARVEST accepts), and hostile ones."""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image


def make_image(seed: int, size: tuple[int, int] = (32, 32), fmt: str = "PNG", mode: str = "RGB") -> bytes:
    """A distinct, valid image (different seed → different bytes)."""
    rng = random.Random(seed)
    image = Image.new(mode, size)
    pixels = [tuple(rng.randrange(256) for _ in range(len(mode))) if len(mode) > 1 else rng.randrange(256)
              for _ in range(size[0] * size[1])]
    image.putdata(pixels)  # type: ignore[arg-type]
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def make_noise_bmp(seed: int, size: tuple[int, int]) -> bytes:
    """An uncompressed BMP of random bytes: big files that cost nothing to encode."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, format="BMP")
    return out.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: max(8, int(len(data) * keep))]
