"""The shared base of the noisy-label algorithms: two networks, and a per-sample clean/noisy split.

Networks fit clean labels before they memorize wrong ones, so early in training a wrong label shows as a
high loss. Every `refresh_every` steps (default: once per pass over the labeled set) after a plain
cross-entropy warm-up, the engine computes each network's per-sample loss over the whole labeled set
(every rank its share, gathered), and a two-component Gaussian mixture over the normalized losses gives
each image's probability of being clean (the posterior of the low-mean component; Arazo et al. 2019,
DivideMix). The mixture is fitted by scikit-learn on rank 0's copy and broadcast, so every rank holds
the same split; it is kept in buffers, hence checkpointed and resumed with the run.

The same split yields what the user sees afterwards: a per-image "likely mislabeled" score (the mean
noisy probability of both networks) and an estimate of the noise rate, which Co-teaching uses when the
user does not know it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from harvest.training.algorithms.base import Algorithm, Model

#: Per-sample losses are clipped before normalizing, so one exploding sample cannot squash the others.
LOSS_QUANTILE = 0.99


def clean_probability(losses: np.ndarray, seed: int = 0) -> np.ndarray:
    """Posterior of the low-loss component of a 2-component GMM fitted on min-max normalized losses."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    values = np.minimum(losses.astype(np.float64), np.quantile(losses, LOSS_QUANTILE))
    span = values.max() - values.min()
    if len(values) < 4 or span <= 1e-12:  # nothing to separate: everything looks the same
        return np.ones_like(values)
    values = ((values - values.min()) / span).reshape(-1, 1)
    mixture = GaussianMixture(n_components=2, max_iter=100, tol=1e-3, reg_covar=5e-4, random_state=seed)
    with warnings.catch_warnings():  # a fit stopped at max_iter still separates the two modes well enough
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture.fit(values)
    clean = int(np.argmin(mixture.means_.ravel()))
    return mixture.predict_proba(values)[:, clean]


class NoisyLabelAlgorithm(Algorithm):
    networks = 2
    uses_noisy_labels = True
    unlabeled_views = "none"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        size = max(1, self.labeled_size)
        # clean[k, i]: network k's probability that labeled image i's label is right (1 until first fit).
        self.register_buffer("clean", torch.ones(2, size))
        self.register_buffer("noise_estimate", torch.tensor(-1.0))  # -1: not estimated yet
        self.register_buffer("fitted_at", torch.tensor(-1, dtype=torch.int64))

    # -- the split -----------------------------------------------------------------------------------------
    @property
    def warmup_steps(self) -> int:
        return int(self.cfg.noisy_warmup * self.total_steps)

    @property
    def refresh_interval(self) -> int:
        return self.cfg.refresh_every or max(1, math.ceil(self.labeled_size / max(1, self.batch_size)))

    def wants_sample_losses(self, step: int) -> bool:
        return step >= self.warmup_steps and (step - self.warmup_steps) % self.refresh_interval == 0

    def update_sample_losses(self, losses: torch.Tensor, step: int) -> None:
        fitted = torch.zeros_like(self.clean)
        if self.comm.rank == 0:
            for k in range(2):
                fitted[k] = torch.from_numpy(clean_probability(losses[k].float().cpu().numpy(), seed=step))
        self.comm.broadcast_(fitted)
        self.clean.copy_(fitted)
        self.noise_estimate.fill_(float(1 - fitted.mean()))
        self.fitted_at.fill_(step)

    def split_ready(self, step: int) -> bool:
        """The engine refits before the first step after the warm-up, and a resumed run restores the fit."""
        return step >= self.warmup_steps

    def noisy_scores(self) -> torch.Tensor:
        return 1 - self.clean.mean(0)

    # -- helpers -------------------------------------------------------------------------------------------
    @staticmethod
    def forward_pair(model: Model, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Both networks over the concatenated views: (2, n_i, C) per input."""
        logits = model(torch.cat(inputs))
        return tuple(logits.split([x.shape[0] for x in inputs], dim=1))

    @staticmethod
    def per_sample_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """(2, N, C) logits and (N,) targets -> (2, N) losses."""
        return torch.stack([F.cross_entropy(net, targets, reduction="none") for net in logits])
