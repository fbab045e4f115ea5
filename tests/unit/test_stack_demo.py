"""`harvest up --demo` seeds the demo project once per home, in the background, and never otherwise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harvest.common.settings import EndpointSettings
from harvest.demo import DEMO_MARKER
from harvest.stack import Platform

pytestmark = pytest.mark.unit


def platform(home: Path, demo: bool) -> Platform:
    (home / "logs").mkdir(parents=True, exist_ok=True)
    return Platform(home=home, endpoints=EndpointSettings(), database_url=f"sqlite:///{home / 'labels.db'}",
                    demo=demo)


def test_demo_is_seeded_in_the_background_on_a_new_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARVEST_HOME", str(tmp_path))  # the child inherits it: nothing touches ~/.harvest
    started = platform(tmp_path, demo=True)._seed_demo()
    assert started is not None
    try:
        assert started.args == [sys.executable, "-m", "harvest.cli", "demo", "--if-new"]
    finally:
        started.kill()
        started.wait(timeout=10)
    assert (tmp_path / "logs" / "demo.log").exists()


@pytest.mark.parametrize("demo, seeded", [(False, False), (True, True)])
def test_demo_is_not_seeded_without_the_flag_or_twice(tmp_path: Path, demo: bool, seeded: bool) -> None:
    if seeded:
        (tmp_path / DEMO_MARKER).write_text("project\n")
    assert platform(tmp_path, demo=demo)._seed_demo() is None


def test_demo_command_is_offered_by_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "harvest.cli", "demo", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--images-per-class" in done.stdout and "--if-new" in done.stdout
