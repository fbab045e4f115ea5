"""Storage's format names (`jpeg`, `png`, …, from the bytes) as the contract's ImageFormat values, for the
layers that speak gRPC (the servicer, and the item registration sent to labels)."""

from __future__ import annotations

from harvest.v1 import common_pb2

IMAGE_FORMATS: dict[str, int] = {
    "jpeg": common_pb2.IMAGE_FORMAT_JPEG, "png": common_pb2.IMAGE_FORMAT_PNG, "webp": common_pb2.IMAGE_FORMAT_WEBP,
    "tiff": common_pb2.IMAGE_FORMAT_TIFF, "bmp": common_pb2.IMAGE_FORMAT_BMP,
}
FORMAT_NAMES: dict[int, str] = {value: name for name, value in IMAGE_FORMATS.items()}
