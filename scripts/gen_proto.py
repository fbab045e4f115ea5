"""Regenerate the gRPC stubs in services/harvest/v1 from proto/harvest/v1.

One command (`make proto`) so the checked-in stubs never drift from the contracts; a unit test
regenerates into a temporary directory and compares byte for byte.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = Path("harvest") / "v1"
OUTPUT_ROOT = ROOT / "services"

INIT_TEXT = '"""Generated gRPC code for the harvest.v1 contracts. Regenerate with `make proto`; do not edit."""\n'


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / PACKAGE_DIR).glob("*.proto"))


def generate(output_root: Path) -> list[Path]:
    """Write *_pb2.py, *_pb2.pyi and *_pb2_grpc.py for every contract under output_root/harvest/v1."""
    target = output_root / PACKAGE_DIR
    target.mkdir(parents=True, exist_ok=True)
    well_known = str(resources.files("grpc_tools") / "_proto")
    for proto in proto_files():
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={output_root}",
            f"--pyi_out={output_root}",
            f"--grpc_python_out={output_root}",
            str(proto.relative_to(PROTO_ROOT)),
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {proto}")
    (target / "__init__.py").write_text(INIT_TEXT)
    return sorted(p for p in target.iterdir() if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the checked-in stubs are stale")
    args = parser.parse_args()
    if not args.check:
        target = OUTPUT_ROOT / PACKAGE_DIR
        for old in target.glob("*_pb2*.py*"):
            old.unlink()
        for path in generate(OUTPUT_ROOT):
            print(path.relative_to(ROOT))
        return 0
    stale = stale_files()
    for name in stale:
        print(f"stale: services/harvest/v1/{name} (run `make proto`)", file=sys.stderr)
    return 1 if stale else 0


def stale_files(output_root: Path = OUTPUT_ROOT) -> list[str]:
    """Names of generated files under output_root that differ from what the contracts produce now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / PACKAGE_DIR
        generate(Path(tmp))
        current_dir = output_root / PACKAGE_DIR
        fresh = {p.name for p in fresh_dir.iterdir() if p.is_file()}
        current = {p.name for p in current_dir.iterdir() if p.is_file() and p.suffix in {".py", ".pyi"}}
        stale = sorted(fresh ^ current)
        for name in sorted(fresh & current):
            if (fresh_dir / name).read_bytes() != (current_dir / name).read_bytes():
                stale.append(name)
        shutil.rmtree(fresh_dir, ignore_errors=True)
        return stale


if __name__ == "__main__":
    sys.exit(main())
