"""Classifiers: torchvision ResNet-18/50 (optionally with a small-image stem), WideResNet-28-2/28-8 as used
by FixMatch and USB, and a small CNN for tests and CPU runs.

Pretrained weights come only from a local file (`model.pretrained`): a job never downloads at run time.
Layers whose shape differs (the classifier head for another class count, the stem) are left initialized.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torchvision
from torch import nn

from harvest.training.config import ModelConfig

log = logging.getLogger(__name__)
#: Name of the final linear layer per network family (ours: `classifier`; torchvision ResNets: `fc`).
HEAD_NAMES = ("classifier", "fc")


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.GroupNorm(min(8, channels), channels)


class SmallCNN(nn.Module):
    """Three conv stages (w, 2w, 4w) + global pooling: ~2,000 img/s training on two CPU cores at 28 px."""

    def __init__(self, in_channels: int, num_classes: int, width: int = 32, norm: str = "batch") -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for stage, out in enumerate((width, 2 * width, 4 * width)):
            layers += [nn.Conv2d(channels, out, 3, padding=1, bias=False), _norm(norm, out), nn.ReLU(inplace=True)]
            if stage < 2:
                layers.append(nn.MaxPool2d(2))
            channels = out
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class _WideBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, activate_before_residual: bool = False) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=0.001)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.001)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.act = nn.LeakyReLU(0.1, inplace=True)
        self.shortcut = None if cin == cout else nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.activate_before_residual = activate_before_residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(x))
        if self.shortcut is not None or self.activate_before_residual:
            x = out  # pre-activation shared with the shortcut, as in the FixMatch reference
        out = self.conv2(self.act(self.bn2(self.conv1(out))))
        return out + (x if self.shortcut is None else self.shortcut(x))


class WideResNet(nn.Module):
    """WRN-depth-k as in FixMatch (leaky ReLU 0.1, BN momentum 0.001)."""

    def __init__(self, in_channels: int, num_classes: int, depth: int = 28, widen: int = 2) -> None:
        super().__init__()
        n = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.stem = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
        blocks: list[nn.Module] = []
        for stage in range(3):
            for i in range(n):
                cin = widths[stage] if i == 0 else widths[stage + 1]
                blocks.append(_WideBlock(cin, widths[stage + 1], (1 if stage == 0 else 2) if i == 0 else 1,
                                         activate_before_residual=stage == 0 and i == 0))
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.BatchNorm2d(widths[3], momentum=0.001), nn.LeakyReLU(0.1, inplace=True),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(widths[3], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="leaky_relu")
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.blocks(self.stem(x))))


def _resnet(arch: str, in_channels: int, num_classes: int, small_stem: bool) -> nn.Module:
    model: torchvision.models.ResNet = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)
    if small_stem:
        model.conv1 = nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()  # type: ignore[assignment]
    elif in_channels != 3:
        model.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    return model


def build_model(cfg: ModelConfig, in_channels: int, num_classes: int) -> nn.Module:
    if cfg.arch == "small_cnn":
        model: nn.Module = SmallCNN(in_channels, num_classes, cfg.width, cfg.norm)
    elif cfg.arch in ("resnet18", "resnet50"):
        model = _resnet(cfg.arch, in_channels, num_classes, cfg.small_stem)
    else:
        model = WideResNet(in_channels, num_classes, 28, 2 if cfg.arch == "wrn28_2" else 8)
    if cfg.pretrained is not None:
        load_pretrained(model, cfg.pretrained)
    return model


def load_pretrained(model: nn.Module, path: Path, *, skip_head: bool = False) -> None:
    """Copy every tensor whose name and shape match from a local state dict; log what was skipped.

    `skip_head` leaves the classifier head initialized: its rows would mean other classes, or (for a pair of
    networks) both networks would start identical."""
    if not path.is_file():
        raise FileNotFoundError(f"pretrained weights {path} not found (weights are never downloaded at run time)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("model", state) if isinstance(state, dict) else state
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape
              and not (skip_head and k.split(".")[0] in HEAD_NAMES)}
    model.load_state_dict(usable, strict=False)
    log.info("loaded pretrained weights", extra={"path": str(path), "loaded": len(usable),
                                                 "skipped": sorted(set(own) - set(usable))})
