"""The backbone (the SSL classifier network without its head), the projection heads, and the multi-crop wrapper.

The backbone is `harvest.training.models.build_model` with its final linear layer replaced by identity, so
its state dict has exactly the classifier network's key names minus the head's: `load_pretrained` then
initializes an SSL classifier from it by name, and nothing here duplicates an architecture.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from harvest.training.config import ModelConfig
from harvest.training.models import HEAD_NAMES, build_model


def build_backbone(cfg: ModelConfig, channels: int, num_classes: int = 1) -> tuple[nn.Module, int]:
    """(network without its classifier head, feature dimension). `cfg.pretrained` is loaded as usual."""
    model = build_model(cfg, channels, max(1, num_classes))
    for name in HEAD_NAMES:
        head = getattr(model, name, None)
        if isinstance(head, nn.Linear):
            setattr(model, name, nn.Identity())
            return model, head.in_features
    raise ValueError(f"{cfg.arch}: no linear classifier head ({' or '.join(HEAD_NAMES)}) to remove")


def _mlp(dims: list[int], norm: str, activation: type[nn.Module]) -> nn.Sequential:
    """Linear layers between `dims`, with [BatchNorm +] activation between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(zip(dims, dims[1:], strict=False)):
        layers.append(nn.Linear(cin, cout))
        if i < len(dims) - 2:
            if norm == "batch":
                layers.append(nn.BatchNorm1d(cout))
            layers.append(activation())
    return nn.Sequential(*layers)


class ProjectionHead(nn.Module):
    """SimCLR's g(.): a 2-layer MLP; the loss is computed on its output, the backbone's features are kept."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, norm: str = "batch") -> None:
        super().__init__()
        self.mlp = _mlp([in_dim, hidden_dim, out_dim], norm, nn.ReLU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)


class DINOHead(nn.Module):
    """DINO's head: 3-layer MLP (GELU) to a bottleneck, L2-normalized, then prototypes whose weight rows are
    normalized (weight norm with the gain fixed to 1, which the paper found to stabilize training)."""

    def __init__(self, in_dim: int, hidden_dim: int, bottleneck_dim: int, out_dim: int, norm: str = "none") -> None:
        super().__init__()
        self.mlp = _mlp([in_dim, hidden_dim, hidden_dim, bottleneck_dim], norm, nn.GELU)
        self.last_layer = nn.Linear(bottleneck_dim, out_dim, bias=False)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(self.mlp(x), dim=-1)
        return F.linear(x, F.normalize(self.last_layer.weight, dim=-1))


class MultiCropNetwork(nn.Module):
    """Backbone + head over a list of views: views of equal resolution go through the backbone together (one
    pass per resolution, so BatchNorm sees them as one batch), then the head runs once over all features.
    One forward call for all crops, as DDP needs for a single gradient reduction."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, views: list[torch.Tensor]) -> torch.Tensor:
        features, start = [], 0
        while start < len(views):
            end = start + 1
            while end < len(views) and views[end].shape[-2:] == views[start].shape[-2:]:
                end += 1
            features.append(self.backbone(torch.cat(views[start:end])))
            start = end
        return self.head(torch.cat(features))
