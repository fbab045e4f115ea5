"""Scheduler benchmark on the private 2-node Slurm cluster and a real Redis + Celery worker.

1. Submission-to-RUNNING latency: SubmitJob (gRPC) -> the worker's sbatch -> Slurm starts it -> the poll
   records RUNNING; baseline: bare `sbatch` of a one-line script until `scontrol` says RUNNING.
2. Jobs/s sustained: N SubmitJob calls from 8 threads until every job is SUBMITTED (held in Slurm, so
   nothing runs); baseline: N bare `sbatch --hold` calls in a row.

Run: .venv/bin/python bench/scheduler.py [--jobs 50] [--latency-runs 3]   (needs root for Slurm, redis-server)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harvest.v1 import scheduler_pb2 as S  # noqa: E402
from tests.harness.scheduler_stack import scheduler_stack  # noqa: E402
from tests.harness.servers import start_redis  # noqa: E402
from tests.harness.slurm import SlurmCluster  # noqa: E402


def bare_latency(cluster: SlurmCluster, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        job_id = cluster.sbatch_wrap("sleep 30", "--job-name=bench-bare", "--output=/dev/null")
        cluster.wait_job(job_id, "RUNNING", timeout=60)
        out.append(time.perf_counter() - t0)
        cluster.run(["scancel", str(job_id)])
    return out


def harvest_latency(stack, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        job = stack.submit(steps=100000, nodes=1)
        stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_RUNNING, timeout=120, what="ran")
        out.append(time.perf_counter() - t0)
        stack.client().scheduler.CancelJob(S.CancelJobRequest(job_id=job.job_id))
        stack.wait(job.job_id, lambda j: j.state == S.JOB_STATE_CANCELLED, timeout=60, what="cancelled")
    return out


def bare_throughput(cluster: SlurmCluster, n: int) -> float:
    t0 = time.perf_counter()
    ids = [cluster.sbatch_wrap("true", "--hold", "--job-name=bench-bare", "--output=/dev/null") for _ in range(n)]
    rate = n / (time.perf_counter() - t0)
    cluster.run(["scancel", *map(str, ids)])
    return rate


def harvest_throughput(stack, n: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = list(pool.map(lambda _: stack.submit(steps=5, nodes=1), range(n)))
    pending = {j.job_id for j in jobs}
    while pending:
        pending = {j for j in pending if stack.job(j).state != S.JOB_STATE_SUBMITTED}
        time.sleep(0.1)
    rate = n / (time.perf_counter() - t0)
    for job in jobs:
        stack.client().scheduler.CancelJob(S.CancelJobRequest(job_id=job.job_id))
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--latency-runs", type=int, default=3)
    args = parser.parse_args()
    cluster = SlurmCluster()
    if not cluster.is_running():
        cluster.start()
    redis = start_redis()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as tmp:
            with scheduler_stack(Path(tmp), cluster, f"{redis.url}/7") as stack:
                stack.start_worker()
                lat_bare, lat_ours = bare_latency(cluster, args.latency_runs), harvest_latency(stack, args.latency_runs)
                stack.stop_worker()
                stack.start_worker(HARVEST_SLURM_EXTRA_SBATCH_ARGS=json.dumps(["--hold"]))
                thr_bare, thr_ours = bare_throughput(cluster, args.jobs), harvest_throughput(stack, args.jobs)
    finally:
        redis.stop()
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    print(f"{'measure':48s} {'HARVEST':>10s} {'baseline':>10s}  baseline is")
    latency_label = f"submission -> RUNNING, median of {args.latency_runs} (s)"
    rate_label = f"jobs/s, {args.jobs} SubmitJob -> SUBMITTED (held)"
    print(f"{latency_label:48s} {med(lat_ours):10.2f} "
          f"{med(lat_bare):10.2f}  bare sbatch -> scontrol RUNNING")
    print(f"{rate_label:48s} {thr_ours:10.1f} {thr_bare:10.1f}"
          "  bare sbatch --hold in a row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
