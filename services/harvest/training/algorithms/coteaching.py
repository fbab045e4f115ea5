"""Co-teaching (Han et al. 2018): two networks, each trained only on the samples the *other* finds
small-loss, so one network's memorized mistakes are not fed back to itself.

The kept fraction R(t) = 1 - tau * min(1, t / T_k) ramps down over the warm-up. tau is the configured
`noise_rate`, or, when the user does not know it (the usual case), the noise rate the loss mixture
estimates at the end of the warm-up (0 before: both networks see everything).

Better than the reference: the small-loss ranking is over the *global* batch (every rank's losses are
gathered), so 1, 2 or 16 processes keep exactly the same samples; selection uses ranks compared with a
device-side count, without host syncs.
"""

from __future__ import annotations

import torch

from harvest.training.algorithms.base import Batch, Model, StepResult
from harvest.training.algorithms.noisy import NoisyLabelAlgorithm

#: An estimated noise rate is capped: dropping more than this would leave too little to learn from.
MAX_FORGET_RATE = 0.8


class CoTeaching(NoisyLabelAlgorithm):
    name = "coteaching"

    def forget_rate(self, step: int) -> torch.Tensor:
        ramp = min(1.0, step / max(1, self.warmup_steps))
        if self.cfg.noise_rate is not None:
            return torch.tensor(self.cfg.noise_rate * ramp, device=self.clean.device)
        if not self.split_ready(step):
            return torch.zeros((), device=self.clean.device)
        return self.noise_estimate.clamp(0, MAX_FORGET_RATE) * ramp

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        logits = model(batch.x_lb)  # (2, B, C)
        losses = self.per_sample_ce(logits, batch.y_lb)  # (2, B)
        local = losses.shape[1]
        everyone = self.comm.gather_cat(losses.detach().T.contiguous()).T  # (2, global batch), rank order
        forget = self.forget_rate(step)
        keep_count = ((1 - forget) * everyone.shape[1]).round().clamp_min(1)
        ranks = everyone.argsort(dim=1, stable=True).argsort(dim=1)
        small_loss = (ranks < keep_count).float()[:, self.comm.rank * local:(self.comm.rank + 1) * local]
        chosen = small_loss.flip(0)  # network 0 learns from network 1's small-loss samples, and vice versa
        # DDP averages gradients over ranks: scale so the result is the mean over the kept global samples.
        loss = (losses * chosen).sum() * self.comm.world_size / keep_count
        return StepResult(loss, {"kept_rate": chosen.mean(), "forget_rate": forget.float()})
