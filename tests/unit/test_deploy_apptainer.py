"""apptainer/build.sh: shellcheck finds nothing in the shipped shell scripts, and the build script hands
Apptainer the right source for each way a site gets the image. Apptainer cannot be installed here, so a
stand-in `apptainer` on PATH records what the script asks of it (the script itself runs for real)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "apptainer" / "build.sh"
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def test_shipped_shell_scripts_pass_shellcheck() -> None:
    scripts = [BUILD, ROOT / ".ci" / "run", *sorted((ROOT / "scripts").glob("*.sh"))]
    done = subprocess.run([str(SHELLCHECK), "--severity=warning", *map(str, scripts)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout


def test_shellcheck_reports_a_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/bin/bash\nrm -rf $1/*\n")
    done = subprocess.run([str(SHELLCHECK), str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "SC2086" in done.stdout


def run_build(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    fake = bin_dir / "apptainer"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(BUILD), *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=60)
    return done, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(("args", "source"), [
    ((), "docker-daemon://harvest-gpu:0.1.0"),
    (("--cpu", "--tag", "0.2.0"), "docker-daemon://harvest:0.2.0"),
    (("--from", "registry", "--image", "registry.example.org/harvest/harvest-gpu:0.1.0"),
     "docker://registry.example.org/harvest/harvest-gpu:0.1.0"),
    (("--from", "def"), str(ROOT / "apptainer" / "harvest.def")),
])
def test_build_hands_apptainer_the_image_source_then_self_checks(tmp_path: Path, args: tuple[str, ...],
                                                                 source: str) -> None:
    done, calls = run_build(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert calls == [f"build harvest.sif {source}", "exec harvest.sif python -m harvest.training --help"]
    assert "HARVEST_SLURM_IMAGE=" in done.stdout


def test_build_from_a_saved_archive(tmp_path: Path) -> None:
    archive = tmp_path / "harvest-gpu.tar"
    archive.write_bytes(b"")
    done, calls = run_build(tmp_path, "--from", "archive", "--image", str(archive), "--output", "x.sif")
    assert done.returncode == 0 and calls[0] == f"build x.sif docker-archive://{archive}"


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "registry"), "--from registry needs --image"),
    (("--from", "archive", "--image", "missing.tar"), "--from archive needs --image FILE"),
    (("--from", "ftp"), "--from must be daemon, registry, archive or def"),
    (("--bogus",), "unknown option --bogus"),
])
def test_bad_arguments_say_what_to_fix_and_build_nothing(tmp_path: Path, args: tuple[str, ...],
                                                         message: str) -> None:
    done, calls = run_build(tmp_path, *args)
    assert done.returncode == 2 and message in done.stderr and calls == []


def test_an_existing_image_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "harvest.sif").write_bytes(b"old")
    done, calls = run_build(tmp_path)
    assert done.returncode == 2 and "pass --force" in done.stderr and calls == []
    done, calls = run_build(tmp_path, "--force")
    assert done.returncode == 0 and calls[0] == "build --force harvest.sif docker-daemon://harvest-gpu:0.1.0"


def test_without_apptainer_the_script_says_how_to_get_it(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 2 and "apptainer is not installed" in done.stderr
