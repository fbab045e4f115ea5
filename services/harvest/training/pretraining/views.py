"""SimCLR's two views and DINO's multi-crop (2 global + N local crops) of a uint8 batch, batched on its device.

Per view: random resized crop (area fraction and aspect ratio drawn per image; one batched
`torchvision.ops.roi_align`, whose adaptive sampling averages like an antialiased resize), optional flip,
colour jitter (brightness, contrast, saturation with per-image factors), grayscale, Gaussian blur
(torchvision.transforms.v2 kernel, grouped by a few sigma levels) and, on the second global view,
solarization. Hue jitter is left out: it has no batched per-image kernel and digits/X-rays are gray anyway.

As in `harvest.training.augment`, every random parameter is drawn on the CPU for the *global* batch from a
generator seeded by (seed, step, view) and each rank keeps its slice: an image gets the same crops whether
the batch is split over 1 or 16 processes, a resumed run redraws exactly what it would have drawn, and the
device never waits for the host (groupings are decided on CPU tensors).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torchvision.transforms.v2.functional as TF
from torchvision.ops import roi_align

from harvest.training.data import mix_seed
from harvest.training.pretraining.config import GLOBAL_CROPS, CropsConfig

#: Seed stream of view v (the SSL augmenter uses streams 0-3 of the same (seed, step) space).
VIEW_STREAM = 1000
BLUR_LEVELS = 4

Sample = Callable[[torch.Generator, int], torch.Tensor]


class MultiCrop:
    """Builds the normalized views of one rank's uint8 batch: `GLOBAL_CROPS` global crops, then local crops."""

    def __init__(self, cfg: CropsConfig, resolution: int, mean: tuple[float, ...], std: tuple[float, ...], *,
                 seed: int, local_crops: int | None = None, rank: int = 0, world_size: int = 1,
                 device: torch.device | None = None, channels_last: bool = False) -> None:
        self.cfg = cfg
        self.resolution = resolution
        self.local_resolution = cfg.local_side(resolution)
        self.local_crops = cfg.local_crops if local_crops is None else local_crops
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.device = device or torch.device("cpu")
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format

    @property
    def count(self) -> int:
        return GLOBAL_CROPS + self.local_crops

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 -> normalized float, no augmentation (what the probe and inference see)."""
        return self._finish(images.to(self.device, non_blocking=True).float().div_(255))

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / self.std).contiguous(memory_format=self.memory_format)

    def __call__(self, images: torch.Tensor, step: int) -> list[torch.Tensor]:
        x = images.to(self.device, non_blocking=True).float().div_(255)
        views = [self._view(x, step, v, self.resolution, self.cfg.global_scale, solarize=v == 1)
                 for v in range(GLOBAL_CROPS)]
        views += [self._view(x, step, GLOBAL_CROPS + v, self.local_resolution, self.cfg.local_scale, solarize=False)
                  for v in range(self.local_crops)]
        return views

    def _draw(self, n: int, step: int, view: int) -> Callable[[Sample], torch.Tensor]:
        """Draws global-batch-sized parameters in call order and returns this rank's slice."""
        generator = torch.Generator().manual_seed(mix_seed(self.seed, step, VIEW_STREAM + view))
        total, start = n * self.world_size, n * self.rank

        def draw(sample: Sample) -> torch.Tensor:
            return sample(generator, total)[start:start + n]

        return draw

    def _view(self, x: torch.Tensor, step: int, view: int, side: int, scale: tuple[float, float], *,
              solarize: bool) -> torch.Tensor:
        n, channels, h, w = x.shape
        draw = self._draw(n, step, view)

        def uniform(low: float, high: float) -> torch.Tensor:
            return draw(lambda g, t: torch.rand(t, generator=g, dtype=torch.float64)) * (high - low) + low

        def chance(p: float) -> torch.Tensor:
            return draw(lambda g, t: torch.rand(t, generator=g)) < p

        area = uniform(*scale) * h * w
        ratio = torch.exp(uniform(math.log(3 / 4), math.log(4 / 3)))
        crop_w = (area * ratio).sqrt().clamp(max=w)
        crop_h = (area / ratio).sqrt().clamp(max=h)
        x0 = uniform(0, 1) * (w - crop_w)
        y0 = uniform(0, 1) * (h - crop_h)
        flip = chance(0.5) & self.cfg.flip
        jitter = chance(self.cfg.jitter)
        factors = [torch.where(jitter, uniform(1 - s, 1 + s), 1.0).float() for s in
                   (self.cfg.brightness, self.cfg.contrast, self.cfg.saturation)]
        gray = chance(self.cfg.grayscale)
        blur = chance(self.cfg.blur)
        sigma_level = draw(lambda g, t: torch.randint(0, BLUR_LEVELS, (t,), generator=g))
        solar = chance(self.cfg.solarize) & solarize

        boxes = torch.stack([torch.arange(n, dtype=torch.float64), x0, y0, x0 + crop_w, y0 + crop_h], 1)
        out = roi_align(x, boxes.to(self.device, x.dtype), output_size=(side, side), spatial_scale=1.0,
                        sampling_ratio=-1, aligned=True)
        out = torch.where(flip.to(self.device).view(-1, 1, 1, 1), out.flip(-1), out)
        out = self._jitter(out, *(f.to(self.device).view(-1, 1, 1, 1) for f in factors))
        if channels == 3:
            out = torch.where(gray.to(self.device).view(-1, 1, 1, 1), TF.rgb_to_grayscale(out, 3), out)
        out = self._blur(out, blur, sigma_level)
        out = torch.where(solar.to(self.device).view(-1, 1, 1, 1) & (out >= 0.5), 1 - out, out)
        return self._finish(out)

    @staticmethod
    def _jitter(x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor,
                saturation: torch.Tensor) -> torch.Tensor:
        """Brightness, contrast and saturation with per-image factors (1 = unchanged), as blends."""
        x = (x * brightness).clamp_(0, 1)
        gray = TF.rgb_to_grayscale(x, x.shape[1]) if x.shape[1] == 3 else x
        mean = gray.mean(dim=(1, 2, 3), keepdim=True)
        x = (mean + contrast * (x - mean)).clamp_(0, 1)
        if x.shape[1] == 3:
            gray = TF.rgb_to_grayscale(x, 3)
            x = (gray + saturation * (x - gray)).clamp_(0, 1)
        return x

    def _blur(self, x: torch.Tensor, chosen: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        if not bool(chosen.any()):  # CPU tensors: no device sync
            return x
        low, high = self.cfg.blur_sigma
        side = x.shape[-1]
        for k in level[chosen].unique().tolist():
            sigma = low + (high - low) * k / max(1, BLUR_LEVELS - 1)
            kernel = min(2 * math.ceil(3 * sigma) + 1, side - 1 + side % 2)
            idx = (chosen & (level == k)).nonzero().squeeze(1).to(x.device)
            x = x.index_copy(0, idx, TF.gaussian_blur(x.index_select(0, idx), [kernel, kernel], [sigma, sigma]))
        return x
