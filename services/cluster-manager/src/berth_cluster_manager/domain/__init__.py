"""Pure domain of cluster-manager: specs, validation, lifecycle, versions, limits, namespaces."""

from .errors import DomainError, FieldError, InvalidTransition, LimitExceeded, ValidationFailed
from .lifecycle import STEPS, Cluster, OperationKind, Phase, TimelineEntry
from .spec import FLAVOURS, ClusterSpec, Flavour, parse_spec, validate_spec
from .versions import SUPPORTED_VERSIONS, check_upgrade

__all__ = [
    "FLAVOURS",
    "STEPS",
    "SUPPORTED_VERSIONS",
    "Cluster",
    "ClusterSpec",
    "DomainError",
    "FieldError",
    "Flavour",
    "InvalidTransition",
    "LimitExceeded",
    "OperationKind",
    "Phase",
    "TimelineEntry",
    "ValidationFailed",
    "check_upgrade",
    "parse_spec",
    "validate_spec",
]
