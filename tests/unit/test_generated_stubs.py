"""The checked-in gRPC stubs are exactly what `make proto` generates from the contracts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_proto", ROOT / "scripts" / "gen_proto.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_stubs_are_current() -> None:
    stale = _generator().stale_files()
    assert stale == [], f"stale generated files {stale}: run `make proto` and commit the result"


def test_every_contract_has_python_pyi_and_grpc_modules() -> None:
    generator = _generator()
    v1 = ROOT / "services" / "harvest" / "v1"
    for proto in generator.proto_files():
        stem = proto.stem
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            assert (v1 / f"{stem}{suffix}").is_file(), f"missing {stem}{suffix}"


def test_stale_check_notices_an_edited_stub(tmp_path: Path) -> None:
    generator = _generator()
    copy = tmp_path / "services"
    generator.generate(copy)
    assert generator.stale_files(copy) == []
    edited = copy / "harvest" / "v1" / "common_pb2.py"
    edited.write_text(edited.read_text() + "\n# hand edit\n")
    assert generator.stale_files(copy) == ["common_pb2.py"]
