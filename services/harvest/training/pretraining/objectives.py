"""The self-supervised losses: SimCLR's NT-Xent over the global batch and DINO's self-distillation.

Both keep the loss a function of the *global* batch, so a run on W processes follows the run on one:
- SimCLR: each rank's embeddings are all-gathered *with* their gradient
  (`torch.distributed.nn.functional.all_gather`, whose backward sums the gradients of every rank's loss
  into the owner's embeddings), every rank scores its own anchors against all 2N candidates, and DDP's
  gradient average turns the per-rank means into the mean over all 2N anchors.
- DINO: the loss is a per-image mean (DDP averages it); the only cross-image state, the teacher's centre,
  is updated from the all-reduced batch mean, so it is identical on every rank. The teacher is an EMA of
  the student, updated in place after each optimizer step with a momentum that follows a cosine to 1.
"""

from __future__ import annotations

import copy
import math
from typing import Protocol

import torch
import torch.distributed.nn.functional as dist_fn
import torch.nn.functional as F
from torch import nn

from harvest.training.distributed import Comm
from harvest.training.pretraining.config import GLOBAL_CROPS, ObjectiveConfig
from harvest.training.pretraining.networks import DINOHead, MultiCropNetwork, ProjectionHead

Logs = dict[str, torch.Tensor]


class Objective(Protocol):
    """What the loop needs from an objective (`nn.Module`s: their state goes into checkpoints)."""

    name: str

    def loss(self, net: nn.Module, views: list[torch.Tensor], step: int) -> tuple[torch.Tensor, Logs]: ...

    def before_optimizer_step(self, student: MultiCropNetwork, step: int) -> None: ...

    def after_optimizer_step(self, student: MultiCropNetwork, step: int) -> None: ...

    def export(self, student: MultiCropNetwork) -> nn.Module: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> object: ...

    def to(self, device: torch.device) -> nn.Module: ...


def gather_with_grad(comm: Comm, tensor: torch.Tensor) -> torch.Tensor:
    """Every rank's `tensor` concatenated in rank order (= global batch order), differentiable."""
    if not comm.active:
        return tensor
    return torch.cat(dist_fn.all_gather(tensor))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, all_z1: torch.Tensor, all_z2: torch.Tensor, offset: int,
            temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-anchor NT-Xent losses and top-1 hits of this rank's 2n anchors against all 2N candidates.

    `z1`/`z2` (n, d): this rank's L2-normalized embeddings of views 1 and 2, which sit at rows
    `offset .. offset+n` of the global `all_z1`/`all_z2` (N, d). Anchor i of view 1 has its positive at
    view 2's row i and every other of the 2N - 1 candidates as negatives (itself excluded), and vice versa.
    The mean of the returned losses over all ranks is SimCLR's loss for the global batch.
    """
    n, big_n = z1.shape[0], all_z1.shape[0]
    anchors = torch.cat([z1, z2])
    logits = anchors @ torch.cat([all_z1, all_z2]).T / temperature
    own = torch.arange(n, device=z1.device) + offset
    self_index = torch.cat([own, own + big_n])
    positive = torch.cat([own + big_n, own])
    logits = logits.masked_fill(F.one_hot(self_index, 2 * big_n).bool(), float("-inf"))
    losses = F.cross_entropy(logits, positive, reduction="none")
    hits = (logits.detach().argmax(1) == positive).float()
    return losses, hits


class SimCLR(nn.Module):
    """Contrastive learning of two views (Chen et al. 2020) with negatives from the whole global batch."""

    name = "simclr"

    def __init__(self, cfg: ObjectiveConfig, comm: Comm) -> None:
        super().__init__()
        self.cfg, self.comm = cfg, comm

    @staticmethod
    def head(cfg: ObjectiveConfig, feature_dim: int) -> nn.Module:
        return ProjectionHead(feature_dim, cfg.hidden_dim, cfg.projection_dim, cfg.head_norm)

    def loss(self, net: nn.Module, views: list[torch.Tensor], step: int) -> tuple[torch.Tensor, Logs]:
        z1, z2 = F.normalize(net(views[:GLOBAL_CROPS]).float(), dim=-1).chunk(2)
        all_z1, all_z2 = gather_with_grad(self.comm, z1), gather_with_grad(self.comm, z2)
        with torch.autocast(z1.device.type, enabled=False):  # similarities / 0.1 in bf16 would lose the ranking
            losses, hits = nt_xent(z1, z2, all_z1, all_z2, self.comm.rank * z1.shape[0], self.cfg.temperature)
        positive_similarity = (z1 * z2).sum(-1).mean().detach()
        return losses.mean(), {"contrastive_accuracy": hits.mean(), "positive_similarity": positive_similarity}

    def before_optimizer_step(self, student: MultiCropNetwork, step: int) -> None:
        return None

    def after_optimizer_step(self, student: MultiCropNetwork, step: int) -> None:
        return None

    def export(self, student: MultiCropNetwork) -> nn.Module:
        return student.backbone


def teacher_temperature(cfg: ObjectiveConfig, step: int) -> float:
    """Linear warm-up from `warmup_teacher_temp` to `teacher_temp` (a too sharp early teacher destabilizes)."""
    if step >= cfg.teacher_temp_warmup_steps:
        return cfg.teacher_temp
    return cfg.warmup_teacher_temp + (cfg.teacher_temp - cfg.warmup_teacher_temp) * step / \
        cfg.teacher_temp_warmup_steps


def teacher_momentum(cfg: ObjectiveConfig, step: int, total: int) -> float:
    """Cosine from `teacher_momentum` at step 0 to 1 at the last step (DINO)."""
    return 1 - (1 - cfg.teacher_momentum) * (math.cos(math.pi * step / max(1, total)) + 1) / 2


def dino_cross_entropy(student_out: torch.Tensor, teacher_probs: torch.Tensor, crops: int,
                       student_temp: float) -> torch.Tensor:
    """Mean over (teacher global crop q, student crop v != q) of the per-image cross-entropy H(p_t(q), p_s(v))."""
    student = F.log_softmax(student_out.float() / student_temp, dim=-1).chunk(crops)
    teacher = teacher_probs.chunk(GLOBAL_CROPS)
    total, terms = student_out.new_zeros((), dtype=torch.float32), 0
    for q, target in enumerate(teacher):
        for v, log_p in enumerate(student):
            if v != q:
                total = total + (-target * log_p).sum(-1).mean()
                terms += 1
    return total / terms


class DINO(nn.Module):
    """Self-distillation with no labels (Caron et al. 2021): the student matches a centred, sharpened EMA
    teacher that only sees the global crops; the student sees all crops."""

    name = "dino"

    def __init__(self, cfg: ObjectiveConfig, comm: Comm, student: MultiCropNetwork, total_steps: int) -> None:
        super().__init__()
        self.cfg, self.comm, self.total_steps = cfg, comm, total_steps
        self.teacher = copy.deepcopy(student).requires_grad_(False)
        self.register_buffer("center", torch.zeros(1, cfg.out_dim))
        self._student_params: list[torch.Tensor] = []
        self._teacher_params = list(self.teacher.parameters())

    @staticmethod
    def head(cfg: ObjectiveConfig, feature_dim: int) -> nn.Module:
        return DINOHead(feature_dim, cfg.hidden_dim, cfg.projection_dim, cfg.out_dim, cfg.head_norm)

    def loss(self, net: nn.Module, views: list[torch.Tensor], step: int) -> tuple[torch.Tensor, Logs]:
        student_out = net(views)
        with torch.no_grad():
            teacher_out = self.teacher(views[:GLOBAL_CROPS]).float()
            temp = teacher_temperature(self.cfg, step)
            probs = F.softmax((teacher_out - self.center) / temp, dim=-1)
        loss = dino_cross_entropy(student_out, probs, len(views), self.cfg.student_temp)
        self.update_center(teacher_out)
        entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
        return loss, {"teacher_entropy": entropy, "teacher_temp": loss.detach().new_tensor(temp)}

    @torch.no_grad()
    def update_center(self, teacher_out: torch.Tensor) -> None:
        """EMA of the teacher's mean output over the global batch (all-reduced, so equal on every rank)."""
        batch_sum = self.comm.sum_(teacher_out.sum(dim=0, keepdim=True))
        batch_center = batch_sum / (teacher_out.shape[0] * self.comm.world_size)
        self.center.mul_(self.cfg.center_momentum).add_(batch_center, alpha=1 - self.cfg.center_momentum)

    def before_optimizer_step(self, student: MultiCropNetwork, step: int) -> None:
        """Freeze the prototypes early on, as DINO does during its first epoch."""
        if step < self.cfg.freeze_last_layer_steps:
            head = student.head
            if isinstance(head, DINOHead):
                head.last_layer.weight.grad = None

    @torch.no_grad()
    def after_optimizer_step(self, student: MultiCropNetwork, step: int) -> None:
        """teacher <- m * teacher + (1 - m) * student: one in-place `_foreach_lerp_`."""
        if not self._student_params:
            self._student_params = list(student.parameters())
        m = teacher_momentum(self.cfg, step, self.total_steps)
        torch._foreach_lerp_(self._teacher_params, self._student_params, 1 - m)

    def export(self, student: MultiCropNetwork) -> nn.Module:
        return self.teacher.backbone  # the teacher is the better network (DINO, Table 6)


def build_student(cfg: ObjectiveConfig, backbone: nn.Module, feature_dim: int) -> MultiCropNetwork:
    """The trained network: the backbone plus the objective's head."""
    head = SimCLR.head(cfg, feature_dim) if cfg.name == "simclr" else DINO.head(cfg, feature_dim)
    return MultiCropNetwork(backbone, head)


def build_objective(cfg: ObjectiveConfig, comm: Comm, student: MultiCropNetwork, total_steps: int) -> Objective:
    """The objective and whatever state it holds besides the student (DINO: teacher, centre). Build it after
    the student is on its device and converted (SyncBatchNorm), so the teacher is a copy of the final form."""
    if cfg.name == "simclr":
        return SimCLR(cfg, comm)
    return DINO(cfg, comm, student, total_steps)
