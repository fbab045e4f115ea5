"""Labeled images only: the baseline every SSL algorithm must beat (and, with all labels, the ceiling)."""

from __future__ import annotations

import torch.nn.functional as F

from harvest.training.algorithms.base import Algorithm, Batch, Model, StepResult


class Supervised(Algorithm):
    name = "supervised"
    unlabeled_views = "none"

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        loss = F.cross_entropy(model(batch.x_lb), batch.y_lb)
        return StepResult(loss, {"loss_sup": loss.detach()})
