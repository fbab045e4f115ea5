"""Where a process sits in the job, read from what torchrun, Slurm or a PyTorchJob set."""

from __future__ import annotations

import pytest

from harvest.training.distributed import DistEnv

pytestmark = pytest.mark.unit


def test_torchrun_environment() -> None:
    env = DistEnv.from_environ({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4",
                                "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29400", "TORCHELASTIC_RUN_ID": "x"})
    assert env == DistEnv(3, 8, 1, 4, "10.0.0.1", 29400, "torchrun")
    assert not env.is_leader and not env.is_node_leader


def test_slurm_environment_one_task_per_process() -> None:
    env = DistEnv.from_environ({"SLURM_PROCID": "2", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0",
                                "SLURM_NTASKS_PER_NODE": "2(x2)", "MASTER_ADDR": "127.0.0.1"})
    assert (env.rank, env.world_size, env.local_rank, env.local_world_size, env.launcher) == (2, 4, 0, 2, "slurm")
    assert env.is_node_leader


def test_slurm_without_master_addr_says_what_to_export() -> None:
    with pytest.raises(RuntimeError, match="MASTER_ADDR"):
        DistEnv.from_environ({"SLURM_PROCID": "0", "SLURM_NTASKS": "2"})


def test_pytorchjob_environment_uses_pet_rendezvous() -> None:
    env = DistEnv.from_environ({"RANK": "1", "WORLD_SIZE": "2", "PET_MASTER_ADDR": "job-master-0",
                                "PET_MASTER_PORT": "23456", "PET_NPROC_PER_NODE": "1"})
    assert (env.rank, env.master_addr, env.master_port, env.launcher) == (1, "job-master-0", 23456, "pytorchjob")


def test_nothing_set_is_a_single_process() -> None:
    assert DistEnv.from_environ({}) == DistEnv()
