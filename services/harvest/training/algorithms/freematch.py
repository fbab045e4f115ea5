"""FreeMatch (Wang et al. 2023): a self-adaptive global threshold (EMA of the mean confidence) modulated
per class by the EMA class distribution, plus a fairness term that keeps predictions spread over classes.

Every statistic is the mean over the global batch (one all-reduce of a flat tensor per step), so all
ranks hold the same thresholds. The fairness term is computed per rank from the masked images, without
boolean indexing (no host sync).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Batch
from harvest.training.algorithms.fixmatch import FixMatch


class FreeMatch(FixMatch):
    name = "freematch"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        c = self.num_classes
        self.register_buffer("time_p", torch.tensor(1.0 / c))
        self.register_buffer("p_model", torch.full((c,), 1.0 / c))
        self.register_buffer("label_hist", torch.full((c,), 1.0 / c))

    def mask(self, probs: torch.Tensor, batch: Batch) -> torch.Tensor:
        max_probs, pseudo = probs.max(-1)
        hist = F.one_hot(pseudo, self.num_classes).float().mean(0)
        stats = self.comm.mean_(torch.cat([max_probs.mean().view(1), probs.mean(0), hist]))
        m = self.cfg.ema_p
        self.time_p.lerp_(stats[0], 1 - m)
        self.p_model.lerp_(stats[1:1 + self.num_classes], 1 - m)
        self.label_hist.lerp_(stats[1 + self.num_classes:], 1 - m)
        modulation = self.p_model / self.p_model.max()
        return (max_probs >= self.time_p * modulation[pseudo]).float()

    def extra_loss(self, logits_s: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.cfg.lambda_ent == 0:
            return {}
        probs_s = logits_s.float().softmax(-1)
        weights = mask.view(-1, 1)
        kept = weights.sum().clamp_min(1)
        hist_s = (F.one_hot(probs_s.argmax(-1), self.num_classes).float() * weights).sum(0)
        hist_s = hist_s / hist_s.sum().clamp_min(1)
        mod_model = self.p_model / self.label_hist
        mod_model = mod_model / mod_model.sum()
        scale_s = torch.nan_to_num(1 / hist_s, nan=0.0, posinf=0.0, neginf=0.0)
        mod_mean = (probs_s * weights).sum(0) / kept * scale_s
        mod_mean = mod_mean / mod_mean.sum().clamp_min(1e-12)
        loss = (mod_model * torch.log(mod_mean + 1e-12)).sum()  # negative cross-entropy, as in the paper
        return {"loss_fair": self.cfg.lambda_ent * torch.where(mask.sum() > 0, loss, torch.zeros_like(loss))}
