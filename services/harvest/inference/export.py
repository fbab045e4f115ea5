"""Model export: TorchScript (`torch.jit.trace`) or ONNX (`torch.onnx.export`, the torch.export-based
exporter), zipped with `classes.json` and `preprocessing.json` so the artifact is usable without HARVEST.

The network outputs logits (softmax gives the probabilities). An artifact is built once per (model, format,
opset, batch mode) and kept under `models/<model>/exports/`, so exporting again only streams it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from harvest.common.errors import FailedPrecondition, InvalidArgument, NotFound
from harvest.common.objectstore import ObjectStore
from harvest.inference.tables import ModelRow

log = logging.getLogger(__name__)
TORCHSCRIPT, ONNX = "torchscript", "onnx"
#: The torch.export-based ONNX exporter emits opset 18 and newer.
MIN_OPSET = 18


@dataclass(frozen=True, slots=True)
class Artifact:
    key: str
    file_name: str
    size_bytes: int
    sha256: str
    input_shape: list[int]


def check_opset(fmt: str, opset: int) -> None:
    if fmt != ONNX or opset == 0:
        return
    import onnx

    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise InvalidArgument(f"onnx_opset {opset} is not supported: choose {MIN_OPSET} to {newest}, or 0 for the "
                              "exporter's default")


def artifact_key(row: ModelRow, fmt: str, opset: int, dynamic_batch: bool) -> str:
    return f"{row.package_prefix}exports/{fmt}-opset{opset}-{'dynamic' if dynamic_batch else 'batch1'}.zip"


def export(store: ObjectStore, row: ModelRow, network: object, fmt: str, opset: int, dynamic_batch: bool) -> Artifact:
    """Build (or reuse) the artifact in the object store and describe it."""
    prep = row.preprocessing
    shape = [-1 if dynamic_batch else 1, int(prep["channels"]), int(prep["image_size"]), int(prep["image_size"])]
    name = f"{row.project_id[:12]}-v{row.version}-{fmt}.zip"
    key = artifact_key(row, fmt, opset, dynamic_batch)
    try:
        data = store.get(key)
    except NotFound:
        data = _build(row, network, fmt, opset, dynamic_batch, shape)
        store.put(key, data, content_type="application/zip")
    return Artifact(key, name, len(data), hashlib.sha256(data).hexdigest(), shape)


def _build(row: ModelRow, network: object, fmt: str, opset: int, dynamic_batch: bool, shape: list[int]) -> bytes:
    import torch

    module = network
    assert isinstance(module, torch.nn.Module)
    module = module.cpu().eval() if next(module.parameters()).device.type != "cpu" else module.eval()
    example = torch.zeros([2 if dynamic_batch else 1, *shape[1:]], dtype=torch.float32)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / ("model.pt" if fmt == TORCHSCRIPT else "model.onnx")
        try:
            if fmt == TORCHSCRIPT:
                with torch.inference_mode():
                    traced = torch.jit.trace(module, example, check_trace=False)
                traced.save(str(target))
            else:
                dims = ({0: torch.export.Dim("batch", min=1, max=65536)},) if dynamic_batch else None
                program = torch.onnx.export(module, (example,), dynamo=True, input_names=["images"],
                                            output_names=["logits"], opset_version=opset or None,
                                            dynamic_shapes=dims, verbose=False)
                assert program is not None
                program.save(str(target))
        except Exception as exc:  # noqa: BLE001 - the exporter's reason is what the user needs
            log.warning("export failed", exc_info=exc, extra={"model": row.model_id, "format": fmt})
            raise FailedPrecondition(f"model {row.model_id} cannot be exported to {fmt}: {str(exc)[:300]}") from None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(target, target.name)
            archive.writestr("classes.json", json.dumps({"class_names": row.class_names, "class_ids": row.class_ids},
                                                        indent=2))
            archive.writestr("preprocessing.json", json.dumps(
                {**row.preprocessing, "input_shape": shape, "input_name": "images", "output": "logits",
                 "layout": "NCHW float32: pixels / 255, minus mean, divided by std, per channel"}, indent=2))
        return buffer.getvalue()
