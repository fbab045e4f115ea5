import datetime

from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_ANNOTATOR: _ClassVar[Role]
    ROLE_EXPERT: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]

class Limit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIMIT_UNSPECIFIED: _ClassVar[Limit]
    LIMIT_MAX_CHUNK_BYTES: _ClassVar[Limit]
    LIMIT_MAX_PAGE_SIZE: _ClassVar[Limit]
    LIMIT_DEFAULT_PAGE_SIZE: _ClassVar[Limit]

class LabelSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_SOURCE_UNSPECIFIED: _ClassVar[LabelSource]
    LABEL_SOURCE_HUMAN: _ClassVar[LabelSource]
    LABEL_SOURCE_MODEL: _ClassVar[LabelSource]
    LABEL_SOURCE_IMPORT: _ClassVar[LabelSource]
    LABEL_SOURCE_REVIEW: _ClassVar[LabelSource]

class SuggestedLabelPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUGGESTED_LABEL_POLICY_UNSPECIFIED: _ClassVar[SuggestedLabelPolicy]
    SUGGESTED_LABEL_POLICY_SUGGEST: _ClassVar[SuggestedLabelPolicy]
    SUGGESTED_LABEL_POLICY_LABEL: _ClassVar[SuggestedLabelPolicy]
    SUGGESTED_LABEL_POLICY_NOISY_LABEL: _ClassVar[SuggestedLabelPolicy]
    SUGGESTED_LABEL_POLICY_IGNORE: _ClassVar[SuggestedLabelPolicy]

class Split(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_UNSPECIFIED: _ClassVar[Split]
    SPLIT_LABELED: _ClassVar[Split]
    SPLIT_UNLABELED: _ClassVar[Split]
    SPLIT_VALIDATION: _ClassVar[Split]

class ImageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAGE_FORMAT_UNSPECIFIED: _ClassVar[ImageFormat]
    IMAGE_FORMAT_JPEG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_PNG: _ClassVar[ImageFormat]
    IMAGE_FORMAT_WEBP: _ClassVar[ImageFormat]
    IMAGE_FORMAT_TIFF: _ClassVar[ImageFormat]
    IMAGE_FORMAT_BMP: _ClassVar[ImageFormat]

class OperationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_STATE_UNSPECIFIED: _ClassVar[OperationState]
    OPERATION_STATE_PENDING: _ClassVar[OperationState]
    OPERATION_STATE_RUNNING: _ClassVar[OperationState]
    OPERATION_STATE_SUCCEEDED: _ClassVar[OperationState]
    OPERATION_STATE_FAILED: _ClassVar[OperationState]
    OPERATION_STATE_CANCELLED: _ClassVar[OperationState]

class SplitStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_STRATEGY_UNSPECIFIED: _ClassVar[SplitStrategy]
    SPLIT_STRATEGY_STRATIFIED: _ClassVar[SplitStrategy]
    SPLIT_STRATEGY_RANDOM: _ClassVar[SplitStrategy]
ROLE_UNSPECIFIED: Role
ROLE_ANNOTATOR: Role
ROLE_EXPERT: Role
ROLE_ADMIN: Role
LIMIT_UNSPECIFIED: Limit
LIMIT_MAX_CHUNK_BYTES: Limit
LIMIT_MAX_PAGE_SIZE: Limit
LIMIT_DEFAULT_PAGE_SIZE: Limit
LABEL_SOURCE_UNSPECIFIED: LabelSource
LABEL_SOURCE_HUMAN: LabelSource
LABEL_SOURCE_MODEL: LabelSource
LABEL_SOURCE_IMPORT: LabelSource
LABEL_SOURCE_REVIEW: LabelSource
SUGGESTED_LABEL_POLICY_UNSPECIFIED: SuggestedLabelPolicy
SUGGESTED_LABEL_POLICY_SUGGEST: SuggestedLabelPolicy
SUGGESTED_LABEL_POLICY_LABEL: SuggestedLabelPolicy
SUGGESTED_LABEL_POLICY_NOISY_LABEL: SuggestedLabelPolicy
SUGGESTED_LABEL_POLICY_IGNORE: SuggestedLabelPolicy
SPLIT_UNSPECIFIED: Split
SPLIT_LABELED: Split
SPLIT_UNLABELED: Split
SPLIT_VALIDATION: Split
IMAGE_FORMAT_UNSPECIFIED: ImageFormat
IMAGE_FORMAT_JPEG: ImageFormat
IMAGE_FORMAT_PNG: ImageFormat
IMAGE_FORMAT_WEBP: ImageFormat
IMAGE_FORMAT_TIFF: ImageFormat
IMAGE_FORMAT_BMP: ImageFormat
OPERATION_STATE_UNSPECIFIED: OperationState
OPERATION_STATE_PENDING: OperationState
OPERATION_STATE_RUNNING: OperationState
OPERATION_STATE_SUCCEEDED: OperationState
OPERATION_STATE_FAILED: OperationState
OPERATION_STATE_CANCELLED: OperationState
SPLIT_STRATEGY_UNSPECIFIED: SplitStrategy
SPLIT_STRATEGY_STRATIFIED: SplitStrategy
SPLIT_STRATEGY_RANDOM: SplitStrategy
MIN_ROLE_FIELD_NUMBER: _ClassVar[int]
min_role: _descriptor.FieldDescriptor
ALLOW_UNAUTHENTICATED_FIELD_NUMBER: _ClassVar[int]
allow_unauthenticated: _descriptor.FieldDescriptor

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PageInfo(_message.Message):
    __slots__ = ("next_page_token", "total_size")
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    total_size: int
    def __init__(self, next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("done", "total", "rate_per_s", "eta_s", "unit")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_S_FIELD_NUMBER: _ClassVar[int]
    ETA_S_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    done: int
    total: int
    rate_per_s: float
    eta_s: float
    unit: str
    def __init__(self, done: _Optional[int] = ..., total: _Optional[int] = ..., rate_per_s: _Optional[float] = ..., eta_s: _Optional[float] = ..., unit: _Optional[str] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("operation_id", "kind", "project_id", "state", "progress", "error_message", "counters", "created_by", "created_at", "updated_at", "finished_at")
    class CountersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    kind: str
    project_id: str
    state: OperationState
    progress: Progress
    error_message: str
    counters: _containers.ScalarMap[str, int]
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, operation_id: _Optional[str] = ..., kind: _Optional[str] = ..., project_id: _Optional[str] = ..., state: _Optional[_Union[OperationState, str]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., error_message: _Optional[str] = ..., counters: _Optional[_Mapping[str, int]] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ImageRef(_message.Message):
    __slots__ = ("project_id", "image_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    image_id: str
    def __init__(self, project_id: _Optional[str] = ..., image_id: _Optional[str] = ...) -> None: ...

class ClassProbability(_message.Message):
    __slots__ = ("class_id", "class_name", "probability")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    class_id: str
    class_name: str
    probability: float
    def __init__(self, class_id: _Optional[str] = ..., class_name: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class Prediction(_message.Message):
    __slots__ = ("model_id", "probabilities", "predicted_class_id", "predicted_class_name", "confidence", "entropy", "margin", "embedding", "embedding_ref")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_FIELD_NUMBER: _ClassVar[int]
    MARGIN_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_REF_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    probabilities: _containers.RepeatedCompositeFieldContainer[ClassProbability]
    predicted_class_id: str
    predicted_class_name: str
    confidence: float
    entropy: float
    margin: float
    embedding: _containers.RepeatedScalarFieldContainer[float]
    embedding_ref: str
    def __init__(self, model_id: _Optional[str] = ..., probabilities: _Optional[_Iterable[_Union[ClassProbability, _Mapping]]] = ..., predicted_class_id: _Optional[str] = ..., predicted_class_name: _Optional[str] = ..., confidence: _Optional[float] = ..., entropy: _Optional[float] = ..., margin: _Optional[float] = ..., embedding: _Optional[_Iterable[float]] = ..., embedding_ref: _Optional[str] = ...) -> None: ...

class Resources(_message.Message):
    __slots__ = ("nodes", "gpus_per_node", "cpus_per_node", "memory_mib", "time_limit_s", "partition", "account", "qos", "namespace", "processes_per_node")
    NODES_FIELD_NUMBER: _ClassVar[int]
    GPUS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    CPUS_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MIB_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    QOS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_PER_NODE_FIELD_NUMBER: _ClassVar[int]
    nodes: int
    gpus_per_node: int
    cpus_per_node: int
    memory_mib: int
    time_limit_s: int
    partition: str
    account: str
    qos: str
    namespace: str
    processes_per_node: int
    def __init__(self, nodes: _Optional[int] = ..., gpus_per_node: _Optional[int] = ..., cpus_per_node: _Optional[int] = ..., memory_mib: _Optional[int] = ..., time_limit_s: _Optional[int] = ..., partition: _Optional[str] = ..., account: _Optional[str] = ..., qos: _Optional[str] = ..., namespace: _Optional[str] = ..., processes_per_node: _Optional[int] = ...) -> None: ...

class FreezeOptions(_message.Message):
    __slots__ = ("validation_fraction", "split_strategy", "seed", "exclude_noisy_labels", "exclude_unlabeled", "max_unlabeled", "include_model_labels")
    VALIDATION_FRACTION_FIELD_NUMBER: _ClassVar[int]
    SPLIT_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_NOISY_LABELS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_UNLABELED_FIELD_NUMBER: _ClassVar[int]
    MAX_UNLABELED_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MODEL_LABELS_FIELD_NUMBER: _ClassVar[int]
    validation_fraction: float
    split_strategy: SplitStrategy
    seed: int
    exclude_noisy_labels: bool
    exclude_unlabeled: bool
    max_unlabeled: int
    include_model_labels: bool
    def __init__(self, validation_fraction: _Optional[float] = ..., split_strategy: _Optional[_Union[SplitStrategy, str]] = ..., seed: _Optional[int] = ..., exclude_noisy_labels: _Optional[bool] = ..., exclude_unlabeled: _Optional[bool] = ..., max_unlabeled: _Optional[int] = ..., include_model_labels: _Optional[bool] = ...) -> None: ...

class SnapshotClass(_message.Message):
    __slots__ = ("index", "class_id", "name")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    index: int
    class_id: str
    name: str
    def __init__(self, index: _Optional[int] = ..., class_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SnapshotEntry(_message.Message):
    __slots__ = ("key", "sha256", "width", "height", "label", "split", "item_id", "noisy")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    key: str
    sha256: str
    width: int
    height: int
    label: str
    split: Split
    item_id: str
    noisy: bool
    def __init__(self, key: _Optional[str] = ..., sha256: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., label: _Optional[str] = ..., split: _Optional[_Union[Split, str]] = ..., item_id: _Optional[str] = ..., noisy: _Optional[bool] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("snapshot_id", "project_id", "manifest_key", "manifest_sha256", "format", "classes", "labeled_count", "unlabeled_count", "validation_count", "noisy_count", "options", "created_by", "created_at")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_KEY_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_SHA256_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    LABELED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_COUNT_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    NOISY_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    project_id: str
    manifest_key: str
    manifest_sha256: str
    format: str
    classes: _containers.RepeatedCompositeFieldContainer[SnapshotClass]
    labeled_count: int
    unlabeled_count: int
    validation_count: int
    noisy_count: int
    options: FreezeOptions
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, snapshot_id: _Optional[str] = ..., project_id: _Optional[str] = ..., manifest_key: _Optional[str] = ..., manifest_sha256: _Optional[str] = ..., format: _Optional[str] = ..., classes: _Optional[_Iterable[_Union[SnapshotClass, _Mapping]]] = ..., labeled_count: _Optional[int] = ..., unlabeled_count: _Optional[int] = ..., validation_count: _Optional[int] = ..., noisy_count: _Optional[int] = ..., options: _Optional[_Union[FreezeOptions, _Mapping]] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
