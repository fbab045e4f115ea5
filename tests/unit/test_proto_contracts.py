"""The gRPC contracts keep their promises: every method declares the least role that may call it,
every declaration is documented (the comments are the API documentation), and the shapes other code
relies on (pagination fields, streaming kinds, chunk limits, enum naming) stay as agreed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from google.protobuf import descriptor

from harvest.v1 import common_pb2, inference_pb2, labels_pb2, scheduler_pb2, storage_pb2

pytestmark = pytest.mark.unit

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto" / "harvest" / "v1"
SERVICE_MODULES = {
    "StorageService": storage_pb2,
    "LabelsService": labels_pb2,
    "SchedulerService": scheduler_pb2,
    "InferenceService": inference_pb2,
}
ALL_MODULES = [common_pb2, *SERVICE_MODULES.values()]

#: Methods that only administrators may call (users, roles, memberships, tokens of others, audit).
ADMIN_METHODS = {
    "LabelsService": {"CreateUser", "ListUsers", "UpdateUser", "IssueUserToken", "ListUserTokens",
                      "RevokeUserToken", "AddMember", "RemoveMember", "GetAuditLog"},
}
#: Methods that need at least the expert role (projects, training, model promotion and export).
EXPERT_METHODS = {
    "LabelsService": {"CreateProject", "FreezeSnapshot", "Review", "ExportLabels"},
    "SchedulerService": {"SubmitJob", "CancelJob"},
    "InferenceService": {"PromoteModel", "ArchiveModel", "ExportModel", "ScorePool"},
}


def _methods() -> list[tuple[str, descriptor.MethodDescriptor]]:
    found = []
    for service_name, module in SERVICE_MODULES.items():
        service = module.DESCRIPTOR.services_by_name[service_name]
        found += [(service_name, method) for method in service.methods]
    return found


def _min_role(method: descriptor.MethodDescriptor) -> int:
    return method.GetOptions().Extensions[common_pb2.min_role]


def test_one_service_per_file_in_package_harvest_v1() -> None:
    for service_name, module in SERVICE_MODULES.items():
        assert module.DESCRIPTOR.package == "harvest.v1"
        assert list(module.DESCRIPTOR.services_by_name) == [service_name]
    assert common_pb2.DESCRIPTOR.package == "harvest.v1"
    assert not common_pb2.DESCRIPTOR.services_by_name


def test_common_declares_the_fixed_names() -> None:
    role = common_pb2.DESCRIPTOR.enum_types_by_name["Role"]
    assert {v.name: v.number for v in role.values} == {
        "ROLE_UNSPECIFIED": 0, "ROLE_ANNOTATOR": 1, "ROLE_EXPERT": 2, "ROLE_ADMIN": 3}
    assert common_pb2.min_role.number == 50001
    assert common_pb2.min_role.containing_type.full_name == "google.protobuf.MethodOptions"
    page_request = common_pb2.PageRequest.DESCRIPTOR.fields_by_name
    assert (page_request["page_size"].number, page_request["page_token"].number) == (1, 2)
    page_info = common_pb2.PageInfo.DESCRIPTOR.fields_by_name
    assert (page_info["next_page_token"].number, page_info["total_size"].number) == (1, 2)


def test_every_method_declares_a_min_role() -> None:
    methods = _methods()
    assert len(methods) > 40
    missing = [f"{s}.{m.name}" for s, m in methods if _min_role(m) == common_pb2.ROLE_UNSPECIFIED]
    assert not missing, f"methods without option (harvest.v1.min_role): {missing}"


def test_admin_and_expert_methods_are_protected() -> None:
    roles = {(s, m.name): _min_role(m) for s, m in _methods()}
    for service, names in ADMIN_METHODS.items():
        for name in names:
            assert roles[(service, name)] == common_pb2.ROLE_ADMIN, f"{service}.{name}"
    for service, names in EXPERT_METHODS.items():
        for name in names:
            assert roles[(service, name)] >= common_pb2.ROLE_EXPERT, f"{service}.{name}"


def test_only_login_is_callable_without_a_token() -> None:
    public = [f"{s}.{m.name}" for s, m in _methods()
              if m.GetOptions().Extensions[common_pb2.allow_unauthenticated]]
    assert public == ["LabelsService.Login"]


def test_list_calls_paginate_with_page_fields() -> None:
    """`harvest.client.paginate` relies on request `page` and response `page.next_page_token`."""
    for service_name, method in _methods():
        if not method.name.startswith("List"):
            continue
        request = method.input_type.fields_by_name.get("page")
        response = method.output_type.fields_by_name.get("page")
        where = f"{service_name}.{method.name}"
        if method.name == "ListPresets":
            continue  # a short, fixed list
        assert request is not None and request.message_type.full_name == "harvest.v1.PageRequest", where
        assert response is not None and response.message_type.full_name == "harvest.v1.PageInfo", where


def _kind(method: descriptor.MethodDescriptor) -> str:
    return {(False, False): "unary", (True, False): "client_stream", (False, True): "server_stream",
            (True, True): "bidi"}[(method.client_streaming, method.server_streaming)]


@pytest.mark.parametrize(("service", "method", "kind"), [
    ("StorageService", "UploadImages", "client_stream"),
    ("StorageService", "GetImage", "server_stream"),
    ("StorageService", "WatchImport", "server_stream"),
    ("StorageService", "CreateSnapshot", "client_stream"),
    ("StorageService", "ReadRunObject", "server_stream"),
    ("LabelsService", "ImportLabels", "client_stream"),
    ("LabelsService", "ExportLabels", "server_stream"),
    ("SchedulerService", "WatchJob", "server_stream"),
    ("InferenceService", "Predict", "unary"),
    ("InferenceService", "PredictStream", "bidi"),
    ("InferenceService", "WatchScoring", "server_stream"),
    ("InferenceService", "ExportModel", "server_stream"),
])
def test_streaming_shapes(service: str, method: str, kind: str) -> None:
    descriptor_ = SERVICE_MODULES[service].DESCRIPTOR.services_by_name[service].methods_by_name[method]
    assert _kind(descriptor_) == kind


def test_upload_stream_starts_with_metadata_then_chunks() -> None:
    oneof = storage_pb2.UploadImagesRequest.DESCRIPTOR.oneofs_by_name["payload"]
    assert [f.name for f in oneof.fields] == ["metadata", "file", "chunk"]
    assert common_pb2.LIMIT_MAX_CHUNK_BYTES == 1024 * 1024


def test_chunk_messages_document_the_1_mib_limit() -> None:
    source = (PROTO_DIR / "storage.proto").read_text()
    block = source[source.index("message UploadChunk") - 300: source.index("message UploadChunk")]
    assert "MAX_CHUNK_BYTES" in block and "1 MiB" in block
    for name in ("storage.proto", "labels.proto", "inference.proto"):
        text = (PROTO_DIR / name).read_text()
        for match in re.finditer(r"^\s*bytes chunk = \d+;", text, flags=re.M):
            comment = text[:match.start()].rstrip().splitlines()[-1]
            assert "1 MiB" in comment, f"{name}: chunk field without the 1 MiB limit: {comment!r}"


def test_job_states_are_the_agreed_machine() -> None:
    names = [v.name for v in scheduler_pb2.JobState.DESCRIPTOR.values]
    assert names == ["JOB_STATE_UNSPECIFIED", "JOB_STATE_QUEUED", "JOB_STATE_SUBMITTED", "JOB_STATE_RUNNING",
                     "JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_PREEMPTED"]


def _enums(module) -> list[descriptor.EnumDescriptor]:
    found = list(module.DESCRIPTOR.enum_types_by_name.values())
    pending = list(module.DESCRIPTOR.message_types_by_name.values())
    while pending:
        message = pending.pop()
        found += message.enum_types
        pending += message.nested_types
    return found


def test_enum_values_are_prefixed_and_start_unspecified() -> None:
    for module in ALL_MODULES:
        for enum in _enums(module):
            prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
            assert enum.values[0].number == 0 and enum.values[0].name == prefix + "UNSPECIFIED", enum.full_name
            bad = [v.name for v in enum.values if not v.name.startswith(prefix)]
            assert not bad, f"{enum.full_name}: values not prefixed {prefix}: {bad}"


def test_optimistic_concurrency_on_item_writes() -> None:
    for request in (labels_pb2.AnnotateRequest, labels_pb2.UndoRequest, labels_pb2.ReviewRequest,
                    labels_pb2.ItemVersion):
        assert "expected_version" in request.DESCRIPTOR.fields_by_name, request.DESCRIPTOR.name
    assert "version" in labels_pb2.Item.DESCRIPTOR.fields_by_name


# ---- documentation: every declaration has a comment ----

_DECLARATION = re.compile(
    r"""^(?:
        (?:message|enum|service|oneof)\s+\w+\s*\{     # message / enum / service / oneof block
      | rpc\s+\w+\s*\(                                # rpc
      | (?:optional\s+|repeated\s+)?(?:map<[^>]+>|[\w.]+)\s+\w+\s*=\s*\d+   # field
      | [A-Z][A-Z0-9_]*\s*=\s*-?\d+                    # enum value
    )""",
    re.X,
)


def _undocumented(text: str) -> list[str]:
    missing = []
    lines = text.splitlines()
    for number, raw in enumerate(lines):
        line = raw.strip()
        if not _DECLARATION.match(line) or line.startswith(("option", "syntax", "package", "import")):
            continue
        previous = lines[number - 1].strip() if number else ""
        if previous.startswith("//") or "//" in line:
            continue
        missing.append(f"line {number + 1}: {line}")
    return missing


def test_declaration_check_catches_missing_comments() -> None:
    sample = ("// A message.\nmessage A {\n  // Documented.\n  int32 a = 1;\n  string b = 2;\n}\n"
              "enum E {\n  E_X = 0;\n}\n")
    assert _undocumented(sample) == ["line 5: string b = 2;", "line 7: enum E {", "line 8: E_X = 0;"]


@pytest.mark.parametrize("name", ["common.proto", "storage.proto", "labels.proto", "scheduler.proto",
                                  "inference.proto"])
def test_every_declaration_is_documented(name: str) -> None:
    text = (PROTO_DIR / name).read_text()
    assert text.count("syntax = \"proto3\";") == 1 and "package harvest.v1;" in text
    missing = _undocumented(text)
    assert not missing, f"{name}: declarations without a comment:\n" + "\n".join(missing)


def test_every_rpc_comment_names_its_errors() -> None:
    for name in ("storage.proto", "labels.proto", "scheduler.proto", "inference.proto"):
        lines = (PROTO_DIR / name).read_text().splitlines()
        for number, line in enumerate(lines):
            if not line.strip().startswith("rpc "):
                continue
            comment = []
            index = number - 1
            while index >= 0 and lines[index].strip().startswith("//"):
                comment.insert(0, lines[index].strip())
                index -= 1
            assert any("Errors:" in c for c in comment), f"{name}: {line.strip()} does not list its errors"
