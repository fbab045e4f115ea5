"""The shared base of every SSL algorithm: one `train_step` returning a loss and device-side logs.

The loop around it (optimizer, AMP, EMA, checkpoints, metrics) lives once in the engine. Algorithms keep
their per-class state in registered buffers, so it is checkpointed with `state_dict()` and moved with
`.to()`, and they update it only from statistics reduced over every rank (`Comm`), so all ranks agree.
Logs stay tensors: the engine reads them to the host once per logging window, never per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from harvest.training.config import AlgorithmConfig
from harvest.training.distributed import Comm

Model = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class Batch:
    """One rank's share of a step. `idx_ulb` holds the *global* batch's pool indices (same on every rank)."""

    x_lb: torch.Tensor
    y_lb: torch.Tensor
    x_ulb_w: torch.Tensor | None = None
    x_ulb_s: torch.Tensor | None = None
    y_ulb: torch.Tensor | None = None
    idx_ulb_global: torch.Tensor | None = None
    idx_lb: torch.Tensor | None = None  # this rank's labeled images, as indices into the labeled set


@dataclass
class StepResult:
    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)


class Algorithm(nn.Module):
    """Subclasses set `name`, the views they need, and implement `train_step`."""

    teacher: nn.Module | None

    name: ClassVar[str]
    #: Networks trained side by side (2: the engine builds a `DualNetwork`, logits come as (2, N, C)).
    networks: ClassVar[int] = 1
    #: Whether weak (noisy-flagged) labels of a snapshot are training labels; others treat them as unlabeled.
    uses_noisy_labels: ClassVar[bool] = False
    #: What the engine builds for the unlabeled batch: nothing, one weak view, weak + strong, or two weak views.
    unlabeled_views: ClassVar[Literal["none", "weak", "weak+strong", "weak+weak"]] = "weak+strong"

    def __init__(self, cfg: AlgorithmConfig, num_classes: int, pool_size: int, total_steps: int, comm: Comm, *,
                 labeled_size: int = 0, batch_size: int = 1) -> None:
        super().__init__()
        self.cfg, self.num_classes, self.pool_size, self.total_steps, self.comm = (
            cfg, num_classes, pool_size, total_steps, comm)
        self.labeled_size, self.batch_size = labeled_size, batch_size
        object.__setattr__(self, "teacher", None)  # not a submodule: not in state_dict, not moved by .to()

    def attach_teacher(self, teacher: nn.Module) -> None:
        """The EMA model, for algorithms that distil from it (Mean Teacher); kept out of this module's state."""
        object.__setattr__(self, "teacher", teacher)

    def train_step(self, model: Model, batch: Batch, step: int) -> StepResult:
        raise NotImplementedError

    def uses_unlabeled(self, step: int) -> bool:
        """Whether this step reads the unlabeled views (the engine skips building them otherwise)."""
        return self.unlabeled_views != "none"

    def wants_sample_losses(self, step: int) -> bool:
        """Whether the engine should pass per-sample losses over the labeled set before this step."""
        return False

    def update_sample_losses(self, losses: torch.Tensor, step: int) -> None:
        """(networks, labeled images) cross-entropy against the given labels, identical on every rank."""

    def noisy_scores(self) -> torch.Tensor | None:
        """Per labeled image, the probability its label is wrong (noisy-label algorithms), else None."""
        return None

    @staticmethod
    def forward_all(model: Model, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """One forward over the concatenated views (one pass through BatchNorm, one kernel launch set)."""
        logits = model(torch.cat(inputs))
        return tuple(logits.split([x.shape[0] for x in inputs]))

    def ramp(self, step: int) -> float:
        """Linear unsupervised-loss ramp over the first `unsup_warmup` fraction of the run."""
        span = self.cfg.unsup_warmup * self.total_steps
        return 1.0 if span <= 0 else min(1.0, step / span)

    @staticmethod
    def pseudo_logs(mask: torch.Tensor, pseudo: torch.Tensor, truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Mask rate, and the numerator/denominator of pseudo-label accuracy over masked images of known truth."""
        logs = {"mask_rate": mask.float().mean()}
        if truth is not None:
            known = (truth >= 0).float() * mask.float()
            logs["pl_correct"] = ((pseudo == truth).float() * known).sum()
            logs["pl_known"] = known.sum()
        return logs

    @staticmethod
    def masked_ce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean over the whole unlabeled batch (not over the kept ones): equal across any rank split."""
        return (F.cross_entropy(logits, targets, reduction="none") * mask).mean()


def fingerprint(state: dict[str, torch.Tensor]) -> str:
    """A hash of an algorithm's state, compared across ranks to prove they agree."""
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]
