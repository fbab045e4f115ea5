"""Several serving processes of one service on one port, for a host with more cores than one Python
process can use.

Why: a gRPC server in Python runs its handlers under one interpreter lock, so one process serves at most
about one core's worth of calls however many threads it has; the labels service's write path is CPU-bound
in Python long before PostgreSQL is busy. Replicas listen on the same port with SO_REUSEPORT and the kernel
spreads incoming connections over them; everything they share lives in the database, exactly as with
replicas behind a load balancer (token revocations reach the other replicas within the revocation cache's
second, as they reach other pods).

The parent checks that the port is free (without SO_REUSEPORT, so a port some other server holds is
refused rather than shared), then runs the replicas under the same `Supervisor` as `harvest up`: a replica
that crashes is restarted, SIGTERM stops them all. Replica i serves Prometheus metrics on the metrics
port + i. With `pin_cpus`, replica i runs on the i-th CPU this process may use (round robin): on a host
given to the service, a replica that stays on its core keeps its caches and never migrates in the middle of
a call (measured with 2 replicas on 2 cores, AnnotateStream sessions, 3 alternating pairs: 2,122-2,513 vs
1,736-2,190 writes/s, 0.39-0.47 vs 0.48-0.59 ms server CPU per write); on a host shared with other busy
programs leave it off, so the scheduler can move a replica away from a busy core.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from contextlib import closing, suppress
from pathlib import Path
from types import FrameType

from harvest.common.logs import configure_logging
from harvest.common.settings import LogSettings
from harvest.supervisor import ChildSpec, Supervisor

log = logging.getLogger(__name__)

#: Set in each replica's environment, so a replica serves instead of starting replicas of its own.
REPLICA_ENV = "HARVEST_SERVER_REPLICA"
#: Set in a replica's environment when it is to run on one CPU only (`pin_to_cpu`).
REPLICA_CPU_ENV = "HARVEST_SERVER_REPLICA_CPU"


def is_replica(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(REPLICA_ENV, "") not in ("", "0")


def ensure_port_free(host: str, port: int) -> None:
    """Refuse a port another server listens on (a plain bind fails even beside SO_REUSEPORT listeners)."""
    if port == 0:
        raise ValueError("replicas share one port: set a fixed port (0 picks a different port per process)")
    with closing(socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RuntimeError(f"cannot listen on {host}:{port} ({exc.strerror}); is the port in use?") from exc


def pin_to_cpu(environ: Mapping[str, str] = os.environ) -> int | None:
    """In a replica started with a CPU, run this process (and every thread it starts from now on) on that
    CPU only; the CPU, or None when the replica is not pinned. Call it before the server starts threads."""
    cpu = environ.get(REPLICA_CPU_ENV, "")
    if not cpu:
        return None
    # The affinity is per thread, and a thread inherits it from the one that starts it: this one, and those
    # the imports already started.
    for task in Path("/proc/self/task").iterdir():
        with suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(task.name), {int(cpu)})
    return int(cpu)


def replica_specs(name: str, processes: int, module: str, metrics_port: int,
                  pin_cpus: bool = False) -> list[ChildSpec]:
    """One `python -m <module>` per replica, logging to this process's output."""
    cpus = sorted(os.sched_getaffinity(0)) if pin_cpus else []
    specs = []
    for index in range(processes):
        env = {REPLICA_ENV: "1", "HARVEST_SERVER_REUSE_PORT": "true",
               "HARVEST_SERVER_METRICS_PORT": str(metrics_port + index)}
        if pin_cpus:
            env[REPLICA_CPU_ENV] = str(cpus[index % len(cpus)])
        specs.append(ChildSpec(name=f"{name}-{index}", argv=[sys.executable, "-m", module], log_file=None, env=env))
    return specs


def serve_replicas(name: str, processes: int, module: str, host: str, port: int, metrics_port: int,
                   on_event: Callable[[str], None] | None = None, pin_cpus: bool = False) -> int:
    """Run `processes` replicas of `module` until SIGTERM/SIGINT; returns the exit code."""
    configure_logging(name, LogSettings())
    try:
        ensure_port_free(host, port)
    except (RuntimeError, ValueError) as exc:
        log.error(f"{name}: {exc}")
        return 2
    supervisor = Supervisor(replica_specs(name, processes, module, metrics_port, pin_cpus),
                            on_event=on_event or (lambda message: log.warning(message)))

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    log.info("starting replicas", extra={"service": name, "processes": processes, "address": f"{host}:{port}"})
    supervisor.start()
    supervisor.watch()
    supervisor.stop()
    return 0
