"""Pure domain of cluster-manager: specs, validation, lifecycle, versions, limits, namespaces."""

from .errors import DomainError, FieldError, InvalidTransition, LimitExceeded, ValidationFailed
from .lifecycle import STEPS, Cluster, OperationKind, Phase, TimelineEntry
from .spec import FLAVOURS, Flavour, Offer, ResolvedSpec, parse_spec, resolve
from .versions import SUPPORTED_VERSIONS, check_upgrade

__all__ = [
    "FLAVOURS",
    "STEPS",
    "SUPPORTED_VERSIONS",
    "Cluster",
    "DomainError",
    "FieldError",
    "Flavour",
    "InvalidTransition",
    "LimitExceeded",
    "Offer",
    "OperationKind",
    "Phase",
    "ResolvedSpec",
    "TimelineEntry",
    "ValidationFailed",
    "check_upgrade",
    "parse_spec",
    "resolve",
]
