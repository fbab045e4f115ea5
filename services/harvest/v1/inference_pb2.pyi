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

class ModelStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATUS_UNSPECIFIED: _ClassVar[ModelStatus]
    MODEL_STATUS_READY: _ClassVar[ModelStatus]
    MODEL_STATUS_ACTIVE: _ClassVar[ModelStatus]
    MODEL_STATUS_ARCHIVED: _ClassVar[ModelStatus]

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_CLASSIFIER: _ClassVar[ModelKind]
    MODEL_KIND_BACKBONE: _ClassVar[ModelKind]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_TORCHSCRIPT: _ClassVar[ExportFormat]
    EXPORT_FORMAT_ONNX: _ClassVar[ExportFormat]
MODEL_STATUS_UNSPECIFIED: ModelStatus
MODEL_STATUS_READY: ModelStatus
MODEL_STATUS_ACTIVE: ModelStatus
MODEL_STATUS_ARCHIVED: ModelStatus
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_CLASSIFIER: ModelKind
MODEL_KIND_BACKBONE: ModelKind
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_TORCHSCRIPT: ExportFormat
EXPORT_FORMAT_ONNX: ExportFormat

class Preprocessing(_message.Message):
    __slots__ = ("image_size", "channels", "mean", "std", "interpolation", "resize_mode")
    IMAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    STD_FIELD_NUMBER: _ClassVar[int]
    INTERPOLATION_FIELD_NUMBER: _ClassVar[int]
    RESIZE_MODE_FIELD_NUMBER: _ClassVar[int]
    image_size: int
    channels: int
    mean: _containers.RepeatedScalarFieldContainer[float]
    std: _containers.RepeatedScalarFieldContainer[float]
    interpolation: str
    resize_mode: str
    def __init__(self, image_size: _Optional[int] = ..., channels: _Optional[int] = ..., mean: _Optional[_Iterable[float]] = ..., std: _Optional[_Iterable[float]] = ..., interpolation: _Optional[str] = ..., resize_mode: _Optional[str] = ...) -> None: ...

class ClassMetrics(_message.Message):
    __slots__ = ("class_id", "class_name", "accuracy", "precision", "support")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_FIELD_NUMBER: _ClassVar[int]
    class_id: str
    class_name: str
    accuracy: float
    precision: float
    support: int
    def __init__(self, class_id: _Optional[str] = ..., class_name: _Optional[str] = ..., accuracy: _Optional[float] = ..., precision: _Optional[float] = ..., support: _Optional[int] = ...) -> None: ...

class ConfusionRow(_message.Message):
    __slots__ = ("counts",)
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, counts: _Optional[_Iterable[int]] = ...) -> None: ...

class EvaluationReport(_message.Message):
    __slots__ = ("accuracy", "classes", "confusion_matrix", "num_samples", "step")
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    CONFUSION_MATRIX_FIELD_NUMBER: _ClassVar[int]
    NUM_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    accuracy: float
    classes: _containers.RepeatedCompositeFieldContainer[ClassMetrics]
    confusion_matrix: _containers.RepeatedCompositeFieldContainer[ConfusionRow]
    num_samples: int
    step: int
    def __init__(self, accuracy: _Optional[float] = ..., classes: _Optional[_Iterable[_Union[ClassMetrics, _Mapping]]] = ..., confusion_matrix: _Optional[_Iterable[_Union[ConfusionRow, _Mapping]]] = ..., num_samples: _Optional[int] = ..., step: _Optional[int] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("model_id", "project_id", "version", "job_id", "snapshot_id", "kind", "status", "algorithm", "backbone", "class_names", "class_ids", "preprocessing", "embedding_dim", "metrics", "evaluation", "package_prefix", "created_at", "promoted_at", "promoted_by", "scoring_operation_id")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    BACKBONE_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAMES_FIELD_NUMBER: _ClassVar[int]
    CLASS_IDS_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_AT_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_BY_FIELD_NUMBER: _ClassVar[int]
    SCORING_OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    project_id: str
    version: int
    job_id: str
    snapshot_id: str
    kind: ModelKind
    status: ModelStatus
    algorithm: str
    backbone: str
    class_names: _containers.RepeatedScalarFieldContainer[str]
    class_ids: _containers.RepeatedScalarFieldContainer[str]
    preprocessing: Preprocessing
    embedding_dim: int
    metrics: _containers.ScalarMap[str, float]
    evaluation: EvaluationReport
    package_prefix: str
    created_at: _timestamp_pb2.Timestamp
    promoted_at: _timestamp_pb2.Timestamp
    promoted_by: str
    scoring_operation_id: str
    def __init__(self, model_id: _Optional[str] = ..., project_id: _Optional[str] = ..., version: _Optional[int] = ..., job_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., status: _Optional[_Union[ModelStatus, str]] = ..., algorithm: _Optional[str] = ..., backbone: _Optional[str] = ..., class_names: _Optional[_Iterable[str]] = ..., class_ids: _Optional[_Iterable[str]] = ..., preprocessing: _Optional[_Union[Preprocessing, _Mapping]] = ..., embedding_dim: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ..., evaluation: _Optional[_Union[EvaluationReport, _Mapping]] = ..., package_prefix: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., promoted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., promoted_by: _Optional[str] = ..., scoring_operation_id: _Optional[str] = ...) -> None: ...

class RegisterModelRequest(_message.Message):
    __slots__ = ("job_id", "promote", "score_pool", "flag_suspected_errors")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PROMOTE_FIELD_NUMBER: _ClassVar[int]
    SCORE_POOL_FIELD_NUMBER: _ClassVar[int]
    FLAG_SUSPECTED_ERRORS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    promote: bool
    score_pool: bool
    flag_suspected_errors: bool
    def __init__(self, job_id: _Optional[str] = ..., promote: _Optional[bool] = ..., score_pool: _Optional[bool] = ..., flag_suspected_errors: _Optional[bool] = ...) -> None: ...

class RegisterModelResponse(_message.Message):
    __slots__ = ("model", "scoring_operation_id", "already_registered")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCORING_OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_REGISTERED_FIELD_NUMBER: _ClassVar[int]
    model: Model
    scoring_operation_id: str
    already_registered: bool
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ..., scoring_operation_id: _Optional[str] = ..., already_registered: _Optional[bool] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ("project_id", "statuses", "kind", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    statuses: _containers.RepeatedScalarFieldContainer[ModelStatus]
    kind: ModelKind
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[ModelStatus, str]]] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models", "page")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    page: _common_pb2.PageInfo
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class PromoteModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class PromoteModelResponse(_message.Message):
    __slots__ = ("model", "previous_model_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model: Model
    previous_model_id: str
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ..., previous_model_id: _Optional[str] = ...) -> None: ...

class ArchiveModelRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class ArchiveModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class PredictInput(_message.Message):
    __slots__ = ("image_id", "image_bytes", "client_key")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CLIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    image_bytes: bytes
    client_key: str
    def __init__(self, image_id: _Optional[str] = ..., image_bytes: _Optional[bytes] = ..., client_key: _Optional[str] = ...) -> None: ...

class PredictConfig(_message.Message):
    __slots__ = ("model_id", "project_id", "top_k", "include_embeddings")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    project_id: str
    top_k: int
    include_embeddings: bool
    def __init__(self, model_id: _Optional[str] = ..., project_id: _Optional[str] = ..., top_k: _Optional[int] = ..., include_embeddings: _Optional[bool] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("config", "inputs")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    config: PredictConfig
    inputs: _containers.RepeatedCompositeFieldContainer[PredictInput]
    def __init__(self, config: _Optional[_Union[PredictConfig, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[PredictInput, _Mapping]]] = ...) -> None: ...

class PredictResult(_message.Message):
    __slots__ = ("index", "client_key", "image_id", "prediction", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CLIENT_KEY_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    client_key: str
    image_id: str
    prediction: _common_pb2.Prediction
    error: str
    def __init__(self, index: _Optional[int] = ..., client_key: _Optional[str] = ..., image_id: _Optional[str] = ..., prediction: _Optional[_Union[_common_pb2.Prediction, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("model_id", "results")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    results: _containers.RepeatedCompositeFieldContainer[PredictResult]
    def __init__(self, model_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[PredictResult, _Mapping]]] = ...) -> None: ...

class PredictStreamRequest(_message.Message):
    __slots__ = ("config", "input")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    config: PredictConfig
    input: PredictInput
    def __init__(self, config: _Optional[_Union[PredictConfig, _Mapping]] = ..., input: _Optional[_Union[PredictInput, _Mapping]] = ...) -> None: ...

class ScorePoolRequest(_message.Message):
    __slots__ = ("project_id", "model_id", "unlabeled_only", "flag_suspected_errors", "include_embeddings", "force")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_ONLY_FIELD_NUMBER: _ClassVar[int]
    FLAG_SUSPECTED_ERRORS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    model_id: str
    unlabeled_only: bool
    flag_suspected_errors: bool
    include_embeddings: bool
    force: bool
    def __init__(self, project_id: _Optional[str] = ..., model_id: _Optional[str] = ..., unlabeled_only: _Optional[bool] = ..., flag_suspected_errors: _Optional[bool] = ..., include_embeddings: _Optional[bool] = ..., force: _Optional[bool] = ...) -> None: ...

class ScorePoolResponse(_message.Message):
    __slots__ = ("operation_id", "already_scored")
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_SCORED_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    already_scored: bool
    def __init__(self, operation_id: _Optional[str] = ..., already_scored: _Optional[bool] = ...) -> None: ...

class WatchScoringRequest(_message.Message):
    __slots__ = ("operation_id",)
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    operation_id: str
    def __init__(self, operation_id: _Optional[str] = ...) -> None: ...

class WatchScoringResponse(_message.Message):
    __slots__ = ("operation", "model_id")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    operation: _common_pb2.Operation
    model_id: str
    def __init__(self, operation: _Optional[_Union[_common_pb2.Operation, _Mapping]] = ..., model_id: _Optional[str] = ...) -> None: ...

class ExportModelRequest(_message.Message):
    __slots__ = ("model_id", "format", "onnx_opset", "dynamic_batch")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ONNX_OPSET_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_BATCH_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    format: ExportFormat
    onnx_opset: int
    dynamic_batch: bool
    def __init__(self, model_id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., onnx_opset: _Optional[int] = ..., dynamic_batch: _Optional[bool] = ...) -> None: ...

class ExportManifest(_message.Message):
    __slots__ = ("model_id", "format", "file_name", "size_bytes", "sha256", "class_names", "preprocessing", "input_shape")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAMES_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSING_FIELD_NUMBER: _ClassVar[int]
    INPUT_SHAPE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    format: ExportFormat
    file_name: str
    size_bytes: int
    sha256: str
    class_names: _containers.RepeatedScalarFieldContainer[str]
    preprocessing: Preprocessing
    input_shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, model_id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., file_name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., class_names: _Optional[_Iterable[str]] = ..., preprocessing: _Optional[_Union[Preprocessing, _Mapping]] = ..., input_shape: _Optional[_Iterable[int]] = ...) -> None: ...

class ExportModelResponse(_message.Message):
    __slots__ = ("manifest", "chunk")
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    manifest: ExportManifest
    chunk: bytes
    def __init__(self, manifest: _Optional[_Union[ExportManifest, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...
