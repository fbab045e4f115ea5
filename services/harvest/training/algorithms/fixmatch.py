"""FixMatch (Sohn et al. 2020): a confident (>= threshold) prediction on the weak view is the hard target
of the strong view. Subclasses change only how the mask is computed (`mask`)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Algorithm, Batch, Model, StepResult


class FixMatch(Algorithm):
    name = "fixmatch"

    def mask(self, probs: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Which unlabeled images to learn from (0/1 or soft weights); may update per-class state first."""
        return (probs.max(-1).values >= self.cfg.threshold).float()

    def align(self, probs: torch.Tensor) -> torch.Tensor:
        """Hook for distribution alignment (identity here)."""
        return probs

    def extra_loss(self, logits_s: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """Hook for additional weighted terms (FreeMatch's fairness loss)."""
        return {}

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        assert batch.x_ulb_w is not None and batch.x_ulb_s is not None
        logits_x, logits_w, logits_s = self.forward_all(model, batch.x_lb, batch.x_ulb_w, batch.x_ulb_s)
        sup = F.cross_entropy(logits_x, batch.y_lb)
        with torch.no_grad():
            probs = self.align((logits_w.detach().float() / self.cfg.temperature).softmax(-1))
            mask = self.mask(probs, batch)
            pseudo = probs.argmax(-1)
        unsup = self.masked_ce(logits_s, pseudo, mask)
        extras = self.extra_loss(logits_s, mask)
        loss = sup + self.cfg.lambda_u * unsup + sum(extras.values(), torch.zeros((), device=sup.device))
        logs = {"loss_sup": sup.detach(), "loss_unsup": unsup.detach(), **{k: v.detach() for k, v in extras.items()}}
        return StepResult(loss, {**logs, **self.pseudo_logs(mask > 0, pseudo, batch.y_ulb)})
