"""Image validation: what reaches the object store is a real, fully decodable image of a supported
type and a sane size. The type is sniffed from the bytes, never taken from the name; the pixel count is
checked from the header before decoding, so a decompression bomb is refused without allocating it.
"""

from __future__ import annotations

import enum
import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from harvest.common.imagetypes import sniff

# Our explicit pixel check runs first; Pillow's own bomb guard would only warn or raise at 2x.
Image.MAX_IMAGE_PIXELS = None


class RejectReason(enum.Enum):
    """Why a file was refused; names match `harvest.v1.RejectReason` without its prefix."""

    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_LARGE = "too_large"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    UNSAFE_PATH = "unsafe_path"
    NOT_REGULAR_FILE = "not_regular_file"
    COMPRESSION_RATIO = "compression_ratio"
    ARCHIVE_LIMIT = "archive_limit"
    QUOTA_EXCEEDED = "quota_exceeded"
    EMPTY = "empty"


class Rejected(Exception):
    """A file refused for a reason a person can act on."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


#: Extension used in object keys for each format (from the bytes, not the client's name).
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "tiff": "tif", "bmp": "bmp"}
_PILLOW_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "TIFF": "tiff", "BMP": "bmp"}
_PILLOW_NAMES = {ours: pillow for pillow, ours in _PILLOW_FORMATS.items()}


@dataclass(frozen=True, slots=True)
class ValidImage:
    """A validated image: its facts and the decoded picture (reused for the thumbnail)."""

    format: str
    width: int
    height: int
    image: Image.Image

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def validate_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ValidImage:
    """Check and fully decode an image, or raise Rejected saying what is wrong with it."""
    if not data:
        raise Rejected(RejectReason.EMPTY, "the file is empty")
    if len(data) > max_bytes:
        raise Rejected(RejectReason.TOO_LARGE,
                       f"{len(data):,} bytes is over the {max_bytes:,}-byte limit for one image")
    kind = sniff(data[:32])
    if kind is None:
        raise Rejected(RejectReason.UNSUPPORTED_TYPE,
                       "not a JPEG, PNG, WebP, TIFF or BMP image (judged from the file's bytes, not its name)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_NAMES[kind]])
            width, height = image.size
            if width <= 0 or height <= 0:
                raise Rejected(RejectReason.CORRUPT, "the image has no pixels")
            if width * height > max_pixels:
                raise Rejected(RejectReason.TOO_MANY_PIXELS,
                               f"{width}x{height} = {width * height:,} pixels is over the {max_pixels:,}-pixel limit")
            image.load()
    except Rejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, struct.error, IndexError, TypeError, ZeroDivisionError,
            MemoryError, RuntimeError) as exc:
        raise Rejected(RejectReason.CORRUPT,
                       f"the {kind.upper()} data is corrupt or truncated ({_short(exc)})") from None
    detected = _PILLOW_FORMATS.get(image.format or "")
    if detected != kind:
        raise Rejected(RejectReason.CORRUPT, f"bytes look like {kind.upper()} but decode as {image.format}")
    return ValidImage(kind, width, height, image)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
