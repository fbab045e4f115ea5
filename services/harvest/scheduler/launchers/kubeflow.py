"""Kubeflow: a `kubeflow.org/v1` PyTorchJob (Master 1 + Worker N-1) through the Kubernetes API.

The training operator sets the torchrun environment (`PET_NNODES`, `PET_NPROC_PER_NODE`,
`PET_MASTER_ADDR`, ...) from `nprocPerNode` and the replica counts, so the container runs plain
`torchrun -m harvest.training ...`. `restartPolicy: ExitCode` restarts a pod whose process exited with a
retryable code (143 after a SIGTERM checkpoint, 137 when killed) and fails on 1/2 (bad input), up to
`runPolicy.backoffLimit`; the program resumes from its latest checkpoint. The job's deterministic name is
the PyTorchJob name, so a second create answers 409 Conflict and the launcher adopts the existing one.
"""

from __future__ import annotations

from typing import Any

import yaml

from harvest.scheduler.launchers.base import Launcher, LauncherError, LaunchStatus, Phase, Rendered
from harvest.scheduler.settings import KubeflowSettings
from harvest.scheduler.spec import JobSpec

GROUP, VERSION, PLURAL = "kubeflow.org", "v1", "pytorchjobs"
JOB_LABEL = "training.kubeflow.org/job-name"
ROLE_LABEL = "training.kubeflow.org/replica-type"


class KubeflowLauncher(Launcher):
    name = "kubeflow"

    def __init__(self, settings: KubeflowSettings, env: dict[str, str] | None = None,
                 api_client: Any = None) -> None:
        self.settings = settings
        self.env = dict(env or {})
        self._api_client = api_client

    def namespace(self, job: JobSpec) -> str:
        return job.resources.namespace or self.settings.namespace

    # -- render (pure) ------------------------------------------------------------------------------------
    def render(self, job: JobSpec) -> Rendered:
        manifest = self.manifest(job)
        return Rendered("pytorchjob", yaml.safe_dump(manifest, sort_keys=False), manifest)

    def manifest(self, job: JobSpec) -> dict[str, Any]:
        r = job.resources
        replicas: dict[str, Any] = {"Master": self._replica(job, 1)}
        if r.nodes > 1:
            replicas["Worker"] = self._replica(job, r.nodes - 1)
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "PyTorchJob",
            "metadata": {"name": job.job_name, "namespace": self.namespace(job),
                         "labels": {**_pod_labels(job), "harvest/project-id": job.project_id}},
            "spec": {
                "nprocPerNode": str(r.processes_per_node),
                "runPolicy": {"backoffLimit": self.settings.backoff_limit, "cleanPodPolicy": "Running",
                              "ttlSecondsAfterFinished": self.settings.ttl_seconds_after_finished,
                              "activeDeadlineSeconds": r.time_limit_s},
                "pytorchReplicaSpecs": replicas,
            },
        }

    def _replica(self, job: JobSpec, count: int) -> dict[str, Any]:
        r = job.resources
        limits: dict[str, Any] = {"cpu": str(r.cpus_per_node)}
        requests: dict[str, Any] = {"cpu": str(r.cpus_per_node)}
        if r.memory_mib:
            limits["memory"] = requests["memory"] = f"{r.memory_mib}Mi"
        if r.gpus_per_node:
            limits["nvidia.com/gpu"] = r.gpus_per_node
        env = {**self.env, **job.env, "HARVEST_TRAINING_CACHE_DIR": "/cache", "HARVEST_TRAINING_WORK_DIR": "/scratch"}
        container: dict[str, Any] = {
            "name": "pytorch",
            "image": self.settings.image,
            "imagePullPolicy": self.settings.image_pull_policy,
            "command": ["torchrun", "-m", "harvest.training", *job.training_argv()],
            "env": [{"name": k, "value": v} for k, v in sorted(env.items())],
            "envFrom": [{"secretRef": {"name": self.settings.store_secret}}],
            "resources": {"limits": limits, "requests": requests},
            "volumeMounts": [{"name": "cache", "mountPath": "/cache"}, {"name": "scratch", "mountPath": "/scratch"},
                             {"name": "dshm", "mountPath": "/dev/shm"}],
        }
        pod_spec: dict[str, Any] = {
            "containers": [container],
            "terminationGracePeriodSeconds": 120,
            "volumes": [{"name": "cache", "emptyDir": {"sizeLimit": f"{self.settings.cache_volume_gib}Gi"}},
                        {"name": "scratch", "emptyDir": {}},
                        {"name": "dshm", "emptyDir": {"medium": "Memory"}}],
        }
        if self.settings.service_account:
            pod_spec["serviceAccountName"] = self.settings.service_account
        else:  # training never calls the Kubernetes API: no token in the pod
            pod_spec["automountServiceAccountToken"] = False
        return {"replicas": count, "restartPolicy": "ExitCode",
                "template": {"metadata": {"labels": _pod_labels(job)}, "spec": pod_spec}}

    # -- API calls ----------------------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._api_client is None:
            from kubernetes import client, config

            if self.settings.api_server:
                configuration = client.Configuration()
                configuration.host = self.settings.api_server
                configuration.verify_ssl = self.settings.verify_ssl
                if self.settings.api_token is not None:
                    configuration.api_key = {"authorization": f"Bearer {self.settings.api_token.get_secret_value()}"}
                self._api_client = client.ApiClient(configuration)
            else:
                try:
                    config.load_kube_config(config_file=str(self.settings.kubeconfig) if self.settings.kubeconfig
                                            else None)
                except Exception:  # noqa: BLE001 - no kubeconfig: we may be in a pod
                    config.load_incluster_config()
                self._api_client = client.ApiClient()
        return self._api_client

    def _custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self._client())

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self._client())

    def submit(self, job: JobSpec, rendered: Rendered) -> str:
        from kubernetes.client.exceptions import ApiException

        try:
            self._custom().create_namespaced_custom_object(GROUP, VERSION, self.namespace(job), PLURAL,
                                                           rendered.payload)
        except ApiException as exc:
            if exc.status == 409:  # already created by an earlier attempt: adopt it
                return job.job_name
            raise LauncherError(f"Kubernetes refused the PyTorchJob ({exc.status} {exc.reason}): "
                                f"{_message(exc)}") from exc
        return job.job_name

    def _get(self, job: JobSpec, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._custom().get_namespaced_custom_object(GROUP, VERSION, self.namespace(job), PLURAL,
                                                               name)  # type: ignore[no-any-return]
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise LauncherError(f"cannot read PyTorchJob {name}: {exc.status} {_message(exc)}") from exc

    def find(self, job: JobSpec) -> str | None:
        return job.job_name if self._get(job, job.job_name) is not None else None

    def status(self, job: JobSpec, external_id: str) -> LaunchStatus:
        obj = self._get(job, external_id)
        if obj is None:
            return LaunchStatus(Phase.GONE, message=f"PyTorchJob {external_id} no longer exists")
        return status_from_conditions(obj.get("status") or {})

    def cancel(self, job: JobSpec, external_id: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self._custom().delete_namespaced_custom_object(GROUP, VERSION, self.namespace(job), PLURAL, external_id,
                                                           propagation_policy="Foreground")
        except ApiException as exc:
            if exc.status != 404:
                raise LauncherError(f"cannot delete PyTorchJob {external_id}: {exc.status} {_message(exc)}") from exc

    def logs(self, job: JobSpec, external_id: str, offset: int = 0, node: str = "") -> bytes:
        """The master pod's log (or worker `node`'s, by replica index) from `offset`."""
        role, index = ("master", "0") if not node or node == "0" else ("worker", str(int(node) - 1))
        pods = self._core().list_namespaced_pod(
            self.namespace(job), label_selector=f"{JOB_LABEL}={external_id},{ROLE_LABEL}={role},"
                                                f"training.kubeflow.org/replica-index={index}")
        if not pods.items:
            return b""
        # Raw bytes: the client would otherwise hand back str(bytes) for a plain-text body.
        response = self._core().read_namespaced_pod_log(pods.items[0].metadata.name, self.namespace(job),
                                                        container="pytorch", _preload_content=False)
        return bytes(response.data)[offset:]


def status_from_conditions(status: dict[str, Any]) -> LaunchStatus:
    """The training operator's conditions (Created, Running, Restarting, Succeeded, Failed) as a phase."""
    conditions = [c for c in status.get("conditions") or [] if str(c.get("status")) == "True"]
    restarts = sum(int(s.get("restarts", 0)) for s in (status.get("replicaStatuses") or {}).values()
                   if isinstance(s, dict))
    latest = conditions[-1] if conditions else {}
    kind, message = latest.get("type", ""), latest.get("message", "")
    if kind == "Succeeded":
        return LaunchStatus(Phase.SUCCEEDED, restarts, 0, message)
    if kind == "Failed":
        return LaunchStatus(Phase.FAILED, restarts, None, message or "the PyTorchJob failed")
    if kind == "Running":
        return LaunchStatus(Phase.RUNNING, restarts, message=message)
    if kind == "Restarting":
        return LaunchStatus(Phase.PENDING, max(restarts, 1), message=message or "restarting pods")
    return LaunchStatus(Phase.PENDING, restarts, message=message or "waiting for pods")


def _message(exc: Any) -> str:
    import json

    try:
        return str(json.loads(exc.body).get("message", exc.body))
    except (TypeError, ValueError, AttributeError):
        return str(exc.body or exc.reason)


def _pod_labels(job: JobSpec) -> dict[str, str]:
    """part-of lets the chart's network policy admit training pods to the bundled object store."""
    return {"app.kubernetes.io/part-of": "harvest", "harvest/job-id": job.job_id}
