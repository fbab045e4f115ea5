"""Weak and strong views of a batch, computed on the batch's device (the GPU when there is one).

Weak: horizontal flip (optional: digits must not be mirrored) + translation by up to 12.5% with reflect
padding. Strong: weak + RandAugment (N ops, a random magnitude per image, as in FixMatch) + Cutout.

Random parameters are drawn on the CPU for the *global* batch from a generator seeded by (seed, step,
stream), and each rank keeps its slice. So an image gets the same augmentation whether the batch is
split over 1 or 16 processes, a resumed run redraws exactly what it would have drawn, and no host/device
sync is needed (the choice of op per image is known on the host). Each op is vectorized over the images
that drew it, with per-image magnitudes, using torchvision.transforms.v2 kernels for the image statistics
(equalize, autocontrast, grayscale, blur).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF

from harvest.training.config import AugmentConfig
from harvest.training.data import mix_seed

FILL = 0.5  # gray, like FixMatch's Cutout colour

Op = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _blend(image: torch.Tensor, degenerate: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    return (degenerate + factor.view(-1, 1, 1, 1) * (image - degenerate)).clamp_(0, 1)


def _factor(mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return 1 + 0.9 * mag * sign


def _gray(image: torch.Tensor) -> torch.Tensor:
    return TF.rgb_to_grayscale(image, num_output_channels=image.shape[1]) if image.shape[1] == 3 else image


def _brightness(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return _blend(x, torch.zeros_like(x), _factor(mag, sign))


def _color(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return _blend(x, _gray(x), _factor(mag, sign))


def _contrast(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return _blend(x, _gray(x).mean(dim=(1, 2, 3), keepdim=True).expand_as(x), _factor(mag, sign))


def _sharpness(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return _blend(x, TF.adjust_sharpness(x, 0.0), _factor(mag, sign))


def _autocontrast(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return TF.autocontrast(x)


def _equalize(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return TF.equalize(x)


def _posterize(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    bits = 8 - (mag * 4).floor().to(torch.int32)  # 8 (no change) .. 4 bits
    mask = ((0xFF << (8 - bits)) & 0xFF).view(-1, 1, 1, 1).to(torch.uint8)
    return ((x * 255).round_().to(torch.uint8) & mask).float().div_(255)


def _solarize(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    threshold = (1 - mag).view(-1, 1, 1, 1)
    return torch.where(x >= threshold, 1 - x, x)


def _identity(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    return x


def _affine_theta(kind: str, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
    """Per-image 2x3 matrices in affine_grid's normalized coordinates."""
    n = mag.shape[0]
    theta = torch.zeros(n, 2, 3, device=mag.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    value = mag * sign
    if kind == "rotate":
        angle = value * math.radians(30)
        theta[:, 0, 0], theta[:, 0, 1] = angle.cos(), -angle.sin()
        theta[:, 1, 0], theta[:, 1, 1] = angle.sin(), angle.cos()
    elif kind == "shear_x":
        theta[:, 0, 1] = 0.3 * value
    elif kind == "shear_y":
        theta[:, 1, 0] = 0.3 * value
    elif kind == "translate_x":
        theta[:, 0, 2] = 2 * 0.3 * value
    else:
        theta[:, 1, 2] = 2 * 0.3 * value
    return theta


def _affine(kind: str) -> Op:
    def apply(x: torch.Tensor, mag: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
        theta = _affine_theta(kind, mag, sign)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        with_alpha = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        out = F.grid_sample(with_alpha, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        alpha = out[:, -1:]
        return out[:, :-1] + (1 - alpha) * FILL

    return apply


RANDAUGMENT_OPS: tuple[Op, ...] = (
    _identity, _autocontrast, _equalize, _brightness, _color, _contrast, _sharpness, _posterize, _solarize,
    _affine("rotate"), _affine("shear_x"), _affine("shear_y"), _affine("translate_x"), _affine("translate_y"),
)


class Augmenter:
    """Builds normalized float views of uint8 batches for one rank."""

    def __init__(self, cfg: AugmentConfig, mean: tuple[float, ...], std: tuple[float, ...], *, seed: int,
                 rank: int = 0, world_size: int = 1, device: torch.device | None = None,
                 channels_last: bool = False) -> None:
        self.cfg = cfg
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.device = device or torch.device("cpu")
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format

    def _draw(self, n: int, step: int, stream: int) -> Callable[[Callable[[torch.Generator, int], torch.Tensor]],
                                                                   torch.Tensor]:
        """A function drawing one global-batch-sized tensor and returning this rank's slice, in call order."""
        generator = torch.Generator().manual_seed(mix_seed(self.seed, step, stream))
        total, start = n * self.world_size, n * self.rank

        def draw(sample: Callable[[torch.Generator, int], torch.Tensor]) -> torch.Tensor:
            return sample(generator, total)[start:start + n]

        return draw

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 -> float, normalized with the dataset statistics (also what evaluation and inference use)."""
        return self._finish(images.to(self.device, non_blocking=True).float().div_(255))

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / self.std).contiguous(memory_format=self.memory_format)

    def _weak(self, images: torch.Tensor, draw: Callable[..., torch.Tensor]) -> torch.Tensor:
        x = images.to(self.device, non_blocking=True).float().div_(255)
        n, _, h, w = x.shape
        flip = draw(lambda g, t: torch.rand(t, generator=g) < 0.5)
        pad_h, pad_w = int(self.cfg.translate * h), int(self.cfg.translate * w)
        dy = draw(lambda g, t: torch.randint(0, 2 * pad_h + 1, (t,), generator=g))
        dx = draw(lambda g, t: torch.randint(0, 2 * pad_w + 1, (t,), generator=g))
        if self.cfg.flip:
            x = torch.where(flip.to(self.device).view(-1, 1, 1, 1), x.flip(-1), x)
        if pad_h or pad_w:
            padded = F.pad(x, (pad_w, pad_w, pad_h, pad_h), mode="reflect")
            rows = (dy.view(-1, 1) + torch.arange(h)).to(self.device)
            cols = (dx.view(-1, 1) + torch.arange(w)).to(self.device)
            batch = torch.arange(n, device=self.device).view(-1, 1, 1)
            x = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
        return x

    def weak(self, images: torch.Tensor, step: int, stream: int) -> torch.Tensor:
        return self._finish(self._weak(images, self._draw(images.shape[0], step, stream)))

    def strong(self, images: torch.Tensor, step: int, stream: int) -> torch.Tensor:
        draw = self._draw(images.shape[0], step, stream)
        x = self._weak(images, draw).contiguous()
        for _ in range(self.cfg.randaugment_ops):
            op = draw(lambda g, t: torch.randint(0, len(RANDAUGMENT_OPS), (t,), generator=g))
            mag = draw(lambda g, t: torch.rand(t, generator=g)).to(self.device)
            sign = draw(lambda g, t: torch.where(torch.rand(t, generator=g) < 0.5, -1.0, 1.0)).to(self.device)
            for k in op.unique().tolist():  # op is a CPU tensor: no device sync
                idx = (op == k).nonzero().squeeze(1).to(self.device)
                x.index_copy_(0, idx, RANDAUGMENT_OPS[k](x.index_select(0, idx), mag[idx], sign[idx]))
        return self._finish(self._cutout(x, draw))

    def _cutout(self, x: torch.Tensor, draw: Callable[..., torch.Tensor]) -> torch.Tensor:
        _, _, h, w = x.shape
        size = draw(lambda g, t: torch.rand(t, generator=g)).to(self.device) * self.cfg.cutout
        cy = draw(lambda g, t: torch.rand(t, generator=g)).to(self.device) * h
        cx = draw(lambda g, t: torch.rand(t, generator=g)).to(self.device) * w
        ys = torch.arange(h, device=self.device).view(1, -1, 1)
        xs = torch.arange(w, device=self.device).view(1, 1, -1)
        inside = ((ys - cy.view(-1, 1, 1)).abs() <= size.view(-1, 1, 1) * h / 2) & \
                 ((xs - cx.view(-1, 1, 1)).abs() <= size.view(-1, 1, 1) * w / 2)
        return torch.where(inside.unsqueeze(1), torch.full_like(x, FILL), x)
