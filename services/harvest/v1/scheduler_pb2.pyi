import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from harvest.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_SUBMITTED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
    JOB_STATE_PREEMPTED: _ClassVar[JobState]

class Backend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKEND_UNSPECIFIED: _ClassVar[Backend]
    BACKEND_LOCAL: _ClassVar[Backend]
    BACKEND_SLURM: _ClassVar[Backend]
    BACKEND_KUBEFLOW: _ClassVar[Backend]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_SSL_TRAINING: _ClassVar[JobKind]
    JOB_KIND_SELF_SUPERVISED_PRETRAINING: _ClassVar[JobKind]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_SUBMITTED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STATE_PREEMPTED: JobState
BACKEND_UNSPECIFIED: Backend
BACKEND_LOCAL: Backend
BACKEND_SLURM: Backend
BACKEND_KUBEFLOW: Backend
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_SSL_TRAINING: JobKind
JOB_KIND_SELF_SUPERVISED_PRETRAINING: JobKind

class SubmitJobRequest(_message.Message):
    __slots__ = ("project_id", "snapshot_id", "freeze_now", "kind", "preset", "algorithm", "backbone", "steps", "global_batch_size", "overrides", "backend", "resources", "init_model_id", "display_name", "request_id", "validate_only")
    class OverridesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    FREEZE_NOW_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    BACKBONE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    INIT_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    snapshot_id: str
    freeze_now: _common_pb2.FreezeOptions
    kind: JobKind
    preset: str
    algorithm: str
    backbone: str
    steps: int
    global_batch_size: int
    overrides: _containers.ScalarMap[str, str]
    backend: Backend
    resources: _common_pb2.Resources
    init_model_id: str
    display_name: str
    request_id: str
    validate_only: bool
    def __init__(self, project_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., freeze_now: _Optional[_Union[_common_pb2.FreezeOptions, _Mapping]] = ..., kind: _Optional[_Union[JobKind, str]] = ..., preset: _Optional[str] = ..., algorithm: _Optional[str] = ..., backbone: _Optional[str] = ..., steps: _Optional[int] = ..., global_batch_size: _Optional[int] = ..., overrides: _Optional[_Mapping[str, str]] = ..., backend: _Optional[_Union[Backend, str]] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., init_model_id: _Optional[str] = ..., display_name: _Optional[str] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class StateTransition(_message.Message):
    __slots__ = ("from_state", "to_state", "time", "reason")
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    from_state: JobState
    to_state: JobState
    time: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, from_state: _Optional[_Union[JobState, str]] = ..., to_state: _Optional[_Union[JobState, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class JobProgress(_message.Message):
    __slots__ = ("step", "total_steps", "images_per_second", "eta_s", "gpu_count", "world_size", "latest_metrics", "updated_at")
    class LatestMetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    GPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    LATEST_METRICS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    step: int
    total_steps: int
    images_per_second: float
    eta_s: float
    gpu_count: int
    world_size: int
    latest_metrics: _containers.ScalarMap[str, float]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, step: _Optional[int] = ..., total_steps: _Optional[int] = ..., images_per_second: _Optional[float] = ..., eta_s: _Optional[float] = ..., gpu_count: _Optional[int] = ..., world_size: _Optional[int] = ..., latest_metrics: _Optional[_Mapping[str, float]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "project_id", "snapshot_id", "kind", "preset", "algorithm", "backbone", "overrides", "backend", "resources", "init_model_id", "display_name", "job_name", "external_id", "state", "transitions", "queue_position", "progress", "restart_count", "error_message", "log_tail", "model_id", "run_dir", "resolved_config", "rendered_spec", "created_by", "created_at", "started_at", "finished_at", "last_sequence", "note")
    class OverridesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    BACKBONE_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    INIT_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LOG_TAIL_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_DIR_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_CONFIG_FIELD_NUMBER: _ClassVar[int]
    RENDERED_SPEC_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    project_id: str
    snapshot_id: str
    kind: JobKind
    preset: str
    algorithm: str
    backbone: str
    overrides: _containers.ScalarMap[str, str]
    backend: Backend
    resources: _common_pb2.Resources
    init_model_id: str
    display_name: str
    job_name: str
    external_id: str
    state: JobState
    transitions: _containers.RepeatedCompositeFieldContainer[StateTransition]
    queue_position: int
    progress: JobProgress
    restart_count: int
    error_message: str
    log_tail: str
    model_id: str
    run_dir: str
    resolved_config: str
    rendered_spec: str
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    last_sequence: int
    note: str
    def __init__(self, job_id: _Optional[str] = ..., project_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., preset: _Optional[str] = ..., algorithm: _Optional[str] = ..., backbone: _Optional[str] = ..., overrides: _Optional[_Mapping[str, str]] = ..., backend: _Optional[_Union[Backend, str]] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., init_model_id: _Optional[str] = ..., display_name: _Optional[str] = ..., job_name: _Optional[str] = ..., external_id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., transitions: _Optional[_Iterable[_Union[StateTransition, _Mapping]]] = ..., queue_position: _Optional[int] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., restart_count: _Optional[int] = ..., error_message: _Optional[str] = ..., log_tail: _Optional[str] = ..., model_id: _Optional[str] = ..., run_dir: _Optional[str] = ..., resolved_config: _Optional[str] = ..., rendered_spec: _Optional[str] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sequence: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("project_id", "states", "kind", "backend", "created_by", "created_after", "page", "snapshot_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    states: _containers.RepeatedScalarFieldContainer[JobState]
    kind: JobKind
    backend: Backend
    created_by: str
    created_after: _timestamp_pb2.Timestamp
    page: _common_pb2.PageRequest
    snapshot_id: str
    def __init__(self, project_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[JobState, str]]] = ..., kind: _Optional[_Union[JobKind, str]] = ..., backend: _Optional[_Union[Backend, str]] = ..., created_by: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., snapshot_id: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "page")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    page: _common_pb2.PageInfo
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id", "reason")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id", "after_sequence", "skip_metrics")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SKIP_METRICS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_sequence: int
    skip_metrics: bool
    def __init__(self, job_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., skip_metrics: _Optional[bool] = ...) -> None: ...

class MetricPoint(_message.Message):
    __slots__ = ("step", "time", "values", "phase")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    step: int
    time: _timestamp_pb2.Timestamp
    values: _containers.ScalarMap[str, float]
    phase: str
    def __init__(self, step: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., values: _Optional[_Mapping[str, float]] = ..., phase: _Optional[str] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("sequence", "time", "job", "transition", "progress", "metric")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    job: Job
    transition: StateTransition
    progress: JobProgress
    metric: MetricPoint
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., job: _Optional[_Union[Job, _Mapping]] = ..., transition: _Optional[_Union[StateTransition, _Mapping]] = ..., progress: _Optional[_Union[JobProgress, _Mapping]] = ..., metric: _Optional[_Union[MetricPoint, _Mapping]] = ...) -> None: ...

class GetJobLogsRequest(_message.Message):
    __slots__ = ("job_id", "tail_lines", "offset", "follow", "node")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    tail_lines: int
    offset: int
    follow: bool
    node: str
    def __init__(self, job_id: _Optional[str] = ..., tail_lines: _Optional[int] = ..., offset: _Optional[int] = ..., follow: _Optional[bool] = ..., node: _Optional[str] = ...) -> None: ...

class GetJobLogsResponse(_message.Message):
    __slots__ = ("text", "next_offset")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    text: str
    next_offset: int
    def __init__(self, text: _Optional[str] = ..., next_offset: _Optional[int] = ...) -> None: ...

class ListPresetsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Preset(_message.Message):
    __slots__ = ("name", "description", "kind", "algorithm", "backbone", "steps", "global_batch_size", "backend", "resources", "config_yaml")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    BACKBONE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    CONFIG_YAML_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    kind: JobKind
    algorithm: str
    backbone: str
    steps: int
    global_batch_size: int
    backend: Backend
    resources: _common_pb2.Resources
    config_yaml: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., algorithm: _Optional[str] = ..., backbone: _Optional[str] = ..., steps: _Optional[int] = ..., global_batch_size: _Optional[int] = ..., backend: _Optional[_Union[Backend, str]] = ..., resources: _Optional[_Union[_common_pb2.Resources, _Mapping]] = ..., config_yaml: _Optional[str] = ...) -> None: ...

class ListPresetsResponse(_message.Message):
    __slots__ = ("presets", "backends", "algorithms", "backbones")
    PRESETS_FIELD_NUMBER: _ClassVar[int]
    BACKENDS_FIELD_NUMBER: _ClassVar[int]
    ALGORITHMS_FIELD_NUMBER: _ClassVar[int]
    BACKBONES_FIELD_NUMBER: _ClassVar[int]
    presets: _containers.RepeatedCompositeFieldContainer[Preset]
    backends: _containers.RepeatedScalarFieldContainer[Backend]
    algorithms: _containers.RepeatedScalarFieldContainer[str]
    backbones: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, presets: _Optional[_Iterable[_Union[Preset, _Mapping]]] = ..., backends: _Optional[_Iterable[_Union[Backend, str]]] = ..., algorithms: _Optional[_Iterable[str]] = ..., backbones: _Optional[_Iterable[str]] = ...) -> None: ...
