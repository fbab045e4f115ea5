"""Raw image bytes to the network's input, exactly as training prepared its images.

Training (`harvest.training.data.decode` + `Augmenter.normalize`) decodes with `torchvision.io.decode_image`
in GRAY or RGB mode, resizes to a square with bilinear antialiased interpolation, scales to [0, 1] and
normalizes with the snapshot's mean/std. This module does the same from bytes (training's `decode` reads a
cached file and names a manifest entry in its errors, so it cannot be called as is); a unit test checks the
two agree bit for bit.

Hostile input is refused per image before decoding: size limit, type sniffed from the bytes, and the
pixel count read from the header (Pillow, lazily) so a decompression bomb is never allocated.
"""

from __future__ import annotations

import io
import warnings

import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image, UnidentifiedImageError
from torchvision.io import ImageReadMode, decode_image

from harvest.common.imagetypes import sniff
from harvest.inference.package import Preprocessing

warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")


class BadImage(ValueError):
    """An input that is not a usable image; the message says why (returned as PredictResult.error)."""


def check(data: bytes, *, max_bytes: int, max_pixels: int) -> str:
    """Refuse empty, oversized, unknown-type and too-many-pixel inputs; returns the sniffed type."""
    if not data:
        raise BadImage("empty image")
    if len(data) > max_bytes:
        raise BadImage(f"{len(data):,} bytes is over the {max_bytes:,}-byte limit for one image")
    kind = sniff(data[:32])
    if kind is None:
        raise BadImage("not an image: expected JPEG, PNG, WebP, TIFF or BMP bytes")
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the header only
            width, height = header.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadImage(f"corrupt {kind.upper()} header ({str(exc)[:100]})") from None
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise BadImage(f"{width}x{height} pixels is outside the limit of {max_pixels:,} pixels")
    return kind


def _decode_pillow(data: bytes, channels: int) -> torch.Tensor:
    """TIFF (which torchvision cannot decode) through Pillow, to the same uint8 CHW layout."""
    with Image.open(io.BytesIO(data)) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        tensor = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        return tensor.view(image.height, image.width, channels).permute(2, 0, 1).contiguous()


def decode(data: bytes, prep: Preprocessing, *, max_bytes: int, max_pixels: int) -> torch.Tensor:
    """Validated bytes -> (channels, resolution, resolution) uint8, or BadImage."""
    kind = check(data, max_bytes=max_bytes, max_pixels=max_pixels)
    try:
        if kind == "tiff":
            image = _decode_pillow(data, prep.channels)
        else:
            mode = ImageReadMode.GRAY if prep.channels == 1 else ImageReadMode.RGB
            image = decode_image(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode=mode)
    except (RuntimeError, OSError, ValueError, SyntaxError) as exc:
        raise BadImage(f"the {kind.upper()} data is corrupt or truncated ({str(exc)[:100]})") from None
    size = prep.resolution
    if image.shape[-2:] != (size, size):
        image = TF.resize(image, [size, size], antialias=True)
    return image


def normalize(images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float, scaled to [0, 1] and normalized (training's `Augmenter.normalize`)."""
    return (images.float().div_(255) - mean) / std
