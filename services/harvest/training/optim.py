"""Optimizers and the learning-rate schedule.

SGD with Nesterov momentum and FixMatch's cosine decay by default; LARS or LAMB (layer-wise trust ratio)
for very large global batches, where one learning rate for every layer diverges. Biases and normalization
weights get no weight decay and no trust ratio (as in the LARS/LAMB papers and USB).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn
from torch.optim.lr_scheduler import LambdaLR

from harvest.training.config import OptimConfig


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, object]]:
    decay, no_decay = [], []
    for _, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim <= 1 else decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay, "trust": True},
            {"params": no_decay, "weight_decay": 0.0, "trust": False}]


class _TrustRatio(torch.optim.Optimizer):
    """Shared by LARS and LAMB: scale each tensor's update by ||w|| / ||update|| (layer-wise adaptation)."""

    def _trust(self, group: dict[str, object], params: list[torch.Tensor], updates: list[torch.Tensor]) -> None:
        if not group["trust"] or not params:
            return
        w_norms = torch._foreach_norm(params)
        u_norms = torch._foreach_norm(updates)
        eta = float(group["eta"])  # type: ignore[arg-type]
        ratios = [torch.where((w > 0) & (u > 0), eta * w / u, torch.ones_like(w)) for w, u in
                  zip(w_norms, u_norms, strict=True)]
        torch._foreach_mul_(updates, ratios)


class LARS(_TrustRatio):
    """SGD + momentum with a layer-wise trust ratio (You et al. 2017)."""

    def __init__(self, params: Iterable[dict[str, object]], lr: float, momentum: float = 0.9, eta: float = 0.001,
                 nesterov: bool = False) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "eta": eta, "nesterov": nesterov,
                                  "weight_decay": 0.0, "trust": True})

    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            updates = [p.grad.clone() for p in params]
            if group["weight_decay"]:
                torch._foreach_add_(updates, params, alpha=group["weight_decay"])
            self._trust(group, params, updates)
            bufs = [self.state[p].setdefault("momentum", torch.zeros_like(p)) for p in params]
            torch._foreach_mul_(bufs, group["momentum"])
            torch._foreach_add_(bufs, updates)
            if group["nesterov"]:
                torch._foreach_add_(updates, bufs, alpha=group["momentum"])
                step_dir = updates
            else:
                step_dir = bufs
            torch._foreach_add_(params, step_dir, alpha=-group["lr"])


class LAMB(_TrustRatio):
    """Adam moments with a layer-wise trust ratio (You et al. 2019)."""

    def __init__(self, params: Iterable[dict[str, object]], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-6) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "eta": 1.0, "weight_decay": 0.0,
                                  "trust": True})

    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            states = [self.state[p] for p in params]
            for s, p in zip(states, params, strict=True):
                if not s:
                    s.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                s["step"] += 1
            m = [s["m"] for s in states]
            v = [s["v"] for s in states]
            grads = [p.grad for p in params]
            torch._foreach_lerp_(m, grads, 1 - beta1)
            torch._foreach_mul_(v, beta2)
            torch._foreach_addcmul_(v, grads, grads, value=1 - beta2)
            t = states[0]["step"]
            m_hat = torch._foreach_div(m, 1 - beta1 ** t)
            v_hat = torch._foreach_sqrt(torch._foreach_div(v, 1 - beta2 ** t))
            torch._foreach_add_(v_hat, group["eps"])
            updates = torch._foreach_div(m_hat, v_hat)
            if group["weight_decay"]:
                torch._foreach_add_(updates, params, alpha=group["weight_decay"])
            self._trust(group, params, updates)
            torch._foreach_add_(params, updates, alpha=-group["lr"])


def build_optimizer(model: nn.Module, o: OptimConfig, lr: float) -> torch.optim.Optimizer:
    """`lr` already scaled to the global batch (the configs' `learning_rate()`)."""
    groups = param_groups(model, o.weight_decay)
    if o.name == "lars":
        return LARS(groups, lr, o.momentum, o.trust_coefficient, o.nesterov)
    if o.name == "lamb":
        return LAMB(groups, lr)
    plain = [{k: v for k, v in g.items() if k != "trust"} for g in groups]
    return torch.optim.SGD(plain, lr=lr, momentum=o.momentum, nesterov=o.nesterov)


def build_schedule(optimizer: torch.optim.Optimizer, o: OptimConfig, total: int) -> LambdaLR:
    """Linear warm-up, then lr * cos(pi * f * progress) (f = 7/16 in FixMatch: ends at ~20% of lr)."""
    warmup, fraction = o.warmup_steps, o.cosine_fraction

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return math.cos(math.pi * fraction * (step - warmup) / max(1, total - warmup))

    return LambdaLR(optimizer, factor)


class EMA:
    """Exponential moving average of the weights for evaluation (and Mean Teacher's teacher).

    One in-place `_foreach_lerp_` per step over all parameters (no allocation, no state reload), and a
    `_foreach_copy_` of the normalization buffers. The decay is warmed up as min(decay, (1+t)/(10+t)) so
    short runs are not dominated by the random initialization.
    """

    def __init__(self, model: nn.Module, module: nn.Module, decay: float) -> None:
        self.module = module.eval().requires_grad_(False)
        self.decay = decay
        self._src = list(model.parameters())
        self._dst = list(self.module.parameters())
        self._src_buf = [b for b in model.buffers() if b.dtype.is_floating_point]
        self._dst_buf = [b for b in self.module.buffers() if b.dtype.is_floating_point]

    @torch.no_grad()
    def update(self, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._dst, self._src, 1 - decay)
        if self._dst_buf:
            torch._foreach_copy_(self._dst_buf, self._src_buf)
