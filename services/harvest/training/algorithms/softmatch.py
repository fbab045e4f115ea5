"""SoftMatch (Chen et al. 2023): instead of a hard threshold, each unlabeled image is weighted by a
truncated Gaussian of its confidence (EMA mean/variance), after distribution alignment towards a uniform
class prior. Mean, variance and the class distribution are all-reduced over ranks every step."""

from __future__ import annotations

import torch

from harvest.training.algorithms.base import Batch
from harvest.training.algorithms.fixmatch import FixMatch


class SoftMatch(FixMatch):
    name = "softmatch"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        c = self.num_classes
        self.register_buffer("mu_t", torch.tensor(1.0 / c))
        self.register_buffer("var_t", torch.tensor(1.0))
        self.register_buffer("p_model", torch.full((c,), 1.0 / c))

    def align(self, probs: torch.Tensor) -> torch.Tensor:
        if not self.cfg.dist_align:
            return probs
        mean = self.comm.mean_(probs.mean(0))
        self.p_model.lerp_(mean, 1 - self.cfg.ema_p)
        aligned = probs * (1.0 / self.num_classes + 1e-6) / (self.p_model + 1e-6)
        return aligned / aligned.sum(-1, keepdim=True)

    def mask(self, probs: torch.Tensor, batch: Batch) -> torch.Tensor:
        max_probs = probs.max(-1).values
        n_global = max_probs.shape[0] * self.comm.world_size
        moments = self.comm.mean_(torch.stack([max_probs.mean(), max_probs.pow(2).mean()]))
        var = (moments[1] - moments[0] ** 2) * n_global / max(n_global - 1, 1)  # unbiased, like torch.var
        self.mu_t.lerp_(moments[0], 1 - self.cfg.ema_p)
        self.var_t.lerp_(var, 1 - self.cfg.ema_p)
        gap = (max_probs - self.mu_t).clamp(max=0)
        return torch.exp(-gap.pow(2) / (2 * self.var_t / self.cfg.n_sigma ** 2))
