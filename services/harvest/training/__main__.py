"""`python -m harvest.training [--task pretrain] --snapshot <id|manifest.json> --config <preset|yaml> --run-dir <dir>`

`--task train` (default): semi-supervised training of a classifier (`harvest.training.engine`).
`--task pretrain`: self-supervised pretraining of a backbone on every image of the snapshot, labels unused
(`harvest.training.pretraining`; presets quick, quick_dino, standard, hpc, hpc_dino); its package is a
backbone an SSL job starts from with `model.init_weights_key` or `model.pretrained`.

Run it under torchrun (or srun, or a PyTorchJob) for several processes. The object store comes from the
`HARVEST_STORE_*` settings, the node-local cache and scratch from `HARVEST_TRAINING_*`.

Exit codes: 0 trained (or already trained), 143 preempted after a checkpoint (run again to resume),
2 unusable input (bad config, snapshot or image: the message says which), 1 anything else.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys

from harvest.common.logs import configure_logging
from harvest.common.objectstore import open_store
from harvest.common.settings import ObjectStoreSettings

log = logging.getLogger("harvest.training")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m harvest.training", description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=("train", "pretrain"), default="train",
                        help="train: SSL classifier (default); pretrain: self-supervised backbone, no labels")
    parser.add_argument("--snapshot", required=True, help="snapshot id (snapshots/<id>.json) or a manifest file")
    parser.add_argument("--config", default="quick", help="preset (train: quick, standard, hpc; pretrain: quick, "
                        "quick_dino, standard, hpc, hpc_dino) or a YAML file")
    parser.add_argument("--run-dir", required=True, help="object-store prefix for this run, e.g. runs/<job>")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override one config field (repeatable), e.g. --set train.steps=500")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging("training")
    # Heavy imports after argument parsing, so `--help` and bad arguments answer at once.
    from pydantic import ValidationError

    from harvest.common.errors import HarvestError
    from harvest.training import distributed
    from harvest.training.checkpoint import PREEMPTED_EXIT_CODE
    from harvest.training.config import TrainingSettings, load_config
    from harvest.training.data import load_manifest

    if args.task == "pretrain":
        from harvest.training.pretraining.config import load_pretrain_config
        from harvest.training.pretraining.engine import PretrainTrainer as Job
    else:
        from harvest.training.engine import Trainer as Job
    try:
        cfg = (load_pretrain_config if args.task == "pretrain" else load_config)(args.config, args.overrides)
    except (ValueError, ValidationError) as exc:
        print(f"invalid {'pretraining' if args.task == 'pretrain' else 'training'} config: {exc}", file=sys.stderr)
        return 2
    env = distributed.DistEnv.from_environ()
    settings = TrainingSettings()
    comm = distributed.init(env, cfg.dist.backend, cfg.dist.timeout_s, cfg.dist.cpu_threads)
    clean = False
    try:
        cfg.per_rank_batch(env.world_size)
        store = open_store(ObjectStoreSettings())
        manifest = load_manifest(store, args.snapshot)
        run_tag = hashlib.sha256(args.run_dir.encode()).hexdigest()[:12]
        work_dir = settings.work_dir / f"{run_tag}-rank{env.rank}"
        trainer = Job(cfg, manifest, store, args.run_dir, comm,  # type: ignore[arg-type]
                      cache_dir=settings.cache_dir, work_dir=work_dir)
        outcome = trainer.run()
        clean = True
        log.info("%s %s", args.task, outcome.status,
                 extra={"step": outcome.step, "rank": env.rank, "accuracy": outcome.final_eval.get("accuracy"),
                        "knn_accuracy": outcome.final_eval.get("knn_accuracy")})
        return PREEMPTED_EXIT_CODE if outcome.status == "preempted" else 0
    except (HarvestError, distributed.DataPreparationError, ValueError) as exc:
        log.error("training failed: %s", exc, extra={"rank": env.rank})
        print(f"training failed: {exc}", file=sys.stderr)
        return 2
    finally:
        distributed.shutdown(comm, clean=clean)


if __name__ == "__main__":
    sys.exit(main())
