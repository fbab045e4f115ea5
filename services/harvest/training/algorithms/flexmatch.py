"""FlexMatch (Zhang et al. 2021): per-class thresholds from each class's learning status (how many
unlabeled images are confidently predicted as it).

Better than the reference: the status is updated from the *global* batch (all ranks' predictions are
gathered, in rank order, against the global pool indices), so every rank holds the same state; and the
class histogram is updated incrementally in O(batch) instead of recounting the whole pool every step.
"""

from __future__ import annotations

import torch

from harvest.training.algorithms.base import Batch
from harvest.training.algorithms.fixmatch import FixMatch


class FlexMatch(FixMatch):
    name = "flexmatch"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # selected[i]: class last confidently predicted for pool image i, -1 never; hist[0] counts the -1s.
        # One extra trash slot at the end absorbs writes that must not count, so updates keep fixed shapes.
        self.register_buffer("selected", torch.full((self.pool_size + 1,), -1, dtype=torch.int64))
        hist = torch.zeros(self.num_classes + 1, dtype=torch.int64)
        hist[0] = self.pool_size
        self.register_buffer("hist", hist)
        self.register_buffer("classwise_acc", torch.zeros(self.num_classes))

    def _update(self, idx: torch.Tensor, confident: torch.Tensor, pseudo: torch.Tensor) -> None:
        """Record confident predictions; O(batch) and without host syncs (no unique/nonzero).

        When a global batch wraps an epoch an index can repeat: its last confident occurrence wins.
        """
        trash = self.pool_size
        key = torch.where(confident, idx, trash)
        order = torch.sort(key, stable=True).indices
        ordered = key[order]
        last = torch.ones_like(confident)
        last[:-1] = ordered[1:] != ordered[:-1]
        keep = torch.zeros_like(confident).scatter_(0, order, last) & confident
        old, new = self.selected[idx], pseudo
        weight = keep.long()
        # index_put_(accumulate=True): a deterministic kernel on CUDA too (torch.use_deterministic_algorithms).
        self.hist.index_put_((old + 1,), -weight, accumulate=True)
        self.hist.index_put_((new + 1,), weight, accumulate=True)
        self.selected[torch.where(keep, idx, trash)] = new
        counts = self.hist.float()
        if self.cfg.flex_warmup:  # unused images count as a class until most images are used
            status = counts[1:] / counts.max()
        else:
            status = counts[1:] / counts[1:].max().clamp_min(1)
        self.classwise_acc.copy_(torch.where(self.hist.max() < self.pool_size, status, self.classwise_acc))

    def mask(self, probs: torch.Tensor, batch: Batch) -> torch.Tensor:
        assert batch.idx_ulb_global is not None
        max_probs, pseudo = probs.max(-1)
        confident = max_probs >= self.cfg.threshold
        gathered = self.comm.gather_cat(torch.stack([pseudo, confident.long()]).T.contiguous())
        self._update(batch.idx_ulb_global.to(probs.device), gathered[:, 1].bool(), gathered[:, 0])
        beta = self.classwise_acc[pseudo]
        return (max_probs >= self.cfg.threshold * (beta / (2.0 - beta))).float()
