"""What the clusters receive: rendered sbatch scripts and PyTorchJob manifests (pure `render`, no cluster)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from harvest.common.errors import InvalidArgument
from harvest.scheduler.launchers.base import Phase
from harvest.scheduler.launchers.kubeflow import KubeflowLauncher, status_from_conditions
from harvest.scheduler.launchers.local import LocalLauncher
from harvest.scheduler.launchers.slurm import SlurmLauncher, _status, slurm_time
from harvest.scheduler.presets import resolve
from harvest.scheduler.settings import KubeflowSettings, SchedulerSettings, SlurmSettings
from harvest.scheduler.spec import JobSpec, ResourceSpec

pytestmark = pytest.mark.unit


def job(nodes: int = 2, gpus: int = 0, procs: int = 1) -> JobSpec:
    return JobSpec("abc123", "harvest-abc123", "proj1", "snap1", "quick", ("train.steps=5", "optim.lr=0.1"),
                   ResourceSpec(nodes=nodes, gpus_per_node=gpus, processes_per_node=procs, cpus_per_node=4,
                                time_limit_s=3 * 3600, partition="gpu"), {"HARVEST_STORE_BACKEND": "local"})


def slurm(apptainer: bool) -> SlurmLauncher:
    settings = SlurmSettings(apptainer=apptainer, image="/images/harvest.sif", binds=["/scratch", "/cache"],
                             account="lab")
    return SlurmLauncher(settings, Path("/shared/logs"), "/venv/bin/python", 29400)


def test_slurm_script_with_apptainer_runs_torchrun_in_the_image_with_c10d_on_the_first_node() -> None:
    text = slurm(apptainer=True).render(job(nodes=2, gpus=4, procs=4)).text
    assert "#SBATCH --nodes=2\n" in text and "#SBATCH --gpus-per-node=4\n" in text
    assert "#SBATCH --requeue\n" in text and "#SBATCH --signal=B:USR2@120\n" in text
    assert "#SBATCH --job-name=harvest-abc123\n" in text and "#SBATCH --partition=gpu\n" in text
    assert "#SBATCH --account=lab\n" in text and "#SBATCH --time=0-03:00:00\n" in text
    assert "apptainer exec --nv --bind /scratch,/cache,/shared/logs /images/harvest.sif torchrun \\" in text
    assert '--nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d "--rdzv-endpoint=$MASTER_ADDR:$MASTER_PORT"' in text
    assert "MASTER_PORT=$((29400 + SLURM_JOB_ID % 1000))" in text  # one rendezvous port per job
    assert 'scontrol show node "${nodes[0]}"' in text  # the first node's NodeAddr
    assert "srun --label --kill-on-bad-exit=1 --ntasks-per-node=1 --nodes=2" in text
    assert "trap 'requeue=1; forward USR2' USR2" in text and 'kill -TERM "$child"' in text
    assert 'scontrol requeue "$SLURM_JOB_ID"' in text
    assert "-m harvest.training --snapshot snap1 --config quick --run-dir runs/abc123 --set train.steps=5" in text


def test_slurm_script_without_apptainer_uses_the_venv_python() -> None:
    text = slurm(apptainer=False).render(job()).text
    assert "apptainer" not in text
    assert "/venv/bin/python -m torch.distributed.run \\" in text
    assert "--gpus-per-node" not in text


def test_site_setup_lines_run_after_the_env_file_and_before_training() -> None:
    settings = SlurmSettings(setup=["module load apptainer/1.3", "module load cuda/12.4"])
    text = SlurmLauncher(settings, Path("/shared/logs"), "/venv/bin/python", env_file="/etc/harvest/job.env"
                         ).render(job()).text
    source = text.index("source /etc/harvest/job.env || ")
    first, second = text.index("module load apptainer/1.3\n"), text.index("module load cuda/12.4\n")
    assert source < first < second < text.index("srun ")


@pytest.mark.parametrize("apptainer", [True, False])
def test_rendered_sbatch_scripts_are_valid_bash(apptainer: bool, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text(slurm(apptainer).render(job(nodes=3, gpus=2, procs=2)).text)
    done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_broken_script_fails_bash_syntax_check(tmp_path: Path) -> None:  # the check above can fail
    script = tmp_path / "job.sh"
    script.write_text(slurm(False).render(job()).text.replace("fi\n", ""))
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode != 0


def test_render_is_pure() -> None:
    launcher = slurm(True)
    assert launcher.render(job()).text == launcher.render(job()).text


def test_slurm_time_rounds_up_to_minutes() -> None:
    assert slurm_time(59) == "0-00:01:00" and slurm_time(90) == "0-00:02:00" and slurm_time(86400 + 60) == "1-00:01:00"


@pytest.mark.parametrize(("state", "restarts", "phase"), [
    ("PENDING", 0, Phase.PENDING), ("RUNNING", 0, Phase.RUNNING), ("COMPLETED", 0, Phase.SUCCEEDED),
    ("CANCELLED by 0", 0, Phase.CANCELLED), ("NODE_FAIL", 0, Phase.FAILED), ("PENDING", 1, Phase.PENDING)])
def test_slurm_states_map_to_phases(state: str, restarts: int, phase: Phase) -> None:
    status = _status(state, "0:0", restarts, "BeginTime", "n[1-2]")
    assert status.phase == phase and status.restarts == restarts


def test_local_command_is_standalone_torchrun(tmp_path: Path) -> None:
    rendered = LocalLauncher(tmp_path, "/venv/bin/python").render(job(nodes=1, procs=2))
    assert rendered.payload[:6] == ["/venv/bin/python", "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
                                    "--nproc-per-node=2"]


# -- Kubeflow ------------------------------------------------------------------------------------------------
def check_pytorchjob_v1(manifest: dict[str, Any], nodes: int, gpus: int, procs: int) -> None:
    """The PyTorchJob v1 rules the training operator enforces (its CRD schema and validation webhook)."""
    assert manifest["apiVersion"] == "kubeflow.org/v1" and manifest["kind"] == "PyTorchJob"
    assert manifest["metadata"]["name"] and len(manifest["metadata"]["name"]) <= 63
    spec = manifest["spec"]
    replicas = spec["pytorchReplicaSpecs"]
    assert set(replicas) <= {"Master", "Worker"}, "replica types are only Master and Worker"
    assert replicas["Master"]["replicas"] == 1, "exactly one Master"
    assert replicas.get("Worker", {}).get("replicas", 0) == nodes - 1
    assert ("Worker" in replicas) == (nodes > 1)
    assert spec["nprocPerNode"] == str(procs)
    assert isinstance(spec["runPolicy"]["backoffLimit"], int) and spec["runPolicy"]["backoffLimit"] >= 0
    assert spec["runPolicy"]["ttlSecondsAfterFinished"] >= 0
    for replica in replicas.values():
        assert replica["restartPolicy"] in {"Always", "OnFailure", "Never", "ExitCode"}
        containers = replica["template"]["spec"]["containers"]
        assert [c["name"] for c in containers].count("pytorch") == 1, "one container named pytorch"
        pytorch = next(c for c in containers if c["name"] == "pytorch")
        assert pytorch["image"]
        limits = pytorch["resources"]["limits"]
        assert limits.get("nvidia.com/gpu", 0) == gpus


def pod_of(replica: dict[str, Any]) -> dict[str, Any]:
    template = replica["template"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "replica", **template.get("metadata", {})},
            "spec": template["spec"]}


@pytest.mark.parametrize(("nodes", "gpus"), [(1, 0), (2, 1), (8, 4)])
def test_pytorchjob_follows_v1_rules_and_pods_are_valid_core_objects(nodes: int, gpus: int) -> None:
    launcher = KubeflowLauncher(KubeflowSettings(), {"HARVEST_STORE_BACKEND": "s3"})
    rendered = launcher.render(job(nodes=nodes, gpus=gpus, procs=max(gpus, 1)))
    manifest = rendered.payload
    check_pytorchjob_v1(manifest, nodes, gpus, max(gpus, 1))
    for replica in manifest["spec"]["pytorchReplicaSpecs"].values():
        kubernetes_validate.validate(pod_of(replica), "1.30.0", strict=True)
    assert "torchrun" in rendered.text and "--run-dir" in rendered.text  # YAML text is what is shown to users


def test_the_rules_reject_a_second_master() -> None:
    manifest = KubeflowLauncher(KubeflowSettings()).render(job(nodes=2)).payload
    manifest["spec"]["pytorchReplicaSpecs"]["Master"]["replicas"] = 2
    with pytest.raises(AssertionError, match="exactly one Master"):
        check_pytorchjob_v1(manifest, 2, 0, 1)


def test_kubernetes_validate_rejects_a_bad_pod() -> None:
    replica = KubeflowLauncher(KubeflowSettings()).render(job(nodes=1)).payload["spec"]["pytorchReplicaSpecs"]["Master"]
    pod = pod_of(replica)
    pod["spec"]["containers"][0]["imagePullPolicy"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, "1.30.0", strict=True)


@pytest.mark.parametrize(("conditions", "phase"), [
    ([{"type": "Created", "status": "True"}], Phase.PENDING),
    ([{"type": "Created", "status": "True"}, {"type": "Running", "status": "True"}], Phase.RUNNING),
    ([{"type": "Running", "status": "False"}, {"type": "Succeeded", "status": "True"}], Phase.SUCCEEDED),
    ([{"type": "Failed", "status": "True", "message": "OOM"}], Phase.FAILED),
    ([{"type": "Restarting", "status": "True"}], Phase.PENDING)])
def test_pytorchjob_conditions_map_to_phases(conditions: list[dict[str, str]], phase: Phase) -> None:
    assert status_from_conditions({"conditions": conditions}).phase == phase


# -- request resolution ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"overrides": {"nope.field": "1"}}, "nope"), ({"algorithm": "dino"}, "algorithm"),
    ({"overrides": {"optim.lr": "fast"}}, "optim.lr"), ({"steps": 0}, "steps"),
    ({"global_batch_size": 3, "resources": {"processes_per_node": 2}}, "divisible"),
    ({"resources": {"nodes": 100}}, "limit"), ({"resources": {"time_limit_s": 5}}, "time_limit")])
def test_bad_requests_are_refused_with_what_to_fix(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        resolve("quick", **kwargs)


def test_preset_defaults_and_overrides_resolve() -> None:
    resolved = resolve("hpc", steps=10, overrides={"optim.lr": "0.1", "optim.warmup_steps": "0"})
    assert resolved.resources.nodes == 4 and resolved.resources.world_size == 16
    assert resolved.total_steps == 10 and "optim.lr=0.1" in resolved.training_args
    assert "lr: 0.1" in resolved.config_yaml


@pytest.mark.parametrize("value", ["slurm,local", " slurm , local ", '["slurm", "local"]'])
def test_backends_are_read_from_the_environment_as_a_list_or_json(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_SCHEDULER_BACKENDS", value)
    assert SchedulerSettings().backends == ["slurm", "local"]
