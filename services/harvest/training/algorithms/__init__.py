"""SSL algorithms, one module each over `base.Algorithm`; `build` picks one by its config name."""

from __future__ import annotations

from harvest.training.algorithms.base import Algorithm, Batch, StepResult, fingerprint
from harvest.training.algorithms.coteaching import CoTeaching
from harvest.training.algorithms.dividemix import DivideMix
from harvest.training.algorithms.fixmatch import FixMatch
from harvest.training.algorithms.flexmatch import FlexMatch
from harvest.training.algorithms.freematch import FreeMatch
from harvest.training.algorithms.mean_teacher import MeanTeacher
from harvest.training.algorithms.pseudo_label import PseudoLabel
from harvest.training.algorithms.softmatch import SoftMatch
from harvest.training.algorithms.supervised import Supervised
from harvest.training.config import AlgorithmConfig
from harvest.training.distributed import Comm

ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (Supervised, PseudoLabel, MeanTeacher, FixMatch, FlexMatch, FreeMatch, SoftMatch,
                                 CoTeaching, DivideMix)
}


def build(cfg: AlgorithmConfig, num_classes: int, pool_size: int, total_steps: int, comm: Comm, *,
          labeled_size: int = 0, batch_size: int = 1) -> Algorithm:
    return ALGORITHMS[cfg.name](cfg, num_classes, pool_size, total_steps, comm, labeled_size=labeled_size,
                                batch_size=batch_size)


__all__ = ["ALGORITHMS", "Algorithm", "Batch", "StepResult", "build", "fingerprint"]
