"""Smoke tests of the private 2-node Slurm cluster the harness provides (real munged/slurmctld/slurmd)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.harness.slurm import slurm_cluster  # noqa: F401

if TYPE_CHECKING:
    from tests.harness.slurm import SlurmCluster

pytestmark = pytest.mark.integration


def test_two_node_batch_job_runs_one_task_on_each_node(
    slurm_cluster: SlurmCluster,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    nodes_file = tmp_path / "nodes.txt"
    script = tmp_path / "two_nodes.sh"
    script.write_text(
        "#!/bin/bash\n"
        "#SBATCH --job-name=harvest-smoke\n"
        "#SBATCH --nodes=2 --ntasks-per-node=1\n"
        "#SBATCH --time=2\n"
        f"#SBATCH --output={tmp_path}/slurm-%j.out\n"
        "set -euo pipefail\n"
        f"srun bash -c 'echo \"$SLURMD_NODENAME $SLURM_PROCID\"' > {nodes_file}\n"
    )

    job_id = slurm_cluster.sbatch(script, cwd=tmp_path)
    job = slurm_cluster.wait_job(job_id, "COMPLETED", timeout=60)

    assert job["ExitCode"] == "0:0", job
    assert job["NumNodes"] == "2", job
    lines = nodes_file.read_text().split("\n")
    seen = {line.split()[0] for line in lines if line.strip()}
    assert seen == {"n1", "n2"}, nodes_file.read_text()
    ranks = sorted(line.split()[1] for line in lines if line.strip())
    assert ranks == ["0", "1"]
    # n1/n2 do not resolve; jobs take MASTER_ADDR from NodeAddr.
    assert slurm_cluster.node_addr("n1") == "127.0.0.1"


def test_scancel_ends_a_running_job_as_cancelled(
    slurm_cluster: SlurmCluster,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    job_id = slurm_cluster.sbatch_wrap(
        "sleep 60", "--job-name=harvest-sleep", f"--output={tmp_path}/slurm-%j.out", cwd=tmp_path
    )
    slurm_cluster.wait_job(job_id, "RUNNING", timeout=30)

    t0 = time.monotonic()
    slurm_cluster.run(["scancel", str(job_id)])
    job = slurm_cluster.wait_job(job_id, "CANCELLED", timeout=30)

    assert job["JobState"] == "CANCELLED"
    assert time.monotonic() - t0 < 20  # KillWait=2: far sooner than the 60 s sleep
