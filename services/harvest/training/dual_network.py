"""Two networks trained side by side, for the noisy-label algorithms (Co-teaching, DivideMix).

Each network must learn from what the *other* one deems clean, so they need different initializations
(they are built one after the other from the same seeded generator, hence differ, and are the same on
every rank). Wrapping both in one module keeps the rest of the engine unchanged: one DDP wrapper (one
gradient all-reduce per step), one optimizer, one EMA, one `state_dict` in checkpoints. The forward
returns both networks' logits stacked as (2, N, C).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class DualNetwork(nn.Module):
    def __init__(self, build: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.nets = nn.ModuleList([build(), build()])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([net(x) for net in self.nets])


def stacked_logits(output: torch.Tensor) -> torch.Tensor:
    """(K, N, C) whatever the model: a single network's (N, C) becomes (1, N, C)."""
    return output.unsqueeze(0) if output.dim() == 2 else output


def publishable(model: nn.Module, choice: int) -> nn.Module:
    """The single network a model package holds: the chosen one of a pair, else the model itself."""
    return model.nets[choice] if isinstance(model, DualNetwork) else model
