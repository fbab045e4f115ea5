"""Process-group setup from whatever launched us, and the few collectives the rest of training needs.

Launchers and what they set (first match wins):
- torchrun (local, under `srun`, or in a PyTorchJob): `RANK`, `WORLD_SIZE`, `LOCAL_RANK`,
  `LOCAL_WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`. A PyTorchJob without torchrun sets `RANK`,
  `WORLD_SIZE`, `MASTER_ADDR`/`MASTER_PORT` (one process per pod), with `PET_*` copies of the rendezvous.
- Slurm `srun` one task per process: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`,
  `SLURM_NTASKS_PER_NODE`; `MASTER_ADDR` must be exported by the batch script (node names may not resolve).
- Nothing: a single process.

NCCL on CUDA, gloo otherwise. Every collective has the configured timeout, so a rank that died makes the
others fail instead of hanging; torchrun/srun then take the whole job down.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DistEnv:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    launcher: str = "single"

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    @property
    def is_node_leader(self) -> bool:
        return self.local_rank == 0

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> DistEnv:
        env = os.environ if env is None else env
        addr = env.get("MASTER_ADDR") or env.get("PET_MASTER_ADDR") or "127.0.0.1"
        port = int(env.get("MASTER_PORT") or env.get("PET_MASTER_PORT") or 29500)
        if "RANK" in env and "WORLD_SIZE" in env:
            world = int(env["WORLD_SIZE"])
            local_world = int(env.get("LOCAL_WORLD_SIZE") or env.get("PET_NPROC_PER_NODE") or 1)
            launcher = "torchrun" if "TORCHELASTIC_RUN_ID" in env else "pytorchjob" if "PET_MASTER_ADDR" in env \
                else "env"
            return cls(int(env["RANK"]), world, int(env.get("LOCAL_RANK", 0)), min(local_world, world), addr, port,
                       launcher)
        if "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
            per_node = _slurm_tasks_per_node(env.get("SLURM_NTASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE"))
            if "MASTER_ADDR" not in env and int(env["SLURM_NTASKS"]) > 1:
                raise RuntimeError("running under srun with several tasks but MASTER_ADDR is not set; export the "
                                   "first node's address (scontrol show node) in the batch script")
            return cls(int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]), int(env.get("SLURM_LOCALID", 0)),
                       per_node, addr, port, "slurm")
        return cls(master_addr=addr, master_port=port)


def _slurm_tasks_per_node(value: str | None) -> int:
    """`2`, `2(x3)` or `2,1` -> tasks on the first node (1 when unknown)."""
    match = re.match(r"\d+", value or "")
    return int(match.group()) if match else 1


class Comm:
    """Collectives over the job's ranks; identities in a single process so algorithms never branch."""

    def __init__(self, env: DistEnv) -> None:
        self.env = env
        self.world_size = env.world_size
        self.rank = env.rank

    @property
    def active(self) -> bool:
        return self.world_size > 1 and dist.is_initialized()

    def mean_(self, tensor: torch.Tensor) -> torch.Tensor:
        """All-reduce in place to the mean over ranks (equal per-rank batches make it the global mean)."""
        if self.active:
            dist.all_reduce(tensor)
            tensor.div_(self.world_size)
        return tensor

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.active:
            dist.all_reduce(tensor)
        return tensor

    def max_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.active:
            dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return tensor

    def broadcast_(self, tensor: torch.Tensor, src: int = 0) -> torch.Tensor:
        """Overwrite in place with rank `src`'s copy: results a library computed on every rank (which may
        differ in the last bits across machines) become one agreed value."""
        if self.active:
            dist.broadcast(tensor, src)
        return tensor

    def gather_cat(self, tensor: torch.Tensor) -> torch.Tensor:
        """Concatenate equal-shaped tensors of every rank in rank order (= the global batch order)."""
        if not self.active:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    def gather_objects(self, value: T) -> list[T]:
        if not self.active:
            return [value]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, value)
        return out

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def on_node_leader(self, work: Callable[[], None]) -> None:
        """Run `work` on each node's local rank 0, then make every rank raise if any leader failed.

        Without this a failure on one node would leave the other ranks waiting at the next collective until
        the timeout; with it every rank stops at once with the same message.
        """
        error = ""
        if self.env.is_node_leader:
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - re-raised on every rank below
                error = str(exc) or type(exc).__name__
                log.error("node preparation failed: %s", error)
                if not self.active:
                    raise
        errors = [e for e in self.gather_objects(error) if e]
        if errors:
            raise DataPreparationError(errors[0])


class DataPreparationError(RuntimeError):
    """Raised on every rank when a node leader failed to prepare shared data (message says what)."""


def device_for(env: DistEnv) -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", env.local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def init(env: DistEnv, backend: str = "auto", timeout_s: int = 600, cpu_threads: int = 0) -> Comm:
    """Join the process group (when more than one process) and pin this process to its device/threads."""
    device = device_for(env)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:
        # torchrun sets OMP_NUM_THREADS=1 for several local ranks; share the cores out explicitly instead.
        torch.set_num_threads(cpu_threads or max(1, (os.cpu_count() or 1) // env.local_world_size))
    if env.world_size > 1 and not dist.is_initialized():
        chosen = ("nccl" if device.type == "cuda" else "gloo") if backend == "auto" else backend
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")  # NCCL watchdog aborts on timeout
        # torchrun workers must join the agent's store (env://); under plain srun rank 0 hosts one (tcp://).
        method = f"tcp://{env.master_addr}:{env.master_port}" if env.launcher == "slurm" else "env://"
        if method == "env://":
            os.environ.setdefault("MASTER_ADDR", env.master_addr)
            os.environ.setdefault("MASTER_PORT", str(env.master_port))
        dist.init_process_group(chosen, init_method=method, rank=env.rank,
                                world_size=env.world_size, timeout=dt.timedelta(seconds=timeout_s),
                                device_id=device if device.type == "cuda" else None)
        log.info("joined process group", extra={"backend": chosen, "rank": env.rank, "world_size": env.world_size,
                                                "launcher": env.launcher})
    return Comm(env)


def shutdown(comm: Comm, *, clean: bool) -> None:
    """Leave the group. After an error we skip the barrier: the peers may be dead, and exiting frees them."""
    if not dist.is_initialized():
        return
    if clean:
        dist.barrier()
        dist.destroy_process_group()
