"""A DivideMix-style method (Li et al. 2020), with this engine's SSL machinery in place of MixMatch.

After a cross-entropy warm-up, a loss mixture splits the labeled set per network into clean and noisy
(see `noisy.py`). Each network then learns from the split the *other* network made ("co-divide", so a
network's own mistakes do not confirm themselves):
- labeled images the other network deems clean keep their label, refined toward the network's own
  prediction in proportion to the doubt (w * label + (1 - w) * prediction, sharpened);
- every image of the pool (which holds the labeled images too, so the noisy ones are used as unlabeled
  data) gets a FixMatch consistency loss toward the *co-guess*: the mean of both networks' predictions
  on the weak view, kept above the confidence threshold, learned from the strong view.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Batch, Model, StepResult
from harvest.training.algorithms.noisy import NoisyLabelAlgorithm


class DivideMix(NoisyLabelAlgorithm):
    name = "dividemix"
    unlabeled_views = "weak+strong"

    def uses_unlabeled(self, step: int) -> bool:
        return self.split_ready(step)

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        if not self.split_ready(step):  # warm-up: both networks on all labels, plain cross-entropy
            losses = self.per_sample_ce(model(batch.x_lb), batch.y_lb)
            return StepResult(losses.mean(1).sum(), {"clean_rate": torch.ones((), device=losses.device)})
        assert batch.x_ulb_w is not None and batch.x_ulb_s is not None and batch.idx_lb is not None
        lb, weak, strong = self.forward_pair(model, batch.x_lb, batch.x_ulb_w, batch.x_ulb_s)
        weight = self.clean[:, batch.idx_lb.to(self.clean.device)].flip(0).unsqueeze(-1)  # the other's split
        given = F.one_hot(batch.y_lb, self.num_classes).float()
        refined = (weight * given + (1 - weight) * lb.detach().float().softmax(-1)) ** (
            1 / self.cfg.sharpen_temperature)
        refined = refined / refined.sum(-1, keepdim=True)
        keep = (weight.squeeze(-1) > self.cfg.clean_threshold).float()
        supervised = (-(refined * lb.float().log_softmax(-1)).sum(-1) * keep).mean(1).sum()
        guess = weak.detach().float().softmax(-1).mean(0)
        confidence, pseudo = guess.max(-1)
        mask = (confidence >= self.cfg.threshold).float()
        unsupervised = sum(self.masked_ce(strong[k], pseudo, mask) for k in range(2))
        loss = supervised + self.cfg.lambda_u * unsupervised
        return StepResult(loss, {"loss_x": supervised.detach(), "loss_u": torch.as_tensor(unsupervised).detach(),
                                 "clean_rate": keep.mean(), **self.pseudo_logs(mask, pseudo, batch.y_ulb)})
