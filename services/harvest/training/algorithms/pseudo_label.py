"""Pseudo-Label (Lee 2013): confident predictions on the unlabeled images become their targets, with the
unsupervised weight ramped up so early, wrong pseudo-labels do little harm."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Algorithm, Batch, Model, StepResult


class PseudoLabel(Algorithm):
    name = "pseudo_label"
    unlabeled_views = "weak"

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        assert batch.x_ulb_w is not None
        logits_x, logits_u = self.forward_all(model, batch.x_lb, batch.x_ulb_w)
        sup = F.cross_entropy(logits_x, batch.y_lb)
        with torch.no_grad():
            max_probs, pseudo = logits_u.detach().float().softmax(-1).max(-1)
            mask = (max_probs >= self.cfg.threshold).float()
        unsup = self.masked_ce(logits_u, pseudo, mask)
        loss = sup + self.cfg.lambda_u * self.ramp(step) * unsup
        return StepResult(loss, {"loss_sup": sup.detach(), "loss_unsup": unsup.detach(),
                                 **self.pseudo_logs(mask, pseudo, batch.y_ulb)})
