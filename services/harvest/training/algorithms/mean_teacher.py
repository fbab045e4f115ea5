"""Mean Teacher (Tarvainen & Valpola 2017): the student matches the EMA teacher's predictions on another
weak view. The teacher is the engine's EMA model (the one also used for evaluation)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Algorithm, Batch, Model, StepResult


class MeanTeacher(Algorithm):
    name = "mean_teacher"
    unlabeled_views = "weak+weak"

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        assert batch.x_ulb_w is not None and batch.x_ulb_s is not None and self.teacher is not None
        logits_x, logits_s = self.forward_all(model, batch.x_lb, batch.x_ulb_s)
        with torch.no_grad():
            target = self.teacher(batch.x_ulb_w).float().softmax(-1)
        sup = F.cross_entropy(logits_x, batch.y_lb)
        unsup = F.mse_loss(logits_s.float().softmax(-1), target, reduction="mean")
        loss = sup + self.cfg.lambda_u * self.ramp(step) * unsup
        return StepResult(loss, {"loss_sup": sup.detach(), "loss_unsup": unsup.detach()})
