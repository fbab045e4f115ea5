"""The Helm chart, linted and rendered offline with Helm's own Go SDK (helm-python-sdk) for the three
values files CI covers (defaults, external services, GPU), every object validated against the Kubernetes
1.30 schemas, and the properties a cluster administrator checks before installing: probes, limits,
non-root pods, and RBAC that reaches no further than PyTorchJobs in one namespace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from harvest.common.settings import EXAMPLE_SECRET
from harvest.scheduler.settings import KubeflowSettings, SchedulerSettings
from tests.harness.settings_env import unknown_variables

pytestmark = pytest.mark.unit

CHART = Path(__file__).resolve().parents[2] / "charts" / "harvest"
VALUES_FILES = ("default", "external", "gpu")
KUBE_VERSION = "1.30.0"
NAMESPACE = "harvest"
SECRET = "ci-only-secret-not-for-use-0123456789abcdef"


def values_of(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text())


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = helm.Chart.load(CHART).render(values, name="harvest", namespace=NAMESPACE, is_install=True)
    return [doc for path, text in sorted(manifests.items()) if not path.endswith("NOTES.txt")
            for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture(scope="module", params=VALUES_FILES)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(values_of(request.param))


def of_kind(objects: list[dict[str, Any]], *kinds: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in kinds]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_chart_lints_strictly_clean(values_file: str) -> None:
    report = helm.lint(CHART, values_of(values_file), strict=True, kube_version=f"v{KUBE_VERSION}",
                       namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["total_charts_linted"] == 1 and not report["errors"] and not problems, report


def test_lint_reports_a_broken_template(tmp_path: Path) -> None:
    """The lint above can fail: the same SDK call on a chart with a template error reports it."""
    broken = tmp_path / "harvest"
    helm.Chart.load(CHART).save_dir(tmp_path)
    (broken / "templates" / "broken.yaml").write_text("kind: ConfigMap\nmetadata:\n  name: {{ .Values.x.y.z }\n")
    report = helm.lint(broken, values_of("default"), strict=True)
    assert report["errors"] or any(m["severity"] >= 2 for m in report["messages"])


def test_every_built_in_object_validates_strictly(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = rendered
    built_in = [o for o in objects if o["apiVersion"] != "cert-manager.io/v1"]
    assert len(built_in) >= 15
    for obj in built_in:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)  # raises ValidationError


def test_a_wrong_field_fails_validation(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    deployment = dict(of_kind(rendered[1], "Deployment")[0])
    deployment["spec"] = {**deployment["spec"], "replica": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return of_kind(objects, "Deployment", "StatefulSet")


def test_every_workload_has_probes_limits_and_a_non_root_security_context(
        rendered: tuple[str, list[dict[str, Any]]]) -> None:
    values_file, objects = rendered
    deployments = of_kind(objects, "Deployment")
    assert sorted(d["metadata"]["labels"]["app.kubernetes.io/component"] for d in deployments) == \
        ["inference", "labels", "scheduler", "storage", "ui", "worker"]
    for workload in workloads(objects):
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        for container in pod["containers"]:
            assert container.get("readinessProbe") and container.get("livenessProbe"), name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["limits"]) and {"cpu", "memory"} <= set(resources["requests"])
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"], name


def test_grpc_services_use_the_grpc_health_protocol(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    values_file, objects = rendered
    tls = values_file == "external"
    for component, port in (("storage", 50051), ("labels", 50052), ("scheduler", 50053), ("inference", 50054)):
        container = named(objects, "Deployment", f"harvest-{component}")["spec"]["template"]["spec"]["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if tls:  # Kubernetes' gRPC probes speak plain text only: the image's probe speaks TLS
                assert container[probe]["exec"]["command"][:3] == ["harvest", "probe", component]
            else:
                assert container[probe]["grpc"] == {"port": port}
    ui = named(objects, "Deployment", "harvest-ui")["spec"]["template"]["spec"]["containers"][0]
    assert ui["readinessProbe"]["httpGet"]["path"] == "/_stcore/health"
    worker = named(objects, "Deployment", "harvest-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["livenessProbe"]["exec"]["command"][:3] == ["harvest", "probe", "worker"]


def test_scheduler_role_creates_pytorchjobs_in_one_namespace_and_nothing_cluster_wide(
        rendered: tuple[str, list[dict[str, Any]]]) -> None:
    values_file, objects = rendered
    assert not of_kind(objects, "ClusterRole", "ClusterRoleBinding")
    jobs_namespace = "harvest-jobs" if values_file == "external" else NAMESPACE
    role = named(objects, "Role", "harvest-pytorchjobs")
    assert role["metadata"]["namespace"] == jobs_namespace
    rules = role["rules"]
    assert any("kubeflow.org" in r["apiGroups"] and "pytorchjobs" in r["resources"] and "create" in r["verbs"]
               for r in rules)
    for rule in rules:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        assert not {"secrets", "roles", "rolebindings", "serviceaccounts"} & set(rule["resources"])
    binding = named(objects, "RoleBinding", "harvest-pytorchjobs")
    assert binding["metadata"]["namespace"] == jobs_namespace
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "harvest-pytorchjobs"}
    account = binding["subjects"][0]
    assert account == {"kind": "ServiceAccount", "name": "harvest-scheduler", "namespace": NAMESPACE}
    for deployment in of_kind(objects, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        if deployment["metadata"]["name"] in ("harvest-scheduler", "harvest-worker"):
            assert pod["serviceAccountName"] == account["name"]
        else:  # no other process holds a Kubernetes API token
            assert pod["automountServiceAccountToken"] is False and "serviceAccountName" not in pod


def environment(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """A process's environment: the ConfigMap it reads plus its own entries (values or secret refs)."""
    container = named(objects, "Deployment", f"harvest-{component}")["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= named(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


def use_environment(objects: list[dict[str, Any]], component: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set the plain values of a process's rendered environment here (secret references are skipped)."""
    for key, value in environment(objects, component).items():
        if isinstance(value, str):
            monkeypatch.setenv(key, value)


def test_every_harvest_variable_the_chart_sets_is_a_real_setting(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = rendered
    for component in ("storage", "labels", "scheduler", "worker", "inference", "ui"):
        assert unknown_variables(environment(objects, component)) == [], component


def test_the_scheduler_reads_the_rendered_settings(rendered: tuple[str, list[dict[str, Any]]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    values_file, objects = rendered
    use_environment(objects, "scheduler", monkeypatch)
    scheduler, kubeflow = SchedulerSettings(), KubeflowSettings()
    assert scheduler.backends == (["kubeflow", "local"] if values_file == "external" else ["kubeflow"])
    assert kubeflow.namespace == ("harvest-jobs" if values_file == "external" else NAMESPACE)
    assert kubeflow.store_secret == ("harvest-s3" if values_file == "external" else "harvest-store")
    assert kubeflow.image.endswith("harvest-gpu:0.1.0")  # training jobs run the CUDA image


def test_secrets_reach_only_the_processes_that_need_them(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = rendered
    ui = environment(objects, "ui")
    assert not {"HARVEST_AUTH_SECRET", "HARVEST_DB_URL", "HARVEST_BROKER_URL"} & set(ui)
    assert "HARVEST_DB_URL" in environment(objects, "labels")
    assert "HARVEST_BROKER_URL" in environment(objects, "worker")
    assert "HARVEST_DB_URL" not in environment(objects, "inference")
    secret_names = {"HARVEST_AUTH_SECRET", "HARVEST_DB_URL", "HARVEST_STORAGE_DB_URL", "HARVEST_SCHEDULER_DB_URL",
                    "HARVEST_INFERENCE_DB_URL", "HARVEST_BROKER_URL", "HARVEST_STORE_S3_ACCESS_KEY",
                    "HARVEST_STORE_S3_SECRET_KEY", "HARVEST_KUBEFLOW_API_TOKEN"}
    for config in of_kind(objects, "ConfigMap"):  # nothing secret in a ConfigMap
        assert not secret_names & set(config["data"]), config["metadata"]["name"]


def test_bundled_servers_get_generated_credentials_shared_with_their_clients() -> None:
    objects = render(values_of("default"))
    database = named(objects, "Secret", "harvest-database")["data"]
    assert {"postgres-password", "labels-url", "storage-url", "scheduler-url", "inference-url"} <= set(database)
    import base64

    password = base64.b64decode(database["postgres-password"]).decode()
    url = base64.b64decode(database["labels-url"]).decode()
    assert len(password) == 32 and f"harvest:{password}@harvest-postgresql.harvest.svc:5432/harvest_labels" in url
    assert len(of_kind(objects, "StatefulSet")) == 3
    init = named(objects, "ConfigMap", "harvest-postgresql-init")["data"]["10-create-databases.sql"]
    for service in ("labels", "storage", "scheduler", "inference"):
        assert f"CREATE DATABASE harvest_{service};" in init


def test_external_services_are_referenced_not_bundled() -> None:
    objects = render(values_of("external"))
    assert not of_kind(objects, "StatefulSet", "Secret")  # every credential comes from an existing Secret
    storage = environment(objects, "storage")
    assert storage["HARVEST_STORE_S3_ENDPOINT"] == "s3.example.org:443" and storage["HARVEST_STORE_S3_SECURE"] == "true"
    assert storage["HARVEST_STORAGE_DB_URL"] == {"secretKeyRef": {"name": "harvest-database", "key": "storage-url"}}
    assert storage["HARVEST_AUTH_SECRET"] == {"secretKeyRef": {"name": "harvest-auth", "key": "HARVEST_AUTH_SECRET"}}
    certificate = named(objects, "Certificate", "harvest-grpc")["spec"]
    assert certificate["secretName"] == "harvest-grpc-tls" and certificate["ipAddresses"] == ["127.0.0.1"]
    assert "harvest-labels.harvest.svc" in certificate["dnsNames"]
    assert certificate["issuerRef"] == {"name": "harvest-internal-ca", "kind": "Issuer", "group": "cert-manager.io"}
    assert storage["HARVEST_TLS_ENABLED"] == "true"
    pod = named(objects, "Deployment", "harvest-storage")["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "harvest-grpc-tls"}} in pod["volumes"]


def test_gpu_values_put_inference_on_a_gpu_with_the_cuda_image() -> None:
    objects = render(values_of("gpu"))
    inference = named(objects, "Deployment", "harvest-inference")["spec"]
    container = inference["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"] == "registry.example.org/harvest/harvest-gpu:0.1.0"
    assert inference["replicas"] == 2 and inference["template"]["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert environment(objects, "inference")["HARVEST_INFERENCE_DEVICE"] == "cuda"
    storage = named(objects, "Deployment", "harvest-storage")["spec"]["template"]["spec"]["containers"][0]
    assert "nvidia.com/gpu" not in storage["resources"]["limits"] and "harvest-gpu" not in storage["image"]


def test_labels_processes_reach_the_pod_with_a_metrics_port_each() -> None:
    values = values_of("default")
    values["labels"] = {**values.get("labels", {}), "processes": 3, "pinProcesses": True}
    objects = render(values)
    env = environment(objects, "labels")
    assert (env["HARVEST_LABELS_PROCESSES"], env["HARVEST_LABELS_PIN_PROCESSES"]) == ("3", "true")
    container = named(objects, "Deployment", "harvest-labels")["spec"]["template"]["spec"]["containers"][0]
    port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
    assert [(p["name"], p["containerPort"]) for p in container["ports"] if p["name"].startswith("metrics")] == [
        ("metrics", port + 1000), ("metrics-1", port + 1001), ("metrics-2", port + 1002)]
    service = named(objects, "Service", "harvest-labels")["spec"]
    assert [p["targetPort"] for p in service["ports"]] == ["grpc", "metrics", "metrics-1", "metrics-2"]
    default = environment(render(values_of("default")), "labels")
    assert (default["HARVEST_LABELS_PROCESSES"], default["HARVEST_LABELS_PIN_PROCESSES"]) == ("1", "false")
    assert "HARVEST_LABELS_PROCESSES" not in environment(objects, "storage")


@pytest.mark.parametrize(("change", "message"), [
    ({"auth": {"secret": ""}}, "set auth.secret"),
    ({"auth": {"secret": EXAMPLE_SECRET}}, "published example value"),
    ({"auth": {"secret": "too-short"}}, "at least 32 characters"),
    ({"minio": {"enabled": False}}, "objectStore.accessKey or objectStore.existingSecret"),
    ({"minio": {"enabled": False}, "objectStore": {"accessKey": "a", "secretKey": "b"}}, "objectStore.endpoint"),
    ({"postgresql": {"enabled": False}}, "database.existingSecret"),
    ({"tls": {"enabled": True}}, "tls.certManager.enabled or tls.existingSecret"),
])
def test_unsafe_or_incomplete_values_refuse_to_render_with_the_fix(change: dict[str, Any], message: str) -> None:
    values = values_of("default")
    for key, value in change.items():
        values[key] = {**values.get(key, {}), **value}
    with pytest.raises(helm.HelmError, match=message.replace(".", r"\.")):
        render(values)


def test_training_pods_the_scheduler_creates_are_admitted_to_the_bundled_object_store(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The chart's MinIO policy and the launcher's pod labels must agree, or every job fails to read data."""
    from harvest.scheduler.launchers.kubeflow import KubeflowLauncher
    from harvest.scheduler.spec import JobSpec, ResourceSpec

    objects = render(values_of("default"))
    use_environment(objects, "worker", monkeypatch)
    job = JobSpec("j1", "harvest-j1", "p1", "s1", "quick", (), ResourceSpec(nodes=2, gpus_per_node=1), {})
    manifest = KubeflowLauncher(KubeflowSettings()).render(job).payload
    policy = named(objects, "NetworkPolicy", "harvest-minio")["spec"]["ingress"][0]["from"][1]
    namespace = manifest["metadata"]["namespace"]
    assert policy["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": namespace}
    for replica in manifest["spec"]["pytorchReplicaSpecs"].values():
        labels = replica["template"]["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items()
        container = replica["template"]["spec"]["containers"][0]
        assert container["envFrom"] == [{"secretRef": {"name": "harvest-store"}}]  # the Secret the chart made
    named(objects, "Secret", "harvest-store")


@pytest.mark.parametrize(("change", "message"), [
    ({"ingress": {"hostname": "harvest.example.org"}}, "/ingress': additional properties 'hostname' not allowed"),
    ({"storage": {"resources": {"limits": None}}}, "/storage/resources': missing property 'limits'"),
    ({"scheduler": {"backends": ["slurm"]}}, "/scheduler/backends/0"),
    ({"config": {"extraEnv": {"STORAGE_QUOTA": "1"}}}, "'STORAGE_QUOTA' does not match pattern '^HARVEST_"),
])
def test_values_schema_refuses_misspelt_or_missing_values(change: dict[str, Any], message: str) -> None:
    """A misspelt key would otherwise be ignored silently, and a pod without limits installed."""
    values = values_of("default")
    values.update(change)
    with pytest.raises(helm.HelmError, match=re.escape(message)):
        render(values)
