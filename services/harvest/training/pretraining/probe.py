"""A cheap quality signal for a backbone trained without labels: weighted k-NN classification.

The labeled split is the bank, the validation split the queries (no training, one forward pass each);
neighbours vote with weight exp(cos / 0.07) as in InstDisc and DINO. With a handful of labels per class
it is a few-shot accuracy: what the user can expect before fine-tuning, and a collapse detector (a
collapsed backbone scores chance).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

KNN_TEMPERATURE = 0.07


@torch.inference_mode()
def embed(backbone: nn.Module, images: torch.Tensor, normalize: Callable[[torch.Tensor], torch.Tensor],
          batch: int) -> torch.Tensor:
    """L2-normalized features of uint8 images, in eval mode (the module's mode is restored afterwards)."""
    was_training = backbone.training
    backbone.eval()
    try:
        parts = [F.normalize(backbone(normalize(chunk)).float(), dim=-1) for chunk in images.split(batch)]
    finally:
        backbone.train(was_training)
    return torch.cat(parts) if parts else torch.zeros(0)


def knn_predict(bank: torch.Tensor, bank_labels: torch.Tensor, queries: torch.Tensor, num_classes: int,
                k: int) -> torch.Tensor:
    """Class index per query: exp(similarity / T)-weighted vote of its k nearest bank features."""
    similarity = queries @ bank.T
    weights, index = similarity.topk(min(k, bank.shape[0]), dim=1)
    votes = torch.zeros(queries.shape[0], num_classes, device=queries.device)
    votes.scatter_add_(1, bank_labels[index], (weights / KNN_TEMPERATURE).exp())
    return votes.argmax(1)


def knn_accuracy(backbone: nn.Module, bank_images: torch.Tensor, bank_labels: torch.Tensor,
                 query_images: torch.Tensor, query_labels: torch.Tensor, num_classes: int, *, k: int,
                 normalize: Callable[[torch.Tensor], torch.Tensor], batch: int = 512) -> float:
    bank = embed(backbone, bank_images, normalize, batch)
    queries = embed(backbone, query_images, normalize, batch)
    predicted = knn_predict(bank, bank_labels.to(bank.device), queries, num_classes, k)
    return float((predicted.cpu() == query_labels.cpu()).float().mean())
