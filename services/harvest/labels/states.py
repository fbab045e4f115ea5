"""The labels vocabulary as plain Python enums (numbers equal the harvest.v1 enums, checked by a unit test),
so cores stay free of generated protobuf code."""

from __future__ import annotations

import enum


class ItemStatus(enum.IntEnum):
    UNLABELED = 1
    IN_PROGRESS = 2
    LABELED = 3
    DISAGREEMENT = 4
    REVIEWED = 5


class AnnotationKind(enum.IntEnum):
    LABEL = 1
    CLEAR = 2
    UNDO = 3
    REVIEW = 4
    MERGE = 5


class LabelSource(enum.IntEnum):
    HUMAN = 1
    MODEL = 2
    IMPORT = 3
    REVIEW = 4


class SuggestedLabelPolicy(enum.IntEnum):
    SUGGEST = 1
    LABEL = 2
    NOISY_LABEL = 3
    IGNORE = 4


class QueueStrategy(enum.IntEnum):
    RANDOM = 1
    LEAST_CONFIDENT = 2
    MARGIN = 3
    ENTROPY = 4
    DIVERSITY = 5
    HYBRID = 6


class ImageFormat(enum.IntEnum):
    UNSPECIFIED = 0
    JPEG = 1
    PNG = 2
    WEBP = 3
    TIFF = 4
    BMP = 5

    @property
    def extension(self) -> str:
        return {ImageFormat.JPEG: "jpg", ImageFormat.PNG: "png", ImageFormat.WEBP: "webp",
                ImageFormat.TIFF: "tif", ImageFormat.BMP: "bmp"}.get(self, "")


#: Statuses whose item has a final label for training (the rest are not labeled yet).
DECIDED = (ItemStatus.LABELED, ItemStatus.REVIEWED)
