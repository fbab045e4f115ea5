"""Strong scaling at fixed global batch and step count: the same job on 1 and on N processes (torchrun).

Loss integrity means the N-process run does the same optimizer steps on the same global batches, so the
only thing that may change is wall time. Reports the training-loop time (from the run's own metrics,
excluding interpreter start-up and data preparation), speedup and efficiency (speedup / N). On CPU the
processes share the machine's cores (each gets cores / N threads).

    .venv/bin/python bench/scaling.py --steps 200 --nproc 1 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from harvest.common.objectstore import LocalObjectStore
from harvest.common.runs import RunReader
from harvest.training.datasets import synthetic_ssl_snapshot


def loop_seconds(store: LocalObjectStore, run_dir: str) -> float:
    records = [r for r in RunReader(store, run_dir).metrics() if r["kind"] == "train"]
    return float(records[-1]["elapsed_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--set", dest="overrides", action="append",
                        default=["train.batch_size=64", "algorithm.uratio=3", "model.width=32", "model.norm=group"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="harvest-scaling-") as tmp:
        root = Path(tmp)
        store = LocalObjectStore(root / "store")
        manifest, _ = synthetic_ssl_snapshot(store)
        env = {**os.environ, "HARVEST_STORE_BACKEND": "local", "HARVEST_STORE_LOCAL_ROOT": str(root / "store"),
               "HARVEST_TRAINING_CACHE_DIR": str(root / "cache"), "HARVEST_TRAINING_WORK_DIR": str(root / "work")}
        sets = [f"train.steps={args.steps}", f"train.log_every={args.steps}", f"train.eval_every={args.steps}",
                "algorithm.name=fixmatch", *args.overrides]
        times: dict[int, float] = {}
        for nproc in args.nproc:
            run_dir = f"runs/scaling-{nproc}"
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
                       "-m", "harvest.training", "--snapshot", manifest.snapshot_id, "--config", "quick",
                       "--run-dir", run_dir, *[a for s in sets for a in ("--set", s)]]
            subprocess.run(command, env=env, check=True, capture_output=True)
            times[nproc] = loop_seconds(store, run_dir)
            print(f"  {nproc} process(es): {times[nproc]:.1f} s", flush=True)
    base = times[args.nproc[0]]
    device = "CUDA" if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores shared by all processes)"
    print(f"\nFixMatch, {args.steps} steps, fixed global batch ({' '.join(args.overrides)}), {device}\n")
    print("| processes | loop time (s) | steps/s | speedup | efficiency |")
    print("|-----------|---------------|---------|---------|------------|")
    for nproc, seconds in times.items():
        speedup = base / seconds
        print(f"| {nproc:9d} | {seconds:13.1f} | {args.steps / seconds:7.2f} | {speedup:7.2f} | "
              f"{speedup / (nproc / args.nproc[0]):10.0%} |")


if __name__ == "__main__":
    main()
