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

class ItemStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_STATUS_UNSPECIFIED: _ClassVar[ItemStatus]
    ITEM_STATUS_UNLABELED: _ClassVar[ItemStatus]
    ITEM_STATUS_IN_PROGRESS: _ClassVar[ItemStatus]
    ITEM_STATUS_LABELED: _ClassVar[ItemStatus]
    ITEM_STATUS_DISAGREEMENT: _ClassVar[ItemStatus]
    ITEM_STATUS_REVIEWED: _ClassVar[ItemStatus]

class AnnotationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANNOTATION_KIND_UNSPECIFIED: _ClassVar[AnnotationKind]
    ANNOTATION_KIND_LABEL: _ClassVar[AnnotationKind]
    ANNOTATION_KIND_CLEAR: _ClassVar[AnnotationKind]
    ANNOTATION_KIND_UNDO: _ClassVar[AnnotationKind]
    ANNOTATION_KIND_REVIEW: _ClassVar[AnnotationKind]
    ANNOTATION_KIND_MERGE: _ClassVar[AnnotationKind]

class LabelFilter(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_FILTER_UNSPECIFIED: _ClassVar[LabelFilter]
    LABEL_FILTER_LABELED: _ClassVar[LabelFilter]
    LABEL_FILTER_UNLABELED: _ClassVar[LabelFilter]

class ItemOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_ORDER_UNSPECIFIED: _ClassVar[ItemOrder]
    ITEM_ORDER_UPDATED_DESC: _ClassVar[ItemOrder]
    ITEM_ORDER_CONFIDENCE_DESC: _ClassVar[ItemOrder]
    ITEM_ORDER_CONFIDENCE_ASC: _ClassVar[ItemOrder]
    ITEM_ORDER_SUSPICION_DESC: _ClassVar[ItemOrder]

class QueueStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUEUE_STRATEGY_UNSPECIFIED: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_RANDOM: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_LEAST_CONFIDENT: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_MARGIN: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_ENTROPY: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_DIVERSITY: _ClassVar[QueueStrategy]
    QUEUE_STRATEGY_HYBRID: _ClassVar[QueueStrategy]

class LabelFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LABEL_FORMAT_UNSPECIFIED: _ClassVar[LabelFormat]
    LABEL_FORMAT_CSV: _ClassVar[LabelFormat]
    LABEL_FORMAT_IMAGE_FOLDER: _ClassVar[LabelFormat]
    LABEL_FORMAT_COCO: _ClassVar[LabelFormat]

class ImportConflictPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_CONFLICT_POLICY_UNSPECIFIED: _ClassVar[ImportConflictPolicy]
    IMPORT_CONFLICT_POLICY_SKIP: _ClassVar[ImportConflictPolicy]
    IMPORT_CONFLICT_POLICY_OVERWRITE: _ClassVar[ImportConflictPolicy]
ITEM_STATUS_UNSPECIFIED: ItemStatus
ITEM_STATUS_UNLABELED: ItemStatus
ITEM_STATUS_IN_PROGRESS: ItemStatus
ITEM_STATUS_LABELED: ItemStatus
ITEM_STATUS_DISAGREEMENT: ItemStatus
ITEM_STATUS_REVIEWED: ItemStatus
ANNOTATION_KIND_UNSPECIFIED: AnnotationKind
ANNOTATION_KIND_LABEL: AnnotationKind
ANNOTATION_KIND_CLEAR: AnnotationKind
ANNOTATION_KIND_UNDO: AnnotationKind
ANNOTATION_KIND_REVIEW: AnnotationKind
ANNOTATION_KIND_MERGE: AnnotationKind
LABEL_FILTER_UNSPECIFIED: LabelFilter
LABEL_FILTER_LABELED: LabelFilter
LABEL_FILTER_UNLABELED: LabelFilter
ITEM_ORDER_UNSPECIFIED: ItemOrder
ITEM_ORDER_UPDATED_DESC: ItemOrder
ITEM_ORDER_CONFIDENCE_DESC: ItemOrder
ITEM_ORDER_CONFIDENCE_ASC: ItemOrder
ITEM_ORDER_SUSPICION_DESC: ItemOrder
QUEUE_STRATEGY_UNSPECIFIED: QueueStrategy
QUEUE_STRATEGY_RANDOM: QueueStrategy
QUEUE_STRATEGY_LEAST_CONFIDENT: QueueStrategy
QUEUE_STRATEGY_MARGIN: QueueStrategy
QUEUE_STRATEGY_ENTROPY: QueueStrategy
QUEUE_STRATEGY_DIVERSITY: QueueStrategy
QUEUE_STRATEGY_HYBRID: QueueStrategy
LABEL_FORMAT_UNSPECIFIED: LabelFormat
LABEL_FORMAT_CSV: LabelFormat
LABEL_FORMAT_IMAGE_FOLDER: LabelFormat
LABEL_FORMAT_COCO: LabelFormat
IMPORT_CONFLICT_POLICY_UNSPECIFIED: ImportConflictPolicy
IMPORT_CONFLICT_POLICY_SKIP: ImportConflictPolicy
IMPORT_CONFLICT_POLICY_OVERWRITE: ImportConflictPolicy

class User(_message.Message):
    __slots__ = ("user_id", "username", "display_name", "role", "disabled", "has_password", "created_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    HAS_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    display_name: str
    role: _common_pb2.Role
    disabled: bool
    has_password: bool
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., display_name: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., disabled: _Optional[bool] = ..., has_password: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenInfo(_message.Message):
    __slots__ = ("token_id", "user_id", "username", "description", "created_at", "expires_at", "revoked_at")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    user_id: str
    username: str
    description: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, token_id: _Optional[str] = ..., user_id: _Optional[str] = ..., username: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("username", "password", "ttl_s")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    username: str
    password: str
    ttl_s: int
    def __init__(self, username: _Optional[str] = ..., password: _Optional[str] = ..., ttl_s: _Optional[int] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("token", "info", "user")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: TokenInfo
    user: User
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[TokenInfo, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("user", "token", "project_ids")
    USER_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    user: User
    token: TokenInfo
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., token: _Optional[_Union[TokenInfo, _Mapping]] = ..., project_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ChangePasswordRequest(_message.Message):
    __slots__ = ("current_password", "new_password")
    CURRENT_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    current_password: str
    new_password: str
    def __init__(self, current_password: _Optional[str] = ..., new_password: _Optional[str] = ...) -> None: ...

class ChangePasswordResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class IssueTokenRequest(_message.Message):
    __slots__ = ("ttl_s", "description")
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ttl_s: int
    description: str
    def __init__(self, ttl_s: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class IssueTokenResponse(_message.Message):
    __slots__ = ("token", "info")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: TokenInfo
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[TokenInfo, _Mapping]] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("include_inactive", "page")
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    page: _common_pb2.PageRequest
    def __init__(self, include_inactive: _Optional[bool] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens", "page")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    page: _common_pb2.PageInfo
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("token_id", "current")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    current: bool
    def __init__(self, token_id: _Optional[str] = ..., current: _Optional[bool] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: TokenInfo
    def __init__(self, info: _Optional[_Union[TokenInfo, _Mapping]] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("username", "role", "password", "display_name")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    username: str
    role: _common_pb2.Role
    password: str
    display_name: str
    def __init__(self, username: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., password: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("role", "include_disabled", "page")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    role: _common_pb2.Role
    include_disabled: bool
    page: _common_pb2.PageRequest
    def __init__(self, role: _Optional[_Union[_common_pb2.Role, str]] = ..., include_disabled: _Optional[bool] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "page")
    USERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    page: _common_pb2.PageInfo
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class UpdateUserRequest(_message.Message):
    __slots__ = ("username", "role", "disabled", "display_name", "password", "revoke_tokens")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    username: str
    role: _common_pb2.Role
    disabled: bool
    display_name: str
    password: str
    revoke_tokens: bool
    def __init__(self, username: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., disabled: _Optional[bool] = ..., display_name: _Optional[str] = ..., password: _Optional[str] = ..., revoke_tokens: _Optional[bool] = ...) -> None: ...

class UpdateUserResponse(_message.Message):
    __slots__ = ("user", "revoked_tokens")
    USER_FIELD_NUMBER: _ClassVar[int]
    REVOKED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    user: User
    revoked_tokens: int
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., revoked_tokens: _Optional[int] = ...) -> None: ...

class IssueUserTokenRequest(_message.Message):
    __slots__ = ("username", "ttl_s", "description")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    TTL_S_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    username: str
    ttl_s: int
    description: str
    def __init__(self, username: _Optional[str] = ..., ttl_s: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class IssueUserTokenResponse(_message.Message):
    __slots__ = ("token", "info")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    token: str
    info: TokenInfo
    def __init__(self, token: _Optional[str] = ..., info: _Optional[_Union[TokenInfo, _Mapping]] = ...) -> None: ...

class ListUserTokensRequest(_message.Message):
    __slots__ = ("username", "include_inactive", "page")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    include_inactive: bool
    page: _common_pb2.PageRequest
    def __init__(self, username: _Optional[str] = ..., include_inactive: _Optional[bool] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListUserTokensResponse(_message.Message):
    __slots__ = ("tokens", "page")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenInfo]
    page: _common_pb2.PageInfo
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenInfo, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class RevokeUserTokenRequest(_message.Message):
    __slots__ = ("token_id",)
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    def __init__(self, token_id: _Optional[str] = ...) -> None: ...

class RevokeUserTokenResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: TokenInfo
    def __init__(self, info: _Optional[_Union[TokenInfo, _Mapping]] = ...) -> None: ...

class ClassDef(_message.Message):
    __slots__ = ("class_id", "name", "color", "shortcut", "description", "position", "retired", "merged_into", "previous_names", "created_at")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    SHORTCUT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_NAMES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    class_id: str
    name: str
    color: str
    shortcut: str
    description: str
    position: int
    retired: bool
    merged_into: str
    previous_names: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, class_id: _Optional[str] = ..., name: _Optional[str] = ..., color: _Optional[str] = ..., shortcut: _Optional[str] = ..., description: _Optional[str] = ..., position: _Optional[int] = ..., retired: _Optional[bool] = ..., merged_into: _Optional[str] = ..., previous_names: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProjectSettings(_message.Message):
    __slots__ = ("required_annotations", "lease_s", "blind_annotation", "agreement_threshold", "max_active_jobs")
    REQUIRED_ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    LEASE_S_FIELD_NUMBER: _ClassVar[int]
    BLIND_ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_ACTIVE_JOBS_FIELD_NUMBER: _ClassVar[int]
    required_annotations: int
    lease_s: int
    blind_annotation: bool
    agreement_threshold: float
    max_active_jobs: int
    def __init__(self, required_annotations: _Optional[int] = ..., lease_s: _Optional[int] = ..., blind_annotation: _Optional[bool] = ..., agreement_threshold: _Optional[float] = ..., max_active_jobs: _Optional[int] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("project_id", "name", "description", "classes", "settings", "archived", "created_by", "created_at", "version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    description: str
    classes: _containers.RepeatedCompositeFieldContainer[ClassDef]
    settings: ProjectSettings
    archived: bool
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., classes: _Optional[_Iterable[_Union[ClassDef, _Mapping]]] = ..., settings: _Optional[_Union[ProjectSettings, _Mapping]] = ..., archived: _Optional[bool] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class NewClass(_message.Message):
    __slots__ = ("name", "color", "shortcut", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    SHORTCUT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    color: str
    shortcut: str
    description: str
    def __init__(self, name: _Optional[str] = ..., color: _Optional[str] = ..., shortcut: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("name", "description", "classes", "settings")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    classes: _containers.RepeatedCompositeFieldContainer[NewClass]
    settings: ProjectSettings
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., classes: _Optional[_Iterable[_Union[NewClass, _Mapping]]] = ..., settings: _Optional[_Union[ProjectSettings, _Mapping]] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class GetProjectRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("include_archived", "page")
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    include_archived: bool
    page: _common_pb2.PageRequest
    def __init__(self, include_archived: _Optional[bool] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "page")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    page: _common_pb2.PageInfo
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class RenameProjectRequest(_message.Message):
    __slots__ = ("project_id", "name", "expected_version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    expected_version: int
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class RenameProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class UpdateProjectSettingsRequest(_message.Message):
    __slots__ = ("project_id", "description", "settings", "expected_version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    description: str
    settings: ProjectSettings
    expected_version: int
    def __init__(self, project_id: _Optional[str] = ..., description: _Optional[str] = ..., settings: _Optional[_Union[ProjectSettings, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateProjectSettingsResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class ArchiveProjectRequest(_message.Message):
    __slots__ = ("project_id", "archived")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    archived: bool
    def __init__(self, project_id: _Optional[str] = ..., archived: _Optional[bool] = ...) -> None: ...

class ArchiveProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class ClassStats(_message.Message):
    __slots__ = ("class_id", "class_name", "labeled", "noisy_labeled", "predicted")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELED_FIELD_NUMBER: _ClassVar[int]
    NOISY_LABELED_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    class_id: str
    class_name: str
    labeled: int
    noisy_labeled: int
    predicted: int
    def __init__(self, class_id: _Optional[str] = ..., class_name: _Optional[str] = ..., labeled: _Optional[int] = ..., noisy_labeled: _Optional[int] = ..., predicted: _Optional[int] = ...) -> None: ...

class AnnotatorStats(_message.Message):
    __slots__ = ("user_id", "username", "annotations", "items", "assigned_pending", "last_annotation_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_PENDING_FIELD_NUMBER: _ClassVar[int]
    LAST_ANNOTATION_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    annotations: int
    items: int
    assigned_pending: int
    last_annotation_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., annotations: _Optional[int] = ..., items: _Optional[int] = ..., assigned_pending: _Optional[int] = ..., last_annotation_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProjectStatsRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class GetProjectStatsResponse(_message.Message):
    __slots__ = ("items", "labeled", "unlabeled", "disagreements", "suspected_errors", "classes", "annotators")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    LABELED_FIELD_NUMBER: _ClassVar[int]
    UNLABELED_FIELD_NUMBER: _ClassVar[int]
    DISAGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_ERRORS_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    ANNOTATORS_FIELD_NUMBER: _ClassVar[int]
    items: int
    labeled: int
    unlabeled: int
    disagreements: int
    suspected_errors: int
    classes: _containers.RepeatedCompositeFieldContainer[ClassStats]
    annotators: _containers.RepeatedCompositeFieldContainer[AnnotatorStats]
    def __init__(self, items: _Optional[int] = ..., labeled: _Optional[int] = ..., unlabeled: _Optional[int] = ..., disagreements: _Optional[int] = ..., suspected_errors: _Optional[int] = ..., classes: _Optional[_Iterable[_Union[ClassStats, _Mapping]]] = ..., annotators: _Optional[_Iterable[_Union[AnnotatorStats, _Mapping]]] = ...) -> None: ...

class AddClassRequest(_message.Message):
    __slots__ = ("project_id", "class_def")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_DEF_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    class_def: NewClass
    def __init__(self, project_id: _Optional[str] = ..., class_def: _Optional[_Union[NewClass, _Mapping]] = ...) -> None: ...

class AddClassResponse(_message.Message):
    __slots__ = ("class_def", "project_version")
    CLASS_DEF_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    class_def: ClassDef
    project_version: int
    def __init__(self, class_def: _Optional[_Union[ClassDef, _Mapping]] = ..., project_version: _Optional[int] = ...) -> None: ...

class UpdateClassRequest(_message.Message):
    __slots__ = ("project_id", "class_id", "name", "color", "shortcut", "description", "position")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    SHORTCUT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    class_id: str
    name: str
    color: str
    shortcut: str
    description: str
    position: int
    def __init__(self, project_id: _Optional[str] = ..., class_id: _Optional[str] = ..., name: _Optional[str] = ..., color: _Optional[str] = ..., shortcut: _Optional[str] = ..., description: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateClassResponse(_message.Message):
    __slots__ = ("class_def", "project_version")
    CLASS_DEF_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    class_def: ClassDef
    project_version: int
    def __init__(self, class_def: _Optional[_Union[ClassDef, _Mapping]] = ..., project_version: _Optional[int] = ...) -> None: ...

class MergeClassesRequest(_message.Message):
    __slots__ = ("project_id", "source_class_ids", "target_class_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_CLASS_IDS_FIELD_NUMBER: _ClassVar[int]
    TARGET_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    source_class_ids: _containers.RepeatedScalarFieldContainer[str]
    target_class_id: str
    def __init__(self, project_id: _Optional[str] = ..., source_class_ids: _Optional[_Iterable[str]] = ..., target_class_id: _Optional[str] = ...) -> None: ...

class MergeClassesResponse(_message.Message):
    __slots__ = ("target", "relabeled_items", "project_version")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    RELABELED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    target: ClassDef
    relabeled_items: int
    project_version: int
    def __init__(self, target: _Optional[_Union[ClassDef, _Mapping]] = ..., relabeled_items: _Optional[int] = ..., project_version: _Optional[int] = ...) -> None: ...

class DeleteClassRequest(_message.Message):
    __slots__ = ("project_id", "class_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    class_id: str
    def __init__(self, project_id: _Optional[str] = ..., class_id: _Optional[str] = ...) -> None: ...

class DeleteClassResponse(_message.Message):
    __slots__ = ("project_version",)
    PROJECT_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_version: int
    def __init__(self, project_version: _Optional[int] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("user_id", "username", "role", "added_at", "added_by")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    role: _common_pb2.Role
    added_at: _timestamp_pb2.Timestamp
    added_by: str
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., added_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., added_by: _Optional[str] = ...) -> None: ...

class AddMemberRequest(_message.Message):
    __slots__ = ("project_id", "username")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    username: str
    def __init__(self, project_id: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("project_id", "username")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    username: str
    def __init__(self, project_id: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: bool
    def __init__(self, removed: _Optional[bool] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("project_id", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "page")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    page: _common_pb2.PageInfo
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class Annotation(_message.Message):
    __slots__ = ("annotation_id", "item_id", "kind", "class_id", "previous_class_id", "source", "noisy", "user_id", "username", "model_id", "undoes_annotation_id", "comment", "item_version", "created_at")
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    UNDOES_ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    ITEM_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    annotation_id: str
    item_id: str
    kind: AnnotationKind
    class_id: str
    previous_class_id: str
    source: _common_pb2.LabelSource
    noisy: bool
    user_id: str
    username: str
    model_id: str
    undoes_annotation_id: str
    comment: str
    item_version: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, annotation_id: _Optional[str] = ..., item_id: _Optional[str] = ..., kind: _Optional[_Union[AnnotationKind, str]] = ..., class_id: _Optional[str] = ..., previous_class_id: _Optional[str] = ..., source: _Optional[_Union[_common_pb2.LabelSource, str]] = ..., noisy: _Optional[bool] = ..., user_id: _Optional[str] = ..., username: _Optional[str] = ..., model_id: _Optional[str] = ..., undoes_annotation_id: _Optional[str] = ..., comment: _Optional[str] = ..., item_version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SuspectedError(_message.Message):
    __slots__ = ("item_id", "score", "given_class_id", "suggested_class_id", "detector", "model_id", "created_at")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GIVEN_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    given_class_id: str
    suggested_class_id: str
    detector: str
    model_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., given_class_id: _Optional[str] = ..., suggested_class_id: _Optional[str] = ..., detector: _Optional[str] = ..., model_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("item_id", "project_id", "image_id", "original_name", "width", "height", "status", "class_id", "label_source", "noisy", "suggested_class_id", "version", "annotation_count", "annotator_ids", "assigned_to", "prediction", "suspected_error", "created_at", "updated_at", "suggested_label", "object_key", "format")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_NAME_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_IDS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    project_id: str
    image_id: str
    original_name: str
    width: int
    height: int
    status: ItemStatus
    class_id: str
    label_source: _common_pb2.LabelSource
    noisy: bool
    suggested_class_id: str
    version: int
    annotation_count: int
    annotator_ids: _containers.RepeatedScalarFieldContainer[str]
    assigned_to: str
    prediction: _common_pb2.Prediction
    suspected_error: SuspectedError
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    suggested_label: str
    object_key: str
    format: _common_pb2.ImageFormat
    def __init__(self, item_id: _Optional[str] = ..., project_id: _Optional[str] = ..., image_id: _Optional[str] = ..., original_name: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., status: _Optional[_Union[ItemStatus, str]] = ..., class_id: _Optional[str] = ..., label_source: _Optional[_Union[_common_pb2.LabelSource, str]] = ..., noisy: _Optional[bool] = ..., suggested_class_id: _Optional[str] = ..., version: _Optional[int] = ..., annotation_count: _Optional[int] = ..., annotator_ids: _Optional[_Iterable[str]] = ..., assigned_to: _Optional[str] = ..., prediction: _Optional[_Union[_common_pb2.Prediction, _Mapping]] = ..., suspected_error: _Optional[_Union[SuspectedError, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., suggested_label: _Optional[str] = ..., object_key: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ImageFormat, str]] = ...) -> None: ...

class NewItem(_message.Message):
    __slots__ = ("image_id", "original_name", "width", "height", "suggested_label", "object_key", "format")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_NAME_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    original_name: str
    width: int
    height: int
    suggested_label: str
    object_key: str
    format: _common_pb2.ImageFormat
    def __init__(self, image_id: _Optional[str] = ..., original_name: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., suggested_label: _Optional[str] = ..., object_key: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ImageFormat, str]] = ...) -> None: ...

class RegisterItemsRequest(_message.Message):
    __slots__ = ("project_id", "items", "suggested_label_policy")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_LABEL_POLICY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    items: _containers.RepeatedCompositeFieldContainer[NewItem]
    suggested_label_policy: _common_pb2.SuggestedLabelPolicy
    def __init__(self, project_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[NewItem, _Mapping]]] = ..., suggested_label_policy: _Optional[_Union[_common_pb2.SuggestedLabelPolicy, str]] = ...) -> None: ...

class RegisteredItem(_message.Message):
    __slots__ = ("image_id", "item_id", "created")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    item_id: str
    created: bool
    def __init__(self, image_id: _Optional[str] = ..., item_id: _Optional[str] = ..., created: _Optional[bool] = ...) -> None: ...

class RegisterItemsResponse(_message.Message):
    __slots__ = ("items", "created_classes")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CREATED_CLASSES_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[RegisteredItem]
    created_classes: _containers.RepeatedCompositeFieldContainer[ClassDef]
    def __init__(self, items: _Optional[_Iterable[_Union[RegisteredItem, _Mapping]]] = ..., created_classes: _Optional[_Iterable[_Union[ClassDef, _Mapping]]] = ...) -> None: ...

class ItemFilter(_message.Message):
    __slots__ = ("label", "statuses", "disagreement", "suspected_error", "class_ids", "annotator_id", "assigned_to", "predicted_class_ids", "prediction_disagrees", "noisy", "name_contains")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    DISAGREEMENT_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_ERROR_FIELD_NUMBER: _ClassVar[int]
    CLASS_IDS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATOR_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CLASS_IDS_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_DISAGREES_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    NAME_CONTAINS_FIELD_NUMBER: _ClassVar[int]
    label: LabelFilter
    statuses: _containers.RepeatedScalarFieldContainer[ItemStatus]
    disagreement: bool
    suspected_error: bool
    class_ids: _containers.RepeatedScalarFieldContainer[str]
    annotator_id: str
    assigned_to: str
    predicted_class_ids: _containers.RepeatedScalarFieldContainer[str]
    prediction_disagrees: bool
    noisy: bool
    name_contains: str
    def __init__(self, label: _Optional[_Union[LabelFilter, str]] = ..., statuses: _Optional[_Iterable[_Union[ItemStatus, str]]] = ..., disagreement: _Optional[bool] = ..., suspected_error: _Optional[bool] = ..., class_ids: _Optional[_Iterable[str]] = ..., annotator_id: _Optional[str] = ..., assigned_to: _Optional[str] = ..., predicted_class_ids: _Optional[_Iterable[str]] = ..., prediction_disagrees: _Optional[bool] = ..., noisy: _Optional[bool] = ..., name_contains: _Optional[str] = ...) -> None: ...

class ListItemsRequest(_message.Message):
    __slots__ = ("project_id", "filter", "order", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    filter: ItemFilter
    order: ItemOrder
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., filter: _Optional[_Union[ItemFilter, _Mapping]] = ..., order: _Optional[_Union[ItemOrder, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListItemsResponse(_message.Message):
    __slots__ = ("items", "page")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    page: _common_pb2.PageInfo
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class GetItemRequest(_message.Message):
    __slots__ = ("project_id", "item_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_id: str
    def __init__(self, project_id: _Optional[str] = ..., item_id: _Optional[str] = ...) -> None: ...

class GetItemResponse(_message.Message):
    __slots__ = ("item", "annotations")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    item: Item
    annotations: _containers.RepeatedCompositeFieldContainer[Annotation]
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., annotations: _Optional[_Iterable[_Union[Annotation, _Mapping]]] = ...) -> None: ...

class AnnotateRequest(_message.Message):
    __slots__ = ("project_id", "item_id", "class_id", "clear", "expected_version", "source", "model_id", "comment", "client_request_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_id: str
    class_id: str
    clear: bool
    expected_version: int
    source: _common_pb2.LabelSource
    model_id: str
    comment: str
    client_request_id: str
    def __init__(self, project_id: _Optional[str] = ..., item_id: _Optional[str] = ..., class_id: _Optional[str] = ..., clear: _Optional[bool] = ..., expected_version: _Optional[int] = ..., source: _Optional[_Union[_common_pb2.LabelSource, str]] = ..., model_id: _Optional[str] = ..., comment: _Optional[str] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class AnnotateResponse(_message.Message):
    __slots__ = ("item", "annotation")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    item: Item
    annotation: Annotation
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class AnnotateStreamResponse(_message.Message):
    __slots__ = ("written", "error")
    WRITTEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    written: AnnotateResponse
    error: WriteError
    def __init__(self, written: _Optional[_Union[AnnotateResponse, _Mapping]] = ..., error: _Optional[_Union[WriteError, _Mapping]] = ...) -> None: ...

class WriteError(_message.Message):
    __slots__ = ("code", "message", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ItemVersion(_message.Message):
    __slots__ = ("item_id", "expected_version")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    expected_version: int
    def __init__(self, item_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class BatchAnnotateRequest(_message.Message):
    __slots__ = ("project_id", "items", "class_id", "source", "model_id", "client_request_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    items: _containers.RepeatedCompositeFieldContainer[ItemVersion]
    class_id: str
    source: _common_pb2.LabelSource
    model_id: str
    client_request_id: str
    def __init__(self, project_id: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ItemVersion, _Mapping]]] = ..., class_id: _Optional[str] = ..., source: _Optional[_Union[_common_pb2.LabelSource, str]] = ..., model_id: _Optional[str] = ..., client_request_id: _Optional[str] = ...) -> None: ...

class BatchAnnotateResponse(_message.Message):
    __slots__ = ("items", "annotations")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    annotations: _containers.RepeatedCompositeFieldContainer[Annotation]
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., annotations: _Optional[_Iterable[_Union[Annotation, _Mapping]]] = ...) -> None: ...

class UndoRequest(_message.Message):
    __slots__ = ("project_id", "item_id", "annotation_id", "expected_version")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_id: str
    annotation_id: str
    expected_version: int
    def __init__(self, project_id: _Optional[str] = ..., item_id: _Optional[str] = ..., annotation_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UndoResponse(_message.Message):
    __slots__ = ("item", "annotation")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    item: Item
    annotation: Annotation
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("project_id", "item_id", "user_id", "since", "until", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_id: str
    user_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., item_id: _Optional[str] = ..., user_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class GetHistoryResponse(_message.Message):
    __slots__ = ("annotations", "page")
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    annotations: _containers.RepeatedCompositeFieldContainer[Annotation]
    page: _common_pb2.PageInfo
    def __init__(self, annotations: _Optional[_Iterable[_Union[Annotation, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class WatchAnnotationsRequest(_message.Message):
    __slots__ = ("project_id", "after_sequence", "from_beginning")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FROM_BEGINNING_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    after_sequence: int
    from_beginning: bool
    def __init__(self, project_id: _Optional[str] = ..., after_sequence: _Optional[int] = ..., from_beginning: _Optional[bool] = ...) -> None: ...

class AnnotationEvent(_message.Message):
    __slots__ = ("sequence", "annotation", "item")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    annotation: Annotation
    item: Item
    def __init__(self, sequence: _Optional[int] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ..., item: _Optional[_Union[Item, _Mapping]] = ...) -> None: ...

class AssignItemsRequest(_message.Message):
    __slots__ = ("project_id", "username", "item_ids", "count")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    username: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    count: int
    def __init__(self, project_id: _Optional[str] = ..., username: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ...) -> None: ...

class AssignItemsResponse(_message.Message):
    __slots__ = ("item_ids",)
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ItemAgreement(_message.Message):
    __slots__ = ("item_id", "votes", "majority_class_id", "agreement", "annotation_count")
    class VotesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    VOTES_FIELD_NUMBER: _ClassVar[int]
    MAJORITY_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    votes: _containers.ScalarMap[str, int]
    majority_class_id: str
    agreement: float
    annotation_count: int
    def __init__(self, item_id: _Optional[str] = ..., votes: _Optional[_Mapping[str, int]] = ..., majority_class_id: _Optional[str] = ..., agreement: _Optional[float] = ..., annotation_count: _Optional[int] = ...) -> None: ...

class PairwiseKappa(_message.Message):
    __slots__ = ("user_a", "user_b", "kappa", "shared_items")
    USER_A_FIELD_NUMBER: _ClassVar[int]
    USER_B_FIELD_NUMBER: _ClassVar[int]
    KAPPA_FIELD_NUMBER: _ClassVar[int]
    SHARED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    user_a: str
    user_b: str
    kappa: float
    shared_items: int
    def __init__(self, user_a: _Optional[str] = ..., user_b: _Optional[str] = ..., kappa: _Optional[float] = ..., shared_items: _Optional[int] = ...) -> None: ...

class ProjectAgreement(_message.Message):
    __slots__ = ("fleiss_kappa", "mean_cohen_kappa", "pairs", "items_compared", "items_in_disagreement")
    FLEISS_KAPPA_FIELD_NUMBER: _ClassVar[int]
    MEAN_COHEN_KAPPA_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_COMPARED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_IN_DISAGREEMENT_FIELD_NUMBER: _ClassVar[int]
    fleiss_kappa: float
    mean_cohen_kappa: float
    pairs: _containers.RepeatedCompositeFieldContainer[PairwiseKappa]
    items_compared: int
    items_in_disagreement: int
    def __init__(self, fleiss_kappa: _Optional[float] = ..., mean_cohen_kappa: _Optional[float] = ..., pairs: _Optional[_Iterable[_Union[PairwiseKappa, _Mapping]]] = ..., items_compared: _Optional[int] = ..., items_in_disagreement: _Optional[int] = ...) -> None: ...

class GetAgreementRequest(_message.Message):
    __slots__ = ("project_id", "item_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetAgreementResponse(_message.Message):
    __slots__ = ("items", "project")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ItemAgreement]
    project: ProjectAgreement
    def __init__(self, items: _Optional[_Iterable[_Union[ItemAgreement, _Mapping]]] = ..., project: _Optional[_Union[ProjectAgreement, _Mapping]] = ...) -> None: ...

class ListReviewQueueRequest(_message.Message):
    __slots__ = ("project_id", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ReviewTask(_message.Message):
    __slots__ = ("item", "agreement", "annotations")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    item: Item
    agreement: ItemAgreement
    annotations: _containers.RepeatedCompositeFieldContainer[Annotation]
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., agreement: _Optional[_Union[ItemAgreement, _Mapping]] = ..., annotations: _Optional[_Iterable[_Union[Annotation, _Mapping]]] = ...) -> None: ...

class ListReviewQueueResponse(_message.Message):
    __slots__ = ("tasks", "page")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[ReviewTask]
    page: _common_pb2.PageInfo
    def __init__(self, tasks: _Optional[_Iterable[_Union[ReviewTask, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class ReviewRequest(_message.Message):
    __slots__ = ("project_id", "item_id", "class_id", "expected_version", "comment")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    item_id: str
    class_id: str
    expected_version: int
    comment: str
    def __init__(self, project_id: _Optional[str] = ..., item_id: _Optional[str] = ..., class_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class ReviewResponse(_message.Message):
    __slots__ = ("item", "annotation")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_FIELD_NUMBER: _ClassVar[int]
    item: Item
    annotation: Annotation
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., annotation: _Optional[_Union[Annotation, _Mapping]] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ("lease_id", "item_id", "user_id", "expires_at")
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    lease_id: str
    item_id: str
    user_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, lease_id: _Optional[str] = ..., item_id: _Optional[str] = ..., user_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class QueuedItem(_message.Message):
    __slots__ = ("item", "lease", "score", "reason")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    item: Item
    lease: Lease
    score: float
    reason: str
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class NextItemsRequest(_message.Message):
    __slots__ = ("project_id", "n", "strategy", "lease_s", "model_id", "seed", "filter")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    LEASE_S_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    n: int
    strategy: QueueStrategy
    lease_s: int
    model_id: str
    seed: int
    filter: ItemFilter
    def __init__(self, project_id: _Optional[str] = ..., n: _Optional[int] = ..., strategy: _Optional[_Union[QueueStrategy, str]] = ..., lease_s: _Optional[int] = ..., model_id: _Optional[str] = ..., seed: _Optional[int] = ..., filter: _Optional[_Union[ItemFilter, _Mapping]] = ...) -> None: ...

class NextItemsResponse(_message.Message):
    __slots__ = ("items", "effective_strategy", "model_id")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[QueuedItem]
    effective_strategy: QueueStrategy
    model_id: str
    def __init__(self, items: _Optional[_Iterable[_Union[QueuedItem, _Mapping]]] = ..., effective_strategy: _Optional[_Union[QueueStrategy, str]] = ..., model_id: _Optional[str] = ...) -> None: ...

class ReleaseLeaseRequest(_message.Message):
    __slots__ = ("project_id", "lease_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    lease_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., lease_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReleaseLeaseResponse(_message.Message):
    __slots__ = ("released",)
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    released: int
    def __init__(self, released: _Optional[int] = ...) -> None: ...

class ItemPrediction(_message.Message):
    __slots__ = ("item_id", "prediction")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    prediction: _common_pb2.Prediction
    def __init__(self, item_id: _Optional[str] = ..., prediction: _Optional[_Union[_common_pb2.Prediction, _Mapping]] = ...) -> None: ...

class PutPredictionsRequest(_message.Message):
    __slots__ = ("project_id", "model_id", "predictions", "operation_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    OPERATION_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    model_id: str
    predictions: _containers.RepeatedCompositeFieldContainer[ItemPrediction]
    operation_id: str
    def __init__(self, project_id: _Optional[str] = ..., model_id: _Optional[str] = ..., predictions: _Optional[_Iterable[_Union[ItemPrediction, _Mapping]]] = ..., operation_id: _Optional[str] = ...) -> None: ...

class PutPredictionsResponse(_message.Message):
    __slots__ = ("stored",)
    STORED_FIELD_NUMBER: _ClassVar[int]
    stored: int
    def __init__(self, stored: _Optional[int] = ...) -> None: ...

class NewSuspectedError(_message.Message):
    __slots__ = ("item_id", "score", "suggested_class_id")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    suggested_class_id: str
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., suggested_class_id: _Optional[str] = ...) -> None: ...

class PutSuspectedErrorsRequest(_message.Message):
    __slots__ = ("project_id", "detector", "model_id", "errors", "replace")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    detector: str
    model_id: str
    errors: _containers.RepeatedCompositeFieldContainer[NewSuspectedError]
    replace: bool
    def __init__(self, project_id: _Optional[str] = ..., detector: _Optional[str] = ..., model_id: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[NewSuspectedError, _Mapping]]] = ..., replace: _Optional[bool] = ...) -> None: ...

class PutSuspectedErrorsResponse(_message.Message):
    __slots__ = ("stored", "cleared")
    STORED_FIELD_NUMBER: _ClassVar[int]
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    stored: int
    cleared: int
    def __init__(self, stored: _Optional[int] = ..., cleared: _Optional[int] = ...) -> None: ...

class ListSuspectedErrorsRequest(_message.Message):
    __slots__ = ("project_id", "min_score", "detector", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    min_score: float
    detector: str
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., min_score: _Optional[float] = ..., detector: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class SuspectedItem(_message.Message):
    __slots__ = ("item", "suspected_error")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_ERROR_FIELD_NUMBER: _ClassVar[int]
    item: Item
    suspected_error: SuspectedError
    def __init__(self, item: _Optional[_Union[Item, _Mapping]] = ..., suspected_error: _Optional[_Union[SuspectedError, _Mapping]] = ...) -> None: ...

class ListSuspectedErrorsResponse(_message.Message):
    __slots__ = ("items", "page")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SuspectedItem]
    page: _common_pb2.PageInfo
    def __init__(self, items: _Optional[_Iterable[_Union[SuspectedItem, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class FreezeSnapshotRequest(_message.Message):
    __slots__ = ("project_id", "options")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    options: _common_pb2.FreezeOptions
    def __init__(self, project_id: _Optional[str] = ..., options: _Optional[_Union[_common_pb2.FreezeOptions, _Mapping]] = ...) -> None: ...

class FreezeSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.Snapshot
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.Snapshot, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("project_id", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "page")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[_common_pb2.Snapshot]
    page: _common_pb2.PageInfo
    def __init__(self, snapshots: _Optional[_Iterable[_Union[_common_pb2.Snapshot, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class ImportLabelsOptions(_message.Message):
    __slots__ = ("project_id", "format", "noisy", "conflict_policy", "create_missing_classes", "key_column", "label_column")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_POLICY_FIELD_NUMBER: _ClassVar[int]
    CREATE_MISSING_CLASSES_FIELD_NUMBER: _ClassVar[int]
    KEY_COLUMN_FIELD_NUMBER: _ClassVar[int]
    LABEL_COLUMN_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: LabelFormat
    noisy: bool
    conflict_policy: ImportConflictPolicy
    create_missing_classes: bool
    key_column: str
    label_column: str
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[LabelFormat, str]] = ..., noisy: _Optional[bool] = ..., conflict_policy: _Optional[_Union[ImportConflictPolicy, str]] = ..., create_missing_classes: _Optional[bool] = ..., key_column: _Optional[str] = ..., label_column: _Optional[str] = ...) -> None: ...

class ImportLabelsRequest(_message.Message):
    __slots__ = ("options", "chunk")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    options: ImportLabelsOptions
    chunk: bytes
    def __init__(self, options: _Optional[_Union[ImportLabelsOptions, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ImportRowError(_message.Message):
    __slots__ = ("line", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    message: str
    def __init__(self, line: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ImportLabelsResponse(_message.Message):
    __slots__ = ("rows", "applied", "skipped", "failed", "errors", "created_classes")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    CREATED_CLASSES_FIELD_NUMBER: _ClassVar[int]
    rows: int
    applied: int
    skipped: int
    failed: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    created_classes: _containers.RepeatedCompositeFieldContainer[ClassDef]
    def __init__(self, rows: _Optional[int] = ..., applied: _Optional[int] = ..., skipped: _Optional[int] = ..., failed: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., created_classes: _Optional[_Iterable[_Union[ClassDef, _Mapping]]] = ...) -> None: ...

class ExportLabelsRequest(_message.Message):
    __slots__ = ("project_id", "format", "snapshot_id", "include_unlabeled", "include_noisy")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UNLABELED_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NOISY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    format: LabelFormat
    snapshot_id: str
    include_unlabeled: bool
    include_noisy: bool
    def __init__(self, project_id: _Optional[str] = ..., format: _Optional[_Union[LabelFormat, str]] = ..., snapshot_id: _Optional[str] = ..., include_unlabeled: _Optional[bool] = ..., include_noisy: _Optional[bool] = ...) -> None: ...

class ExportHeader(_message.Message):
    __slots__ = ("file_name", "content_type", "item_count", "size_bytes")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ITEM_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    content_type: str
    item_count: int
    size_bytes: int
    def __init__(self, file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., item_count: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class ExportLabelsResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: ExportHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[ExportHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class AuditEntry(_message.Message):
    __slots__ = ("entry_id", "time", "actor_id", "actor_username", "action", "target_type", "target_id", "project_id", "details", "request_id")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_USERNAME_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    time: _timestamp_pb2.Timestamp
    actor_id: str
    actor_username: str
    action: str
    target_type: str
    target_id: str
    project_id: str
    details: _containers.ScalarMap[str, str]
    request_id: str
    def __init__(self, entry_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., actor_username: _Optional[str] = ..., action: _Optional[str] = ..., target_type: _Optional[str] = ..., target_id: _Optional[str] = ..., project_id: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetAuditLogRequest(_message.Message):
    __slots__ = ("project_id", "actor_id", "action", "since", "until", "page")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    actor_id: str
    action: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    page: _common_pb2.PageRequest
    def __init__(self, project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class GetAuditLogResponse(_message.Message):
    __slots__ = ("entries", "page")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AuditEntry]
    page: _common_pb2.PageInfo
    def __init__(self, entries: _Optional[_Iterable[_Union[AuditEntry, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...
